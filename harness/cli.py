"""The ``harness`` command line.

Every user-fixable problem (unknown name, malformed file, missing weights) is a
``HarnessError``: it prints as one line and exits with code 2, with no traceback.
Listing commands take ``--json`` and then print only JSON on stdout (warnings go to
stderr). Plugins add commands through the ``harness_register_commands`` hook.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

import click

from . import __version__, plugin_errors
from .commands import add_builtin_commands
from .commands.common import CliState, CommandGroup, OneLineError
from .plugins import PluginError, PluginHost, strict_from_env
from .types import HarnessError

__all__ = ["CliState", "OneLineError", "build_cli", "main"]


def one_line_usage(exc: click.UsageError) -> OneLineError:
    """click's usage error (usage line, hint, message: three lines) as one line naming the command's help."""
    message = " ".join(exc.format_message().split())
    command = exc.ctx.command_path if exc.ctx is not None else "harness"
    return OneLineError(f"{message} (see '{command} --help')")


class HarnessGroup(CommandGroup):
    """Turns HarnessError and usage errors into one line with exit code 2, Ctrl-C into a resumable stop."""

    def make_context(self, info_name: str | None, args: list[str], parent: click.Context | None = None, **extra: Any):
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except click.exceptions.NoArgsIsHelpError:
            raise
        except click.UsageError as exc:
            raise one_line_usage(exc) from None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except HarnessError as exc:
            err = OneLineError(" ".join(str(exc).split()))
            err.exit_code = getattr(exc, "exit_code", OneLineError.exit_code)  # IncompleteRun: 3
            raise err from None
        except click.exceptions.NoArgsIsHelpError:
            raise
        except click.UsageError as exc:
            raise one_line_usage(exc) from None
        except KeyboardInterrupt:
            click.echo("interrupted: finished batches are saved; run the same command again to resume", err=True)
            ctx.exit(130)
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as exc:  # from a plugin's code: one line naming the plugin and the method
            state = ctx.obj
            line = None
            if isinstance(state, CliState) and not plugin_errors.debugging():
                line = plugin_errors.describe(state.host, exc)
            if line is None:
                raise
            raise OneLineError(line) from None


def _stop_on_second_interrupt() -> None:
    """Ctrl-C stops cleanly (KeyboardInterrupt, exit code 130); a second Ctrl-C during that stop exits
    at once with 130 too (the store commits whole batches, outputs are atomic: nothing is half written)."""

    def handler(signum: int, frame: Any) -> None:
        def again(signum: int, frame: Any) -> None:
            sys.stderr.flush()
            os._exit(130)

        signal.signal(signal.SIGINT, again)
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, handler)


def _warn_failures(host: PluginHost) -> None:
    for info in host.failures():
        click.echo(f"warning: {info.label()}: {info.error} (--strict-plugins makes this fatal)", err=True)


# ------------------------------------------------------------------ the CLI


def build_cli(host: PluginHost) -> click.Group:
    """The click group for ``host``; tests build it around a host with chosen plugins."""

    @click.group(cls=HarnessGroup, context_settings={"help_option_names": ["-h", "--help"]})
    @click.version_option(__version__, prog_name="harness")
    @click.option("--strict-plugins", is_flag=True, help="Make a broken plugin fatal (or HARNESS_STRICT_PLUGINS=1).")
    @click.pass_context
    def cli(ctx: click.Context, strict_plugins: bool) -> None:
        """Evaluate the harmlessness/helpfulness trade-off of aligned LLMs across languages."""
        ctx.obj = CliState(host)
        if not ctx.resilient_parsing:
            _warn_failures(host)

    add_builtin_commands(cli, host)
    host.add_commands(cli)
    return cli


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: discover plugins, build the CLI, run it."""
    args = list(sys.argv[1:] if argv is None else argv)
    strict = strict_from_env() or "--strict-plugins" in args
    _stop_on_second_interrupt()
    try:
        host = PluginHost(strict=strict)
        cli = build_cli(host)
        cli.main(args=args, prog_name="harness")
    except PluginError as exc:
        click.echo(f"Error: {' '.join(str(exc).split())}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:  # before or after a command ran (plugin discovery, shutdown)
        click.echo("interrupted", err=True)
        sys.exit(130)
    finally:
        # Python resets a Python-level SIGINT handler to the default while it shuts down, so a Ctrl-C
        # arriving then killed the process (exit -2) after a clean stop; ignore it from here on.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
