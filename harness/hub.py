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


def offline_by_env() -> bool:
    """HF_HUB_OFFLINE (or datasets' HF_DATASETS_OFFLINE) is set: hub libraries use their caches only."""
    return any(os.environ.get(name, "").strip().lower() in TRUE for name in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE"))


def hub_offline() -> bool:
    """Offline by the environment, or the hub's host does not accept a connection within 3 s."""
    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in TRUE:
        return True
    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co")
    host = urlparse(endpoint).hostname or "huggingface.co"
    try:
        socket.create_connection((host, 443), timeout=3).close()
    except OSError:
        return True
    return False
