"""The task corpus's chunk index in the experiment database: built once per (corpus, embedding model,
chunking), then reused by every run, and searched by a `Retriever`.

    harness run tasks/contracts.yaml --arm rag     # builds the index on first use
"""

from __future__ import annotations

from typing import Any

from harness.digest import content_hash
from harness.models.embeddings import Embedder
from harness.retrieval.retrievers import Chunk, Retriever, chunk_documents, corpus_fingerprint, load_corpus
from harness.spec import Task
from harness.store.database import Store


def build_retriever(task: Task, store: Store, progress: Any) -> Retriever | None:
    """The retriever over the task's corpus (None without one), building its index if it is not stored yet."""
    corpus = task.spec.corpus
    if corpus is None:
        return None
    path = task.resolve(corpus.path)
    docs = load_corpus(path, task.outside)
    embedder = Embedder(corpus.embedding_model)
    fingerprint = corpus_fingerprint(docs)
    identity = [fingerprint, embedder.resolved.weights_hash, corpus.chunk_tokens, corpus.overlap_tokens]
    key = content_hash(identity)
    if store.index_info(key) is None:
        chunks = chunk_documents(docs, embedder.model.tokenizer, corpus.chunk_tokens, corpus.overlap_tokens)
        step = progress.add_task(f"index {len(chunks)} chunks of {path.name}", total=len(chunks))
        vectors = embedder.encode([c.text for c in chunks], lambda n: progress.advance(step, n))
        store.create_index(key, {
            "corpus_path": str(path), "corpus_fingerprint": fingerprint, "embedding_model": embedder.resolved.id,
            "embedding_hash": embedder.resolved.weights_hash, "chunk_tokens": corpus.chunk_tokens,
            "overlap_tokens": corpus.overlap_tokens, "n_documents": len(docs),
        }, [{"chunk_id": c.id, "doc_id": c.doc_id, "position": c.position, "text": c.text, "n_tokens": c.n_tokens}
            for c in chunks], vectors)
    chunks = [Chunk(*row) for row in store.index_chunks(key)]
    info = store.index_info(key)
    assert info is not None  # written just above when it was missing
    return Retriever(chunks, lambda vectors, k: store.dense_search(key, vectors, k), embedder.encode,
                     {"index": key, "chunks": info.n_chunks, "documents": info.n_documents,
                      "embedding_model": info.embedding_model, "chunk_tokens": info.chunk_tokens,
                      "overlap_tokens": info.overlap_tokens}, docs)
