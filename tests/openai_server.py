"""A real OpenAI-compatible HTTP server on 127.0.0.1 for tests: answers /v1/chat/completions from a
local generator (the tiny model), and fails on purpose: a 500 for requests whose last message says FAIL,
and the scripted `Fault`s (timeouts, reset connections, 429 with Retry-After, 500, malformed JSON, empty
choices), each for the first k attempts at an item or for every attempt."""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Answer = Callable[[list[dict], int], tuple[str, int, int]]
FAULT_KINDS = ("timeout", "reset", "429", "500", "malformed", "empty")


@dataclass(frozen=True)
class Fault:
    """Requests whose last message contains `marker` fail with `kind` on their first `times` attempts (every
    attempt when None); attempts are counted per distinct last message, i.e. per item."""

    kind: str
    marker: str
    times: int | None = None
    retry_after: str | None = "0"  # the 429's Retry-After header (None: no header)
    sleep_s: float = 2.0  # how long a "timeout" keeps the client waiting before it answers
    echo_auth: bool = False  # a "500" quotes the Authorization header it got, as a careless server might

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"fault kind must be one of {FAULT_KINDS}, got {self.kind!r}")


def make_handler(answer: Answer, api_key: str | None, seen: list[dict], lock: threading.Lock,
                 faults: Sequence[Fault] = (), stopping: threading.Event | None = None):
    attempts: dict[str, int] = {}  # last message -> requests so far

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # keep test output clean
            pass

        def _send(self, status: int, body: dict | bytes, headers: dict[str, str] | None = None) -> None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)
            except OSError:  # the client gave up first (a "timeout" fault): nothing to tell it
                self.close_connection = True

        def _reset(self) -> None:
            """Close the socket with a TCP reset and no response."""
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True

        def _fault(self, content: str) -> Fault | None:
            """The fault this request gets (None: answer it), counting the attempt."""
            with lock:
                n = attempts[content] = attempts.get(content, 0) + 1
            f = next((f for f in faults if f.marker in content), None)
            return f if f is not None and (f.times is None or n <= f.times) else None

        def _answer(self, body: dict) -> dict:
            with lock:  # one generation at a time on the shared model
                text, n_in, n_out = answer(body["messages"], body.get("max_tokens") or 16)
            return {
                "id": "cmpl-test", "object": "chat.completion", "created": 0, "model": body["model"],
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": text}}],
                "usage": {"prompt_tokens": n_in, "completion_tokens": n_out, "total_tokens": n_in + n_out},
            }

        def do_POST(self):
            length = int(self.headers.get("Content-Length", 0))
            body = json.loads(self.rfile.read(length))
            content = body["messages"][-1]["content"]
            fault = self._fault(content)
            with lock:
                seen.append({"path": self.path, "body": body, "auth": self.headers.get("Authorization"),
                             "fault": fault.kind if fault else None, "at": time.monotonic()})
            if api_key is not None and self.headers.get("Authorization") != f"Bearer {api_key}":
                return self._send(401, {"error": {"message": "bad key", "type": "invalid_request_error"}})
            if self.path.rstrip("/") != "/v1/chat/completions":
                return self._send(404, {"error": {"message": "no route"}})
            if "FAIL" in content:
                return self._send(500, {"error": {"message": "induced failure"}})
            kind = fault.kind if fault else None
            if kind == "timeout":
                (stopping or threading.Event()).wait(fault.sleep_s)  # cut short when the server stops
                return self._send(200, self._answer(body))
            if kind == "reset":
                return self._reset()
            if kind == "429":
                headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
                return self._send(429, {"error": {"message": "rate limited", "type": "rate_limit"}}, headers)
            if kind == "500":
                said = f" (request had {self.headers.get('Authorization')})" if fault.echo_auth else ""
                return self._send(500, {"error": {"message": f"internal error on purpose{said}"}})
            if kind == "malformed":
                return self._send(200, b'{"id": "cmpl-test", "object": "chat.completion", "choices": [{"ind')
            if kind == "empty":
                return self._send(200, {**self._answer(body), "choices": []})
            self._send(200, self._answer(body))

    return Handler


@contextmanager
def serve(answer: Answer, api_key: str | None = None,
          faults: Sequence[Fault] = ()) -> Iterator[tuple[str, list[dict]]]:
    """(base_url, requests seen) for a server running until the block ends; each request seen records the
    fault it got (None when answered)."""
    seen: list[dict] = []
    stopping = threading.Event()
    server = ThreadingHTTPServer(("127.0.0.1", 0),
                                 make_handler(answer, api_key, seen, threading.Lock(), faults, stopping))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", seen
    finally:
        stopping.set()
        server.shutdown()
        server.server_close()


def tiny_model_answer(model_dir) -> Answer:
    """Answers from the tiny model through the harness's own HF generator."""
    from pathlib import Path

    from harness.backends.hf import HFGenerator
    from harness.models.loading import ResolvedModel, load_causal_lm, weights_hash

    resolved = ResolvedModel(str(model_dir), Path(model_dir), "local", weights_hash(Path(model_dir)))
    model, tokenizer, device = load_causal_lm(resolved, "float32", "cpu")
    generator = HFGenerator(model, tokenizer, device, 1, "tiny")

    def answer(messages: list[dict], max_tokens: int) -> tuple[str, int, int]:
        g = generator.generate([messages], max_tokens, lambda n: None)[0]
        return g.text, g.prompt_tokens, g.output_tokens

    return answer
