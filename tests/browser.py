"""Render a page in real headless Chromium (Debian's `chromium`) and return the DOM it built."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _required_chromium() -> str:
    binary = chromium()
    if binary is None:
        raise RuntimeError("Debian chromium is not installed (make test installs it)")
    return binary


def dump_dom(page: Path) -> str:
    binary = _required_chromium()
    with tempfile.TemporaryDirectory() as profile:
        proc = subprocess.run(
            [binary, *FLAGS, f"--user-data-dir={profile}", "--virtual-time-budget=2000", "--dump-dom",
             page.resolve().as_uri()],
            capture_output=True, text=True, timeout=120,
        )
    if proc.returncode != 0 or "<html" not in proc.stdout:
        raise RuntimeError(f"chromium failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return proc.stdout


# Hosts Chromium itself calls (updates, sign-in, spelling): not requests the page made.
BROWSER_OWN_HOSTS = ("google.com", "googleapis.com", "gvt1.com", "gstatic.com")


@dataclass
class PageLoad:
    console: list[str]  # every console message (errors, CSP violations, logs)
    requests: list[str]  # http(s) URLs requested on the page's behalf
    screenshot: Path | None


def load_page(page: Path, width: int = 1366, height: int = 900, screenshot: Path | None = None) -> PageLoad:
    """Load the page in headless Chromium: its console messages, the network requests made, and a screenshot
    at the given window size."""
    binary = _required_chromium()
    with tempfile.TemporaryDirectory() as work:
        net_log = Path(work) / "net.json"
        args = [binary, *FLAGS, f"--user-data-dir={work}/profile", "--enable-logging=stderr", "--v=0",
                f"--log-net-log={net_log}", f"--window-size={width},{height}", "--virtual-time-budget=2000"]
        args.append(f"--screenshot={screenshot}" if screenshot else "--dump-dom")
        proc = subprocess.run([*args, page.resolve().as_uri()], capture_output=True, text=True, timeout=120)
        if proc.returncode != 0:
            raise RuntimeError(f"chromium failed ({proc.returncode}): {proc.stderr[-2000:]}")
        urls = set(re.findall(r'"url":"(https?://[^"]+)"', net_log.read_text())) if net_log.is_file() else set()
    console = [line for line in proc.stderr.splitlines() if ":CONSOLE" in line]
    requests = sorted(u for u in urls if not any(urlparse(u).hostname.endswith(h) for h in BROWSER_OWN_HOSTS))
    return PageLoad(console, requests, screenshot if screenshot and screenshot.is_file() else None)
