"""The verdict's sentences, written from an outcome (harness.verdict.outcome) and nothing else.

The numbers are decided there and the verdict's tests assert on them; this module only words them, and its
tests (tests/test_reasons.py) assert on the words. `reasons(o)[0]` is the sentence the CLI prints.
"""

from __future__ import annotations

import math

from harness.verdict.comparison import MIN_BOOTSTRAP_N, Comparison
from harness.verdict.cost import describe_break_even
from harness.verdict.outcome import ArmGap, Outcome, finding_verdict
from harness.verdict.slices import INVENTED_SHARE, Slice, SliceCheck
from harness.verdict.stats import MIN_DIFFERING, N_PAIRED_RESAMPLES

SMALL_SHOWN = 12  # too-small slices named in the reasons; the report's slice chart shows every one
_HOW = {"choice": "answers chosen from the labels by log-likelihood", "constrained": "constrained decoding"}


def _pct(level: float) -> str:
    return f"{level * 100:.3g}%"


def _p(p: float | None) -> str:
    """'=0.012' or '<0.0001', to follow 'p'."""
    if p is None or math.isnan(p):
        return " n/a"
    return "<0.0001" if p < 1e-4 else f"={p:.3g}"


def _shown(o: Outcome, arm: str) -> str:
    """An arm's name, and how it answered when that was not free text (the reasons say which baseline won)."""
    how = o.answers.get(arm)
    return f"{arm} ({_HOW[how]})" if how in _HOW else arm


def _lift_text(c: Comparison, primary: str) -> str:
    return (f"{c.arm} vs {c.baseline} on {primary}: {c.diff:+.3f} ({_pct(c.level)} interval {c.low:+.3f} to "
            f"{c.high:+.3f}, n={c.n})")


def reasons(o: Outcome) -> list[str]:
    """The reasons, most important first."""
    if o.finding in ("no-items", "no-comparison"):
        return _no_comparison(o)
    first = _first(o)
    body = first.split(": ", 1)[-1]
    out = [first, _baseline_note(o)] + _left_out(o) + o.regression_reasons
    out += [c.guard for c in o.comparisons if c.guard and c.guard not in first]
    s = o.slices
    held_by_slices = (finding_verdict(o.finding) == "GO" and s is not None and s.mode == "block" and bool(s.flagged)
                      and not o.incomplete_baselines and not o.failed_items)
    if held_by_slices:
        out[0] = (f"no verdict: GO overall, but {s.arm} is worse on {_flagged_list(s)}; with decision.slices: block, "
                  f"a slice worse than the baseline beyond the tolerated {s.max_drop:g} holds back a GO")
        out.insert(1, "what the comparison shows overall: " + body)
    elif s is not None:
        out[1:1] = _slice_warning(o)
    if o.incomplete_baselines:
        out[0] = (f"no verdict: baseline arm(s) {_gaps(o.incomplete_baselines, o.n)} did not complete, and a missing "
                  f"arm without training could have been the best one; what the completed arms show: {body}")
    if o.failed_items:
        if finding_verdict(o.finding) != "INCONCLUSIVE" and not o.incomplete_baselines:
            out[0] = "what the comparison shows, failed items counted as empty answers: " + body
        out.insert(0, "no verdict: " + _too_many_failed(o))
    return out + _slice_notes(o) + _usage(o)


def _no_comparison(o: Outcome) -> list[str]:
    if o.finding == "no-items":
        return ["no test items to compare on"] + _left_out(o)
    missing = "fine-tuned arm" if o.missing_role == "tuned" else "arm without training (prompted or RAG)"
    out = [f"no completed {missing} to compare"]
    if o.incomplete_baselines:
        out.append(f"baseline arms that did not complete: {_gaps(o.incomplete_baselines, o.n)}")
    if o.failed_items:
        out.append(_too_many_failed(o))
    return out + _left_out(o)


def _gaps(gaps: list[ArmGap], n: int | None) -> str:
    def one(g: ArmGap) -> str:
        if g.status != "completed":
            return f"{g.name} ({g.status})"
        return f"{g.name} (no score for {g.missing} of {n} test items)" if g.missing else f"{g.name} (no score)"

    return ", ".join(one(g) for g in gaps)


def _left_out(o: Outcome) -> list[str]:
    return [f"arms that failed or are incomplete and are left out: {_gaps(o.left_out, o.n)}"] if o.left_out else []


