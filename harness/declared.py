"""Models a user names without writing a plugin, resolved through the registered model backends.

Two ways to name one, both resolved before planning (so every later step sees a registered
variant, and ``--rehearse``, ``--dry-run`` and executors treat it like any other):

- on the command line, ``--models SCHEME:REF`` (``SCHEME`` is a backend's name): the token itself
  is the variant's name, and it is added to the suite's ``[models]`` so the manifest records it;
- in a suite, ``[models.NAME]`` with ``model = "SCHEME:REF"`` (or ``backend = "SCHEME"`` and
  ``model = "REF"``); the table's other keys are the variant's options.

The core never names a backend: a scheme is whatever a plugin registered through
``harness_register_model_backends``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .choices import split_csv, unknown
from .plugins import PluginHost
from .suite import Suite
from .types import HarnessError, ModelBackend

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9_-]*):(.*)$")


def backends(host: PluginHost) -> dict[str, ModelBackend]:
    return host.registries.get("model_backends", {})


def split_ref(token: str) -> tuple[str, str] | None:
    """``("hf", "Qwen/X")`` for ``hf:Qwen/X``; None for a plain name."""
    m = _SCHEME.match(token)
    return (m.group(1), m.group(2)) if m else None


def _declare(host: PluginHost, scheme: str, name: str, ref: str, options: Mapping[str, Any], where: str) -> None:
    known = backends(host)
    if scheme not in known:
        raise unknown(f"model backend in {where}", scheme, known)
    backend = known[scheme]
    variant = backend.declare(name, ref, dict(options))
    variant.name = name
    variant.plugin = backend.plugin
    host.registries["models"][name] = variant


def _example(host: PluginHost, ref: str) -> str:
    names = sorted(backends(host))
    return f"{names[0]}:{ref}" if names else ref


def declare_models(host: PluginHost, suite: Suite, models: str | None = None) -> list[str]:
    """Register the suite's declared models and the ``--models`` tokens with a scheme; their names."""
    declared: list[str] = []
    registered = set(host.models)
    for name, opts in list(suite.data.get("models", {}).items()):
        if not isinstance(opts, dict) or ("model" not in opts and "backend" not in opts):
            continue
        where = f"[models.{name}]"
        if name in registered:
            raise HarnessError(f"{where} declares a model, but {name!r} is already a registered model "
                               f"({host.models[name].plugin}): give the declaration another name")
        ref = str(opts.get("model", ""))
        scheme = str(opts.get("backend", ""))
        if scheme:
            ref = ref.removeprefix(f"{scheme}:")
        else:
            parsed = split_ref(ref)
            if parsed is None:
                raise HarnessError(f"{where} model = {ref!r} names no backend: write model = "
                                   f"{_example(host, ref)!r}, or add backend = 'NAME' "
                                   f"(backends: {', '.join(sorted(backends(host))) or 'none registered'})")
            scheme, ref = parsed
        _declare(host, scheme, name, ref, opts, where)
        declared.append(name)
    if models is None or models == "all":
        return declared
    for token in split_csv(models):
        if token in host.models:
            continue
        parsed = split_ref(token)
        if parsed is None:
            if "/" in token:  # a hub id or a folder given without its scheme
                raise HarnessError(f"unknown model {token!r} (did you mean {_example(host, token)!r}?): a hub id "
                                   f"or folder needs a backend's scheme; backends: "
                                   f"{', '.join(sorted(backends(host))) or 'none registered'}")
            continue  # a plain unknown name: planning says "did you mean"
        _declare(host, parsed[0], token, parsed[1], {}, "--models")
        suite.data.setdefault("models", {}).setdefault(token, {})
        declared.append(token)
    return declared
