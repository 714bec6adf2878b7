"""What one input may hold, checked before it is read or built: a task file, a data or corpus file, one example, and
what a task file's YAML may expand to. Each limit is measured by bench/input_limits.py (README "Bad input").

    harness validate tasks/contracts.yaml   # a file past a limit is one `error:` line naming it and the limit
"""

from __future__ import annotations

MiB = 1 << 20

# A task file is settings: 1 MiB is tens of thousands of lines.
TASK_FILE_LIMIT = 1 * MiB
# Values a task file may expand to, each alias counted every time it is used: a few hundred make a real task, and
# ten levels of ten aliases (an alias bomb, 22 lines) make 10^10.
YAML_VALUES_LIMIT = 100_000
# A data or corpus file is read whole into memory: past 1 GiB, read the data as Parquet or Arrow through
# `data.dataset`.
DATA_FILE_LIMIT = 1024 * MiB
# One example (a JSONL line, a CSV record, a dataset row) or corpus document: 4 MiB is about a million tokens, more
# than any model's context window. Tokenizing one costs about 200x its size in memory: a 200 MiB line ran a 12 GiB
# process into an abort in the tokenizer's native code.
EXAMPLE_LIMIT = 4 * MiB
LARGER_DATA = "read larger data with data.dataset: Parquet, Arrow"
