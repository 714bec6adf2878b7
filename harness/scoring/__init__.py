"""Scoring: every prediction against every metric, with bootstrap intervals and retrieval scores (scores.py),
and the LLM judge for metrics a string comparison cannot decide (judge.py)."""
