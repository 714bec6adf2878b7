"""Backends a task file may name, and what each can do: one registry (`BACKEND_SPECS`) of settings models, each
declaring its `Capabilities`, so a request a backend cannot serve fails when the task file is validated, with
the capability it lacks named, and no code elsewhere tests for a backend's type.

    arms: [{name: zero_shot, type: prompted, backend: {type: vllm}}]

A new backend is a settings model here (or in a plugin, with `register_backend_spec`) and an implementation
registered with `harness.backends.registry.register_backend`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar, Literal, Union
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from harness.spec.base import Strict

CONSTRAINT_KINDS = ("json", "choice", "regex")
ADAPTER_MODES = ("none", "one-per-load", "many-per-call")
# What vLLM accepts as --max-lora-rank (vllm.config.lora); a rank between two values needs the larger one.
VLLM_LORA_RANKS = (8, 16, 32, 64, 128, 256, 320, 512)


@dataclass(frozen=True)
class Capabilities:
    """What a backend can serve. `adapters`: none; one-per-load (each adapter gets its own copy of the base);
    many-per-call (one loaded base answers for many adapters, within one call)."""

    generate: bool = True  # free generation
    constrained: frozenset[str] = field(default_factory=frozenset)  # kinds of CONSTRAINT_KINDS it can force
    loglikelihood: bool = False  # log P(continuation | context): choice answers, multiple-choice suite items
    token_losses: bool = False  # per-token losses of a text from its start: the suite's perplexity
    adapters: str = "none"  # one of ADAPTER_MODES
    merged: bool = False  # serves a folder of weights written during the run (an adapter merged into the base)
    prefix_cache: bool = False  # reuses the computation of a prompt head that requests share

    def lacking(self, needs: list[str]) -> list[str]:
        """The capabilities among `needs` this backend does not have (names as in `describe`)."""
        have = set(self.describe())
        return [need for need in needs if need not in have]

    def describe(self) -> list[str]:
        names = [name for name in ("generate", "loglikelihood", "token_losses", "merged", "prefix_cache")
                 if getattr(self, name)]
        names += [f"constrained:{kind}" for kind in CONSTRAINT_KINDS if kind in self.constrained]
        if self.adapters != "none":
            names += ["adapters", f"adapters:{self.adapters}"]
        return names


def endpoint_url(v: str) -> str:
    if not re.match(r"^https?://[^\s/?#]+", v, re.IGNORECASE):
        raise ValueError("must be an http(s) URL, such as http://127.0.0.1:8000/v1")
    if "?" in v or "#" in v:  # the client would send /v1?x=1/chat/completions: every request a 404
        raise ValueError("must end at the server's path (such as /v1): the client appends /chat/completions, "
                         "so a query or fragment cannot be part of it")
    return v


def one_credential(endpoint: Any) -> Any:
    """A password in base_url goes as `Authorization: Basic`, an API key as `Authorization: Bearer`: one header,
    one credential. Both given, one would be dropped without a word (the SDK sends the URL's), so neither wins."""
    if endpoint.api_key_env is not None and endpoint.base_url and urlsplit(endpoint.base_url).password:
        raise ValueError("base_url holds a password and api_key_env names a key: both would go in the one "
                         "Authorization header, so the key would never be sent; keep one of them")
    return endpoint


def environment_name(v: str | None) -> str | None:
    if v is not None and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", v):
        raise ValueError("must be the NAME of an environment variable that holds the key, e.g. OPENAI_API_KEY "
                         "(the key itself never goes in a task file)")
    return v


class BackendSpecBase(Strict):
    """What every backend's settings have: a `type` (a Literal, the YAML name) and its capabilities."""

    # Failed items of an arm it answered may pass on a second try (a remote endpoint, a server process): the
    # result cache does not reuse such an arm, a re-run asks again.
    failures_may_pass: ClassVar[bool] = False
    # Constrained answers are masked in this process by xgrammar (which must then be installed), not by a server.
    grammar_in_process: ClassVar[bool] = False

    def capabilities(self) -> Capabilities:
        raise NotImplementedError

    def secret_env(self) -> tuple[str, str] | None:
        """(environment variable holding an API key, the endpoint it is for), when the backend needs one."""
        return None

    def problems(self, needs: list[str], where: str, purpose: str) -> list[str]:
        """One line per capability this backend lacks for `purpose`, e.g. `arms[2].backend: the openai backend
        cannot serve answer: choice: it lacks the capability 'loglikelihood'`."""
        type_ = getattr(self, "type", "?")
        return [f"{where}: the {type_} backend cannot serve {purpose}: it lacks the capability {need!r} "
                f"(it has: {', '.join(self.capabilities().describe())})"
                for need in self.capabilities().lacking(needs)]


class HFBackend(BackendSpecBase):
    """The task's base model, run locally with transformers."""

    grammar_in_process: ClassVar[bool] = True
    type: Literal["hf"] = "hf"

    def capabilities(self) -> Capabilities:
        return Capabilities(constrained=frozenset(CONSTRAINT_KINDS), loglikelihood=True, token_losses=True,
                            adapters="one-per-load", merged=True, prefix_cache=True)


class EndpointSettings(Strict):
    """How requests to a server are sent and retried: shared by OpenAI-compatible backends and the judge."""

    api_key_env: str | None = Field(None, description="name of the environment variable holding the API key; it goes "
                                                      "only to a host the user allowed (--allow-key VAR@HOST)")
    timeout_s: float = Field(60.0, gt=0, le=3600, description="seconds one request may take before it is tried again")
    backoff_s: float = Field(0.5, ge=0, le=60, description="wait before the first retry; it doubles each retry, "
                                                           "with jitter, and is at least the server's Retry-After")
    max_backoff_s: float = Field(30.0, gt=0, le=600, description="the longest wait between tries (Retry-After too)")

    @field_validator("api_key_env")
    @classmethod
    def _env(cls, v: str | None) -> str | None:
        return environment_name(v)

    @model_validator(mode="after")
    def _one_credential(self) -> Any:
        return one_credential(self)


class OpenAIBackend(BackendSpecBase, EndpointSettings):
    """Any OpenAI-compatible chat endpoint (OpenAI, vLLM, llama.cpp server, ...)."""

    failures_may_pass: ClassVar[bool] = True
    type: Literal["openai"]
    base_url: str
    model: str
    concurrency: int = Field(4, ge=1, le=256)
    max_retries: int = Field(
        2, ge=0, le=10, description="retries of a request that timed out, lost its connection, got a 408/409/429/5xx, "
                                    "or a malformed or empty answer; what still fails is a failed item")
    server: Literal["openai", "vllm", "vllm-legacy"] = Field(
        "openai", description="how to pass constraints: response_format (openai), structured_outputs (vllm >= 0.12), "
                              "guided_* (vllm-legacy)")

    @field_validator("base_url")
    @classmethod
    def _url(cls, v: str) -> str:
        return endpoint_url(v)

    def capabilities(self) -> Capabilities:
        # a chat endpoint returns no prompt log-probabilities; OpenAI's structured outputs take JSON schemas only
        kinds = ("json",) if self.server == "openai" else CONSTRAINT_KINDS
        return Capabilities(constrained=frozenset(kinds))

    def secret_env(self) -> tuple[str, str] | None:
        return (self.api_key_env, self.base_url) if self.api_key_env else None


# What a task file may add to `vllm serve`: how it schedules and uses memory, nothing that runs code or reads files
# (`--trust-remote-code`, `--chat-template PATH`, `--allowed-local-media-path`: a task file may come from a stranger).
VLLM_EXTRA_FLAGS = frozenset({
    "max-num-seqs", "max-num-batched-tokens", "block-size", "swap-space", "cpu-offload-gb", "kv-cache-dtype",
    "enable-prefix-caching", "no-enable-prefix-caching", "enable-chunked-prefill", "no-enable-chunked-prefill",
    "max-cpu-loras", "data-parallel-size", "pipeline-parallel-size", "dtype", "seed", "disable-log-stats",
})


def vllm_extra_args(args: list[str]) -> list[str]:
    """`extra_args` as flags of VLLM_EXTRA_FLAGS, each followed by its values (or `--flag=value`)."""
    if args and not args[0].startswith("--"):
        raise ValueError(f"must start with a flag (--max-num-seqs ...), got {args[0]!r}")
    for arg in args:
        flag = arg[2:].split("=", 1)[0] if arg.startswith("--") else None
        if flag is not None and flag not in VLLM_EXTRA_FLAGS:
            raise ValueError(f"--{flag} may not be set from a task file; allowed: "
                             + ", ".join(f"--{f}" for f in sorted(VLLM_EXTRA_FLAGS)))
    return args


class VLLMBackend(BackendSpecBase, EndpointSettings):
    """vLLM: a server the harness starts and owns in vLLM's own environment (`make vllm`), or a running one at
    `base_url` (tensor-parallel, or replicas behind a load balancer). Prompts are rendered and tokenized by the
    harness, so answers and log-likelihoods are comparable with the hf backend's; adapters load at runtime."""

    failures_may_pass: ClassVar[bool] = True
    type: Literal["vllm"]
    base_url: str | None = Field(None, description="a running vLLM server (…/v1); default: start one for the run")
    model: str | None = Field(None, description="with base_url: the served base model's name (default: the one "
                                                "/v1/models lists without a parent)")
    timeout_s: float = Field(600.0, gt=0, le=3600, description="seconds one request may take (a CPU answers slowly)")
    concurrency: int = Field(32, ge=1, le=1024, description="requests in flight; vLLM batches them")
    max_retries: int = Field(1, ge=0, le=10)
    startup_timeout_s: float = Field(900.0, gt=0, description="seconds a started server may take to be ready")
    kv_cache_gib: int = Field(2, ge=1, le=4096, description="GiB for the KV cache on a CPU (VLLM_CPU_KVCACHE_SPACE)")
    gpu_memory_utilization: float = Field(0.85, gt=0, le=1.0, description="share of GPU memory vLLM may use")
    max_lora_rank: int = Field(64, description=f"the largest adapter rank it serves; one of {VLLM_LORA_RANKS}")
    max_loras: int = Field(4, ge=1, le=64, description="adapters in one batch")
    tensor_parallel_size: int = Field(1, ge=1, le=64)
    max_model_len: int | None = Field(None, ge=16, description="default: the base model's context window")
    enforce_eager: bool | None = Field(None, description="default: on for a CPU (compiling was measured 3x slower "
                                                         "to start), off on a GPU (CUDA graphs)")
    extra_args: list[str] = Field(default_factory=list, description="more arguments to `vllm serve`: scheduling "
                                  "and memory flags only (VLLM_EXTRA_FLAGS)")
    max_servers: int | None = Field(None, ge=1, le=8, description="servers kept running at once (the base model's, a "
                                    "merged model's); default 2 on a CPU, 1 on a GPU (each takes its share of memory)")
    agreement_items: int = Field(8, ge=0, le=1000, description="items each arm also answers with the hf backend, "
                                                               "for the report's agreement sample (0: none)")

    @field_validator("base_url")
    @classmethod
    def _url(cls, v: str | None) -> str | None:
        return None if v is None else endpoint_url(v)

    @field_validator("extra_args")
    @classmethod
    def _extra(cls, v: list[str]) -> list[str]:
        return vllm_extra_args(v)

    @field_validator("max_lora_rank")
    @classmethod
    def _rank(cls, v: int) -> int:
        if v not in VLLM_LORA_RANKS:
            raise ValueError(f"vLLM serves adapter ranks up to one of {list(VLLM_LORA_RANKS)}, got {v}")
        return v

    @model_validator(mode="after")
    def _owned_or_running(self) -> VLLMBackend:
        if self.model is not None and self.base_url is None:
            raise ValueError("`model` names the model of a running server: give base_url too")
        if self.api_key_env is not None and self.base_url is None:
            raise ValueError("`api_key_env` names the key of a running server: give base_url too")
        return self

    def capabilities(self) -> Capabilities:
        return Capabilities(constrained=frozenset(CONSTRAINT_KINDS), loglikelihood=True, token_losses=True,
                            adapters="many-per-call", merged=self.base_url is None, prefix_cache=True)

    def secret_env(self) -> tuple[str, str] | None:
        return (self.api_key_env, self.base_url) if self.api_key_env and self.base_url else None


BACKEND_SPECS: dict[str, type[BackendSpecBase]] = {"hf": HFBackend, "openai": OpenAIBackend, "vllm": VLLMBackend}


def backend_union() -> Any:
    return Annotated[Union[tuple(dict.fromkeys(BACKEND_SPECS.values()))], Field(discriminator="type")]  # noqa: UP007


Backend = backend_union()


def backend_types() -> tuple[str, ...]:
    return tuple(BACKEND_SPECS)
