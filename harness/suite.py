"""Suites: declarative TOML files in ``tasks/`` that say what a run evaluates.

A component is declared by its table, in order, and the table holds its options::

    name = "demo"
    seed = 0
    langs = ["low", "high"]
    tier_scheme = "joshi"

    [generation]
    max_new_tokens = 50
    prompt_format = "hh"

    [models.tiny-opt]          # declared, default options
    [sources.hh-rlhf]
    selection = "paper"        # an option
    [scorers.my-reward]
    [stats.rates]

``--set KEY=VALUE`` overrides any value: ``seed=3``, ``generation.max_new_tokens=20``,
``hh-rlhf.selection=turns`` (a component found by name in any section) or the full
``sources.hh-rlhf.selection=turns``. Values parse as TOML literals, else as strings.
"""

from __future__ import annotations

import copy
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .choices import unknown
from .paths import tasks_dir
from .types import HarnessError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

DEFAULT_SUITE = "xtreme-r"
SECTIONS = ("models", "sources", "scorers", "stats", "translators")
TOP_KEYS = {
    "name": str,
    "description": str,
    "seed": int,
    "langs": list,
    "tier_scheme": str,
    "data_dir": str,
    "train_missing": bool,
    "batch_size": (int, str),
    "device": str,
    "executor": str,
    "translator": str,  # the translator of every gap and of translate-test, unless a component names another
    "generation": dict,
    "tier_schemes": dict,
    **{s: dict for s in SECTIONS},
}
GENERATION_KEYS = {"max_new_tokens": int, "prompt_format": str, "do_sample": bool}


@dataclass
class Suite:
    """A parsed suite with overrides applied. ``data`` is the resolved config (goes into the manifest)."""

    name: str
    path: Path | None
    data: dict[str, Any] = field(default_factory=dict)

    def _names(self, section: str) -> list[str]:
        return list(self.data.get(section, {}).keys())

    @property
    def models(self) -> list[str]:
        return self._names("models")

    @property
    def sources(self) -> list[str]:
        return self._names("sources")

    @property
    def scorers(self) -> list[str]:
        return self._names("scorers")

    @property
    def stats(self) -> list[str]:
        return self._names("stats")

    def options(self, section: str, name: str) -> dict[str, Any]:
        value = self.data.get(section, {}).get(name, {})
        return dict(value) if isinstance(value, dict) else {}

    @property
    def seed(self) -> int:
        return int(self.data.get("seed", 0))

    @property
    def langs(self) -> list[str]:
        return [str(x) for x in self.data.get("langs", ["low", "high"])]

    @property
    def tier_scheme(self) -> str:
        return str(self.data.get("tier_scheme", "joshi"))

    @property
    def generation(self) -> dict[str, Any]:
        return dict(self.data.get("generation", {}))


def available_suites() -> list[str]:
    """Suite names offered to users; files starting with "_" (test fixtures) still load by name."""
    root = tasks_dir()
    return sorted(p.stem for p in root.glob("*.toml") if not p.stem.startswith("_")) if root.is_dir() else []


def suite_listing() -> list[dict[str, str]]:
    """Name, description and file of every offered suite (`harness suites`); a file that does not load
    says why in its description instead of hiding the others."""
    out = []
    for name in available_suites():
        path = tasks_dir() / f"{name}.toml"
        try:
            description = str(tomllib.loads(path.read_text(encoding="utf-8")).get("description", ""))
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            description = f"(malformed: {exc})"
        out.append({"name": name, "description": description, "path": str(path)})
    return out


def _parse_value(raw: str) -> Any:
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw


def _find_suite_file(name_or_path: str) -> Path:
    path = Path(name_or_path)
    if path.is_dir() and ("/" in name_or_path or not (tasks_dir() / f"{name_or_path}.toml").is_file()):
        raise HarnessError(f"--suite {name_or_path!r} is a folder, not a suite file; give a .toml file or a suite name")
    if path.suffix == ".toml" or path.is_file() or "/" in name_or_path:
        if not path.is_file():
            raise HarnessError(f"suite file {str(path)!r} does not exist")
        return path
    candidate = tasks_dir() / f"{name_or_path}.toml"
    if candidate.is_file():
        return candidate
    raise unknown("suite", name_or_path, available_suites())


