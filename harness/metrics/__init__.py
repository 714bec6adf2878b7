"""Metrics: per-example scorers named in a task file (builtin.py) and metrics from `evaluate` modules (hf_evaluate.py)."""
