"""Retrieval: chunking, the DuckDB index (built once, reused), dense / BM25 / hybrid ranking, the RAG arms."""

from __future__ import annotations

import json

import duckdb
import pytest
from rich.progress import Progress

from harness.cli import main
from harness.models.embeddings import Embedder
from harness.retrieval.index import build_retriever
from harness.retrieval.retrievers import (
    Chunk,
    Hit,
    chunk_documents,
    fit_context,
    reciprocal_rank_fusion,
    retrieval_scores,
)
from harness.spec.taskfile import load_spec
from harness.store.database import Store
from tests.conftest import write_jsonl, write_tiny_task

DOCS = [
    {"id": "jur-ny", "title": "New York", "text": "Agreements governed by the laws of the State of New York use the house code LAW-NY-017."},
    {"id": "jur-de", "title": "Delaware", "text": "Delaware law, the laws of the State of Delaware: house code LAW-DE-332."},
    {"id": "glossary-lease", "title": "Leases", "text": "A landlord lets premises to a tenant for rent. Landlord and Tenant mean a lease."},
    {"id": "statute", "title": "Uniform Commercial Code", "text": "Battle of the forms is governed by section 2-207 of the UCC, "
     "which decides whose terms control when offer and acceptance differ. Reference UCC-2207-XQ."},
    {"id": "pets", "title": "Animals", "text": "Cats and dogs are common household pets that need food, water and care."},
]


@pytest.fixture()
def corpus(tmp_path):
    return write_jsonl(tmp_path / "corpus.jsonl", DOCS)


@pytest.fixture(scope="module")
def embedder():
    return Embedder()


def test_chunks_are_token_windows_with_overlap(embedder):
    from harness.retrieval.retrievers import Document

    long = Document("long", " ".join(f"word{i}" for i in range(300)))
    chunks = chunk_documents([long], embedder.model.tokenizer, size=50, overlap=10)
    assert len(chunks) > 5 and all(c.n_tokens <= 50 for c in chunks)
    assert [c.id for c in chunks[:2]] == ["long#0", "long#1"]
    # consecutive chunks share their overlap
    assert chunks[0].text.split()[-1] in chunks[1].text


def test_dense_search_in_duckdb_finds_the_right_chunk(tmp_path, corpus, tiny_model):
    task = load_spec(write_tiny_task(tmp_path, tiny_model, extra=f"corpus: {{path: {corpus}, chunk_tokens: 64, overlap_tokens: 8}}\n"))
    with Store.open(tmp_path / "h.duckdb") as store, Progress(disable=True) as progress:
        retriever = build_retriever(task, store, progress)
        [hits] = retriever.search(["Which code applies when the laws of New York govern?"], "dense", 2)
        assert hits[0].chunk.doc_id == "jur-ny" and 0 < hits[0].score <= 1
        [pets] = retriever.search(["my dog needs water"], "dense", 1)
        assert pets[0].chunk.doc_id == "pets"
        con_tables = store.query("SELECT data_type FROM information_schema.columns WHERE column_name = 'embedding'")
        assert con_tables[0][0] == "FLOAT[384]"


def test_index_is_built_once_and_reused(tmp_path, corpus, tiny_model, monkeypatch):
    task = load_spec(write_tiny_task(tmp_path, tiny_model, extra=f"corpus: {{path: {corpus}}}\n"))
    with Store.open(tmp_path / "h.duckdb") as store, Progress(disable=True) as progress:
        build_retriever(task, store, progress)
        created = store.query("SELECT index_key, created_at FROM indexes")
    encoded: list[list[str]] = []
    original = Embedder.encode
    monkeypatch.setattr(Embedder, "encode", lambda self, texts, *a, **k: encoded.append(list(texts)) or original(self, texts, *a, **k))
    with Store.open(tmp_path / "h.duckdb") as store, Progress(disable=True) as progress:
        retriever = build_retriever(task, store, progress)
        assert store.query("SELECT index_key, created_at FROM indexes") == created
        assert encoded == []  # nothing re-embedded
        retriever.search(["New York"], "dense", 1)
        assert encoded == [["New York"]]  # only the query


def test_bm25_wins_on_exact_terms_and_dense_on_paraphrase(tmp_path, corpus, tiny_model):
    task = load_spec(write_tiny_task(tmp_path, tiny_model, extra=f"corpus: {{path: {corpus}, chunk_tokens: 64, overlap_tokens: 8}}\n"))
    with Store.open(tmp_path / "h.duckdb") as store, Progress(disable=True) as progress:
        retriever = build_retriever(task, store, progress)
        code_query = ["reference UCC-2207-XQ"]
        assert retriever.search(code_query, "bm25", 1)[0][0].chunk.doc_id == "statute"
        paraphrase = ["someone renting an apartment from its owner"]
        assert retriever.search(paraphrase, "dense", 1)[0][0].chunk.doc_id == "glossary-lease"
        assert retriever.search(paraphrase, "bm25", 1)[0] == [] or \
            retriever.search(paraphrase, "bm25", 1)[0][0].chunk.doc_id != "glossary-lease"
        # hybrid keeps both winners near the top
        assert retriever.search(code_query, "hybrid", 2)[0][0].chunk.doc_id == "statute"
        assert "glossary-lease" in [h.chunk.doc_id for h in retriever.search(paraphrase, "hybrid", 3)[0]]


