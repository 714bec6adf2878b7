"""vLLM as a backend: the harness renders and tokenizes every prompt itself and sends token ids to a vLLM server's
completions endpoint, so answers and log-likelihoods are comparable with the hf backend's, token for token.

    arms: [{name: zero_shot, type: prompted, backend: {type: vllm}}]          # a server the harness starts
    arms: [{name: lora, type: lora, backend: {type: vllm, base_url: http://gpu-box:8000/v1}}]   # a running one
    harness run tasks/contracts.yaml --backend vllm                            # every arm and the suite

- free answers decode greedily; constrained ones go as `structured_outputs` (json, choice, regex);
- log-likelihoods come from `prompt_logprobs` (the suite's multiple choice and perplexity, `answer: choice`);
  vLLM skips reading its prefix cache for such requests (their results would depend on request order,
  vLLM #42019), and each carries its own `cache_salt` so that a server of another version cannot share it;
- adapters load at runtime (`/v1/load_lora_adapter`), named by their content hash (a name reused for other
  weights serves stale results, vLLM #30931): one loaded base answers for every adapter of a run, each sweep
  trial's included;
- an item whose request fails after retries, or that a dead server never answered, is a counted failure.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.backends import Advance, Conversation, Generation, Generator, LogLik
from harness.backends.decoding import Ends, HarnessPrompts, answer_from_tokens
from harness.backends.loglik import encode_request, fit_window
from harness.backends.retry import backoff_s
from harness.backends.vllm_env import find_python, vllm_version
from harness.backends.vllm_server import ServerSettings, VLLMServer
from harness.errors import HarnessError
from harness.models.loading import weights_hash
from harness.prompting.answer_end import AnswerEnd
from harness.prompting.constraints import Constraint
from harness.records import Adapter
from harness.redact import public_url

if TYPE_CHECKING:
    from harness.backends.pool import Generators

TRANSIENT_STATUS = (408, 409, 429)  # and every 5xx


class Endpoint:
    """Where requests go: a server this run owns (whose death is known at once) or a running one at base_url."""

    def __init__(self, base_url: str, model: str, version: str, api_key: str | None = None,
                 server: VLLMServer | None = None, timeout_s: float = 600.0, concurrency: int = 32):
        import httpx

        self.base_url, self.model, self.version, self.server = base_url, model, version, server
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.client = httpx.Client(base_url=base_url, headers=headers, timeout=timeout_s,
                                   limits=httpx.Limits(max_connections=concurrency))
        self.adapters: dict[str, str] = {}
        self._lock = threading.Lock()

    def gone(self, after_error: bool = False) -> str | None:
        """Why the server cannot answer any more (None while it can, or while it is not ours to watch); after a
        failed request, a server that is exiting is waited for."""
        if self.server is None:
            return None
        if self.server.alive() and not (after_error and self.server.dying()):
            return None
        return self.server.exit_reason()

    @property
    def loglik_concurrency(self) -> int | None:
        """Prompt-logprob requests in flight: vLLM's CPU build (0.32) fails on two at once when LoRA is on (its
        LoRA logits kernel gets one row per request, not per token), so there they go one by one."""
        if self.server is not None and "cpu" in self.version and self.server.settings.enable_lora:
            return 1
        return None

    def load_adapter(self, adapter_dir: str, name: str) -> str:
        with self._lock:
            if name not in self.adapters:
                check_adapter(Path(adapter_dir), self.max_lora_rank)
                if self.server is not None:
                    self.server.load_adapter(adapter_dir, name)
                else:
                    self._load_remote(adapter_dir, name)
                self.adapters[name] = adapter_dir
        return name

    @property
    def max_lora_rank(self) -> int | None:
        return self.server.settings.max_lora_rank if self.server is not None else None

    def _load_remote(self, adapter_dir: str, name: str) -> None:
        listed = self.client.get("/models").json().get("data", [])
        if any(m.get("id") == name for m in listed):
            return  # loaded by an earlier run (the name is the content)
        resp = self.client.post("/load_lora_adapter", json={"lora_name": name, "lora_path": adapter_dir})
        if resp.status_code >= 400:
            raise HarnessError(f"vLLM at {public_url(self.base_url)} cannot load the adapter {adapter_dir}: "
                               f"{_message(resp)} (the server needs VLLM_ALLOW_RUNTIME_LORA_UPDATING=True, "
                               f"--enable-lora, and the adapter folder on its own disk)")

    def close(self) -> None:
        self.client.close()
        if self.server is not None:
            self.server.stop()


def _message(resp: Any) -> str:
    try:
        error = resp.json().get("error", resp.text)
        return str(error.get("message", error) if isinstance(error, dict) else error)[:400]
    except ValueError:
        return resp.text[:400]


def check_adapter(adapter_dir: Path, max_rank: int | None) -> None:
    """What vLLM cannot serve, said in one line before it is asked: modules_to_save, a rank above the server's."""
    config_file = adapter_dir / "adapter_config.json"
    try:
        config = json.loads(config_file.read_text())
    except (OSError, ValueError):
        raise HarnessError(f"{adapter_dir}: no readable adapter_config.json") from None
    if config.get("modules_to_save"):
        raise HarnessError(f"{adapter_dir}: vLLM does not serve adapters with modules_to_save "
                           f"({config['modules_to_save']}); use the hf backend for this arm")
    rank = int(config.get("r") or 0)
    if max_rank is not None and rank > max_rank:
        raise HarnessError(f"{adapter_dir}: adapter rank r={rank} is above the vLLM server's max_lora_rank={max_rank}; "
                           f"raise the backend's max_lora_rank")


