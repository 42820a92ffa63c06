"""Hook implementations: languages, tier schemes, prompt sources, translators and `harness prompts`.

Imports here are cheap (no torch/transformers/datasets); heavy work happens in load().
"""

from __future__ import annotations

from typing import Any

from harness import hookimpl

from .demo import DemoSource
from .hh_rlhf import HHRLHFSource
from .languages import languages, tier_schemes
from .madlad import MadladTranslator
from .multijail import MultiJailSource
from .nllb import NllbTranslator
from .qa import MLQASource, TyDiQASource, XQuADSource
from .tiny_translators import TinyMadladTranslator, TinyNllbTranslator
from .translators import M2M100Translator, TinyM2M100Translator
from .xcopa import XCOPASource


@hookimpl
def harness_register_languages(register: Any) -> None:
    for lang in languages():
        register(lang)


@hookimpl
def harness_register_tier_schemes(register: Any) -> None:
    for scheme in tier_schemes():
        register(scheme)


@hookimpl
def harness_register_sources(register: Any) -> None:
    for source in (HHRLHFSource(), MultiJailSource(), XQuADSource(), XCOPASource(), MLQASource(),
                   TyDiQASource(), DemoSource()):
        register(source)


@hookimpl
def harness_register_translators(register: Any) -> None:
    for translator in (NllbTranslator(), MadladTranslator(), M2M100Translator(), TinyNllbTranslator(),
                       TinyMadladTranslator(), TinyM2M100Translator()):
        register(translator)


@hookimpl
def harness_register_commands(cli: Any) -> None:
    from .commands import prompts_command
    from .fetch import fetch_data_command

    cli.add_command(prompts_command)
    cli.add_command(fetch_data_command)
