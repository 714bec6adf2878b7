"""One way to name content by its hash: the JSON of a value (keys sorted), SHA-256, hex, shortened.

Cache keys, arm identities, suite and index keys all go through `content_hash`, so equal content always gives
an equal key whichever module computes it.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any


def content_hash(value: Any, length: int | None = 16) -> str:
    """SHA-256 of `value` as JSON with sorted keys (values JSON cannot hold are written as their str), in hex,
    cut to `length` characters (None: all 64)."""
    digest = hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()
    return digest if length is None else digest[:length]
