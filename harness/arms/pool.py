"""Generators shared by the arms of one run: the base model is loaded once, whatever the number of arms."""

from __future__ import annotations

from typing import Any

from harness.backends import Generator
from harness.models import ResolvedModel, load_causal_lm
from harness.spec import HFBackend, OpenAIBackend, Task


class ModelPool:
    def __init__(self, task: Task, base: ResolvedModel, progress: Any, device: str | None = None):
        self.task = task
        self.base = base
        self.progress = progress
        self.device = device
        self._hf: Any = None

    def base_model(self) -> tuple[Any, Any, str]:
        """(model, tokenizer, device), loaded on first use."""
        if self._hf is None:
            spin = self.progress.add_task(f"load {self.base.id}", total=None)
            self._hf = load_causal_lm(self.base, self.task.spec.model.dtype, self.device)
            self.progress.update(spin, total=1, completed=1)
        return self._hf

    def hf_generator(self, model: Any = None, description: str | None = None) -> Generator:
        from harness.backends.hf import HFGenerator

        base, tokenizer, device = self.base_model()
        return HFGenerator(
            model if model is not None else base,
            tokenizer,
            device,
            self.task.spec.generation.batch_size,
            description or f"{self.base.id} ({self.base.source})",
        )

    def generator(self, backend: HFBackend | OpenAIBackend, seed: int = 0) -> Generator:
        if isinstance(backend, OpenAIBackend):
            from harness.backends.openai_compat import OpenAIGenerator

            return OpenAIGenerator(
                backend.base_url, backend.model, backend.api_key_env, backend.concurrency,
                backend.timeout_s, backend.max_retries, seed,
            )
        return self.hf_generator()
