"""A vLLM OpenAI-compatible server that the harness starts, owns and stops, in vLLM's own environment.

    server = VLLMServer.start(ServerSettings(python, "/models/smollm2", dtype="float32"), log=workdir / "vllm.log")
    name = server.load_adapter("/runs/lora/adapter", "lora-3f2a9c1e")   # runtime LoRA, named by content hash
    ...                                                                  # requests to server.base_url
    server.stop()

vLLM pins its own torch and transformers, so it lives in a separate environment (`make vllm`, found by
`find_python`, harness.backends.vllm_env) and runs as a process: the harness never imports it. Hygiene:
- a free port, and a readiness check with a timeout; the server's output goes to a log file in the run folder;
- the server runs in a process group of its own, and a watchdog (a stdlib-only process, also in its own
  session) kills that group when the harness ends in any way, SIGKILL included: it waits on a pipe that only
  the harness holds open;
- a server that fails to start, or dies, is described in one line taken from its log (a port in use, an
  adapter vLLM cannot load, memory, an unsupported model), never a traceback.

Reusable beyond evaluation (a deployed model for `harness serve`): nothing here knows about tasks or arms.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from harness.backends.vllm_env import cpu_build, vllm_version
from harness.errors import HarnessError

READY_POLL_S = 0.5
START_MARK = "# harness: starting"  # written to the log before each start: a failure is read from the last one on
EXIT_WAIT_S = 15.0  # a server whose engine died takes a few seconds to exit
STOP_GRACE_S = 20.0
# vLLM imports only what it needs for text; these are CPU settings, ignored on a GPU
CPU_THREADS_ENV = "VLLM_CPU_OMP_THREADS_BIND"

# A stdlib-only watchdog: it holds the read end of a pipe whose write end only the harness has. When the harness
# ends (exit, Ctrl-C, SIGKILL), the read returns, and the server's whole process group is stopped. Its parent
# changing is the second sign (the pipe can be held open by a child the harness forked).
WATCHDOG = r"""
import os, signal, sys, threading, time
group, parent, grace = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
def orphaned():
    while os.getppid() == parent:
        time.sleep(1.0)
    stop()
def alive():
    try:
        os.killpg(group, 0)
        return True
    except OSError:
        return False
def stop():
    if alive():
        try:
            os.killpg(group, signal.SIGTERM)
        except OSError:
            pass
        end = time.time() + grace
        while alive() and time.time() < end:
            time.sleep(0.2)
        if alive():
            try:
                os.killpg(group, signal.SIGKILL)
            except OSError:
                pass
    os._exit(0)
threading.Thread(target=orphaned, daemon=True).start()
try:
    sys.stdin.buffer.read()
except Exception:
    pass
stop()
"""


@dataclass(frozen=True)
class ServerSettings:
    """Everything the `vllm serve` command line is made of."""

    python: str
    model: str  # a local folder of safetensors weights (or a hub id where a hub is reachable)
    dtype: str = "auto"
    served_name: str | None = None  # the name requests use; default the model path
    max_model_len: int | None = None
    kv_cache_gib: int = 2  # VLLM_CPU_KVCACHE_SPACE, whole GiB (CPU only)
    gpu_memory_utilization: float = 0.85
    enable_lora: bool = True
    max_lora_rank: int = 64
    max_loras: int = 4
    tensor_parallel_size: int = 1
    enforce_eager: bool | None = None  # None: on for a CPU build
    prefix_caching: bool = True  # prompt-logprob requests skip reading it (vLLM >= 0.11)
    port: int | None = None  # None: a free one
    startup_timeout_s: float = 900.0
    extra_args: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()  # more environment for the server

    def command(self, port: int, cpu: bool) -> list[str]:
        args = [self.python, "-m", "vllm.entrypoints.openai.api_server", "--model", self.model,
                "--host", "127.0.0.1", "--port", str(port), "--dtype", self.dtype,
                "--served-model-name", self.served_name or self.model,
                "--tensor-parallel-size", str(self.tensor_parallel_size),
                "--enable-prefix-caching" if self.prefix_caching else "--no-enable-prefix-caching",
                "--disable-uvicorn-access-log"]
        if self.max_model_len is not None:
            args += ["--max-model-len", str(self.max_model_len)]
        if self.enforce_eager if self.enforce_eager is not None else cpu:
            args.append("--enforce-eager")
        if not cpu:
            args += ["--gpu-memory-utilization", str(self.gpu_memory_utilization)]
        if self.enable_lora:
            args += ["--enable-lora", "--max-lora-rank", str(self.max_lora_rank), "--max-loras", str(self.max_loras)]
        return args + list(self.extra_args)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_in_use(port: int) -> bool:
    """Whether a server could not listen on it now (connections closing on it, TIME_WAIT, do not count: servers
    bind with SO_REUSEADDR)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


