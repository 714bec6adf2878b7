"""Arms and backends from other packages, found through entry points and imported before a task file is read,
so `harness run` knows their YAML types:

    # a plugin's pyproject.toml
    [project.entry-points."harness.arms"]
    echo = "my_plugin.echo"          # a module whose import registers the arm (@register)
    [project.entry-points."harness.backends"]
    mine = "my_plugin.backend"       # a module whose import registers the backend

Loading is idempotent; a plugin that cannot be imported stops the command with one line naming it.
"""

from __future__ import annotations

from importlib import metadata

from harness.errors import HarnessError

GROUPS = ("harness.arms", "harness.backends")
_loaded: set[tuple[str, str, str]] = set()


def load_plugins() -> list[str]:
    """Import every entry point of GROUPS once; returns the ones loaded so far, as `group:name (package)`."""
    for group in GROUPS:
        for ep in sorted(metadata.entry_points(group=group), key=lambda e: e.name):
            key = (group, ep.name, ep.value)
            if key in _loaded:
                continue
            package = f"{ep.dist.name} {ep.dist.version}" if ep.dist is not None else "unknown package"
            try:
                ep.load()
            except Exception as exc:  # any failure of foreign code is reported the same way
                first = str(exc).splitlines()[0] if str(exc) else ""
                raise HarnessError(f"plugin {group}:{ep.name} = {ep.value} ({package}): cannot load: "
                                   f"{type(exc).__name__}: {first}") from None
            _loaded.add(key)
    return sorted(f"{g}:{n}" for g, n, _ in _loaded)
