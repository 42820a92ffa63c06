"""Request bodies for the two OpenAI APIs and the answers mapped back to a response and its facts.

Greedy settings are sent explicitly (temperature 0, top_p 1 and, where the server takes it, the run's
seed) rather than left to a server's defaults, and they are the same dict the cache key holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.types import HarnessError

MODES = ("chat", "completions")
PATHS = {"chat": "/chat/completions", "completions": "/completions"}


def sampling(max_new_tokens: int, seed: int | None) -> dict[str, Any]:
    """The generation settings every request carries (and the fingerprint holds)."""
    out: dict[str, Any] = {"max_tokens": int(max_new_tokens), "temperature": 0.0, "top_p": 1.0}
    if seed is not None:
        out["seed"] = int(seed)
    return out


def body(mode: str, model: str, text: str, settings: Mapping[str, Any], system_prompt: str = "") -> dict[str, Any]:
    """One request: ``text`` as the user turn (chat; the server applies its chat template) or as the
    whole prompt (completions; the caller has formatted it)."""
    if mode == "chat":
        messages = [{"role": "system", "content": system_prompt}] if system_prompt else []
        messages.append({"role": "user", "content": text})
        return {"model": model, "messages": messages, **settings, "stream": False}
    if mode == "completions":
        return {"model": model, "prompt": text, **settings, "stream": False}
    from harness.choices import unknown

    raise unknown("endpoint mode", mode, MODES)


def answer(mode: str, parsed: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """(response text, facts for the store) of one answer: the finish reason, the server's token usage,
    the model id it reports and its ``system_fingerprint`` where it sends one."""
    choices = parsed.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], Mapping):
        raise HarnessError(f"the server's answer has no choices (keys: {', '.join(sorted(parsed)) or 'none'})")
    first = choices[0]
    if mode == "chat":
        message = first.get("message") or {}
        text = message.get("content") if isinstance(message, Mapping) else None
    else:
        text = first.get("text")
    usage = parsed.get("usage") if isinstance(parsed.get("usage"), Mapping) else {}
    finish = first.get("finish_reason")
    meta: dict[str, Any] = {
        "finish_reason": finish,
        "stopped_at_eos": finish == "stop",
        "served_model": parsed.get("model"),
        "usage": {k: int(usage[k]) for k in ("prompt_tokens", "completion_tokens", "total_tokens") if k in usage},
    }
    if "completion_tokens" in usage:
        meta["n_new_tokens"] = int(usage["completion_tokens"])
    if parsed.get("system_fingerprint"):
        meta["system_fingerprint"] = parsed["system_fingerprint"]
    return str(text or ""), meta