# Lines of a vLLM log worth one line of error, most specific first.
_CAUSES = [
    (re.compile(r"address already in use", re.I), "its port is in use"),
    (re.compile(r"out of memory|cannot allocate memory|not enough memory|insufficient memory|"
                r"no available memory for the cache blocks|OutOfMemoryError|larger than the available KV cache", re.I),
     "it ran out of memory"),
]
_ERROR_LINE = re.compile(r"\b([A-Za-z_.]*(?:Error|Exception)):\s*(\S.*)$")


def reason_from_log(text: str) -> str:
    """One line saying why a server failed, from its log: a known cause, else the first error message in it that
    is not a generic wrapper (vLLM re-raises a worker's error several times, the root cause first). Warnings
    are not causes: vLLM warns of errors that may never happen."""
    raw = [line for line in text.splitlines() if line.strip() and not re.search(r"\b(WARNING|INFO|DEBUG)\b", line)]
    lines = [_strip_prefix(line) for line in raw]
    for pattern, cause in _CAUSES:
        hit = next((line for line in reversed(lines) if pattern.search(line)), None)
        if hit is not None:
            return f"{cause} ({hit[:300]})"
    errors = []
    for k, line in enumerate(lines):
        found = _ERROR_LINE.search(line)
        if found is None:
            continue
        message = found.group(1).split(".")[-1] + ": " + found.group(2).strip()
        if "validation error" in message and k + 1 < len(lines):  # pydantic: the reason is on the next line
            message += ": " + lines[k + 1].strip()
        errors.append(message)
    specific = [e for e in errors if "EngineCore encountered" not in e and "see stack trace" not in e.lower()
                and "Engine core initialization failed" not in e]
    if specific or errors:
        return (specific or errors)[0][:400]
    return lines[-1][:400] if lines else "no output"


def _strip_prefix(line: str) -> str:
    """`(EngineCore pid=1) ERROR 12-03 13:51:22 [core.py:1512] text` -> `text`."""
    return re.sub(r"^(\([^)]*\)\s*)?(INFO|WARNING|ERROR|DEBUG|CRITICAL)?\s*(\d\d-\d\d \d\d:\d\d:\d\d)?\s*(\[[^\]]*\])?\s*",
                  "", line.strip())


def request_json(url: str, payload: dict | None = None, timeout_s: float = 30.0, api_key: str | None = None) -> dict:
    """GET (payload None) or POST JSON; raises urllib's errors."""
    data = json.dumps(payload).encode() if payload is not None else None
    req = urllib.request.Request(url, data=data, method="POST" if payload is not None else "GET")
    req.add_header("Content-Type", "application/json")
    if api_key:
        req.add_header("Authorization", f"Bearer {api_key}")
    with urllib.request.urlopen(req, timeout=timeout_s) as resp:  # noqa: S310 - a URL the task or harness gave
        body = resp.read().decode() or "{}"
    try:
        return json.loads(body)
    except ValueError:
        return {"text": body}


def _error_body(exc: urllib.error.HTTPError) -> str:
    try:
        body = exc.read().decode(errors="replace")
        message = json.loads(body).get("error", body)
        return message.get("message", str(message)) if isinstance(message, dict) else str(message)
    except (ValueError, OSError, AttributeError):
        return str(exc)


