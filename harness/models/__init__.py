"""Models: resolving a reference (hub id, local path, embedded copy) and loading it (loading.py), the CPU's
fastest precision (precision.py) and the sentence embedder (embeddings.py)."""
