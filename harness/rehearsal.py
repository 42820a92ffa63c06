"""``harness run --rehearse``: the same suite with every hub component swapped for its offline stand-in.

A plugin object names its stand-in in ``stand_in`` (e.g. a 350M model variant names a tiny
variant of the same recipe). Everything else of the suite stays: languages, sources,
translation of gaps, statistics and the report. A stand-in runs with its own default options
(the real component's may name weights it does not have), and any option that names a swapped
component (a source's ``translate = "m2m100"``, a scorer's ``translator``) is pointed at the
stand-in. The stand-ins are cheap, so missing ones are built or trained on first use.
"""

from __future__ import annotations

import copy
from typing import Any

from .plugins import PluginHost
from .suite import SECTIONS, Suite
from .types import HarnessError


def _stand_in(host: PluginHost, section: str, name: str) -> str:
    obj = host.registries.get(section, {}).get(name)
    sub = str(getattr(obj, "stand_in", "") or "") if obj is not None else ""
    if sub and sub not in host.registries[section]:
        raise HarnessError(f"--rehearse: {name} names the stand-in {sub!r}, which is not registered")
    return sub


def rehearsal_suite(host: PluginHost, suite: Suite) -> tuple[Suite, dict[str, str]]:
    """The suite with stand-ins, and ``{real name: stand-in name}`` for the manifest and report."""
    data = copy.deepcopy(suite.data)
    swaps: dict[str, str] = {}
    for section in SECTIONS:
        table: dict[str, Any] = {}
        for name, opts in data.get(section, {}).items():
            sub = _stand_in(host, section, name)
            if sub:
                swaps[name] = sub
                opts = {}  # the real one's options (a checkpoint path, a hub model id) are not the stand-in's
                name = sub
            table[name] = opts
        if section in data:
            data[section] = table
    # options naming a component with a stand-in (translators, mostly) follow the swap, defaults included
    # (a statistic's default ``scorer`` naming a swapped scorer)
    for section in SECTIONS:
        for name, opts in data.get(section, {}).items():
            defaults = dict(getattr(host.registries.get(section, {}).get(name), "default_options", None) or {})
            for key, value in list({**defaults, **opts}.items()):
                if not isinstance(value, str):
                    continue
                for sec in SECTIONS:
                    sub = _stand_in(host, sec, value) if value in host.registries.get(sec, {}) else ""
                    if sub:
                        opts[key] = sub
                        swaps[value] = sub
                        break
    top = data.get("translator")  # the suite's own translator follows too
    sub = _stand_in(host, "translators", top) if isinstance(top, str) and top in host.translators else ""
    if sub:
        data["translator"] = swaps[top] = sub
    data["train_missing"] = True  # stand-ins train in seconds on first use
    return Suite(name=suite.name, path=suite.path, data=data), dict(sorted(swaps.items()))


def rehearsal_names(
    names: str | None, swaps: dict[str, str], host: PluginHost | None = None, section: str = ""
) -> str | None:
    """``--models A,B`` under ``--rehearse`` means the stand-ins of A and B; a name the suite does not
    list (an opt-in scorer given with ``--scorers``) is swapped too, and recorded in ``swaps``."""
    if names is None or names == "all":
        return names
    out = []
    for name in (n.strip() for n in names.split(",")):
        if name not in swaps and host is not None and section:
            sub = _stand_in(host, section, name)
            if sub:
                swaps[name] = sub
        out.append(swaps.get(name, name))
    return ",".join(out)