def _too_many_failed(o: Outcome) -> str:
    n, share = o.n or 0, o.max_failed_share or 0.0
    listed = ", ".join(f"{a} failed on {k} of {n} test items ({_pct(k / n)})" for a, k in o.failed_items.items())
    return (f"too many failed items: {listed}, more than the allowed {_pct(share)} (decision.max_failed_share "
            f"{share:g}); failed items score as empty answers, so the comparison would measure the failures "
            f"(fix the endpoint, raise max_retries, or shorten prompts, and run again)")


def _baseline_note(o: Outcome) -> str:
    if o.baseline_selection == "single":
        return f"baseline: {_shown(o, o.baselines[0])}, the only completed arm without training"
    if o.baseline_selection == "validation":
        listing = ", ".join(f"{a} {v:.3f}" for a, v in o.validation.items())
        return (f"baseline: {_shown(o, o.baselines[0])}, the best arm without training on the validation split "
                f"({listing}); compared on test, so its pick does not favour it there")
    no_val = [a for a, v in o.validation.items() if v is None or not math.isfinite(v)]
    return (f"baseline: no validation score for {', '.join(no_val)}, so each tuned arm is compared with every arm "
            f"without training ({', '.join(o.baselines)}); GO must beat each of them, with the error split over them "
            f"for NO-GO")


def _first(o: Outcome) -> str:
    """What the comparisons show, as one sentence (and what more data would settle it, when they do not)."""
    c = o.cited()
    lift, min_lift = _lift_text(c, o.primary), o.min_lift
    if o.finding == "too-few-items":
        what = ("even a tuned arm that won every item could not clear the required lift of "
                f"{min_lift:+.3f} at one-sided level {c.alpha_low:.3g}") if o.binary else (
                f"a paired bootstrap needs at least {MIN_BOOTSTRAP_N} items (and {MIN_DIFFERING} that differ), and "
                f"with fewer than {o.min_n_winning} even a tuned arm that won every item could not clear the "
                f"required lift of {min_lift:+.3f}")
        first = (f"too few test items for a verdict: {o.n}, below the minimum of {o.min_n} for this rule ({what}); "
                 f"{lift}")
    elif o.finding == "lift":
        first = (f"fine-tuning pays: {lift}; the whole interval is above the required lift of {min_lift:+.3f} "
                 f"(Holm p{_p(c.p_adjusted)})")
        if len(o.baselines) > 1:
            first += f", against each of the {len(o.baselines)} arms without training"
    elif o.finding == "cost":
        be = min((b for b in o.break_even if b.arm == o.candidate), key=lambda b: b.saving_per_request or 0.0)
        first = (f"fine-tuning pays on cost: {lift} is above the non-inferiority margin of "
                 f"{-o.non_inferiority_margin:+.3f}, and {describe_break_even(be)}")
    elif o.finding == "no-lift":
        first = (f"fine-tuning does not reach the required lift of {min_lift:+.3f}: {lift}; every tuned arm's "
                 f"interval is below it")
        if o.regressed:
            first = (f"no tuned arm is shippable: {', '.join(o.regressed)} lost general capability beyond the "
                     f"task's tolerance, and the rest do not reach the required lift of {min_lift:+.3f}; {lift}")
        if o.non_inferiority_margin is not None:
            first += "; and none is both non-inferior and cheap enough to repay its training"
    else:
        guards = [x.guard for x in o.comparisons if x.guard]
        first = (f"no verdict from the bootstrap: {guards[0]}; {lift}" if o.finding == "guard" else
                 f"the interval straddles the required lift of {min_lift:+.3f}: {lift}")
        if o.cost_open:
            first += f"; non-inferiority (margin {o.non_inferiority_margin:g}) is not shown either"
    if finding_verdict(o.finding) == "INCONCLUSIVE":
        first += _lift_needed(o) + _cost_needed(o)
    return first


def _lift_needed(o: Outcome) -> str:
    """'; about N test items would give GO ...' for the arm `o.planned`, or '' when no arm can be planned for."""
    cs = [c for c in o.comparisons if c.arm == o.planned and c.items_needed is not None]
    if not cs:
        return ""
    best = max(cs, key=lambda x: x.items_needed)
    if best.assumed_lift == best.diff and best.diff > o.min_lift:
        effect = f"the observed {best.assumed_lift:+.3f}"
    else:
        source = "the rule's expected_lift" if o.expected_lift_stated else "min_lift + 0.05"
        effect = f"{best.assumed_lift:+.3f} ({source}; the observed {best.diff:+.3f} is not above the required lift)"
    k = len({c.arm for c in o.comparisons})
    family = f", at the level corrected for {k} tuned arms" if k > 1 else ""
    count = f"{best.items_needed:,}" if best.items_needed < 10**7 else "more than ten million"
    detect = (f"; this test set can detect lifts of about {best.detectable:+.3f} (GO with 80% probability)"
              if best.detectable is not None and (o.n or 0) >= (o.min_n or 0) else "")
    return (f"; about {count} test items would give GO with 80% probability if the true lift of {best.arm} over "
            f"{best.baseline} were {effect}{family}{detect}")