class VLLMServer:
    """A running vLLM server this process owns. Stop it with `stop()` (also done by the watchdog)."""

    def __init__(self, settings: ServerSettings, process: subprocess.Popen, watchdog: subprocess.Popen,
                 pipe: int, port: int, log: Path, version: str):
        self.settings = settings
        self.process = process
        self.watchdog = watchdog
        self._pipe = pipe  # the write end the watchdog waits on
        self.port = port
        self.log = log
        self.version = version
        self.base_url = f"http://127.0.0.1:{port}/v1"
        self.model = settings.served_name or settings.model
        self.adapters: dict[str, str] = {}  # name -> path, loaded at runtime

    @classmethod
    def start(cls, settings: ServerSettings, log: Path, version: str | None = None) -> VLLMServer:
        """Start the server and wait until it answers; a server that does not is stopped and described in one
        line. With no port set, a port taken between choosing and binding gets one more try on another."""
        version = version or vllm_version(settings.python)
        for attempt in range(2):
            port = settings.port or free_port()
            if settings.port and port_in_use(port):
                raise HarnessError(f"vLLM server: port {port} is in use; choose another or leave `port` unset")
            server = cls._spawn(settings, port, log, version)
            try:
                server._wait_ready()
                return server
            except HarnessError as exc:
                server.stop()
                if attempt == 0 and settings.port is None and "port is in use" in str(exc):
                    continue
                raise
            except BaseException:  # Ctrl-C while it starts: stopped now, not left to the watchdog
                server.stop()
                raise
        raise AssertionError("unreachable")

    @classmethod
    def _spawn(cls, settings: ServerSettings, port: int, log: Path, version: str) -> VLLMServer:
        cpu = cpu_build(version)
        env = {**os.environ, "VLLM_ALLOW_RUNTIME_LORA_UPDATING": "True", "PYTHONUNBUFFERED": "1",
               # the harness tokenizes; the server must not reach for a hub
               "HF_HUB_OFFLINE": os.environ.get("HF_HUB_OFFLINE", "1"), **dict(settings.env)}
        env.pop("PYTHONPATH", None)  # the harness's path must not shadow vLLM's environment
        if cpu:
            env.setdefault("VLLM_CPU_KVCACHE_SPACE", str(settings.kv_cache_gib))
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("ab") as out:
            out.write(f"\n{START_MARK} vLLM {version} on port {port}\n".encode())
            out.flush()
            process = subprocess.Popen(settings.command(port, cpu), stdout=out, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, env=env, start_new_session=True)
        read, write = os.pipe()
        try:
            watchdog = subprocess.Popen([sys.executable, "-c", WATCHDOG, str(process.pid), str(os.getpid()),
                                         str(STOP_GRACE_S)], stdin=read, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL, start_new_session=True)
        except OSError:
            os.killpg(process.pid, signal.SIGKILL)
            raise
        finally:
            os.close(read)
        return cls(settings, process, watchdog, write, port, log, version)

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.settings.startup_timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise HarnessError(f"vLLM server did not start (exit code {self.process.returncode}): "
                                   f"{self.failure()}; log: {self.log}")
            try:
                models = request_json(f"{self.base_url}/models", timeout_s=5.0)
                if any(m.get("id") == self.model for m in models.get("data", [])):
                    return
            except (urllib.error.URLError, OSError, ValueError):
                pass
            time.sleep(READY_POLL_S)
        raise HarnessError(f"vLLM server was not ready within {self.settings.startup_timeout_s:.0f} s "
                           f"(startup_timeout_s): {self.failure()}; log: {self.log}")

    def failure(self) -> str:
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return "no log"
        return reason_from_log(text[text.rfind(START_MARK):][-400_000:])

    def alive(self) -> bool:
        return self.process.poll() is None

    def dying(self, wait_s: float = EXIT_WAIT_S) -> bool:
        """After a refused connection or a 5xx: whether the server is exiting (its engine died), waiting up to
        wait_s for it to be gone, so that the items it cannot answer fail with the reason at once."""
        try:
            self.process.wait(wait_s)
        except subprocess.TimeoutExpired:
            return False
        return True

    def exit_reason(self) -> str:
        """Why the server is gone, in one line (for the items it did not answer)."""
        return f"the vLLM server exited (code {self.process.returncode}): {self.failure()}"

    def load_adapter(self, path: str, name: str) -> str:
        """Load a LoRA adapter at runtime under `name` (a content hash: vLLM keys its prefix cache by name, and a
        name reused for other weights serves stale results); a name already loaded is not loaded again."""
        if name in self.adapters:
            return name
        try:
            request_json(f"{self.base_url}/load_lora_adapter", {"lora_name": name, "lora_path": str(path)},
                         timeout_s=self.settings.startup_timeout_s)
        except urllib.error.HTTPError as exc:
            raise HarnessError(f"vLLM cannot load the adapter {path}: {_error_body(exc)[:400]}") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = self.exit_reason() if not self.alive() else f"{type(exc).__name__}: {exc}"
            raise HarnessError(f"vLLM could not load the adapter {path}: {reason}") from None
        self.adapters[name] = str(path)
        return name

    def unload_adapter(self, name: str) -> None:
        if self.adapters.pop(name, None) is None or not self.alive():
            return
        try:
            request_json(f"{self.base_url}/unload_lora_adapter", {"lora_name": name}, timeout_s=60.0)
        except (urllib.error.URLError, OSError):
            pass  # the server may be stopping; nothing is served under that name again

    def stop(self) -> None:
        """SIGTERM to the server's process group, SIGKILL after a grace period; then the watchdog goes too."""
        if self.process.poll() is None:
            _signal_group(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                pass
        _signal_group(self.process.pid, signal.SIGKILL)  # whatever of the group is left (engine, workers)
        if self.process.poll() is None:
            self.process.wait()
        if self._pipe >= 0:
            os.close(self._pipe)  # the watchdog wakes, finds the group gone, and exits
            self._pipe = -1
        try:
            self.watchdog.wait(STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            self.watchdog.kill()


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass
