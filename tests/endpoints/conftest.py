"""A real OpenAI-compatible server for the endpoint tests: ``transformers serve`` on 127.0.0.1 serving the tiny
llama base (built offline from its recipe), started once per session; and tiny stdlib HTTP servers that
misbehave on purpose (rate limits, dropped connections, slowness) where a real server cannot be made to."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SERVED = "harness/tiny-llama"


def serving_missing() -> str | None:
    import importlib.util

    needed = ("fastapi", "uvicorn", "openai", "transformers", "torch")
    missing = [m for m in needed if importlib.util.find_spec(m) is None]
    return f"transformers serve needs {', '.join(missing)} (pip install -e '.[dev]')" if missing else None


@pytest.fixture(scope="session")
def tiny_llama_folder(harness_home: Path) -> Path:
    from harness_hf.architectures import ensure_tiny_base
    from harness_opt.recipes import load_recipe_file

    recipe = load_recipe_file("tiny-llama")
    return ensure_tiny_base(Path(os.environ["HARNESS_HOME"]), "tiny-llama", recipe["tiny"], int(recipe.get("seed", 0)),
                            log=lambda m: None)


@pytest.fixture(scope="session")
def served(tiny_llama_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    """transformers serve pinned to the tiny llama, listed as harness/tiny-llama."""
    reason = serving_missing()
    if reason:
        pytest.skip(reason)
    from local_server import LocalServer

    server = LocalServer(tiny_llama_folder, SERVED, tmp_path_factory.mktemp("serve")).start()
    yield server
    server.stop()


class Scripted(BaseHTTPRequestHandler):
    """Answers by ``self.server.script(handler, n)`` (n counts requests from 0); records each request."""

    def log_message(self, *args: object) -> None:  # quiet
        pass

    def _handle(self) -> None:
        srv = self.server
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        with srv.lock:
            n = srv.count
            srv.count += 1
            srv.seen.append({"path": self.path, "body": body, "auth": self.headers.get("Authorization")})
            srv.active += 1
            srv.peak = max(srv.peak, srv.active)
        self._counted = True
        try:
            srv.script(self, n)
        finally:
            self._leave()

    def _leave(self) -> None:
        """Out of the in-flight count, once: before the reply's bytes go out, since the client may send its
        next request the moment it reads them (a count after writing sees two in flight at concurrency 1)."""
        if getattr(self, "_counted", False):
            self._counted = False
            with self.server.lock:
                self.server.active -= 1

    do_GET = do_POST = _handle

    def reply(self, status: int, payload: dict, headers: dict | None = None) -> None:
        data = json.dumps(payload).encode()
        self._leave()
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:  # a client that gave up (timeout test): expected
        pass


def completion(text: str = "ok", model: str = "m") -> dict:
    return {"model": model, "choices": [{"index": 0, "text": text, "message": {"role": "assistant", "content": text},
                                         "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}}


@pytest.fixture
def scripted() -> Iterator[Callable[[Callable], str]]:
    """``scripted(script)`` starts a tiny HTTP server on 127.0.0.1 and returns its /v1 URL."""
    servers = []

    def start(script: Callable) -> str:
        srv = QuietServer(("127.0.0.1", 0), Scripted)
        srv.script, srv.lock, srv.count, srv.seen, srv.active, srv.peak = script, threading.Lock(), 0, [], 0, 0
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        servers.append(srv)
        return f"http://127.0.0.1:{srv.server_address[1]}/v1"

    start.servers = servers  # type: ignore[attr-defined]
    yield start
    for srv in servers:
        srv.shutdown()
        srv.server_close()


def slow_ok(delay: float) -> Callable:
    def script(h: Scripted, n: int) -> None:
        time.sleep(delay)
        h.reply(200, completion(f"answer {n}"))
    return script
