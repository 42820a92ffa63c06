"""Offline stand-ins of ``nllb`` and ``madlad``: tiny random-init models of the same architectures.

``tiny-nllb`` is an M2M100 (NLLB's architecture) behind a real ``NllbTokenizer`` carrying all
202 FLORES-200 codes; ``tiny-madlad`` a T5 behind a ``T5Tokenizer`` carrying the ``<2xx>``
target tokens. Both tokenizers are trained here (BPE and Unigram, as the real ones) on the
project's own demo prompts, so nothing is downloaded. They load through the very code of the
real translators (``load_from``), so a rehearsal runs the real tokenizer and generation path;
their output is the deterministic pseudo-translation of ``DistinctOutputs``.

A fingerprint is a digest of the recipe: nothing is built until a translation is needed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.fingerprint import digest, file_digest
from harness.types import Context, LoadedTranslator

from .demo import demo_document, demo_path
from .madlad import MadladTranslator
from .nllb import NllbTranslator
from .translators import DistinctOutputs, build_once, translator_options

TINY_SEQ2SEQ = {"d_model": 32, "layers": 1, "heads": 2, "ffn": 64, "vocab_size": 400}
RECIPE_VERSION = 1


def demo_texts() -> list[str]:
    """Every text of the demo prompts, in file order: the tokenizers' training corpus."""
    doc = demo_document()
    return [text for p in doc["prompts"] for _, text in sorted(p["text"].items())]


def nllb_language_codes() -> list[str]:
    from transformers.models.nllb.tokenization_nllb import FAIRSEQ_LANGUAGE_CODES

    return list(FAIRSEQ_LANGUAGE_CODES)


def tiny_recipe(kind: str, seed: int) -> dict[str, Any]:
    return {"kind": kind, "version": RECIPE_VERSION, "config": TINY_SEQ2SEQ, "seed": seed,
            "corpus": file_digest(demo_path()), "madlad_codes": sorted(MadladTranslator.codes.values())}


def build_tiny_nllb(home: Path, seed: int = 0) -> Path:
    """Build (once) the tiny NLLB stand-in under ``home``; return its folder."""
    recipe = tiny_recipe("nllb", seed)
    dest = Path(home) / "models" / "tiny-nllb" / digest(recipe)[:16]
    if (dest / "recipe.json").exists():
        return dest
    import json

    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import M2M100Config, M2M100ForConditionalGeneration, NllbTokenizer

    specials = ["<s>", "<pad>", "</s>", "<unk>"]
    core = Tokenizer(models.BPE(unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)
    trainer = trainers.BpeTrainer(vocab_size=TINY_SEQ2SEQ["vocab_size"], special_tokens=specials,
                                  show_progress=False)
    core.train_from_iterator(demo_texts(), trainer=trainer)
    state = json.loads(core.to_str())["model"]
    merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in state["merges"]]
    tok = NllbTokenizer(vocab=state["vocab"], merges=merges, additional_special_tokens=nllb_language_codes())
    torch.manual_seed(seed)
    n = TINY_SEQ2SEQ
    config = M2M100Config(
        vocab_size=len(tok), d_model=n["d_model"], encoder_layers=n["layers"], decoder_layers=n["layers"],
        encoder_attention_heads=n["heads"], decoder_attention_heads=n["heads"], encoder_ffn_dim=n["ffn"],
        decoder_ffn_dim=n["ffn"], max_position_embeddings=512, bos_token_id=0, pad_token_id=1, eos_token_id=2,
        decoder_start_token_id=2, scale_embedding=True, dropout=0.0,
    )
    return build_once(dest, digest(recipe), M2M100ForConditionalGeneration(config).float(), tok)


