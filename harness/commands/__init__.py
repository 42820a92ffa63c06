"""The built-in commands of ``harness``, one module per command or group of commands.

``harness.cli`` builds the group and its error handling; plugins add their own commands
through the ``harness_register_commands`` hook, after these.
"""

from __future__ import annotations

import click

from ..plugins import PluginHost
from ..scaffold import new_plugin_cmd
from .listing import langs_cmd, listing_commands, plugins_cmd, suites_cmd
from .run import run_command
from .runs import compare_cmd, export_cmd, report_cmd
from .stats import stats_cmd
from .store import store_group


def add_builtin_commands(cli: click.Group, host: PluginHost) -> None:
    for command in (
        plugins_cmd,
        *listing_commands(),
        suites_cmd,
        langs_cmd,
        stats_cmd,
        run_command(host),
        store_group,
        compare_cmd,
        report_cmd,
        export_cmd,
        new_plugin_cmd,
    ):
        cli.add_command(command)