def _cost_needed(o: Outcome) -> str:
    """The cost route's own items needed, what this test set shows, and what every test item would."""
    p = o.cost_plan
    if p is None or p.items_needed is None:
        return ""
    effect = (f"the observed {p.observed:+.3f}" if p.assumed == p.observed else
              f"0 (equal arms; the observed {p.observed:+.3f} is below the margin)")
    text = (f"; for GO on cost, about {p.items_needed:,} test items would show {p.arm} non-inferior to {p.baseline} "
            f"(lower bound above {-p.margin:+.3f}) with 80% probability if the true difference were {effect}")
    if p.detectable is not None:
        text += f"; this test set shows it when the true difference is at least {p.detectable:+.3f}"
    if p.available is not None and p.power_available is not None:
        text += (f"; the data holds {p.available:,} test items (this run used {p.n:,}): on all of them it would be "
                 f"shown with probability {p.power_available:.0%}")
    return text


def _slice_text(s: Slice) -> str:
    return (f"{s.label}: {s.baseline:.3f} → {s.tuned:.3f}, {s.diff:+.3f} [{s.low:+.3f}, {s.high:+.3f}], n={s.n}, "
            f"Holm p{_p(s.p_adjusted)}")


def _flagged_list(s: SliceCheck) -> str:
    return "; ".join(_slice_text(x) for x in s.flagged)


def flagged_sentence(o: Outcome) -> str | None:
    """The sentence naming the slices where the candidate is worse beyond the tolerated drop; None if none is."""
    s = o.slices
    if s is None or not s.flagged:
        return None
    lead = "GO overall; but " if o.verdict == "GO" else ""
    return (f"{lead}{s.arm} is worse than {s.baseline} on {_flagged_list(s)}: worse beyond the tolerated "
            f"{s.max_drop:g} after Holm's correction over {len(s.tested)} tested slices (one-sided {s.alpha:g}; "
            f"{_pct(s.level)} intervals)")


def unconfirmed_sentence(o: Outcome) -> str | None:
    """The tested slices that are worse beyond the tolerated drop in these items but not significantly so: a loss
    the test set is too small to confirm is still named, never left behind a "none flagged"."""
    s = o.slices
    worse = [x for x in s.tested if not x.flagged and x.diff < -s.max_drop] if s is not None else []
    if not worse:
        return None
    return (f"not flagged, but {s.arm} is worse than {s.baseline} by more than {s.max_drop:g} on these items on "
            f"{'; '.join(_slice_text(x) for x in worse)}: not significant after Holm's correction over "
            f"{len(s.tested)} tested slices (one-sided {s.alpha:g}), so it may be chance; more test items would "
            f"settle it")


def _slice_warning(o: Outcome) -> list[str]:
    """The flagged slices (or that none is), losses too uncertain to flag, and the slices too small to be flagged."""
    s = o.slices
    if s.flagged:
        out = [flagged_sentence(o)]
    elif s.tested:
        out = [f"slices: none of the {len(s.tested)} tested is worse for {s.arm} than for {s.baseline} beyond the "
               f"tolerated {s.max_drop:g} (Holm at one-sided {s.alpha:g})"]
    else:
        out = []
    unconfirmed = unconfirmed_sentence(o)
    if unconfirmed:
        out.append(unconfirmed)
    small = s.too_small
    if small:
        named = ", ".join(f"{x.label} (n={x.n})" for x in small[:SMALL_SHOWN])
        more = f" and {len(small) - SMALL_SHOWN} more, in the report's slice chart" if len(small) > SMALL_SHOWN else ""
        none_right = [x for x in small if x.tuned == 0 and x.baseline > 0]
        text = (f"{len(small)} slice(s) too small to be flagged (fewer than {s.min_n} items: losing every item there "
                f"could not be significant): {named}{more}")
        if none_right:
            text += (f"; {s.arm} gets none right on {', '.join(x.label for x in none_right[:SMALL_SHOWN])}, where "
                     f"{s.baseline} gets some")
        out.append(text)
    return out