def test_reciprocal_rank_fusion_rewards_agreement():
    a, b, c = (Chunk(x, x, 0, x, 1) for x in "abc")
    fused = reciprocal_rank_fusion([[Hit(a, 1), Hit(b, 1)], [Hit(b, 1), Hit(c, 1)]], 3)
    assert [h.chunk.id for h in fused] == ["b", "a", "c"]


def test_context_budget_and_retrieval_scores():
    chunks = [Hit(Chunk(f"d{i}#0", f"d{i}", 0, "x " * 50, 50), 1.0) for i in range(3)]
    text, used, tokens = fit_context(chunks, 120, lambda t: len(t.split()))
    assert [h.chunk.id for h in used] == ["d0#0", "d1#0"] and tokens <= 120 and "[d1#0]" in text
    scores = retrieval_scores(["d2", "d0", "d0"], ["d0", "d9"])
    assert scores == {"retrieval_hit": 1.0, "retrieval_recall": 0.5, "retrieval_mrr": 0.5}


def _rag_task(tmp_path, model, corpus, arms):
    rows = []
    for i, doc in enumerate(DOCS[:3] * 3):
        rows.append({"id": f"q{i}", "messages": [
            {"role": "user", "content": f"Question {i} about {doc['title']}: {doc['text'][:40]}"},
            {"role": "assistant", "content": json.dumps({"party": doc["id"], "months": i})}],
            "gold_doc_ids": [doc["id"]]})
    write_jsonl(tmp_path / "data" / "train.jsonl", rows[:5])
    write_jsonl(tmp_path / "data" / "validation.jsonl", rows[5:6])
    write_jsonl(tmp_path / "data" / "test.jsonl", rows[6:])
    path = write_tiny_task(tmp_path, model, arms, extra=f"corpus: {{path: {corpus}, chunk_tokens: 64, overlap_tokens: 8}}\n")
    text = path.read_text().replace("  test: data/test.jsonl\n", "  test: data/test.jsonl\n  gold_docs_field: gold_doc_ids\n")
    path.write_text(text)
    # write_tiny_task overwrote the data: put the RAG rows back
    write_jsonl(tmp_path / "data" / "train.jsonl", rows[:5])
    write_jsonl(tmp_path / "data" / "validation.jsonl", rows[5:6])
    write_jsonl(tmp_path / "data" / "test.jsonl", rows[6:])
    return path


def test_rag_and_dynamic_few_shot_arms_end_to_end(tmp_path, corpus, tiny_model):
    arms = """
  - name: dynamic
    type: prompted
    shots: 2
    shot_selection: similar
  - name: rag
    type: rag
    retriever: hybrid
    top_k: 2
    context_tokens: 200
"""
    task = _rag_task(tmp_path, tiny_model, corpus, arms)
    assert main(["run", str(task), "--db", str(tmp_path / "h.duckdb"), "--reports", str(tmp_path / "r"), "--quiet"]) == 0
    con = duckdb.connect(str(tmp_path / "h.duckdb"), read_only=True)
    details = {r[0]: json.loads(r[1]) for r in con.execute(
        "SELECT example_id, details_json FROM predictions WHERE arm = 'rag' AND split = 'test'").fetchall()}
    assert set(details) == {"q6", "q7", "q8"} and all(1 <= len(d["chunks"]) <= 2 for d in details.values())
    prompt = json.loads(con.execute("SELECT prompt_json FROM predictions WHERE arm = 'rag' AND example_id = 'q6'").fetchone()[0])
    assert f"[{details['q6']['chunks'][0]['id']}]" in prompt[0]["content"]
    metrics = dict(con.execute("SELECT metric, n FROM metrics WHERE arm = 'rag' AND split = 'test'").fetchall())
    for key in ("retrieval_hit", "retrieval_recall", "retrieval_mrr", "context_precision", "context_recall"):
        assert metrics[key] == 3
    hit = con.execute("SELECT value FROM metrics WHERE arm = 'rag' AND split = 'test' AND metric = 'retrieval_hit'").fetchone()[0]
    assert hit == 1.0  # each question quotes its gold document
    shots = {r[0]: json.loads(r[1])["shot_ids"] for r in con.execute(
        "SELECT example_id, details_json FROM predictions WHERE arm = 'dynamic' AND split = 'test'").fetchall()}
    # the most similar train item (same document, last in the prompt) is the one about the same topic
    assert shots["q6"][-1] in ("q0", "q3") and shots["q7"][-1] in ("q1", "q4")
    assert con.execute("SELECT arm_type FROM arms WHERE arm = 'rag'").fetchone()[0] == "rag"
    con.close()
    from tests.browser import dump_dom

    dom = dump_dom(next((tmp_path / "r").glob("*.html")))
    assert 'class="chunk"' in dom and "retrieval_hit" in dom
