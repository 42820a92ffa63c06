"""Prompt formats: how a prompt's text becomes the model's input string.

The format is an explicit setting because the study fed ``Human: ...`` with no assistant tag
(``raw``) while the models were trained on ``\\n\\nHuman: ...\\n\\nAssistant:`` (``hh``).
"""

from __future__ import annotations

from harness.choices import unknown
from harness.types import HarnessError

FORMATS = ("raw", "hh")


def check_format(fmt: str) -> None:
    """Called from the fingerprint, so a bad format fails before the plan is printed or a model loads."""
    if fmt not in FORMATS:
        raise unknown("generation.prompt_format", fmt, FORMATS)


def format_prompt(text: str, fmt: str) -> str:
    if fmt == "raw":
        return text
    if fmt == "hh":
        body = text.strip()
        if body.startswith("Human:"):
            # Already an HH transcript: keep its turns, make sure it opens and ends like training data.
            if body.endswith("Assistant:"):
                return "\n\n" + body
            return "\n\n" + body + "\n\nAssistant:"
        return f"\n\nHuman: {body}\n\nAssistant:"
    raise HarnessError(f"unknown prompt_format {fmt!r}: use one of {', '.join(FORMATS)}")
