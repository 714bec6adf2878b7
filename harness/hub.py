"""Where the Hugging Face hub and the harness cache are, and content hashes kept in that cache: shared by model
resolution, hub datasets and evaluate metrics.

    HF_HUB_OFFLINE=1 harness validate tasks/contracts.yaml     # never touches the network
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlparse

from harness.atomic import writable_folder, write_text_atomic

TRUE = ("1", "true", "yes", "on")
CACHE = "HARNESS_CACHE"


def cache_root() -> Path:
    """The harness's cache folder: HARNESS_CACHE, else ~/.cache/harness; it must be a folder that can be written."""
    given = os.environ.get(CACHE, "").strip()
    if not given:
        return Path(os.path.expanduser("~")) / ".cache" / "harness"
    writable_folder(Path(given), CACHE)
    return Path(given)


def file_digest(files: Sequence[Path], names: Sequence[str] | None = None) -> str:
    """sha256 (hex) over the files' bytes, each preceded by its name when `names` are given; remembered in the cache
    by path, size and modification time, so an unchanged file is read once."""
    labels = list(names) if names is not None else [None] * len(files)
    stamp = json.dumps([[str(p.resolve()), n, p.stat().st_size, p.stat().st_mtime_ns] for p, n in zip(files, labels)])
    memo = cache_root() / "hashes" / (hashlib.sha256(stamp.encode()).hexdigest() + ".txt")
    if memo.is_file():
        return memo.read_text().strip()
    h = hashlib.sha256()
    for path, name in zip(files, labels):
        if name is not None:
            h.update(name.encode())
        with path.open("rb") as fh:
            while chunk := fh.read(1 << 22):
                h.update(chunk)
    write_text_atomic(memo, h.hexdigest())
    return h.hexdigest()


OFFLINE_VARIABLES = ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "HF_EVALUATE_OFFLINE")


def offline_by_env() -> bool:
    """One of the hub libraries' offline switches is set: they use their caches only."""
    return any(os.environ.get(name, "").strip().lower() in TRUE for name in OFFLINE_VARIABLES)


_REACHABLE: dict[str, bool] = {}  # per process: an unreachable hub costs its 3 s once


def hub_offline() -> bool:
    """Offline by the environment, or the hub's host does not accept a connection within 3 s."""
    if offline_by_env():
        return True
    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co")
    if endpoint not in _REACHABLE:
        host = urlparse(endpoint).hostname or "huggingface.co"
        try:
            socket.create_connection((host, 443), timeout=3).close()
            _REACHABLE[endpoint] = True
        except OSError:
            _REACHABLE[endpoint] = False
    return not _REACHABLE[endpoint]
