"""The ``openai`` model backend: ``openai:NAME`` names a model a server serves under NAME, and
``openai:NAME@http://HOST:PORT/v1`` gives the server too (otherwise the ``base_url`` option does).

Nothing is contacted here: the server's model list is read when the variant is fingerprinted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.types import HarnessError, ModelBackend, ModelVariant

EXAMPLE = "Qwen/Qwen2.5-0.5B-Instruct@http://127.0.0.1:8000/v1"


def split_url(ref: str) -> tuple[str, str]:
    """``("NAME", "URL")`` of ``NAME@URL``; the URL is "" when the reference gives none."""
    for scheme in ("@http://", "@https://"):
        if scheme in ref:
            name, _, rest = ref.partition(scheme)
            return name, scheme[1:] + rest
    return ref, ""


class OpenAIBackend(ModelBackend):
    name = "openai"
    description = "a model behind any OpenAI-compatible server (chat or completions API)"
    example = "NAME or NAME@http://HOST:PORT/v1"

    def declare(self, name: str, ref: str, options: Mapping[str, Any]) -> ModelVariant:
        from .variant import EndpointVariant

        served, url = split_url(ref.strip())
        if not served:
            raise HarnessError(f"model {name!r}: 'openai:' needs the served model's name, e.g. openai:{EXAMPLE}")
        given = str(options.get("base_url") or "")
        if url and given and given.rstrip("/") != url.rstrip("/"):
            raise HarnessError(f"model {name!r} names two servers: {url} in its reference and base_url = {given!r}; "
                               f"keep one")
        return EndpointVariant(name, served, url or given, dict(options))
