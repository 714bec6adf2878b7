"""Task data: the records (examples.py), reading files (loading.py) and `datasets` sources (hf_dataset.py)."""
