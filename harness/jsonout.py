"""JSON that is always valid JSON: ``json.dumps`` writes NaN and infinities as bare ``NaN``/``Infinity``
tokens, which strict parsers (jq, browsers, other languages) reject. Non-finite floats become null."""

from __future__ import annotations

import json
import math
from typing import Any


def finite(value: Any) -> Any:
    """``value`` with every NaN or infinite float replaced by None (dicts, lists and tuples walked)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    return value


def dumps(value: Any, **kwargs: Any) -> str:
    """``json.dumps`` that never writes a bare NaN or Infinity."""
    return json.dumps(finite(value), allow_nan=False, **kwargs)
