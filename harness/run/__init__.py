"""One run of a task: the pipeline that sequences the stages (pipeline.py), what is checked before a model
loads (preflight.py) and in the data (checks.py), each stage's time (timing.py), arm results reused from
earlier runs (cache.py) and where every result came from (provenance.py)."""
