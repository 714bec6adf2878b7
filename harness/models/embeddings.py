"""Sentence embeddings (sentence-transformers), normalised, cached on disk by model and texts.

Used by the data checks (near-duplicates, leakage) and by retrieval.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from harness.atomic import atomic_file
from harness.hub import cache_root
from harness.models.loading import ResolvedModel, pick_device, quiet_hf, resolve
from harness.spec import DEFAULT_EMBEDDING_MODEL


class Embedder:
    def __init__(self, ref: str = DEFAULT_EMBEDDING_MODEL, device: str | None = None):
        self.resolved: ResolvedModel = resolve(ref)
        self.device = device or pick_device()
        self._model: Any = None

    @property
    def model(self) -> Any:
        if self._model is None:
            from sentence_transformers import SentenceTransformer

            quiet_hf()
            self._model = SentenceTransformer(str(self.resolved.path), device=self.device)
        return self._model

    @property
    def dimension(self) -> int:
        return int(self.model.get_embedding_dimension() if hasattr(self.model, "get_embedding_dimension")
                   else self.model.get_sentence_embedding_dimension())

    def encode(self, texts: Sequence[str], advance: Callable[[int], None] = lambda n: None,
               batch_size: int = 64) -> np.ndarray:
        """Unit-length float32 vectors, one row per text; cached by (weights, texts)."""
        key = hashlib.sha256(self.resolved.weights_hash.encode())
        for t in texts:
            key.update(hashlib.sha256(t.encode()).digest())
        path = cache_root() / "embeddings" / f"{key.hexdigest()[:32]}.npy"
        if path.is_file():
            advance(len(texts))
            return np.load(path, allow_pickle=False)
        chunks = []
        for start in range(0, len(texts), batch_size):
            batch = list(texts[start : start + batch_size])
            chunks.append(self.model.encode(batch, batch_size=batch_size, normalize_embeddings=True,
                                            convert_to_numpy=True, show_progress_bar=False))
            advance(len(batch))
        vectors = np.concatenate(chunks).astype(np.float32) if chunks else np.zeros((0, self.dimension), np.float32)
        with atomic_file(path) as tmp, tmp.open("wb") as fh:  # a file object: np.save would add ".npy" to a name
            np.save(fh, vectors, allow_pickle=False)
        return vectors


class LazyEmbedder:
    """An Embedder loaded on first use: a run only pays for it when an arm asks (similar shots)."""

    def __init__(self, ref: str = DEFAULT_EMBEDDING_MODEL):
        self.ref = ref
        self._embedder: Embedder | None = None

    def __getattr__(self, name: str) -> Any:
        if self._embedder is None:
            self._embedder = Embedder(self.ref)
        return getattr(self._embedder, name)