def build_tiny_madlad(home: Path, seed: int = 0) -> Path:
    """Build (once) the tiny MADLAD stand-in under ``home``; return its folder."""
    recipe = tiny_recipe("madlad", seed)
    dest = Path(home) / "models" / "tiny-madlad" / digest(recipe)[:16]
    if (dest / "recipe.json").exists():
        return dest
    import json

    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import T5Config, T5ForConditionalGeneration, T5Tokenizer

    core = Tokenizer(models.Unigram())
    core.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)
    trainer = trainers.UnigramTrainer(vocab_size=TINY_SEQ2SEQ["vocab_size"],
                                      special_tokens=["<pad>", "</s>", "<unk>"], unk_token="<unk>",
                                      show_progress=False)
    core.train_from_iterator(demo_texts(), trainer=trainer)
    vocab = [(str(piece), float(score)) for piece, score in json.loads(core.to_str())["model"]["vocab"]]
    targets = [f"<2{c}>" for c in sorted(set(MadladTranslator.codes.values()))]
    tok = T5Tokenizer(vocab=vocab, extra_ids=0, additional_special_tokens=targets)
    torch.manual_seed(seed)
    n = TINY_SEQ2SEQ
    config = T5Config(
        vocab_size=len(tok), d_model=n["d_model"], d_kv=n["d_model"] // n["heads"], d_ff=n["ffn"],
        num_layers=n["layers"], num_decoder_layers=n["layers"], num_heads=n["heads"], dropout_rate=0.0,
        pad_token_id=0, eos_token_id=1, decoder_start_token_id=0,
    )
    return build_once(dest, digest(recipe), T5ForConditionalGeneration(config).float(), tok)


class TinyStandIn:
    """What the tiny stand-ins share: small defaults, a recipe fingerprint, the real class's ``load_from``
    on the locally built folder, wrapped in ``DistinctOutputs``."""

    name: str
    kind: str
    codes: dict[str, str]
    seed = 0
    stand_in = ""
    default_options: dict[str, Any] = {"batch_size": 64, "max_new_tokens": 8, "max_length": 512}

    def build(self, home: Path) -> Path:
        raise NotImplementedError

    def opts(self, ctx: Context) -> dict[str, Any]:
        return {**translator_options(self, ctx), "num_beams": 1}  # type: ignore[arg-type]

    def fingerprint(self, ctx: Context) -> str:
        o = self.opts(ctx)
        return digest(self.name, tiny_recipe(self.kind, self.seed), o["max_new_tokens"], o["max_length"],
                      sorted(self.codes.items()), DistinctOutputs.VERSION)

    def load(self, ctx: Context) -> LoadedTranslator:
        o = self.opts(ctx)
        return DistinctOutputs(self.load_from(str(self.build(ctx.home)), "main", ctx, o))  # type: ignore[attr-defined]

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "model": "built locally", "licence": "the project's"}  # type: ignore[misc]


class TinyNllbTranslator(TinyStandIn, NllbTranslator):
    """``tiny-nllb``: the offline stand-in of ``nllb`` (same codes, same loading code, a tiny local model)."""

    name = "tiny-nllb"
    description = ("tiny random-init NLLB (M2M100 + NllbTokenizer trained on the demo prompts) built under "
                   "HARNESS_HOME, for tests and --rehearse (a pseudo-translation, see tiny-m2m100)")
    kind = "nllb"

    def build(self, home: Path) -> Path:
        return build_tiny_nllb(home, self.seed)


class TinyMadladTranslator(TinyStandIn, MadladTranslator):
    """``tiny-madlad``: the offline stand-in of ``madlad`` (a tiny T5 with the ``<2xx>`` tokens)."""

    name = "tiny-madlad"
    description = ("tiny random-init MADLAD (T5 + T5Tokenizer trained on the demo prompts, <2xx> tokens) built "
                   "under HARNESS_HOME, for tests and --rehearse (a pseudo-translation, see tiny-m2m100)")
    kind = "madlad"

    def build(self, home: Path) -> Path:
        return build_tiny_madlad(home, self.seed)
