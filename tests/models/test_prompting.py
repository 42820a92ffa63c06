"""The two prompt formats: the study's raw `Human: ...` and the HH training format."""

from __future__ import annotations

import pytest
from harness_opt.prompting import format_prompt

from harness.types import HarnessError


def test_raw_is_the_text_as_is():
    assert format_prompt("Human: hi", "raw") == "Human: hi"


def test_hh_wraps_plain_text():
    assert format_prompt("How do I boil an egg?", "hh") == "\n\nHuman: How do I boil an egg?\n\nAssistant:"


def test_hh_keeps_the_turns_of_a_transcript():
    text = "Human: hi\n\nAssistant: hello\n\nHuman: how are you?"
    assert format_prompt(text, "hh") == "\n\n" + text + "\n\nAssistant:"


def test_hh_does_not_double_the_assistant_tag():
    text = "\n\nHuman: hi\n\nAssistant:"
    assert format_prompt(text, "hh") == text


def test_unknown_format_is_a_user_error():
    with pytest.raises(HarnessError, match="prompt_format"):
        format_prompt("x", "chatml")
