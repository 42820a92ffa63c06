"""Prompt formats for any causal LM: ``chat`` (the tokenizer's own chat template), ``hh`` and ``raw``.

A template that rejects a system role (Gemma's) gets the system prompt folded into the first user
turn, which is what Gemma's users do by hand. A ``chat`` format on a tokenizer with no template is
an error found from the model's files before any work (``template_text``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness_opt.prompting import FORMATS as PLAIN_FORMATS
from harness_opt.prompting import format_prompt

from harness.choices import unknown
from harness.types import HarnessError

FORMATS = (*PLAIN_FORMATS, "chat")


def check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise unknown("prompt_format", fmt, FORMATS)


def template_text(folder: Path | None) -> str | None:
    """The chat template stored with a model (``chat_template.jinja`` or ``tokenizer_config.json``);
    None when the folder is not known here (an uncached hub id), "" when it has none."""
    if folder is None or not folder.is_dir():
        return None
    jinja = folder / "chat_template.jinja"
    if jinja.is_file():
        return jinja.read_text(encoding="utf-8")
    config = folder / "tokenizer_config.json"
    if config.is_file():
        value = json.loads(config.read_text(encoding="utf-8")).get("chat_template") or ""
        return value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return ""


def no_template(what: str) -> HarnessError:
    return HarnessError(f"prompt_format 'chat' needs a chat template, and the tokenizer of {what} has none: "
                        f"use prompt_format 'hh' or 'raw', or a model whose tokenizer carries one")


class ChatFormatter:
    """Renders a prompt's text as one user turn through the tokenizer's template (system prompt first)."""

    def __init__(self, tokenizer: Any, system_prompt: str, what: str) -> None:
        if not getattr(tokenizer, "chat_template", None):
            raise no_template(what)
        self.tokenizer = tokenizer
        self.system = system_prompt
        self.fold = bool(system_prompt) and not self._accepts_system()

    def _render(self, messages: list[dict[str, str]]) -> str:
        return self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)

    def _accepts_system(self) -> bool:
        try:
            self._render([{"role": "system", "content": "s"}, {"role": "user", "content": "u"}])
        except Exception:  # noqa: BLE001 - jinja's TemplateError, or any error a template raises on purpose
            return False
        return True

    def __call__(self, text: str) -> str:
        if not self.system:
            return self._render([{"role": "user", "content": text}])
        if self.fold:
            return self._render([{"role": "user", "content": f"{self.system}\n\n{text}"}])
        return self._render([{"role": "system", "content": self.system}, {"role": "user", "content": text}])


def formatter(fmt: str, tokenizer: Any, system_prompt: str, what: str):
    """A function from a prompt's text to the model's input string, for ``fmt``."""
    check_format(fmt)
    if fmt == "chat":
        return ChatFormatter(tokenizer, system_prompt, what)
    return lambda text: format_prompt(text, fmt)


def eos_ids(model: Any, tokenizer: Any) -> list[int]:
    """The tokenizer's EOS first, then the generation config's (a chat model's end-of-turn tokens)."""
    out = [tokenizer.eos_token_id] if tokenizer.eos_token_id is not None else []
    extra = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    for tid in extra if isinstance(extra, list) else [extra]:
        if tid is not None and tid not in out:
            out.append(int(tid))
    return out
