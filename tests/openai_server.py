"""A real OpenAI-compatible HTTP server on 127.0.0.1 for tests: answers /v1/chat/completions from a
local generator (the tiny model), and fails on purpose for requests whose last message says FAIL."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Answer = Callable[[list[dict], int], tuple[str, int, int]]


def make_handler(answer: Answer, api_key: str | None, seen: list[dict], lock: threading.Lock):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # keep test output clean
            pass

        def _send(self, status: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self):
            length = int(self.headers.get("Content-Length", 0))
            body = json.loads(self.rfile.read(length))
            with lock:
                seen.append({"path": self.path, "body": body, "auth": self.headers.get("Authorization")})
            if api_key is not None and self.headers.get("Authorization") != f"Bearer {api_key}":
                return self._send(401, {"error": {"message": "bad key", "type": "invalid_request_error"}})
            if self.path.rstrip("/") != "/v1/chat/completions":
                return self._send(404, {"error": {"message": "no route"}})
            if "FAIL" in body["messages"][-1]["content"]:
                return self._send(500, {"error": {"message": "induced failure"}})
            with lock:  # one generation at a time on the shared model
                text, n_in, n_out = answer(body["messages"], body.get("max_tokens") or 16)
            self._send(200, {
                "id": "cmpl-test", "object": "chat.completion", "created": 0, "model": body["model"],
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": text}}],
                "usage": {"prompt_tokens": n_in, "completion_tokens": n_out, "total_tokens": n_in + n_out},
            })

    return Handler


@contextmanager
def serve(answer: Answer, api_key: str | None = None) -> Iterator[tuple[str, list[dict]]]:
    """(base_url, requests seen) for a server running until the block ends."""
    seen: list[dict] = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(answer, api_key, seen, threading.Lock()))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", seen
    finally:
        server.shutdown()
        server.server_close()


def tiny_model_answer(model_dir) -> Answer:
    """Answers from the tiny model through the harness's own HF generator."""
    from harness.backends.hf import HFGenerator
    from harness.models import ResolvedModel, load_causal_lm, weights_hash
    from pathlib import Path

    resolved = ResolvedModel(str(model_dir), Path(model_dir), "local", weights_hash(Path(model_dir)))
    model, tokenizer, device = load_causal_lm(resolved, "float32", "cpu")
    generator = HFGenerator(model, tokenizer, device, 1, "tiny")

    def answer(messages: list[dict], max_tokens: int) -> tuple[str, int, int]:
        g = generator.generate([messages], max_tokens, lambda n: None)[0]
        return g.text, g.prompt_tokens, g.output_tokens

    return answer
