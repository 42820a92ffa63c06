"""One client for every OpenAI-compatible server the harness talks to (models, the LLM judge).

Standard library only (``urllib`` and a thread pool), so a user who evaluates over an endpoint needs no
extra. Requests run concurrently, at most ``max_concurrency`` at once; each has a timeout; 429, 5xx and
dropped or refused connections are retried with exponential backoff (a server's ``Retry-After`` wins
when it says longer). Every failure the user can fix is one line naming the server and what to do. The
API key is read from the environment variable the suite names and goes only into the request header:
it is never part of a message, a fingerprint, the manifest or the store.
"""

from __future__ import annotations

import difflib
import http.client
import json
import os
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from harness.types import HarnessError

#: statuses worth another try: rate limited, server busy or broken for a moment
RETRY_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})
#: the longest single wait between two tries, whatever the backoff or the server's Retry-After
MAX_WAIT = 30.0


class EndpointError(HarnessError):
    """A request that failed for good: one line, safe to print (never holds the API key)."""


class RequestRefused(Exception):
    """The server refused one request for a reason of its own (a 4xx that no retry fixes): the
    caller decides whether that fails the run or only that row."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"HTTP {status}: {detail}")
        self.status, self.detail = status, detail


@dataclass
class Tally:
    """What the requests cost: counts and the server's reported token usage (thread-safe)."""

    requests: int = 0
    retries: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, usage: Mapping[str, Any] | None, retries: int) -> None:
        with self.lock:
            self.requests += 1
            self.retries += retries
            if usage:
                self.prompt_tokens += int(usage.get("prompt_tokens") or 0)
                self.completion_tokens += int(usage.get("completion_tokens") or 0)

    def as_dict(self) -> dict[str, int]:
        return {"requests": self.requests, "retries": self.retries, "prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens,
                "total_tokens": self.prompt_tokens + self.completion_tokens}


def api_key(env_name: str, what: str) -> str | None:
    """The key in ``$env_name`` (None when no variable is named); a named but unset variable is an error."""
    if not env_name:
        return None
    value = os.environ.get(env_name, "")
    if not value:
        raise EndpointError(f"{what}: api_key_env names {env_name}, which is not set in the environment: "
                            f"export {env_name}=... (the key is never written to the manifest, store or logs)")
    return value


def _short(text: str, limit: int = 160) -> str:
    return " ".join(text.split())[:limit]