class VLLMGenerator(HarnessPrompts):
    """Greedy answers and log-likelihoods from one model (the base, an adapter on it, a merged model) at an endpoint."""

    def __init__(self, endpoint: Endpoint, model: str, pool: Generators, spec: Any, description: str, seed: int = 0):
        self.endpoint, self.model, self.spec, self.seed = endpoint, model, spec, seed
        self.tokenizer = pool.tokenizer
        self.prompt_format = pool.prompt_format
        self.answer_lead = self.prompt_format.answer_lead
        self.context_window = pool.context_window
        self.eos = pool.eos_ids
        self.description = description

    # ------------------------------------------------------------ requests

    def _post(self, body: dict) -> dict:
        """One completion request, retried on transient failures; raises RequestFailed with one line."""
        import httpx

        error = ""
        for attempt in range(self.spec.max_retries + 1):
            gone = self.endpoint.gone()
            if gone:
                raise RequestFailed(gone)
            try:
                resp = self.endpoint.client.post("/completions", json=body)
            except httpx.HTTPError as exc:
                error, transient = f"{type(exc).__name__}: {exc}", True
            else:
                if resp.status_code < 400:
                    return resp.json()
                error = f"HTTP {resp.status_code}: {_message(resp)}"
                transient = resp.status_code in TRANSIENT_STATUS or resp.status_code >= 500
            gone = self.endpoint.gone(after_error=transient)
            if gone:
                raise RequestFailed(gone)
            if not transient or attempt == self.spec.max_retries:
                break
            time.sleep(backoff_s(attempt, self.spec.backoff_s, self.spec.max_backoff_s))
        raise RequestFailed(error[:480] + (f" (after {attempt + 1} attempts)" if attempt else ""))

    # ------------------------------------------------------------ generation

    def generate(self, conversations: Sequence[Conversation], max_new_tokens: int, advance: Advance,
                 constraint: Constraint | None = None, answer_end: AnswerEnd | None = None) -> list[Generation]:
        ends = Ends(self.tokenizer, sorted(self.eos), self.prompt_format.stop_strings, answer_end)
        limit = self.context_window - max_new_tokens if self.context_window else None
        base: dict[str, Any] = {"model": self.model, "max_tokens": max_new_tokens, "temperature": 0.0, "seed": self.seed,
                                "stop_token_ids": sorted(self.eos), "return_token_ids": True,
                                "skip_special_tokens": True}
        if self.prompt_format.stop_strings:
            base["stop"] = list(self.prompt_format.stop_strings)
        if constraint is not None:
            value = list(constraint.value) if constraint.kind == "choice" else constraint.value
            base["structured_outputs"] = {constraint.kind: value}
        encoded = [self._encode(c) for c in conversations]  # here, not in the request threads: one tokenizer

        def one(ids: list[int]) -> tuple[dict | str, float]:
            began = time.perf_counter()
            if limit is not None and len(ids) > limit:
                return (f"prompt has {len(ids)} tokens; the context window {self.context_window} leaves room for "
                        f"{limit}"), 0.0
            try:
                return self._post({**base, "prompt": ids})["choices"][0], time.perf_counter() - began
            except RequestFailed as exc:
                return str(exc), time.perf_counter() - began

        results = []
        for ids, (choice, seconds) in zip(encoded, self._map(one, encoded, advance)):
            if isinstance(choice, str):
                results.append(Generation("", len(ids), None if seconds else 0, seconds, error=choice))
                continue
            answer = answer_from_tokens(self.tokenizer, list(choice.get("token_ids") or []), ends)
            short = None
            if constraint is not None and not answer.ended and choice.get("finish_reason") == "length":
                short = (f"constrained answer cut at max_new_tokens={max_new_tokens} before the {constraint.kind} "
                         "grammar was complete; raise generation.max_new_tokens")
            results.append(Generation(answer.text, len(ids), answer.n_tokens, seconds, incomplete=short))
        return results

    def _map(self, work: Callable[[Any], Any], items: Sequence[Any], advance: Advance,
             concurrency: int | None = None) -> list[Any]:
        """work(item) for every item, `concurrency` requests in flight (vLLM batches them), in the order given;
        progress is advanced here, on the caller's thread, where a stop (Ctrl-C) is raised."""
        pool = ThreadPoolExecutor(max_workers=concurrency or self.spec.concurrency)
        try:
            futures = {pool.submit(work, item): k for k, item in enumerate(items)}
            out: list[Any] = [None] * len(items)
            for future in as_completed(futures):
                out[futures[future]] = future.result()
                advance(1)
            return out
        finally:
            pool.shutdown(wait=False, cancel_futures=True)

    # ------------------------------------------------------------ log-likelihood

    def loglikelihood(self, requests: Sequence[tuple[str, str]], advance: Advance) -> list[LogLik]:
        encoded = [encode_request(self.tokenizer, context, continuation) for context, continuation in requests]
        encoded = [(fit_window(ctx, cont, self.context_window), cont) for ctx, cont in encoded]

        def one(pair: tuple[list[int], list[int]]) -> LogLik:
            ctx, cont = pair
            ids = ctx + cont
            body = {"model": self.model, "prompt": ids, "max_tokens": 1, "temperature": 0.0, "prompt_logprobs": 1,
                    "cache_salt": uuid.uuid4().hex}
            try:
                positions = self._post(body)["choices"][0]["prompt_logprobs"]
            except RequestFailed as exc:
                return LogLik(float("nan"), len(cont), False, error=str(exc))
            total, greedy = 0.0, True
            for k in range(len(ctx), len(ids)):
                entry = positions[k][str(ids[k])]
                total += float(entry["logprob"])
                greedy = greedy and int(entry.get("rank", 1)) == 1
            return LogLik(total, len(cont), greedy)

        return self._map(one, encoded, advance, self.endpoint.loglik_concurrency)


