"""The plugin contract: every hook a plugin may implement.

Hooks follow the register-callback style: the core calls each hook with a
``register`` function and the plugin calls it once per thing it adds. That keeps
registration cheap (no model is loaded), lets the core attribute every object to
the plugin that registered it, and lets a broken plugin be reported and skipped
without stopping the others.

A plugin is any module or object exposing functions decorated with
``harness.hookimpl`` and named like the specs below, published through the
``harness`` entry-point group::

    [project.entry-points.harness]
    my-plugin = "my_package.plugin"

Plugins talk to the core only through these hooks and the public types in
``harness.types``. Importing a plugin module must be cheap: import torch and
friends inside ``load()`` methods, never at module import time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pluggy

PROJECT_NAME = "harness"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)

Register = Callable[[Any], None]


@hookspec
def harness_register_models(register: Register) -> None:
    """Register model variants: call ``register(variant)`` with a ``harness.types.ModelVariant``.

    A variant is a *recipe* for a generator (base weights, training recipe, prompt
    format). Its ``fingerprint`` must change whenever its outputs could change.
    """


@hookspec
def harness_register_model_backends(register: Register) -> None:
    """Register model backends: call ``register(backend)`` with a ``harness.types.ModelBackend``.

    A backend turns a reference into a variant, so users name models without a plugin:
    ``--models NAME:REF`` on the command line, or a suite's ``[models.X] model = "NAME:REF"``
    (or ``backend = "NAME"`` with ``model = "REF"``). ``NAME`` is the backend's ``name``.
    """


@hookspec
def harness_register_sources(register: Register) -> None:
    """Register prompt sources: call ``register(source)`` with a ``harness.types.PromptSource``."""


@hookspec
def harness_register_scorers(register: Register) -> None:
    """Register scorers: call ``register(scorer)`` with a ``harness.types.Scorer``.

    One scorer object per scoring *mode*: a translate-test variant of a reward
    model is registered as its own scorer (e.g. ``my-reward@translate-test``)
    so both scores live side by side in the tidy table.
    """


@hookspec
def harness_register_stats(register: Register) -> None:
    """Register statistics: call ``register(stat)`` with a ``harness.types.Statistic``.

    Statistics read only the tidy table, so they work on any run or on results
    produced elsewhere (``harness stats TABLE``).
    """


@hookspec
def harness_register_languages(register: Register) -> None:
    """Register languages: call ``register(language)`` with a ``harness.types.Language``."""


@hookspec
def harness_register_tier_schemes(register: Register) -> None:
    """Register resource-tier schemes: call ``register(scheme)`` with a ``harness.types.TierScheme``."""


@hookspec
def harness_register_translators(register: Register) -> None:
    """Register translators: call ``register(translator)`` with a ``harness.types.Translator``."""


@hookspec
def harness_register_executors(register: Register) -> None:
    """Register executors: call ``register(executor)`` with a ``harness.types.Executor``.

    An executor decides where work units run (``harness run --executor NAME``); the core's
    ``local`` executor is the default. Its ``cli_options`` become ``--NAME-OPTION`` flags.
    Importing the plugin must not import the distributed engine: do that in ``start``.
    """


@hookspec
def harness_register_commands(cli: Any) -> None:
    """Add CLI commands: ``cli`` is the root ``click.Group``; call ``cli.add_command(cmd)``.

    Commands receive the shared ``harness.cli.CliState`` (plugin host, resolved
    paths) through ``click.pass_obj``.
    """
