"""The one owner of models for generation: a generator for (backend, base, adapter, quantization), each
loaded once per run. Arms ask it; so do the regression suite, the sweep's trials and a server.

    generators.get(HFBackend())                        # the base model
    generators.get(VLLMBackend(type="vllm"), adapter)  # base + a tuned arm's adapter, on a vLLM server
    generators.merged(adapter, out_dir)                # the adapter merged into the base weights
    generators.close()                                 # stops the servers it started

Which backend serves what is looked up in harness.backends.registry by the settings' `type`.
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
from harness.spec import BackendSpecBase, HFBackend
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
        self._backends: dict[str, Any] = {}  # type -> its implementation (harness.backends.registry)
        self.workdir: Path | None = None  # this run's folder: server logs go there

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
    def context_window(self) -> int | None:
        """The base model's context window (max_position_embeddings), read from its config without its weights."""
        from transformers import AutoConfig

        return getattr(AutoConfig.from_pretrained(str(self.base.path)), "max_position_embeddings", None)

    @property
    def eos_ids(self) -> set[int]:
        """The tokens that end an answer: the generation config's end of turn, as a local model stops at."""
        from transformers import AutoConfig, GenerationConfig

        try:
            eos = GenerationConfig.from_pretrained(str(self.base.path)).eos_token_id
        except OSError:  # no generation_config.json: what transformers derives from the model's config
            eos = GenerationConfig.from_model_config(AutoConfig.from_pretrained(str(self.base.path))).eos_token_id
        eos = self.tokenizer.eos_token_id if eos is None else eos
        return set(eos if isinstance(eos, list) else [eos])

    @property
    def prompt_format(self) -> PromptFormat:
        """How every local generator of the run renders prompts (chosen once from the base model's tokenizer)."""
        if self._format is None:
            self._format = choose_format(self.requested_format, self.tokenizer, self.base.id)
        return self._format

    def backend(self, spec: BackendSpecBase | None) -> Any:
        """The implementation of a backend type for this run (made on first use)."""
        from harness.backends.registry import backend_factory

        type_name = getattr(spec, "type", "hf")
        if type_name not in self._backends:
            self._backends[type_name] = backend_factory(type_name)(self)
        return self._backends[type_name]

    def get(self, backend: BackendSpecBase | None = None, adapter: Adapter | None = None, seed: int = 0) -> Generator:
        """The generator for a backend: the base model, with an optional adapter on top."""
        return self.backend(backend).generator(backend or HFBackend(), adapter, seed)

    def merged(self, adapter: Adapter, out_dir: Path, backend: BackendSpecBase | None = None) -> Generator:
        """The adapter merged into the base weights in the run's precision (saved to out_dir as an ordinary model)."""
        return self.backend(backend).merged(backend or HFBackend(), adapter, out_dir)

    def training(self, model: Any, save_dir: Path, backend: BackendSpecBase | None = None,
                 label: str = "trial") -> Generator:
        """A generator over a model still in training (a sweep trial's), on the backend that scores it."""
        return self.backend(backend).training(backend or HFBackend(), model, save_dir, label)

    def identity(self, backend: BackendSpecBase | None) -> dict[str, Any]:
        return self.backend(backend).identity(backend or HFBackend())

    def preflight(self, backend: BackendSpecBase | None) -> None:
        self.backend(backend).preflight(backend or HFBackend())

    def close(self) -> None:
        """Stop what the backends started (servers); models loaded here go with the process."""
        for impl in self._backends.values():
            impl.close()

    def local(self, adapter: Adapter | None) -> Generator:
        """The base model in this process with transformers, with an optional adapter on top."""
        key = ("hf", adapter.path if adapter else None, adapter.quantized if adapter else False)
        if key not in self._loaded:
            self._loaded[key] = self._load(adapter)
        return self._loaded[key]

    def local_merged(self, adapter: Adapter, out_dir: Path) -> Generator:
        key = ("merged", adapter.path)
        if key not in self._loaded:
            model = self.merge(adapter, out_dir)
            self._loaded[key] = self.wrap(model, f"{adapter.arm} (merged)")
        return self._loaded[key]

    def merge(self, adapter: Adapter, out_dir: Path) -> Any:
        """The adapter merged into full-precision base weights, written to out_dir (the model, in this process)."""
        base, _, _ = self._weights(f"merge {adapter.arm} adapter", quantize=False)
        return merge_adapter(load_adapter(base, adapter.path), out_dir, self.tokenizer)

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
