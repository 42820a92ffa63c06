"""Accounting of a run: every planned row is complete, missing with a reason, or unexplained.

The runner fills an ``Accounting`` while it builds the tidy table; ``harness run`` prints it,
``manifest.json`` records it under ``"accounting"``, and unexplained rows make the run fail.
Measured throughputs (items per second per component and device) are kept in
``$HARNESS_HOME/throughput.json`` so a later ``--dry-run`` can estimate time.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from typing import Any

from .paths import harness_home
from .types import HarnessError


class IncompleteRun(HarnessError):
    """Rows of the plan are missing with no per-row reason: the run's results are incomplete."""

    exit_code = 3


@dataclass
class Accounting:
    planned: int
    rows: int = 0
    complete: int = 0
    missing: dict[str, int] = field(default_factory=dict)
    #: (model, source, language, scorer) -> rows missing with no reason
    unexplained: dict[tuple[str, str, str, str], int] = field(default_factory=dict)

    def add(self, reason: str | None, explained: bool, cell: tuple[str, str, str, str]) -> None:
        if reason is None:
            self.complete += 1
        elif explained:
            self.missing[reason] = self.missing.get(reason, 0) + 1
        else:
            self.unexplained[cell] = self.unexplained.get(cell, 0) + 1

    def as_dict(self) -> dict[str, Any]:
        """The manifest's ``"accounting"``: planned, complete, missing by reason, unexplained cells."""
        return {
            "planned": self.planned,
            "complete": self.complete,
            "missing": dict(sorted(self.missing.items())),
            "unexplained": [
                {"model": m, "source": s, "language": lang, "scorer": sc, "rows": n}
                for (m, s, lang, sc), n in self.unexplained.items()
            ],
        }

    def summary(self) -> str:
        """One line for the end of ``harness run``."""
        missing = sum(self.missing.values())
        line = f"rows: planned {self.planned}, complete {self.complete}, missing {missing}"
        if self.missing:
            line += " (" + "; ".join(f"{r}: {n}" for r, n in sorted(self.missing.items())) + ")"
        if self.unexplained:
            line += f", unexplained {sum(self.unexplained.values())}"
        return line

    def check(self) -> None:
        """Raise ``IncompleteRun`` naming the cells when rows are missing with no reason."""
        if self.rows != self.planned:
            raise IncompleteRun(f"the table has {self.rows} rows but {self.planned} were planned")
        if not self.unexplained:
            return
        cells = [f"{m}/{s}/{lang}/{sc} ({n})" for (m, s, lang, sc), n in self.unexplained.items()]
        shown = ", ".join(cells[:8]) + (f" and {len(cells) - 8} more cells" if len(cells) > 8 else "")
        raise IncompleteRun(
            f"{sum(self.unexplained.values())} planned rows have no result and no reason "
            f"(model/source/language/scorer (rows)): {shown}; run the same command again to retry them"
        )


# ------------------------------------------------------------------ throughput


def _throughput_path() -> Any:
    return harness_home() / "throughput.json"


def read_throughput() -> dict[str, dict[str, float]]:
    """``"section/name/device"`` -> {"items": n, "seconds": s} from earlier runs on this machine."""
    try:
        data = json.loads(_throughput_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def record_throughput(section: str, name: str, device: str, items: int, seconds: float) -> None:
    """Remember the last measured speed of a component (written atomically; best effort)."""
    if items <= 0 or seconds <= 0:
        return
    path = _throughput_path()
    data = read_throughput()
    data[f"{section}/{name}/{device}"] = {"items": items, "seconds": round(seconds, 4)}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".throughput-")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=1, sort_keys=True)
        os.replace(tmp, path)
    except OSError:
        pass
