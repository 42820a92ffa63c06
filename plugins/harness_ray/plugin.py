"""Registers the ``ray`` executor. Importing this module does not import Ray."""

from __future__ import annotations

from harness import hookimpl

from .executor import RayExecutor


@hookimpl
def harness_register_executors(register):
    register(RayExecutor())
