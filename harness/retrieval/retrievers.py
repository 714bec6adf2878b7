"""Corpus, chunks and retrievers: dense (DuckDB array cosine), BM25 (exact terms), and hybrid (RRF).

    corpus: {path: contracts/corpus/documents.jsonl, chunk_tokens: 200, overlap_tokens: 40}

Dense search runs inside the database (the store owns the index tables); this module owns documents,
token-aware chunking, keyword ranking, fusion and fitting retrieved text into a prompt's token budget.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import HarnessError, shown
from harness.spec.limits import DATA_FILE_LIMIT, EXAMPLE_LIMIT, LARGER_DATA
from harness.textfiles import json_record, oversized, read_text

RRF_K = 60  # the constant of Cormack et al.'s reciprocal-rank fusion
WORD = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")


@dataclass(frozen=True)
class Document:
    id: str
    text: str
    title: str = ""


@dataclass(frozen=True)
class Chunk:
    id: str
    doc_id: str
    position: int
    text: str
    n_tokens: int


@dataclass(frozen=True)
class Hit:
    chunk: Chunk
    score: float


def load_corpus(path: Path, outside: Callable[[Path], str | None] = lambda p: None) -> list[Document]:
    """A folder of .txt/.md files (id = relative path) or a JSONL file of {id, text[, title]} records. `outside`
    says why a file may not be read (a link in the folder that points where the task may not read)."""
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.suffix in (".txt", ".md") and p.is_file())
        docs = [Document(str(p.relative_to(path)), _document_text(p, outside)) for p in files]
    elif path.exists() or path.is_symlink():
        docs = []
        for lineno, line in enumerate(read_text(path, DATA_FILE_LIMIT, "corpus file", LARGER_DATA).split("\n"), start=1):
            if not line.strip():
                continue
            where = f"{shown(path)}:{lineno}"
            record, problem = json_record(line, where)
            problem = problem or oversized(where, len(line.encode()), EXAMPLE_LIMIT)
            if problem:
                raise HarnessError(problem)
            if not isinstance(record, dict) or not isinstance(record.get("id"), str) or not isinstance(record.get("text"), str):
                raise HarnessError(f"{where}: a corpus record needs string 'id' and 'text'")
            docs.append(Document(record["id"], record["text"], str(record.get("title", ""))))
    else:
        raise HarnessError(f"{shown(path)}: corpus not found (a folder of .txt/.md files or a .jsonl file)")
    if not docs:
        raise HarnessError(f"{shown(path)}: the corpus has no documents")
    seen: set[str] = set()
    for doc in docs:
        if doc.id in seen:
            raise HarnessError(f"{shown(path)}: document id {doc.id!r} appears twice")
        seen.add(doc.id)
    return docs


def _document_text(path: Path, outside: Callable[[Path], str | None]) -> str:
    refusal = outside(path)
    if refusal is not None:
        raise HarnessError(f"corpus file {refusal}")
    text = read_text(path, DATA_FILE_LIMIT, "corpus file")
    problem = oversized(shown(path), len(text.encode()), EXAMPLE_LIMIT)
    if problem:
        raise HarnessError(problem)
    return text


def corpus_fingerprint(docs: Sequence[Document]) -> str:
    h = hashlib.sha256()
    for doc in docs:
        h.update(json.dumps([doc.id, doc.title, doc.text]).encode())
    return h.hexdigest()[:16]


def chunk_documents(docs: Sequence[Document], tokenizer: Any, size: int, overlap: int) -> list[Chunk]:
    """Windows of `size` tokens that overlap by `overlap`, cut at token boundaries of the embedding model.

    The title leads the document's text, so a chunk from the middle still says what it is about."""
    chunks = []
    for doc in docs:
        text = f"{doc.title}\n{doc.text}" if doc.title else doc.text
        enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
        offsets = enc["offset_mapping"]
        if not offsets:
            continue
        step = size - overlap
        position = 0
        for start in range(0, len(offsets), step):
            window = offsets[start : start + size]
            body = text[window[0][0] : window[-1][1]].strip()
            if body:
                chunks.append(Chunk(f"{doc.id}#{position}", doc.id, position, body, len(window)))
                position += 1
            if start + size >= len(offsets):
                break
    return chunks