class Client:
    """Requests to one server at ``base_url`` (ending in ``/v1`` as OpenAI's API does)."""

    def __init__(self, base_url: str, key: str | None = None, timeout: float = 60.0, max_retries: int = 5,
                 backoff: float = 0.5, max_concurrency: int = 8, sleep: Callable[[float], None] = time.sleep) -> None:
        self.base_url = base_url.rstrip("/")
        self._key = key
        self.timeout = float(timeout)
        self.max_retries = int(max_retries)
        self.backoff = float(backoff)
        self.max_concurrency = max(1, int(max_concurrency))
        self.sleep = sleep
        self.tally = Tally()

    def _clean(self, text: str) -> str:
        """Never let the key into a message (a server might echo a header)."""
        return text.replace(self._key, "***") if self._key else text

    def _once(self, method: str, path: str, body: Mapping[str, Any] | None) -> tuple[int, dict[str, Any], str]:
        """(status, parsed JSON or {}, Retry-After) of one try; connection problems raise OSError."""
        data = None if body is None else json.dumps(body).encode("utf-8")
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self._key:
            headers["Authorization"] = f"Bearer {self._key}"
        req = urllib.request.Request(self.base_url + path, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:  # noqa: S310 - the user's own server
                raw = resp.read()
                status, retry_after = resp.status, resp.headers.get("Retry-After", "")
        except urllib.error.HTTPError as exc:
            raw = exc.read() if exc.fp is not None else b""
            status, retry_after = exc.code, exc.headers.get("Retry-After", "") if exc.headers else ""
        try:
            parsed = json.loads(raw.decode("utf-8")) if raw else {}
        except (UnicodeDecodeError, json.JSONDecodeError):
            parsed = {"error": raw.decode("utf-8", "replace")}
        return status, parsed if isinstance(parsed, dict) else {"data": parsed}, retry_after

    def _wait(self, attempt: int, retry_after: str) -> float:
        wait_s = self.backoff * (2 ** attempt)
        try:
            wait_s = max(wait_s, float(retry_after))
        except ValueError:
            pass
        return min(wait_s, MAX_WAIT)

    def request(self, method: str, path: str, body: Mapping[str, Any] | None = None,
                retries: int | None = None) -> tuple[dict[str, Any], int]:
        """(JSON answer, retries used); EndpointError once the tries are spent, RequestRefused for a 4xx."""
        tries = 1 + (self.max_retries if retries is None else retries)
        last = ""
        for attempt in range(tries):
            try:
                status, parsed, retry_after = self._once(method, path, body)
            except (OSError, http.client.HTTPException) as exc:  # refused, reset, dropped, timed out
                last, retry_after = _connection_problem(exc), ""
            else:
                if status < 400:
                    return parsed, attempt
                detail = _short(self._clean(_error_text(parsed)))
                if status not in RETRY_STATUSES:
                    raise RequestRefused(status, detail)
                last = f"HTTP {status}" + (f" ({detail})" if detail else "")
            if attempt + 1 < tries:
                self.sleep(self._wait(attempt, retry_after))
        resume = "; finished batches are stored, run the same command again to resume" if method == "POST" else ""
        advice = ("the server is rate limiting: lower max_concurrency or raise max_retries" if "HTTP 429" in last
                  else "is the server running? start it, or fix base_url") + resume
        raise EndpointError(f"{self.base_url}{path}: {last} on every one of {tries} tries; {advice}")

    def served_models(self) -> list[dict[str, Any]]:
        """The entries of ``GET /models`` (two tries: planning should not wait long on a dead server)."""
        try:
            parsed, _ = self.request("GET", "/models", retries=min(1, self.max_retries))
        except RequestRefused as exc:
            raise EndpointError(f"{self.base_url}/models answered {exc}: the harness needs the server's model "
                                f"list (an OpenAI-compatible /v1/models); check base_url") from None
        data = parsed.get("data")
        if not isinstance(data, list):
            raise EndpointError(f"{self.base_url}/models did not answer an OpenAI model list ('data' missing)")
        return [d for d in data if isinstance(d, dict) and "id" in d]

    def served_entry(self, name: str) -> dict[str, Any]:
        """The ``/models`` entry of ``name``; a one-line error listing the served names when it is absent."""
        entries = self.served_models()
        for entry in entries:
            if entry["id"] == name:
                return entry
        ids = sorted(str(e["id"]) for e in entries)
        close = difflib.get_close_matches(name, ids, n=1, cutoff=0.5)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise EndpointError(f"{self.base_url} does not serve model {name!r}{hint}; it serves: "
                            f"{', '.join(ids) or 'nothing (its /models list is empty)'}")

    def post_many(self, path: str, bodies: Sequence[Mapping[str, Any]],
                  on_refused: Callable[[RequestRefused], dict[str, Any]]) -> list[dict[str, Any]]:
        """POST every body, at most ``max_concurrency`` at once; answers in order. A refused request's
        answer is ``on_refused(exc)`` (which may raise); the first failure cancels what has not started."""

        def one(body: Mapping[str, Any]) -> dict[str, Any]:
            try:
                parsed, retries = self.request("POST", path, body)
            except RequestRefused as exc:
                return on_refused(exc)
            self.tally.add(parsed.get("usage"), retries)
            return parsed

        if self.max_concurrency == 1 or len(bodies) <= 1:
            return [one(b) for b in bodies]
        with ThreadPoolExecutor(max_workers=min(self.max_concurrency, len(bodies))) as pool:
            futures = [pool.submit(one, b) for b in bodies]
            done, _ = wait(futures, return_when=FIRST_EXCEPTION)
            failed = next((f for f in futures if f in done and f.exception() is not None), None)
            if failed is not None:
                for f in futures:
                    f.cancel()
                raise failed.exception()  # type: ignore[misc]
            return [f.result() for f in futures]


def _error_text(parsed: Mapping[str, Any]) -> str:
    err = parsed.get("error", parsed.get("detail", parsed.get("message", "")))
    if isinstance(err, Mapping):
        err = err.get("message", json.dumps(err))
    return str(err) if err else ""


def _connection_problem(exc: BaseException) -> str:
    reason = getattr(exc, "reason", exc)
    if isinstance(reason, (socket.timeout, TimeoutError)):
        return "timed out (raise the timeout option if the server is just slow)"
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, (ConnectionResetError, http.client.RemoteDisconnected, ConnectionAbortedError)):
        return "the connection was dropped"
    return _short(str(reason) or type(reason).__name__)
