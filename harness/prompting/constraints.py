"""Constrained decoding: answers forced into a JSON schema, a regex or a label set, locally and on servers.

A competent prompting baseline constrains its output format, as vLLM and OpenAI "structured outputs" do in
production. Locally the grammar is enforced by xgrammar (the engine vLLM uses) through a transformers
logits processor; on an OpenAI-compatible server it is passed as request arguments.

    PYTHONPATH=. python -m pytest tests/test_constraints.py -q
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from harness.errors import HarnessError, did_you_mean

Kind = Literal["json", "regex", "choice"]
SERVER_KINDS = ("openai", "vllm", "vllm-legacy")
# Compact JSON, as json.dumps writes it (and as the task data is written): free whitespace lets small models
# loop on spaces and newlines until the token budget runs out.
JSON_SEPARATORS = (", ", ": ")
_SCALARS = [{"type": "string"}, {"type": "number"}, {"type": "boolean"}, {"type": "null"}]
FIELD_VALUE = {"anyOf": [*_SCALARS, {"type": "array", "items": {"anyOf": _SCALARS}}]}


def json_schema_for(output_fields: list[str], given_schema: dict | None = None) -> dict:
    """The task's own JSON Schema if given; else an object with exactly `output_fields`, in order, all required."""
    if given_schema is not None:
        if not isinstance(given_schema, dict):
            raise HarnessError(f"a JSON Schema is a mapping, got {type(given_schema).__name__}")
        return json.loads(json.dumps(given_schema))
    if not output_fields:
        raise HarnessError("a JSON answer needs at least one output field")
    return {
        "type": "object",
        "properties": {name: FIELD_VALUE for name in output_fields},
        "required": list(output_fields),
        "additionalProperties": False,
    }


def library_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("xgrammar")
    except PackageNotFoundError:
        return "not installed"


def _import_xgrammar() -> Any:
    try:
        import xgrammar
    except ImportError as exc:
        raise HarnessError(
            "constrained decoding needs xgrammar: pip install --no-deps 'xgrammar>=0.2.8' apache-tvm-ffi"
        ) from exc
    return xgrammar