def _words(text: str) -> list[str]:
    return WORD.findall(text.lower())


class KeywordIndex:
    """BM25 (Okapi) over chunk texts: it finds exact terms (clause names, statute numbers) dense search blurs."""

    def __init__(self, chunks: Sequence[Chunk]):
        from rank_bm25 import BM25Okapi

        self.chunks = list(chunks)
        self.bm25 = BM25Okapi([_words(c.text) for c in self.chunks])

    def search(self, query: str, k: int) -> list[Hit]:
        import numpy as np

        scores = self.bm25.get_scores(_words(query))
        order = np.argsort(-scores, kind="stable")[:k]
        return [Hit(self.chunks[i], float(scores[i])) for i in order if scores[i] > 0]


def reciprocal_rank_fusion(rankings: Sequence[Sequence[Hit]], k: int) -> list[Hit]:
    """Sum of 1/(60 + rank) over the rankings a chunk appears in; ties keep the first ranking's order."""
    scores: dict[str, float] = {}
    chunks: dict[str, Chunk] = {}
    for ranking in rankings:
        for rank, hit in enumerate(ranking, start=1):
            scores[hit.chunk.id] = scores.get(hit.chunk.id, 0.0) + 1.0 / (RRF_K + rank)
            chunks.setdefault(hit.chunk.id, hit.chunk)
    order = sorted(scores, key=lambda cid: -scores[cid])
    return [Hit(chunks[cid], scores[cid]) for cid in order[:k]]


# (query vectors, k) -> for each query [(chunk id, cosine)]; one call for all queries, so one database session
DenseSearch = Callable[[Sequence[Sequence[float]], int], list[list[tuple[str, float]]]]


class Retriever:
    """dense | bm25 | hybrid search over one chunk index."""

    def __init__(self, chunks: Sequence[Chunk], dense: DenseSearch, embed: Callable[[list[str]], Any],
                 description: dict, documents: Sequence[Document] = ()):
        self.chunks = {c.id: c for c in chunks}
        self.documents = {d.id: (f"{d.title}\n{d.text}" if d.title else d.text) for d in documents}
        self.dense = dense
        self.embed = embed
        self.keyword = KeywordIndex(chunks)
        self.description = description

    def search(self, queries: Sequence[str], mode: str, k: int) -> list[list[Hit]]:
        depth = max(4 * k, 20)  # fusion needs more than the final k from each ranker
        ranked: list[list[tuple[str, float]]] = [[] for _ in queries]
        if mode in ("dense", "hybrid"):
            ranked = self.dense([v.tolist() for v in self.embed(list(queries))], depth)
        results = []
        for query, own in zip(queries, ranked):
            dense = [Hit(self.chunks[cid], score) for cid, score in own]
            if mode == "dense":
                results.append(dense[:k])
                continue
            keyword = self.keyword.search(query, depth)
            results.append(keyword[:k] if mode == "bm25" else reciprocal_rank_fusion([dense, keyword], k))
        return results


def fit_context(hits: Sequence[Hit], budget: int, count_tokens: Callable[[str], int]) -> tuple[str, list[Hit], int]:
    """As many hits as fit the token budget (in the generator's tokens), each labelled with its chunk id."""
    parts, used, total = [], [], 0
    for hit in hits:
        block = f"[{hit.chunk.id}]\n{hit.chunk.text}"
        cost = count_tokens(block)
        if total + cost > budget:
            continue
        parts.append(block)
        used.append(hit)
        total += cost
    if not parts:
        return "", [], 0
    return "Reference material (cite the ids in brackets if you use it):\n\n" + "\n\n".join(parts), used, total


def retrieval_scores(retrieved_docs: Sequence[str], gold: Sequence[str]) -> dict[str, float]:
    """hit@k, recall@k and reciprocal rank of the first gold document, at document level."""
    ranked = list(dict.fromkeys(retrieved_docs))
    gold_set = set(gold)
    first = next((i for i, d in enumerate(ranked, start=1) if d in gold_set), None)
    return {
        "retrieval_hit": float(first is not None),
        "retrieval_recall": len(gold_set & set(ranked)) / len(gold_set),
        "retrieval_mrr": 1.0 / first if first else 0.0,
    }
