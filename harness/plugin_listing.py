"""The text form of ``harness plugins``: per plugin, everything about it together.

A plugin with an error still shows what it did register and which hooks it implements, so
an author sees at once what worked and what did not.
"""

from __future__ import annotations

from collections.abc import Iterable

from .plugins import PluginInfo


def plugin_lines(infos: Iterable[PluginInfo]) -> list[str]:
    """One block per plugin: a heading with distribution and version, then hooks, registrations, errors."""
    lines: list[str] = []
    for info in infos:
        if lines:
            lines.append("")
        dist = f"{info.distribution} {info.version or ''}".strip() if info.distribution else "no distribution"
        status = f"{len(info.errors)} error(s)" if info.errors else "ok"
        if info.needs_extra:  # left out, silently: an install without that extra, not a broken plugin
            extra = info.needs_extra
            status = f"not loaded: needs the `{extra}` extra (pip install '{info.distribution}[{extra}]')"
        lines.append(f"{info.name}  ({dist}{', built-in' if info.builtin else ''}): {status}")
        lines.append(f"  hooks: {', '.join(sorted(info.hooks)) or 'none'}")
        if info.registered:
            for kind, names in sorted(info.registered.items()):
                lines.append(f"  {kind}: {', '.join(sorted(names))}")
        else:
            lines.append("  registered: nothing")
        lines.extend(f"  error: {' '.join(error.split())}" for error in info.errors)
    return lines or ["(no plugins)"]
