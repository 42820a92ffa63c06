"""A plugin author's mistakes, named in one line when the plugin is loaded, before any work.

pluggy ignores a function that lacks ``@hookimpl``, keeps a misspelt hook implementation until
``check_pending()`` fails for the whole process, and refuses a whole plugin for one hook
implementation with a wrong parameter. Here each such mistake becomes one error of the plugin
that made it (its other hooks still work), and a registered object whose methods cannot take
the arguments the core passes is refused at registration instead of failing mid-run.
"""

from __future__ import annotations

import difflib
import inspect
import types
from collections.abc import Callable
from typing import Any

import pluggy

from . import hookspecs
from .types import Executor, ModelVariant, PromptSource, Scorer, Statistic, Translator

#: The prefix every hook name has; a function named like this without ``@hookimpl`` is a mistake.
HOOK_PREFIX = "harness_"

#: The classes whose methods registered objects must match, most specific first.
CONTRACTS: tuple[type, ...] = (ModelVariant, PromptSource, Scorer, Statistic, Translator, Executor)


def hook_names() -> list[str]:
    """The names of every hook in ``harness.hookspecs``."""
    return sorted(n for n in dir(hookspecs) if n.startswith(HOOK_PREFIX) and callable(getattr(hookspecs, n)))


def _did_you_mean(name: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(name, choices, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _required_params(fn: Callable[..., Any]) -> list[str]:
    """The parameters pluggy would pass by name: those without a default (``self`` excluded on bound methods)."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return []
    return [
        p.name
        for p in params
        if p.default is inspect.Parameter.empty
        and p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    ]


def _all_params(fn: Callable[..., Any]) -> list[str]:
    try:
        return [p.name for p in inspect.signature(fn).parameters.values()]
    except (TypeError, ValueError):
        return []


def check_hookimpls(pm: pluggy.PluginManager, plugin: Any) -> tuple[list[str], dict[str, Callable[..., Any]]]:
    """The mistakes among ``plugin``'s hook-like functions, and its valid hook implementations by name."""
    problems: list[str] = []
    valid: dict[str, Callable[..., Any]] = {}
    hooks = hook_names()
    for attr in sorted(dir(plugin)):
        if not attr.startswith(HOOK_PREFIX):
            continue
        try:
            fn = getattr(plugin, attr)
        except Exception:  # a property that raises is no hook
            continue
        if not inspect.isroutine(fn) or hasattr(fn, f"{hookspecs.PROJECT_NAME}_spec"):
            continue
        opts = pm.parse_hookimpl_opts(plugin, attr)
        if opts is None:
            what = "" if attr in hooks else _did_you_mean(attr, hooks)
            problems.append(
                f"function {attr} looks like a hook but has no @hookimpl, so it is never called{what}; "
                "decorate it with @harness.hookimpl"
            )
            continue
        hook = opts.get("specname") or attr
        if hook not in hooks:
            hint = _did_you_mean(hook, hooks)
            problems.append(
                f"hook implementation {attr} is not a hook{hint}, so it is never called"
                + ("" if hint else f"; hooks: {', '.join(hooks)}")
            )
            continue
        spec_params = _required_params(getattr(hookspecs, hook))
        extra = [p for p in _required_params(fn) if p not in spec_params]
        missing = [p for p in spec_params if p not in _all_params(fn)]  # the core calls hooks with them
        if extra or missing:
            what = (
                f"has parameter(s) {', '.join(repr(p) for p in extra)} that the hook does not pass"
                if extra
                else f"lacks parameter(s) {', '.join(repr(p) for p in missing)}"
            )
            problems.append(
                f"hook implementation {attr}({', '.join(_all_params(fn))}) {what}; it takes "
                f"{hook}({', '.join(spec_params)}); not called"
            )
            continue
        valid[attr] = fn
    return problems, valid


def without_mistakes(plugin: Any, valid: dict[str, Callable[..., Any]]) -> Any:
    """A stand-in for ``plugin`` holding only its valid hook implementations (pluggy registers it instead)."""
    name = getattr(plugin, "__name__", type(plugin).__module__)
    return types.SimpleNamespace(__name__=name, __file__=getattr(plugin, "__file__", None), **valid)


# ------------------------------------------------------------------ registered objects


def _contract_of(obj: Any) -> type | None:
    return next((c for c in CONTRACTS if isinstance(obj, c)), None)


def _contract_methods(contract: type) -> dict[str, Callable[..., Any]]:
    """Public methods the core calls on a ``contract`` object, by name (from the class and its bases in the core)."""
    out: dict[str, Callable[..., Any]] = {}
    for klass in reversed(contract.__mro__):
        if klass.__module__ != "harness.types":
            continue
        for name, value in vars(klass).items():
            if not name.startswith("_") and inspect.isfunction(value):
                out[name] = value
    return out


def _signature(name: str, fn: Any, unbound: bool = False) -> str:
    """``name(a, b=..., *args)``: parameter names only (annotations are strings here), without ``self``."""
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return name
    shown = []
    for p in params[1:] if unbound else params:
        prefix = {inspect.Parameter.VAR_POSITIONAL: "*", inspect.Parameter.VAR_KEYWORD: "**"}.get(p.kind, "")
        shown.append(prefix + p.name + ("=..." if p.default is not inspect.Parameter.empty else ""))
    return f"{name}({', '.join(shown)})"


def contract_problems(obj: Any) -> list[str]:
    """Each method of ``obj`` that cannot be called the way the core calls it (positional arguments as in
    the contract's signature): a tuple where a method is expected, a missing or extra parameter."""
    contract = _contract_of(obj)
    if contract is None:
        return []
    problems = []
    cls = type(obj).__name__
    for name, expected in _contract_methods(contract).items():
        actual = getattr(obj, name, None)
        if getattr(type(obj), name, None) is expected:
            continue  # inherited unchanged
        want = f"{contract.__name__}.{_signature(name, expected, unbound=True)}"
        if not callable(actual):
            problems.append(f"{cls}.{name} is {type(actual).__name__} {actual!r}, not a method {want}")
            continue
        params = list(inspect.signature(expected).parameters)[1:]  # without self
        try:
            inspect.signature(actual).bind(*params)
        except TypeError:
            problems.append(f"{cls}.{_signature(name, actual)} does not match {want}")
        except ValueError:  # no signature (a builtin): nothing to check
            continue
    return problems
