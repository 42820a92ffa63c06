"""Resolving user-given names against what is registered, with "did you mean" errors."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from .types import HarnessError

#: name -> why a plugin's object of that name was refused at registration (filled by the plugin host),
#: so asking for it names the real problem instead of a "did you mean" that points elsewhere
REFUSED: dict[str, str] = {}


def unknown(what: str, name: str, valid: Iterable[str]) -> HarnessError:
    """A one-line error naming the bad value, the closest valid ones and all valid choices."""
    if name in REFUSED:
        return HarnessError(f"{what} {name!r} is not registered: {REFUSED[name]}")
    valid = sorted(set(valid))
    close = difflib.get_close_matches(name, valid, n=3, cutoff=0.5)
    hint = f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""
    listing = ", ".join(valid) if valid else "none registered"
    return HarnessError(f"unknown {what} {name!r}{hint}; valid: {listing}")


def split_csv(value: str | Iterable[str] | None) -> list[str]:
    """'a,b' or ['a', 'b,c'] -> ['a', 'b', 'c'], order kept, duplicates dropped."""
    if value is None:
        return []
    items = [value] if isinstance(value, str) else list(value)
    out: list[str] = []
    for item in items:
        for part in str(item).split(","):
            part = part.strip()
            if part and part not in out:
                out.append(part)
    return out


def resolve_names(what: str, requested: Iterable[str], valid: Iterable[str]) -> list[str]:
    valid = list(valid)
    out = []
    for name in requested:
        if name not in valid:
            raise unknown(what, name, valid)
        out.append(name)
    return out
