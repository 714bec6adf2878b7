"""Retrieval for RAG arms: chunking a corpus and the BM25, dense and hybrid retrievers (retrievers.py), and
building or reusing a corpus's stored vector index (index.py)."""
