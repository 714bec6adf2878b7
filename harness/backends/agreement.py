"""Does another backend answer as the reference one does? A sample of an arm's items answered by both (vLLM and
the harness's own transformers loop, say), compared: identical answers x/n, and how far apart the two put
the log-probability of the same answers (mean and max |Δ log p|). The report shows it beside the arm.

    found = compare(vllm_generator, hf_generator, conversations, vllm_texts, hf_texts, ids)
    found.as_details()   # {"identical": 7, "n": 8, "mean_abs_dlogprob": 0.0012, ...}
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

from harness.backends import Conversation, Generator


@dataclass(frozen=True)
class Agreement:
    backend: str  # the generator compared (its description)
    reference: str
    n: int  # items answered by both
    identical: int
    scored: int  # answers whose log-probability both backends gave
    mean_abs_dlogprob: float | None
    max_abs_dlogprob: float | None
    differing: list[str] = field(default_factory=list)  # item ids whose answers differ

    def as_details(self) -> dict:
        return asdict(self)


def sample(n_items: int, n: int, seed: int) -> list[int]:
    """Seeded indexes of up to n items, in item order."""
    return sorted(random.Random(seed).sample(range(n_items), min(n, n_items)))


def _no_advance(n: int) -> None:
    pass


def compare(generator: Generator, reference: Generator, conversations: Sequence[Conversation], texts: Sequence[str],
            reference_texts: Sequence[str], ids: Sequence[str]) -> Agreement:
    """Answers of both on the same conversations; each backend's answer scored by both for |Δ log p| (answers
    that are empty, a failed item's, have no log-probability to compare)."""
    same = [a == b for a, b in zip(texts, reference_texts)]
    requests = [(generator.render(c), generator.answer_lead + text) for c, text in zip(conversations, texts) if text]
    requests += [(reference.render(c), reference.answer_lead + text)
                 for c, text, equal in zip(conversations, reference_texts, same) if text and not equal]
    mine = generator.loglikelihood(requests, _no_advance) if requests else []
    theirs = reference.loglikelihood(requests, _no_advance) if requests else []
    deltas = [abs(a.logprob - b.logprob) for a, b in zip(mine, theirs) if a.error is None and b.error is None]
    return Agreement(
        generator.description, reference.description, len(same), sum(same), len(deltas),
        sum(deltas) / len(deltas) if deltas else None, max(deltas) if deltas else None,
        [i for i, equal in zip(ids, same) if not equal],
    )
