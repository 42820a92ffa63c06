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

Mistakes are named when the plugin is loaded, each as one line of ``harness plugins``
(fatal under ``--strict-plugins``): a ``@hookimpl`` function whose name is not a hook
(with "did you mean"), a hook implementation with a parameter the hook does not pass, a
function named ``harness_*`` without ``@hookimpl``, and a registered object whose methods
cannot take the arguments the core passes. The plugin's other hooks still work.

**The life cycle of** ``harness run`` (what the core calls, in this order):

1. *Discovery* (every command): each entry point is imported and each ``harness_register_*``
   hook called once with ``register``; every object is checked and attributed to its plugin.
   Nothing is loaded.
2. *Options*: ``check_options(options)`` of every chosen model, source, scorer, translator and
   statistic, so a bad value stops the run before any work.
3. *Plan*: ``source.languages(ctx)``, then per planned language ``source.load(language, ctx)``
   and ``source.fingerprint(language, ctx)`` (a source may translate here, through
   ``ctx.translators``: ``Translator.fingerprint``, ``load`` on the first cache miss,
   ``LoadedTranslator.translate``).
4. *Keys*: ``model.fingerprint(ctx)`` and ``scorer.fingerprint(ctx)``, once each; the store
   says what is already done. ``model.is_available(ctx)`` and ``resources(ctx)`` for those with
   work. ``--dry-run`` stops here, and ``harness prompts`` runs only steps 1 to 3.
5. *Generate*, one model at a time, only for prompts without a stored generation:
   ``model.load(ctx)`` gives a ``LoadedModel``; ``auto_batch_size`` (with ``--batch-size auto``)
   and ``item_lengths`` cut the batches; ``generate(batch)`` per batch, each batch stored at
   once; ``close()``.
6. *Score*, one scorer at a time, only for rows without a stored score: ``scorer.load(ctx)``,
   ``score(batch)`` per batch, ``close()``.
7. *Statistics*: ``stat.compute(rows, options)`` once each on the tidy table; then the report.

An exception from plugin code at any step is one line naming the plugin and the method
(``HARNESS_DEBUG=1`` shows the traceback); raise ``harness.HarnessError`` for a problem the
user can fix.
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
    Called once per command, at discovery; returns nothing. Example (a whole plugin)
    under ``ModelVariant``.
    """


@hookspec
def harness_register_model_backends(register: Register) -> None:
    """Register model backends: call ``register(backend)`` with a ``harness.types.ModelBackend``.

    A backend turns a reference into a variant, so users name models without a plugin:
    ``--models NAME:REF`` on the command line, or a suite's ``[models.X] model = "NAME:REF"``
    (or ``backend = "NAME"`` with ``model = "REF"``). ``NAME`` is the backend's ``name``.
    Called once per command, at discovery; returns nothing. ``declare`` is called per declared
    model after the suite is read, before planning.
    """


@hookspec
def harness_register_sources(register: Register) -> None:
    """Register prompt sources: call ``register(source)`` with a ``harness.types.PromptSource``.

    Called once per command, at discovery; returns nothing. Example under ``PromptSource``.
    """


@hookspec
def harness_register_scorers(register: Register) -> None:
    """Register scorers: call ``register(scorer)`` with a ``harness.types.Scorer``.

    One scorer object per scoring *mode*: a translate-test variant of a reward
    model is registered as its own scorer (e.g. ``my-reward@translate-test``)
    so both scores live side by side in the tidy table. Called once per command, at
    discovery; returns nothing. Example under ``Scorer``.
    """


@hookspec
def harness_register_stats(register: Register) -> None:
    """Register statistics: call ``register(stat)`` with a ``harness.types.Statistic``.

    Statistics read only the tidy table, so they work on any run or on results
    produced elsewhere (``harness stats TABLE``). Called once per command, at discovery;
    returns nothing. Example under ``Statistic``.
    """


@hookspec
def harness_register_languages(register: Register) -> None:
    """Register languages: call ``register(language)`` with a ``harness.types.Language``.

    Called once per command, at discovery; returns nothing. Example under ``Language``.
    """


@hookspec
def harness_register_tier_schemes(register: Register) -> None:
    """Register resource-tier schemes: call ``register(scheme)`` with a ``harness.types.TierScheme``.

    Called once per command, at discovery; returns nothing. Example under ``TierScheme``.
    """


@hookspec
def harness_register_translators(register: Register) -> None:
    """Register translators: call ``register(translator)`` with a ``harness.types.Translator``.

    Called once per command, at discovery; returns nothing. Example under ``Translator``.
    """


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

    Commands receive the shared ``harness.cli.CliState`` (``host``, ``load_suite``, and
    ``context(section, name, suite, run)`` with ``run`` a ``harness.run_options.RunOptions``)
    through ``click.pass_obj``. Called once per command line, after the core's
    commands exist; a name already taken keeps its first owner. Returns nothing.

    Example::

        import click
        from harness import hookimpl

        @click.command("hello", help="Say hello.")
        def hello():
            click.echo("hello")

        @hookimpl
        def harness_register_commands(cli):
            cli.add_command(hello)
    """
