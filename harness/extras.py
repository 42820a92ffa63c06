"""Which optional extra of a distribution provides a missing module, so a plugin that needs it is named
as such ("needs the `stats` extra") instead of warned about as broken."""

from __future__ import annotations

import re
from importlib import metadata

_REQ = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)[^;]*;(.*)")
_EXTRA = re.compile(r"""extra\s*==\s*['"]([^'"]+)['"]""")


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def extra_providing(distribution: str | None, exc: BaseException) -> str | None:
    """The extra of ``distribution`` that requires the module whose absence raised ``exc``, else None."""
    if not distribution or not isinstance(exc, ModuleNotFoundError) or not exc.name:
        return None
    try:
        requires = metadata.requires(distribution) or []
    except metadata.PackageNotFoundError:
        return None
    wanted = _norm(exc.name.split(".")[0])
    for req in requires:
        m = _REQ.match(req)
        extra = _EXTRA.search(m.group(2)) if m else None
        if m and extra and _norm(m.group(1)) == wanted:
            return extra.group(1)
    return None
