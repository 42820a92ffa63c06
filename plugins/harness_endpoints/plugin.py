"""Entry point: the ``openai`` model backend (``--models openai:NAME@URL``, or ``[models.X] model = "openai:NAME"``)."""

from __future__ import annotations

from harness import hookimpl


@hookimpl
def harness_register_model_backends(register) -> None:
    from .backend import OpenAIBackend

    register(OpenAIBackend())
