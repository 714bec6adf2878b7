"""Where the Hugging Face hub and the harness cache are: shared by model resolution and hub datasets.

    HF_HUB_OFFLINE=1 harness validate tasks/contracts.yaml     # never touches the network
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from urllib.parse import urlparse

TRUE = ("1", "true", "yes", "on")


def cache_root() -> Path:
    root = os.environ.get("HARNESS_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "harness")
    return Path(root)


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
