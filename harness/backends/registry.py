"""Backend implementations by the `type` a task file names: how each opens a generator for (base, adapter),
for a merged model and for a model still in training, what it must check before a run, and its identity
(name and version, part of every arm's cache key). What each can do is declared beside its settings
(harness.spec.backends), so the task file is checked against it before anything loads.

    register_backend("mine", MyBackend)        # a plugin: a settings model + this, and `type: mine` works

An implementation is made once per run by the generator pool (`Generators.backend`) and closed with it.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from harness.backends import Generator
from harness.errors import HarnessError, did_you_mean
from harness.records import Adapter

if TYPE_CHECKING:
    from harness.backends.pool import Generators


class BackendImpl(Protocol):
    def generator(self, spec: Any, adapter: Adapter | None, seed: int) -> Generator:
        """Answers from the base model, or the base with `adapter` on top."""
        ...

    def merged(self, spec: Any, adapter: Adapter, out_dir: Path) -> Generator:
        """Answers from the adapter merged into the base weights (written to out_dir)."""
        ...

    def training(self, spec: Any, model: Any, save_dir: Path, label: str) -> Generator:
        """Answers from a model still in training (a sweep trial's), as it is now."""
        ...

    def preflight(self, spec: Any) -> None:
        """Raise HarnessError now for what would fail later (a missing environment or key)."""
        ...

    def identity(self, spec: Any) -> dict[str, Any]:
        """{"backend": name, "version": ...}: part of every arm's identity and cache key."""
        ...

    def close(self) -> None:
        """Free what it holds (stop a server it started)."""
        ...


BACKENDS: dict[str, Callable[[Generators], BackendImpl]] = {}


def register_backend(type_name: str, factory: Callable[[Generators], BackendImpl]) -> None:
    BACKENDS[type_name] = factory


def backend_factory(type_name: str) -> Callable[[Generators], BackendImpl]:
    _builtin()
    if type_name not in BACKENDS:
        raise HarnessError(f"unknown backend type {type_name!r}; {did_you_mean(type_name, list(BACKENDS))}")
    return BACKENDS[type_name]


def _version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


class HFImpl:
    """The base model and its adapters in this process, loaded by the pool once per run."""

    def __init__(self, pool: Generators):
        self.pool = pool

    def generator(self, spec: Any, adapter: Adapter | None, seed: int) -> Generator:
        return self.pool.local(adapter)

    def merged(self, spec: Any, adapter: Adapter, out_dir: Path) -> Generator:
        return self.pool.local_merged(adapter, out_dir)

    def training(self, spec: Any, model: Any, save_dir: Path, label: str) -> Generator:
        return self.pool.wrap(model, label)

    def preflight(self, spec: Any) -> None:
        return None

    def identity(self, spec: Any) -> dict[str, Any]:
        return {"backend": "hf", "version": f"transformers {_version('transformers')}, torch {_version('torch')}"}

    def close(self) -> None:
        return None


class OpenAIImpl:
    """An OpenAI-compatible chat endpoint: nothing is loaded here; the key is read from the environment."""

    def __init__(self, pool: Generators):
        self.pool = pool

    def generator(self, spec: Any, adapter: Adapter | None, seed: int) -> Generator:
        from harness.backends.openai_compat import OpenAIGenerator

        if spec.api_key_env is not None:
            self.pool.trust.read_key(spec.api_key_env, spec.base_url)  # refused unless the user allowed it
        return OpenAIGenerator(spec.base_url, spec.model, spec.api_key_env, spec.concurrency, spec.timeout_s,
                               spec.max_retries, seed, spec.server, spec.backoff_s, spec.max_backoff_s)

    def merged(self, spec: Any, adapter: Adapter, out_dir: Path) -> Generator:
        raise HarnessError("an openai endpoint serves no merged model")  # the spec's capabilities catch it first

    def training(self, spec: Any, model: Any, save_dir: Path, label: str) -> Generator:
        raise HarnessError("an openai endpoint cannot answer for a model in training")

    def preflight(self, spec: Any) -> None:
        self.generator(spec, None, 0)  # fails now, not mid-run, if the key variable is unset

    def identity(self, spec: Any) -> dict[str, Any]:
        return {"backend": "openai", "version": None, "server": spec.server}

    def close(self) -> None:
        return None


def _builtin() -> None:
    if "hf" in BACKENDS:
        return
    from harness.backends.vllm import VLLMImpl

    register_backend("hf", HFImpl)
    register_backend("openai", OpenAIImpl)
    register_backend("vllm", VLLMImpl)
