"""The one owner of models for generation: a generator for (base, adapter, quantization, backend),
each loaded once per run. Arms ask it; so do the regression suite and a server.

    generators.get(HFBackend())                        # the base model
    generators.get(HFBackend(), adapter=adapter)       # base + a tuned arm's adapter
    generators.merged(adapter, out_dir)                # the adapter merged into the base weights
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.backends import Generator
from harness.models.loading import (
    ResolvedModel,
    load_adapter,
    load_causal_lm,
    load_tokenizer,
    merge_adapter,
    pick_device,
)
from harness.models.precision import choose_precision
from harness.prompting.template import PromptFormat, choose_format
from harness.records import Adapter
from harness.spec import HFBackend, OpenAIBackend
from harness.spec.trust import Trust


class Generators:
    def __init__(self, base: ResolvedModel, dtype: str, batch_size: int, progress: Any, device: str | None = None,
                 prompt_format: str = "auto", trust: Trust | None = None):
        self.base = base
        self.trust = trust or Trust()  # which API keys the user allowed to go to which hosts
        self.requested_format = prompt_format
        self.dtype = dtype
        self.batch_size = batch_size
        self.progress = progress
        self.requested_device = device
        self._device: str | None = None
        self._precision: str | None = None
        self._tokenizer: Any = None
        self._format: PromptFormat | None = None
        self._loaded: dict[tuple, Generator] = {}

    @property
    def device(self) -> str:
        if self._device is None:
            self._device = self.requested_device or pick_device()
        return self._device

    @property
    def precision(self) -> str:
        """The dtype every local model of the run computes in (trained ones too): the task's, or the hardware's best."""
        if self._precision is None:
            self._precision = choose_precision(self.dtype, self.device)[0]
        return self._precision

    @property
    def tokenizer(self) -> Any:
        if self._tokenizer is None:
            self._tokenizer = load_tokenizer(self.base)
        return self._tokenizer

    @property
    def prompt_format(self) -> PromptFormat:
        """How every local generator of the run renders prompts (chosen once from the base model's tokenizer)."""
        if self._format is None:
            self._format = choose_format(self.requested_format, self.tokenizer, self.base.id)
        return self._format

    def get(self, backend: HFBackend | OpenAIBackend | None = None, adapter: Adapter | None = None,
            seed: int = 0) -> Generator:
        """The generator for a backend: an OpenAI-compatible endpoint, or the local base model with an
        optional adapter on top. Local models are loaded on first use and kept for the run."""
        if isinstance(backend, OpenAIBackend):
            from harness.backends.openai_compat import OpenAIGenerator

            if backend.api_key_env is not None:
                self.trust.read_key(backend.api_key_env, backend.base_url)  # refused unless the user allowed it

            return OpenAIGenerator(backend.base_url, backend.model, backend.api_key_env, backend.concurrency,
                                   backend.timeout_s, backend.max_retries, seed, backend.server,
                                   backend.backoff_s, backend.max_backoff_s)
        key = ("hf", adapter.path if adapter else None, adapter.quantized if adapter else False)
        if key not in self._loaded:
            self._loaded[key] = self._load(adapter)
        return self._loaded[key]

    def merged(self, adapter: Adapter, out_dir: Path) -> Generator:
        """The adapter merged into the base weights in the run's precision (saved to out_dir as an ordinary model)."""
        key = ("merged", adapter.path)
        if key not in self._loaded:
            base, _, _ = self._weights(f"merge {adapter.arm} adapter", quantize=False)
            model = merge_adapter(load_adapter(base, adapter.path), out_dir, self.tokenizer)
            self._loaded[key] = self.wrap(model, f"{adapter.arm} (merged)")
        return self._loaded[key]

    def wrap(self, model: Any, description: str) -> Generator:
        """A generator over a model that is not loaded here (a sweep trial's model while it trains)."""
        from harness.backends.hf import HFGenerator

        return HFGenerator(model, self.tokenizer, self.device, self.batch_size, description,
                           prompt_format=self.prompt_format)

    def _weights(self, label: str, quantize: bool) -> tuple[Any, Any, str]:
        spin = self.progress.add_task(f"load {self.base.id} ({label})", total=None)
        loaded = load_causal_lm(self.base, self.precision, self.device, quantize=quantize)
        self.progress.update(spin, total=1, completed=1)
        return loaded

    def _load(self, adapter: Adapter | None) -> Generator:
        if adapter is None:
            model, _, _ = self._weights("base", quantize=False)
            return self.wrap(model, f"{self.base.id} ({self.base.source})")
        # PEFT changes the modules it wraps: an adapter gets base weights of its own
        base, _, _ = self._weights(f"{adapter.arm} adapter", quantize=adapter.quantized)
        return self.wrap(load_adapter(base, adapter.path), f"{adapter.arm} (adapter)")