class RequestFailed(Exception):
    """A request that failed after its retries, or that a dead server cannot answer: one item's error."""


class VLLMImpl:
    """The vllm backend of one run: servers it starts (one at a time, on a CPU's memory) or running ones it uses."""

    def __init__(self, pool: Generators):
        self.pool = pool
        self.endpoints: dict[tuple, Endpoint] = {}
        self.generators: dict[tuple, VLLMGenerator] = {}
        self._versions: dict[str, str] = {}

    # ------------------------------------------------------------ endpoints

    def _settings(self, spec: Any, model_dir: str, lora: bool) -> ServerSettings:
        return ServerSettings(
            python=find_python(), model=model_dir, dtype=self.pool.precision, served_name=None,
            max_model_len=spec.max_model_len, kv_cache_gib=spec.kv_cache_gib,
            gpu_memory_utilization=spec.gpu_memory_utilization, enable_lora=lora, max_lora_rank=spec.max_lora_rank,
            max_loras=spec.max_loras, tensor_parallel_size=spec.tensor_parallel_size, enforce_eager=spec.enforce_eager,
            startup_timeout_s=spec.startup_timeout_s, extra_args=tuple(spec.extra_args),
        )

    def endpoint(self, spec: Any, model_dir: str | None = None, lora: bool = True) -> Endpoint:
        """The server for this model: a running one at base_url, else one started for the run (stopping any other
        this run started: one model's server at a time)."""
        if spec.base_url is not None:
            key: tuple = ("remote", spec.base_url, spec.model)
            if key not in self.endpoints:
                self.endpoints[key] = self._remote(spec)
            return self.endpoints[key]
        settings = self._settings(spec, model_dir or str(self.pool.base.path), lora)
        key = ("owned", settings)
        if key not in self.endpoints:
            version = self._version(settings.python)
            keep = (spec.max_servers or (2 if "cpu" in version else 1)) - 1
            owned = [k for k in self.endpoints if k[0] == "owned"]  # oldest first
            for other in owned[: max(len(owned) - keep, 0)]:
                self.endpoints.pop(other).close()
                self.generators = {k: g for k, g in self.generators.items() if k[0] != other}
            folder = (self.pool.workdir or Path.cwd()) / "vllm"
            log = next(folder / f"server-{n}.log" for n in range(1, 10_000) if not (folder / f"server-{n}.log").exists())
            spin = self.pool.progress.add_task(f"start vLLM server for {Path(settings.model).name} (log: {log})",
                                               total=None)
            server = VLLMServer.start(settings, log, version)
            self.pool.progress.update(spin, total=1, completed=1)
            self.endpoints[key] = Endpoint(server.base_url, server.model, server.version, server=server,
                                           timeout_s=spec.timeout_s, concurrency=spec.concurrency)
        return self.endpoints[key]

    def _remote(self, spec: Any) -> Endpoint:
        import httpx

        # refused unless the user allowed the key to go to this host (harness.spec.trust)
        key = self.pool.trust.read_key(spec.api_key_env, spec.base_url) if spec.api_key_env else None
        where = public_url(spec.base_url)
        try:
            headers = {"Authorization": f"Bearer {key}"} if key else {}
            listed = httpx.get(f"{spec.base_url.rstrip('/')}/models", headers=headers, timeout=30).json()["data"]
            version = httpx.get(spec.base_url.rstrip("/").removesuffix("/v1") + "/version", timeout=30).json()
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            raise HarnessError(f"vLLM server at {where} does not answer /v1/models ({type(exc).__name__})") from None
        bases = [m["id"] for m in listed if not m.get("parent")]
        model = spec.model or (bases[0] if len(bases) == 1 else None)
        if model is None or model not in [m["id"] for m in listed]:
            raise HarnessError(f"vLLM server at {where}: name the base model with `model`; it serves {bases}")
        return Endpoint(spec.base_url.rstrip("/"), model, f"vllm {version.get('version', '?')}", key,
                        timeout_s=spec.timeout_s, concurrency=spec.concurrency)

    def _version(self, python: str) -> str:
        if python not in self._versions:
            self._versions[python] = vllm_version(python)
        return self._versions[python]

    # ------------------------------------------------------------ the registry's calls

    def generator(self, spec: Any, adapter: Adapter | None, seed: int) -> Generator:
        endpoint = self.endpoint(spec)
        name = endpoint.model
        label = f"{self.pool.base.id} on {endpoint.version}"
        if adapter is not None:
            name = endpoint.load_adapter(str(adapter.path), f"adapter-{adapter.hash or weights_hash(Path(adapter.path))}")
            label = f"{adapter.arm} (adapter) on {endpoint.version}"
        return self._generator(endpoint, name, spec, label, seed)

    def _generator(self, endpoint: Endpoint, name: str, spec: Any, label: str, seed: int) -> VLLMGenerator:
        key = (next(k for k, e in self.endpoints.items() if e is endpoint), name, seed)
        if key not in self.generators:
            self.generators[key] = VLLMGenerator(endpoint, name, self.pool, spec, label, seed)
        return self.generators[key]

    def merged(self, spec: Any, adapter: Adapter, out_dir: Path) -> Generator:
        if spec.base_url is not None:
            raise HarnessError("a running vLLM server at base_url cannot serve a model merged during the run")
        self.pool.local_merged(adapter, out_dir)  # written as the hf backend does; kept as the agreement reference
        endpoint = self.endpoint(spec, str(out_dir), lora=False)
        return self._generator(endpoint, endpoint.model, spec, f"{adapter.arm} (merged) on {endpoint.version}", 0)

    def training(self, spec: Any, model: Any, save_dir: Path, label: str) -> Generator:
        """A trial's adapter as it is now: saved (safetensors) and loaded at runtime on the one served base."""
        model.save_pretrained(str(save_dir), safe_serialization=True)
        adapter = Adapter(label, str(save_dir), weights_hash(save_dir), False)
        return self.generator(spec, adapter, 0)

    def preflight(self, spec: Any) -> None:
        if spec.base_url is None:
            self._version(find_python())  # a missing environment fails here, in one line
        else:
            self.endpoint(spec)

    def identity(self, spec: Any) -> dict[str, Any]:
        version = self.endpoint(spec).version if spec.base_url else self._version(find_python())
        return {"backend": "vllm", "version": version}

    def close(self) -> None:
        for endpoint in self.endpoints.values():
            endpoint.close()
        self.endpoints.clear()
        self.generators.clear()