def _slice_notes(o: Outcome) -> list[str]:
    """What the tuned arm's answers suggest on the slices where it does worse: invented values, one constant."""
    s = o.slices
    if s is None:
        return []
    notes = []
    for x in s.slices:
        if not (x.tested and x.diff < -s.max_drop):
            continue
        if x.invented is not None and x.invented >= INVENTED_SHARE:
            notes.append(f"on {x.label}, {x.invented:.0%} of {s.arm}'s answers are values that no gold answer has "
                         f"(e.g. {x.invented_example}): tuning taught the format, not these facts")
        elif x.constant is not None:
            notes.append(f"on {x.label}, {s.arm} answers one value, {x.constant}, on nearly every item")
    if notes:
        notes.append(_carriers(o))
    return notes


def _carriers(o: Outcome) -> str:
    arm = o.candidate
    kinds = (f"facts can reach {arm} through its prompt: retrieval on its adapter, or shots (a rag arm with "
             f"adapter_from: {arm})")
    if o.carriers:
        listed = ", ".join(f"{c.arm} ({'retrieval' if c.retrieval else 'no retrieval'}, {c.shots} shots"
                           f"{'' if c.ran else ', not in this run: its profile leaves it out'})" for c in o.carriers)
        return f"{kinds}; the task has {listed}"
    if o.corpus:
        return f"{kinds}; the task has none: add {{name: rag_{arm}, type: rag, adapter_from: {arm}}} (it has a corpus)"
    return f"{kinds}; the task has none, and no corpus to retrieve from (add corpus: and such an arm)"


def _usage(o: Outcome) -> list[str]:
    out = []
    arm, base = o.candidate, o.baseline
    tokens, base_tokens = o.prompt_tokens.get(arm), o.prompt_tokens.get(base)
    if tokens is not None and base_tokens:
        saved = base_tokens - tokens
        fewer_or_more = "fewer" if saved >= 0 else "more"
        out.append(f"{arm} uses {tokens:.0f} prompt tokens per request, {abs(saved):.0f} {fewer_or_more} than {base} "
                   f"({abs(saved) / base_tokens:.0%})")
    if o.train_seconds:
        out.append(f"training {arm} (all sweep trials) took {o.train_seconds:.0f} s")
    if o.route != "cost":
        out += [describe_break_even(be) for be in o.break_even if be.arm == arm]
    return out


def method(o: Outcome) -> str:
    """One sentence for the report: how the verdict was reached."""
    if not o.comparisons:
        return "No comparison was possible."
    n, k, m = o.n, len({c.arm for c in o.comparisons}), len(o.baselines)
    alpha = 1 - o.confidence
    stat = ("Tango's score interval for the difference of paired proportions" if o.binary else
            f"a paired percentile bootstrap ({N_PAIRED_RESAMPLES} resamples"
            f"{', within gold labels' if o.stratified else ''}; no verdict when fewer than {MIN_DIFFERING} items "
            f"differ)")
    base = {"validation": "against the untrained arm that scored best on the validation split",
            "single": "against the only untrained arm",
            "all-baselines": f"against every one of the {m} untrained arms (GO must beat each)"}[o.baseline_selection]
    go = (f"lower bound at one-sided {alpha / 2 / k:.3g} (Bonferroni over {k} tuned arms)" if k > 1
          else f"lower bound at one-sided {alpha / 2:.3g}")
    nogo = f"upper bound at one-sided {alpha / 2 / m:.3g}" + (f" (Bonferroni over {m} baselines)" if m > 1 else "")
    margin = o.non_inferiority_margin
    cost = (f"; GO on cost when the lower bound is above -{margin:g} and the saving repays training"
            if margin is not None else "")
    slices = ""
    if o.slices is not None:
        s = o.slices
        effect = "blocks a GO" if s.mode == "block" else "is named"
        slices = (f" Slices: the candidate against its baseline per {_slice_kinds(s)}; a slice is flagged when its drop "
                  f"beyond {s.max_drop:g} is significant after Holm's correction over the slices large enough to "
                  f"show one (one-sided {s.alpha:g} family-wise), and {effect}.")
    return (f"Each tuned arm {base}, on the same {n} test items, by {stat}; GO when a tuned arm's {go} is above "
            f"min_lift, NO-GO when every tuned arm's {nogo} is below it{cost}.{slices}")


def _slice_kinds(s: SliceCheck) -> str:
    words = {"field": "JSON field", "label": "gold label", "data": "value of a declared data field"}
    kinds = [k for k in ("field", "label", "data") if any(x.kind == k for x in s.slices)]
    return ", ".join(words[k] for k in kinds)