@dataclass(frozen=True)
class Constraint:
    """What an answer must look like; tokenizer-free, so one object serves local models and servers alike."""

    kind: Kind
    value: Any  # JSON Schema (dict), regex (str), or labels (tuple of str)

    @classmethod
    def json(cls, schema: dict) -> Constraint:
        if not isinstance(schema, dict):
            raise HarnessError(f"a JSON Schema is a mapping, got {type(schema).__name__}")
        return cls("json", json.loads(json.dumps(schema)))

    @classmethod
    def regex(cls, pattern: str) -> Constraint:
        if not isinstance(pattern, str) or not pattern:
            raise HarnessError(f"a regex constraint needs a non-empty pattern, got {pattern!r}")
        return cls("regex", pattern)

    @classmethod
    def choice(cls, labels: Sequence[str]) -> Constraint:
        labels = tuple(labels)
        if len(labels) < 1 or any(not isinstance(x, str) or not x for x in labels):
            raise HarnessError(f"a choice constraint needs non-empty label strings, got {list(labels)!r}")
        if len(set(labels)) != len(labels):
            raise HarnessError(f"a choice constraint has duplicate labels: {list(labels)!r}")
        return cls("choice", labels)

    def __hash__(self) -> int:
        return hash(self.digest())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Constraint) and self.digest() == other.digest()

    def digest(self) -> str:
        # Key order is kept: the order of a schema's properties is the order the answer is written in.
        body = json.dumps([self.kind, self.value], ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(body.encode()).hexdigest()[:16]

    def describe(self) -> dict:
        """Everything about the constraint that determines outputs, for an arm's identity."""
        info: dict[str, Any] = {"kind": self.kind, "hash": self.digest(), "library": "xgrammar",
                                "library_version": library_version(), "special_tokens": "blocked"}
        if self.kind == "json":
            info["json_format"] = {"separators": list(JSON_SEPARATORS), "key_order": "schema"}
        elif self.kind == "regex":
            info["pattern"] = self.value
        else:
            info["labels"] = list(self.value)
        return info

    def _compile(self, compiler: Any, any_whitespace: bool = False) -> Any:
        try:
            if self.kind == "json":
                return compiler.compile_json_schema(
                    self.value, any_whitespace=any_whitespace,
                    separators=None if any_whitespace else JSON_SEPARATORS,
                )
            if self.kind == "regex":
                return compiler.compile_regex(self.value)
            # json.dumps writes each label as an EBNF string literal (quotes, backslashes, controls escaped).
            return compiler.compile_grammar("root ::= " + " | ".join(json.dumps(x, ensure_ascii=False) for x in self.value))
        except (RuntimeError, ValueError) as exc:  # xgrammar's errors for a bad schema, regex or grammar
            reason = re.sub(r"^\[[\d:]+\] \S+: ", "", str(exc).strip().splitlines()[-1])  # drop "[time] file.cc:N: "
            raise HarnessError(f"{self.kind} constraint does not compile: {reason}") from exc

    def compile(self, tokenizer: Any, stop_token_ids: Sequence[int] | int | None = None,
                vocab_size: int | None = None) -> CompiledConstraint:
        """The grammar over this tokenizer's vocabulary; build once per generate call (or once per run) and reuse.

        stop_token_ids: the ids that end an answer (the EOS ids given to generate); default the tokenizer's EOS.
        vocab_size: the model's logits width when it differs from the tokenizer's (padded embeddings).
        """
        if isinstance(stop_token_ids, int):
            stop_token_ids = [stop_token_ids]
        stops = tuple(sorted(set(stop_token_ids))) if stop_token_ids else (tokenizer.eos_token_id,)
        if None in stops:
            raise HarnessError("constrained decoding needs a stop token: the tokenizer has no EOS and none was given")
        compiler = _compiler(tokenizer, stops, vocab_size)
        return CompiledConstraint(self, self._compile(compiler), stops)

    def check_grammar(self) -> None:
        """HarnessError when xgrammar cannot compile this constraint (a back-reference, a lookahead, a schema that is
        not a JSON Schema); compiled over a one-token vocabulary, so no tokenizer is needed."""
        self._compile(_text_compiler(), any_whitespace=True)
        self._compile(_text_compiler())

    def check_text(self, text: str) -> str | None:
        """None when `text` satisfies the constraint (any JSON whitespace allowed), else why not.

        For answers from servers, which may ignore a constraint they do not know (vLLM >= 0.12 silently drops
        the old guided_* fields)."""
        xgr = _import_xgrammar()
        grammar = self._compile(_text_compiler(), any_whitespace=True)
        matcher = xgr.GrammarMatcher(grammar, terminate_without_stop_token=True)
        if not matcher.accept_string(text) or not matcher.is_completed():
            return f"answer does not satisfy the {self.kind} constraint: {text[:80]!r}"
        return None


# ---------------------------------------------------------------- tokenizer-side compilation

_COMPILERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_TEXT_COMPILER: list = []


def _text_compiler() -> Any:
    """A compiler over a one-token vocabulary: enough to match whole strings against a grammar."""
    if not _TEXT_COMPILER:
        xgr = _import_xgrammar()
        _TEXT_COMPILER.append(xgr.GrammarCompiler(xgr.TokenizerInfo(["a"]), max_threads=1))
    return _TEXT_COMPILER[0]


def _compiler(tokenizer: Any, stops: tuple[int, ...], vocab_size: int | None) -> Any:
    """One xgrammar compiler per (tokenizer, stop ids, vocab size); building the vocabulary takes ~0.15 s at 49k."""
    key = (stops, vocab_size)
    try:
        per_tokenizer = _COMPILERS.setdefault(tokenizer, {})
    except TypeError:  # not weak-referenceable: build every time
        per_tokenizer = {}
    if key not in per_tokenizer:
        xgr = _import_xgrammar()
        base = xgr.TokenizerInfo.from_huggingface(tokenizer, vocab_size=vocab_size, stop_token_ids=list(stops))
        # Special tokens (<|im_start|>, padding, ...) inside an answer are invisible after decoding and derail the
        # model; an empty string makes xgrammar never allow them. The stop ids stay allowed at the end.
        special = set(tokenizer.all_special_ids) | {
            i for i, t in getattr(tokenizer, "added_tokens_decoder", {}).items() if getattr(t, "special", False)
        }
        vocab = [""] * base.vocab_size
        for token, i in tokenizer.get_vocab().items():
            if i < base.vocab_size and i not in special:
                vocab[i] = token
        info = xgr.TokenizerInfo(vocab, base.vocab_type, vocab_size=base.vocab_size, stop_token_ids=list(stops),
                                 add_prefix_space=base.add_prefix_space)
        per_tokenizer[key] = xgr.GrammarCompiler(info, max_threads=2)
    return per_tokenizer[key]


@dataclass
class CompiledConstraint:
    """A constraint compiled for one tokenizer: hands out logits processors and checks finished answers."""

    constraint: Constraint
    grammar: Any
    stop_token_ids: tuple[int, ...]

    def logits_processor(self) -> GrammarLogitsProcessor:
        """A fresh processor for ONE model.generate call: generate(..., logits_processor=LogitsProcessorList([p]))."""
        return GrammarLogitsProcessor(self.grammar)

    def rows(self, answers: int) -> RowGrammars:
        """Fresh matchers for `answers` answers of one decode loop (harness.backends.slots)."""
        return RowGrammars(self.grammar, answers)

    def completion_error(self, new_tokens: Sequence[int], max_new_tokens: int) -> str | None:
        """None when the generated tokens form a complete answer; else an error for the Generation record.

        Under the processor an answer can only be incomplete when max_new_tokens cut it (the stop token is
        allowed only where the grammar accepts): it cannot be made valid then, so it counts as a failure."""
        xgr = _import_xgrammar()
        matcher = xgr.GrammarMatcher(self.grammar)
        for k, token in enumerate(new_tokens):
            if not matcher.accept_token(int(token)):
                return f"constrained decoding broke: token {int(token)} at position {k} is outside the {self.constraint.kind} grammar"
            if matcher.is_terminated():  # the stop token was accepted
                return None
        if matcher.is_completed():
            return None
        return (f"constrained answer cut at max_new_tokens={max_new_tokens} before the {self.constraint.kind} "
                "grammar was complete; raise generation.max_new_tokens")


class RowGrammars:
    """One grammar matcher per answer, for a decode loop that masks the logits of whichever answers are in
    its batch: `mask(scores, answers)` constrains row k of `scores` to answer answers[k]'s grammar, and
    `accept(answer, token)` advances it. A token the grammar rejects (it cannot happen under the mask, but a
    stop token outside it can) leaves that answer unconstrained from then on."""

    def __init__(self, grammar: Any, answers: int):
        xgr = _import_xgrammar()
        self.grammar = grammar
        self.matchers = [xgr.GrammarMatcher(grammar) for _ in range(answers)]
        self.broken = [False] * answers
        self.bitmask: Any = None

    def open(self, answer: int) -> bool:
        return not self.broken[answer] and not self.matchers[answer].is_terminated()

    def accept(self, answer: int, token: int) -> None:
        if self.open(answer) and not self.matchers[answer].accept_token(int(token)):
            self.broken[answer] = True

    def mask(self, scores: Any, answers: Sequence[int]) -> Any:
        xgr = _import_xgrammar()
        vocab = self.grammar.tokenizer_info.vocab_size
        if self.bitmask is None or self.bitmask.shape[0] < len(answers):
            self.bitmask = xgr.allocate_token_bitmask(len(answers), vocab)
        rows = [k for k, answer in enumerate(answers) if self.open(answer)]
        if not rows:
            return scores
        for k in rows:
            self.matchers[answers[k]].fill_next_token_bitmask(self.bitmask, k)
        if scores.shape[-1] > vocab:  # logits wider than the grammar's vocabulary: padding ids are never allowed
            scores[rows, vocab:] = float("-inf")
        backend = "cpu" if scores.device.type == "cpu" else _gpu_backend()
        xgr.apply_token_bitmask_inplace(scores, self.bitmask[: scores.shape[0]].to(scores.device, non_blocking=True),
                                        vocab_size=min(vocab, scores.shape[-1]), indices=rows, backend=backend)
        return scores


class GrammarLogitsProcessor:
    """Masks each row's next-token logits to what its grammar allows; rows are independent.

    A transformers logits processor by duck typing (transformers stays a lazy import): pass it in
    `model.generate(..., logits_processor=LogitsProcessorList([processor]))`. The first call sees the prompt
    (left padding, and any prefix already held in a past_key_values cache, all count as prompt); every later
    call feeds each row only the tokens appended since the last call, so neither a shared-prefix cache nor the
    prompt length reaches the grammar. One processor serves one generate call.
    """

    def __init__(self, grammar: Any):
        self.grammar = grammar
        self.rows: RowGrammars | None = None
        self.consumed = -1  # width of input_ids already fed to the matchers (the prompt, at first)

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        batch, width = input_ids.shape
        if self.rows is None:
            self.rows = RowGrammars(self.grammar, batch)
        else:
            if batch != len(self.rows.matchers) or width <= self.consumed:
                raise RuntimeError("a GrammarLogitsProcessor serves one generate call; make a new one per call")
            for row, tokens in enumerate(input_ids[:, self.consumed:].tolist()):
                for token in tokens:  # finished rows are padded by generate; their padding is not their answer
                    if not self.rows.open(row):
                        break
                    self.rows.accept(row, token)
        self.consumed = width
        return self.rows.mask(scores, range(batch))


@functools.lru_cache(maxsize=1)
def _gpu_backend() -> str:
    try:
        import triton  # noqa: F401  # CUDA builds of torch ship it; xgrammar's fast kernel needs it
    except ImportError:
        return "torch_native"
    return "auto"


# ---------------------------------------------------------------- servers


def openai_constraint_args(constraint: Constraint, server_kind: str) -> dict[str, Any]:
    """Keyword arguments for client.chat.completions.create that make the server enforce `constraint`.

    server_kind: "openai" (structured outputs: JSON schemas only), "vllm" (vLLM >= 0.12: `structured_outputs`),
    "vllm-legacy" (vLLM < 0.12: `guided_json` / `guided_regex` / `guided_choice`; newer servers ignore these
    silently, so the answers would come back unconstrained)."""
    if server_kind not in SERVER_KINDS:
        raise HarnessError(f"unknown server kind {server_kind!r}; {did_you_mean(server_kind, SERVER_KINDS)}")
    value = list(constraint.value) if constraint.kind == "choice" else constraint.value
    if server_kind == "openai":
        if constraint.kind != "json":
            raise HarnessError(
                f"unsupported: OpenAI structured outputs take a JSON schema, not a {constraint.kind} constraint "
                "(a vLLM server takes all three: server kind 'vllm')"
            )
        return {"response_format": {"type": "json_schema",
                                    "json_schema": {"name": "answer", "schema": value, "strict": True}}}
    if server_kind == "vllm":
        return {"extra_body": {"structured_outputs": {constraint.kind: value}}}
    return {"extra_body": {f"guided_{constraint.kind}": value}}
