"""An exception raised inside a plugin's code, told as one line naming the plugin and the method.

Every command goes through this (``harness prompts`` and ``harness run --dry-run`` as much as a
real run): the traceback is walked from the outside in, and the first frame in a file that
belongs to a loaded plugin is the method the core called. ``HARNESS_DEBUG=1`` keeps the
traceback instead.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from types import FrameType, TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .plugins import PluginHost

DEBUG_HINT = "HARNESS_DEBUG=1 shows the traceback"


def debugging() -> bool:
    """``HARNESS_DEBUG`` set to anything but empty or 0: show tracebacks instead of one line."""
    return os.environ.get("HARNESS_DEBUG", "") not in ("", "0")


def _code_root(obj: Any) -> Path | None:
    """The folder of a plugin's top-level package, or the file of a single-module plugin."""
    name = getattr(obj, "__name__", None) or type(obj).__module__
    module = sys.modules.get(name) if isinstance(name, str) else None
    file = getattr(module, "__file__", None) or getattr(obj, "__file__", None)
    if not file:
        return None
    top = sys.modules.get(name.split(".")[0])
    top_file = getattr(top, "__file__", None) or ""
    return Path(top_file).resolve().parent if top_file.endswith("__init__.py") else Path(file).resolve()


def plugin_roots(host: PluginHost) -> dict[Path, str]:
    """Code root -> plugin name, for every registered plugin (the core's own package never counts)."""
    core = Path(__file__).resolve().parent
    out = {}
    for name, obj in host.pm.list_name_plugin():
        root = _code_root(obj)
        if root is not None and root != core:
            out[root] = name
    return out


def _owner(path: Path, roots: dict[Path, str]) -> str | None:
    for root, name in roots.items():
        if path == root or root in path.parents:
            return name
    return None


def _method(frame: FrameType) -> str:
    code = frame.f_code
    qualname = getattr(code, "co_qualname", None)  # Python 3.11+
    if qualname:
        return qualname.replace(".<locals>", "")
    owner = frame.f_locals.get("self")
    return f"{type(owner).__name__}.{code.co_name}" if owner is not None else code.co_name


def plugin_frame(host: PluginHost, tb: TracebackType | None) -> tuple[str, str, str] | None:
    """(plugin, method, file:line) of the plugin whose code raised: the innermost frame in any plugin's code
    names the plugin; the outermost of the frames of that plugin just around it names the method the
    core (or another plugin, e.g. a command) called. None when no plugin frame is on the traceback."""
    roots = plugin_roots(host)
    frames = []
    while tb is not None:
        frames.append((tb, _owner(Path(tb.tb_frame.f_code.co_filename).resolve(), roots)))
        tb = tb.tb_next
    inner = next((i for i in range(len(frames) - 1, -1, -1) if frames[i][1] is not None), None)
    if inner is None:
        return None
    plugin = frames[inner][1]
    entry = inner
    while entry > 0 and frames[entry - 1][1] == plugin:
        entry -= 1
    last = frames[inner][0]
    where = f"{Path(last.tb_frame.f_code.co_filename).name}:{last.tb_lineno}"
    return str(plugin), _method(frames[entry][0].tb_frame), where


def describe(host: PluginHost, exc: BaseException) -> str | None:
    """One line for an exception raised in plugin code, or None when no plugin frame is on its traceback."""
    found = plugin_frame(host, exc.__traceback__)
    if found is None:
        return None
    plugin, method, where = found
    info = host.infos.get(plugin)
    label = info.label() if info is not None else f"plugin {plugin!r}"
    message = " ".join(str(exc).split())[:300]
    return (
        f"{label}: {method} raised {type(exc).__name__}: {message} (at {where}); "
        f"fix or disable the plugin ({DEBUG_HINT})"
    )
