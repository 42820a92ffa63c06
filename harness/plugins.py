"""Plugin discovery and registration.

Plugins come from the ``harness`` entry-point group (built-in plugins included,
exactly as a third-party package would publish them) and, for tests and quick
experiments, from module names in ``HARNESS_PLUGINS``. Every hook implementation is
called on its own so a plugin that fails to import, raises, registers something
malformed or takes a name already taken is reported (plugin, distribution, error)
and skipped while the others keep working. ``strict`` makes the first such problem
fatal instead.

A name belongs to whoever registered it first, and the built-in plugins (entry points
of the core's own distribution) always register first: a third-party plugin can add
names but never take over a built-in one, whatever its entry point is called. The
refused registration is reported against the plugin that attempted it.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from importlib import metadata
from pathlib import Path
from typing import Any

import pluggy

from . import choices, hookspecs
from .extras import extra_providing
from .plugin_checks import check_hookimpls, contract_problems, without_mistakes
from .types import (
    Executor,
    HarnessError,
    Language,
    ModelBackend,
    ModelVariant,
    PromptSource,
    Scorer,
    Statistic,
    TierScheme,
    Translator,
)

# kind -> (hook name, required type, key attribute)
KINDS: dict[str, tuple[str, type, str]] = {
    "models": ("harness_register_models", ModelVariant, "name"),
    "sources": ("harness_register_sources", PromptSource, "name"),
    "scorers": ("harness_register_scorers", Scorer, "name"),
    "stats": ("harness_register_stats", Statistic, "name"),
    "languages": ("harness_register_languages", Language, "code"),
    "tier_schemes": ("harness_register_tier_schemes", TierScheme, "name"),
    "translators": ("harness_register_translators", Translator, "name"),
    "executors": ("harness_register_executors", Executor, "name"),
    "model_backends": ("harness_register_model_backends", ModelBackend, "name"),
}


#: The distribution that ships the core and the built-in plugins.
CORE_DISTRIBUTION = "alignment-harness"


def _env_list(name: str) -> list[str]:
    return [x.strip() for x in os.environ.get(name, "").split(",") if x.strip()]


_CODE_DIGESTS: dict[Path, str] = {}


def code_digest(obj: Any) -> str | None:
    """sha256 over the .py files of the package that defines a plugin object. An edited plugin keeps
    its version in an editable install; with this in the report key and the manifest, an edit
    invalidates cached reports and shows in what a run records."""
    module = obj if hasattr(obj, "__file__") else sys.modules.get(getattr(type(obj), "__module__", ""))
    file = getattr(module, "__file__", None)
    if not file:
        return None
    top = sys.modules.get((getattr(module, "__package__", None) or "").split(".")[0])
    top_file = getattr(top, "__file__", None) or ""
    # a package: all of its files; a single-file module (e.g. beside others in site-packages): itself
    folder = Path(top_file).resolve().parent if top_file.endswith("__init__.py") else Path(file).resolve()
    if folder not in _CODE_DIGESTS:
        h = hashlib.sha256()
        files = sorted(folder.rglob("*.py")) if folder.is_dir() else [folder]
        for path in files:
            if "__pycache__" not in path.parts:
                name = path.relative_to(folder).as_posix() if folder.is_dir() else path.name
                h.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
        _CODE_DIGESTS[folder] = h.hexdigest()[:16]
    return _CODE_DIGESTS[folder]


def strict_from_env() -> bool:
    return os.environ.get("HARNESS_STRICT_PLUGINS", "").lower() in ("1", "true", "yes")


@dataclass
class PluginInfo:
    """What ``harness plugins`` shows for one plugin."""

    name: str
    distribution: str | None = None
    version: str | None = None
    code: str | None = None  # sha256 of the plugin package's .py files (see ``code_digest``)
    hooks: list[str] = field(default_factory=list)
    registered: dict[str, list[str]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    needs_extra: str | None = None  # not loaded, silently: this extra of its distribution is not installed

    @property
    def error(self) -> str | None:
        return "; ".join(self.errors) if self.errors else None

    @property
    def builtin(self) -> bool:
        return self.distribution == CORE_DISTRIBUTION

    def label(self) -> str:
        """How messages name the plugin: entry-point name, distribution and version."""
        dist = f" ({self.distribution}{' ' + self.version if self.version else ''})" if self.distribution else ""
        return f"{'built-in ' if self.builtin else ''}plugin {self.name!r}{dist}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "distribution": self.distribution,
            "version": self.version,
            "code": self.code,
            "hooks": sorted(self.hooks),
            "registered": {k: sorted(v) for k, v in sorted(self.registered.items())},
            "error": self.error,
            "needs_extra": self.needs_extra,
        }


class PluginError(HarnessError):
    """A plugin problem, raised only in strict mode."""


class PluginHost:
    """Owns the pluggy manager and the registries filled by the register hooks."""

    def __init__(
        self,
        *,
        entry_points: bool = True,
        plugins: Iterable[tuple[str, Any]] = (),
        modules: Iterable[str] | None = None,
        disabled: Iterable[str] | None = None,
        strict: bool | None = None,
    ) -> None:
        choices.REFUSED.clear()  # names refused by this host's plugins only
        self.pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        self.pm.add_hookspecs(hookspecs)
        self.strict = strict_from_env() if strict is None else strict
        self.disabled = set(_env_list("HARNESS_DISABLE_PLUGINS") if disabled is None else disabled)
        self.infos: dict[str, PluginInfo] = {}
        self.registries: dict[str, dict[str, Any]] = {kind: {} for kind in KINDS}
        self._owner: dict[tuple[str, str], str] = {}
        self._add_core_executor()

        if entry_points and os.environ.get("HARNESS_NO_ENTRYPOINTS", "") not in ("1", "true"):
            self._load_entry_points()
        for mod in _env_list("HARNESS_PLUGINS") if modules is None else modules:
            self._load_module(mod, mod)
        for name, obj in plugins:
            self._add(name, obj, None, None)
        self._register_all()

    def _add_core_executor(self) -> None:
        """``local`` is the core's own executor, the default; plugins add distributed ones."""
        from .executors import LocalExecutor

        self.registries["executors"][LocalExecutor.name] = LocalExecutor()
        self._owner[("executors", LocalExecutor.name)] = LocalExecutor.plugin

    # ---------------------------------------------------------------- loading

    def _fail(self, info: PluginInfo, message: str) -> None:
        info.errors.append(message)
        if self.strict:
            raise PluginError(f"{info.label()}: {message}")

    def _load_entry_points(self) -> None:
        for ep in sorted(metadata.entry_points(group=hookspecs.PROJECT_NAME), key=lambda e: e.name):
            dist = getattr(ep, "dist", None)
            dname = dist.metadata["Name"] if dist is not None else None
            dversion = dist.version if dist is not None else None
            if ep.name in self.disabled:
                continue
            if ep.name in self.infos:
                info = self.infos[ep.name]
                other = PluginInfo(ep.name, dname, dversion)
                self._fail(info, f"entry point name {ep.name!r} also used by {other.label()}, which was not loaded")
                continue
            try:
                obj = ep.load()
            except Exception as exc:  # a broken plugin must not take the CLI down
                info = PluginInfo(ep.name, dname, dversion)
                self.infos[ep.name] = info
                info.needs_extra = extra_providing(dname, exc)
                if info.needs_extra:  # an install without that extra, not a broken plugin
                    continue
                self._fail(info, f"failed to import {ep.value}: {type(exc).__name__}: {exc}; not loaded")
                continue
            self._add(ep.name, obj, dname, dversion)

    def _load_module(self, name: str, module: str) -> None:
        if name in self.disabled:
            return
        try:
            obj = importlib.import_module(module)
        except Exception as exc:
            info = PluginInfo(name)
            self.infos[name] = info
            self._fail(info, f"failed to import {module}: {type(exc).__name__}: {exc}; not loaded")
            return
        self._add(name, obj, None, None)

    def _add(self, name: str, obj: Any, dist: str | None, version: str | None) -> None:
        if name in self.disabled:
            return
        info = PluginInfo(name, dist, version, code_digest(obj))
        self.infos[name] = info
        problems, valid = check_hookimpls(self.pm, obj)
        for problem in problems:  # each mistake is this plugin's error; its valid hooks still run
            self._fail(info, problem)
        try:
            self.pm.register(without_mistakes(obj, valid) if problems else obj, name=name)
        except Exception as exc:
            self._fail(info, f"invalid plugin: {type(exc).__name__}: {exc}; not loaded")
            return
        info.hooks = [impl_hook for impl_hook in self._hooks_of(name)]

    def _hooks_of(self, plugin_name: str) -> list[str]:
        out = []
        for hook_name in dir(self.pm.hook):
            if not hook_name.startswith("harness_"):
                continue
            caller = getattr(self.pm.hook, hook_name)
            if any(impl.plugin_name == plugin_name for impl in caller.get_hookimpls()):
                out.append(hook_name)
        return out

    # ---------------------------------------------------------------- registration

    def _builtins_first(self, impls: list[Any]) -> list[Any]:
        """Hook implementations with the built-ins first (stable otherwise): built-in names always win."""
        return sorted(impls, key=lambda impl: not self.infos[impl.plugin_name].builtin)

    def _register_all(self) -> None:
        try:  # every implementation names a hook (check_hookimpls left out any that does not)
            self.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            name = self.pm.get_name(exc.plugin) or "?"
            self._fail(self.infos.setdefault(name, PluginInfo(name)), " ".join(str(exc).split()))
        for kind, (hook_name, typ, key_attr) in KINDS.items():
            for impl in self._builtins_first(getattr(self.pm.hook, hook_name).get_hookimpls()):
                info = self.infos[impl.plugin_name]
                if info.errors and not info.hooks:
                    continue
                self._call_register(kind, typ, key_attr, impl.plugin_name, impl.function, info)

    def _call_register(
        self, kind: str, typ: type, key_attr: str, plugin: str, fn: Callable[..., Any], info: PluginInfo
    ) -> None:
        registry = self.registries[kind]
        singular = kind.rstrip("s").replace("_", " ")

        def register(obj: Any) -> None:
            if not isinstance(obj, typ):
                self._fail(info, f"registered a malformed {singular}: {obj!r} is not a {typ.__name__}; ignored")
                return
            key = getattr(obj, key_attr, "")
            if not isinstance(key, str) or not key or any(c.isspace() or c == "," for c in key):
                self._fail(info, f"registered a {singular} with an invalid {key_attr} {key!r}; ignored")
                return
            mismatched = contract_problems(obj)
            if mismatched:
                why = f"{singular} {key!r} does not match the contract: {'; '.join(mismatched)}; not registered"
                choices.REFUSED[key] = f"{info.label()}: {why}"
                self._fail(info, why)
                return
            if key in registry:
                owner = self.infos[self._owner[(kind, key)]]
                self._fail(info, f"{singular} name {key!r} is already registered by {owner.label()}; not registered")
                return
            if isinstance(obj, (Language, TierScheme)):
                obj = replace(obj, plugin=plugin)
            else:
                obj.plugin = plugin
            registry[key] = obj
            self._owner[(kind, key)] = plugin
            info.registered.setdefault(kind, []).append(key)

        try:
            fn(register=register)
        except PluginError:
            raise
        except Exception as exc:
            self._fail(info, f"{fn.__name__} raised {type(exc).__name__}: {exc}")

    def add_commands(self, cli: Any) -> None:
        """Let plugins add click commands; a failing plugin is reported, not fatal.

        A command name already taken (by the core, a built-in or an earlier plugin) keeps its
        first owner: the later plugin's command is removed and reported.
        """
        owners = {name: "the core" for name in cli.commands}
        for impl in self._builtins_first(self.pm.hook.harness_register_commands.get_hookimpls()):
            info = self.infos[impl.plugin_name]
            before = dict(cli.commands)
            try:
                impl.function(cli=cli)
            except Exception as exc:
                self._fail(info, f"harness_register_commands raised {type(exc).__name__}: {exc}")
            for name, cmd in list(cli.commands.items()):
                if name in before and before[name] is not cmd:
                    cli.commands[name] = before[name]
                    self._fail(info, f"command {name!r} is already provided by {owners[name]}; not registered")
                elif name not in before:
                    owners[name] = info.label()

    # ---------------------------------------------------------------- access

    @property
    def models(self) -> dict[str, ModelVariant]:
        return self.registries["models"]

    @property
    def sources(self) -> dict[str, PromptSource]:
        return self.registries["sources"]

    @property
    def scorers(self) -> dict[str, Scorer]:
        return self.registries["scorers"]

    @property
    def stats(self) -> dict[str, Statistic]:
        return self.registries["stats"]

    @property
    def languages(self) -> dict[str, Language]:
        return self.registries["languages"]

    @property
    def tier_schemes(self) -> dict[str, TierScheme]:
        return self.registries["tier_schemes"]

    @property
    def translators(self) -> dict[str, Translator]:
        return self.registries["translators"]

    @property
    def executors(self) -> dict[str, Executor]:
        return self.registries["executors"]

    def components(self) -> dict[str, str]:
        """Component name -> suite section, for ``--set NAME.KEY=VALUE`` on undeclared components."""
        out: dict[str, str] = {}
        for section in ("translators", "stats", "scorers", "sources", "models"):
            out.update({name: section for name in self.registries[section]})
        return out

    def plugin_modules(self) -> list[str]:
        """Top-level import names of the loaded plugins (for executors that ship code to workers)."""
        names = {getattr(obj, "__name__", type(obj).__module__) for obj in self.pm.get_plugins()}
        return sorted({n.split(".")[0] for n in names if isinstance(n, str)} - {"harness"})

    def failures(self) -> list[PluginInfo]:
        return [i for i in self.infos.values() if i.errors]

    def plugin_versions(self) -> dict[str, str | None]:
        return {name: info.version for name, info in sorted(self.infos.items())}
