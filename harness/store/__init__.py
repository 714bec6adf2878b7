"""The experiment database (DuckDB): the Store (database.py) built from its connection discipline
(connection.py), the schema's migrations (migrations.py), writes (writes.py), reads (reads.py) and the
retrieval vector index (vectors.py). The only package that imports duckdb."""
