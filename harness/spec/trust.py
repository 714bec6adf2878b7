"""What a task file may reach outside itself. A task file is data a colleague or a stranger may send you; running
it must not send one of your secrets to a host of its choosing, nor read your files into prompts, a report or an
endpoint. So both are allowed from outside the file only (a flag or an environment variable of your own):

- an API key variable goes only to a host it is allowed for: `--allow-key VAR@HOST[:PORT]` (repeatable) or
  HARNESS_ALLOW_KEYS="VAR@HOST,VAR2@HOST2:8000"; well-known vendors' variables are allowed for their own API
  host (OPENAI_API_KEY for api.openai.com, ...);
- a file whose content becomes prompts (data files, a local dataset, the corpus) lies inside the task file's folder,
  symbolic links resolved, or inside a folder allowed with `--allow-path DIR` or HARNESS_ALLOW_PATHS (folders
  separated by `:`).

    harness run tasks/served.yaml --allow-key VLLM_KEY@10.0.0.5:8000 --allow-path /data/shared
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from harness.errors import HarnessError, shown
from harness.redact import public_url

ALLOW_KEYS_ENV = "HARNESS_ALLOW_KEYS"
ALLOW_PATHS_ENV = "HARNESS_ALLOW_PATHS"

# Each vendor's key goes to its own API host without being allowed: nothing else could be meant by it.
VENDOR_KEYS = {
    "OPENAI_API_KEY": "api.openai.com",
    "ANTHROPIC_API_KEY": "api.anthropic.com",
    "MISTRAL_API_KEY": "api.mistral.ai",
    "GROQ_API_KEY": "api.groq.com",
    "TOGETHER_API_KEY": "api.together.xyz",
    "FIREWORKS_API_KEY": "api.fireworks.ai",
    "DEEPSEEK_API_KEY": "api.deepseek.com",
    "OPENROUTER_API_KEY": "openrouter.ai",
    "GEMINI_API_KEY": "generativelanguage.googleapis.com",
}
DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class KeyGrant:
    """Variable `variable` may be sent to `host` (any port when `port` is None)."""

    variable: str
    host: str
    port: int | None = None

    @classmethod
    def parse(cls, text: str, source: str) -> KeyGrant:
        variable, at, place = text.strip().partition("@")
        host, colon, port = place.rpartition(":") if place.count(":") == 1 else (place, "", "")
        if not at or not variable or not host or (colon and not port.isdigit()):
            raise HarnessError(f"{source} {shown(text)!s}: expected VARIABLE@HOST or VARIABLE@HOST:PORT, "
                               f"e.g. VLLM_KEY@10.0.0.5:8000")
        return cls(variable, host.lower().strip("[]"), int(port) if colon else None)

    def covers(self, variable: str, host: str, port: int | None) -> bool:
        return self.variable == variable and self.host == host and (self.port is None or self.port == port)


@dataclass(frozen=True)
class Trust:
    """The user's allowances, from flags and their own environment; never from a task file."""

    keys: tuple[KeyGrant, ...] = ()
    roots: tuple[Path, ...] = ()

    @classmethod
    def of_user(cls, keys: Iterable[str] = (), paths: Iterable[str | Path] = ()) -> Trust:
        """Allowances given as flags (`--allow-key`, `--allow-path`) plus those in HARNESS_ALLOW_KEYS and
        HARNESS_ALLOW_PATHS."""
        grants = [KeyGrant.parse(k, "--allow-key") for k in keys]
        grants += [KeyGrant.parse(k, ALLOW_KEYS_ENV) for k in os.environ.get(ALLOW_KEYS_ENV, "").split(",") if k.strip()]
        folders = [Path(p) for p in paths] + [Path(p) for p in os.environ.get(ALLOW_PATHS_ENV, "").split(os.pathsep)
                                              if p.strip()]
        roots = []
        for folder in folders:
            if not folder.expanduser().is_dir():
                raise HarnessError(f"--allow-path {shown(folder)}: not a folder (from the flag or {ALLOW_PATHS_ENV})")
            roots.append(folder.expanduser().resolve())
        return cls(tuple(grants), tuple(roots))

    def key_refusal(self, variable: str, base_url: str) -> str | None:
        """Why `variable`'s value may not be sent to `base_url` (None: it may)."""
        host, port = endpoint(base_url)
        if VENDOR_KEYS.get(variable) == host or any(g.covers(variable, host, port) for g in self.keys):
            return None
        place = f"{host}:{port}" if port is not None else host
        return (f"{variable} may not be sent to {place}: a task file cannot choose which of your secrets leave this "
                f"machine, nor where to; if this endpoint is yours, allow it with --allow-key {variable}@{place} "
                f"(or {ALLOW_KEYS_ENV})")

    def read_key(self, variable: str, base_url: str) -> str:
        """The value of API key variable `variable`, for requests to `base_url`; HarnessError when it may not go
        there or is not set. The one place a key is read for a task."""
        refusal = self.key_refusal(variable, base_url)
        if refusal is not None:
            raise HarnessError(refusal)
        value = os.environ.get(variable)
        if not value:
            raise HarnessError(f"environment variable {variable} is not set (it holds the API key for "
                               f"{public_url(base_url)})")
        return value

    def path_refusal(self, task_dir: Path, path: Path) -> str | None:
        """Why the task file may not read `path` (None: it may): outside the task file's folder and every allowed
        folder, symbolic links resolved."""
        text = str(path.expanduser())
        cut = min((text.index(c) for c in "*?[" if c in text), default=None)
        climbs = cut is not None and ".." in Path(text[cut:]).parts  # a glob that climbs out after its first wildcard
        if cut is not None:  # a glob: the folder it starts from
            path = Path(text[:cut]) if text[:cut].endswith(os.sep) else Path(text[:cut]).parent
        real = path.resolve()
        folders = (task_dir.resolve(), *self.roots)
        if not climbs and any(real.is_relative_to(folder) for folder in folders):
            return None
        return (f"{shown(path)} is outside the task file's folder ({shown(task_dir.resolve())}); a task file reads "
                f"only what lies beside it, so that it cannot send your files to an endpoint or a report: allow a "
                f"folder with --allow-path DIR (or {ALLOW_PATHS_ENV})")


def endpoint(base_url: str) -> tuple[str, int | None]:
    """(host, port) a URL's requests go to; the port is the scheme's default when not given."""
    parts = urlsplit(base_url)
    try:
        port = parts.port
    except ValueError:
        port = None
    return (parts.hostname or "").lower(), port if port is not None else DEFAULT_PORTS.get(parts.scheme.lower())
