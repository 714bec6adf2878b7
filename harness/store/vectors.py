"""The retrieval index's tables: a corpus's chunks and their embeddings, stored once per index key and searched
by cosine similarity inside DuckDB (harness/retrieval/index.py decides when to build one).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from harness.errors import HarnessError
from harness.store.connection import Connection, _connected, _now
from harness.store.records import IndexRecord


class VectorIndex(Connection):
    """Chunk tables and dense search."""

    @staticmethod
    def _chunk_table(key: str) -> str:
        if not key.isalnum():
            raise ValueError(f"index key must be alphanumeric, got {key!r}")
        return f"chunks_{key}"

    @_connected
    def index_info(self, key: str) -> IndexRecord | None:
        rows = self._dicts("SELECT * FROM indexes WHERE index_key = ?", [key])
        return IndexRecord.from_row(rows[0]) if rows else None

    @_connected
    def create_index(self, key: str, meta: dict[str, Any], chunks: Sequence[dict[str, Any]], vectors: Any) -> None:
        """Chunks and their embeddings in one transaction: an index is there whole or not at all."""
        import pyarrow as pa

        dim = int(vectors.shape[1])
        table = self._chunk_table(key)
        flat = pa.array(vectors.astype("float32").reshape(-1))
        batch = pa.table({
            "chunk_id": [c["chunk_id"] for c in chunks],
            "doc_id": [c["doc_id"] for c in chunks],
            "position": [c["position"] for c in chunks],
            "text": [c["text"] for c in chunks],
            "n_tokens": [c["n_tokens"] for c in chunks],
            "embedding": pa.FixedSizeListArray.from_arrays(flat, dim),
        })
        with self._transaction():
            self.con.execute(f"DROP TABLE IF EXISTS {table}")
            self.con.execute(
                f"CREATE TABLE {table} (chunk_id VARCHAR PRIMARY KEY, doc_id VARCHAR NOT NULL, position INTEGER, "
                f"text VARCHAR NOT NULL, n_tokens INTEGER, embedding FLOAT[{dim}] NOT NULL)"
            )
            self.con.register("_chunks", batch)
            self.con.execute(f"INSERT INTO {table} SELECT chunk_id, doc_id, position, text, n_tokens, "
                             f"embedding::FLOAT[{dim}] FROM _chunks")
            self.con.unregister("_chunks")
            self._insert("indexes", [dict(meta, index_key=key, dimension=dim, n_chunks=len(chunks), created_at=_now())])

    @_connected
    def index_chunks(self, key: str) -> list[tuple[str, str, int, str, int]]:
        """(chunk_id, doc_id, position, text, n_tokens) of every chunk, in document order."""
        return [tuple(row) for row in self.con.execute(
            f"SELECT chunk_id, doc_id, position, text, n_tokens FROM {self._chunk_table(key)} "
            "ORDER BY doc_id, position").fetchall()]

    @_connected
    def dense_search(self, key: str, vectors: Sequence[Sequence[float]], k: int) -> list[list[tuple[str, float]]]:
        """For each query vector, the top-k chunks by cosine similarity, computed by DuckDB over the stored
        FLOAT arrays."""
        info = self.index_info(key)
        if info is None:
            raise HarnessError(f"{self.path}: no retrieval index {key}")
        dim = info.dimension
        sql = (f"SELECT chunk_id, array_cosine_similarity(embedding, ?::FLOAT[{dim}]) AS score "
               f"FROM {self._chunk_table(key)} ORDER BY score DESC, chunk_id LIMIT ?")
        return [[(r[0], float(r[1])) for r in self.con.execute(sql, [list(v), k]).fetchall()] for v in vectors]
