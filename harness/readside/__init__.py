"""The read side: stored runs read back for the decision, the report and `history` (results.py), two runs
compared item by item (compare.py), and a run's tables exported (export.py)."""