def _validate(data: dict[str, Any], where: str) -> None:
    for key, value in data.items():
        if key not in TOP_KEYS:
            raise unknown(f"key in {where}:", key, TOP_KEYS)
        expected = TOP_KEYS[key]
        if not isinstance(value, expected):
            names = " or ".join(t.__name__ for t in expected) if isinstance(expected, tuple) else expected.__name__
            raise HarnessError(f"{where}: {key!r} must be a {names}, got {type(value).__name__} {value!r}")
    for key, value in data.get("generation", {}).items():
        if key not in GENERATION_KEYS:
            raise unknown(f"key in {where} [generation]:", key, GENERATION_KEYS)
        if not isinstance(value, GENERATION_KEYS[key]):
            raise HarnessError(f"{where}: generation.{key} must be a {GENERATION_KEYS[key].__name__}, got {value!r}")
    for section in SECTIONS:
        for name, opts in data.get(section, {}).items():
            if not isinstance(opts, dict):
                raise HarnessError(f"{where}: [{section}.{name}] must be a table of options, got {opts!r}")


def apply_override(data: dict[str, Any], assignment: str, components: dict[str, str] | None = None) -> None:
    """Apply one ``KEY=VALUE`` override in place.

    ``components`` maps registered component names to their section, so ``--set
    hh-rlhf.selection=paper`` works even when the suite does not declare ``hh-rlhf``.
    """
    if "=" not in assignment:
        raise HarnessError(f"--set expects KEY=VALUE, got {assignment!r} (e.g. --set hh-rlhf.selection=paper)")
    key, raw = assignment.split("=", 1)
    parts = [p for p in key.strip().split(".") if p]
    if not parts:
        raise HarnessError(f"--set expects KEY=VALUE, got {assignment!r}")
    value = _parse_value(raw.strip())
    head = parts[0]
    if head not in TOP_KEYS:
        # a component name: find its section
        hits = [s for s in SECTIONS if head in data.get(s, {})]
        if not hits and components and head in components:
            hits = [components[head]]
        if len(hits) > 1:
            raise HarnessError(
                f"--set {key}: {head!r} is in several sections ({', '.join(hits)}); write e.g. {hits[0]}.{key}"
            )
        if not hits:
            declared = [n for s in SECTIONS for n in data.get(s, {})] + list(components or {})
            raise unknown("--set key", key, [*TOP_KEYS, *declared])
        parts = [hits[0], *parts]
    target = data
    for part in parts[:-1]:
        nxt = target.setdefault(part, {})
        if not isinstance(nxt, dict):
            raise HarnessError(f"--set {key}: {part!r} is not a table")
        target = nxt
    target[parts[-1]] = value


def load_suite(
    name_or_path: str | None = None,
    overrides: list[str] | tuple[str, ...] = (),
    components: dict[str, str] | None = None,
) -> Suite:
    """Read a suite by name (``tasks/NAME.toml``) or path, then apply ``--set`` overrides."""
    path = _find_suite_file(name_or_path or DEFAULT_SUITE)
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except UnicodeDecodeError as exc:
        raise HarnessError(f"malformed suite file {path}: not UTF-8 ({exc.reason})") from None
    except tomllib.TOMLDecodeError as exc:
        raise HarnessError(f"malformed suite file {path}: {exc}") from None
    _validate(data, f"suite file {path}")
    data = copy.deepcopy(data)
    for assignment in overrides:
        apply_override(data, assignment, components)
    _validate(data, f"suite {path.stem} after --set")
    data.setdefault("name", path.stem)
    return Suite(name=str(data["name"]), path=path, data=data)
