"""Machine translation for gap filling: M2M100/NLLB from the hub, and a tiny local M2M100 for tests.

Both share ``Seq2SeqTranslator``; only how the model and tokenizer are obtained differs.
torch and transformers are imported inside ``load()`` only.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from harness.fingerprint import digest, tree_digest
from harness.types import Context, HarnessError, LoadedTranslator, Translator

from .languages import XTREME_R

#: Languages of facebook/m2m100_418M (FAIRSEQ_LANGUAGE_CODES["m2m100"] in transformers).
M2M100_LANGS: tuple[str, ...] = tuple(
    "af am ar ast az ba be bg bn br bs ca ceb cs cy da de el en es et fa ff fi fr fy ga gd gl gu ha he hi hr "
    "ht hu hy id ig ilo is it ja jv ka kk km kn ko lb lg ln lo lt lv mg mk ml mn mr ms my ne nl no ns oc or "
    "pa pl ps pt ro ru sd si sk sl so sq sr ss su sv sw ta th tl tn tr uk ur uz vi wo xh yi yo zh zu".split()
)

def translator_options(translator: Translator, ctx: Context) -> dict[str, Any]:
    """Defaults, then the suite's ``[translators.NAME]`` table, then this translator's own keys of ctx.options.

    A translator is often handed a *source's* or *scorer's* context (gap filling, translate-test),
    so keys it does not define are ignored rather than misread.
    """
    own = translator.default_options
    suite = (ctx.config.get("translators", {}) or {}).get(translator.name, {}) if ctx.config else {}
    picked = {k: v for k, v in {**dict(suite), **dict(ctx.options)}.items() if k in own and v is not None}
    return {**own, **picked}


class Seq2SeqTranslator(LoadedTranslator):
    """Greedy (or beam) translation in fixed-size batches.

    ``encode(texts, src, tgt)`` returns padded input ids and attention mask; ``lang_id(code)``
    the target-language token forced as the first generated token (M2M100, NLLB), or None when
    the target is named in the input instead (MADLAD's ``<2xx>`` prefix).
    """

    def __init__(self, model: Any, encode: Callable[[Sequence[str], str, str], Any],
                 lang_id: Callable[[str], int] | None,
                 decode: Callable[[Any], list[str]], *, batch_size: int, max_new_tokens: int, num_beams: int,
                 name: str) -> None:
        self.model, self.encode, self.lang_id, self.decode = model, encode, lang_id, decode
        self.batch_size, self.max_new_tokens, self.num_beams, self.name = batch_size, max_new_tokens, num_beams, name

    def translate(self, texts: Sequence[str], source_lang: str, target_lang: str) -> list[str]:
        import torch

        out: list[str] = []
        forced = {} if self.lang_id is None else {"forced_bos_token_id": self.lang_id(target_lang)}
        for start in range(0, len(texts), self.batch_size):
            batch = list(texts[start:start + self.batch_size])
            enc = self.encode(batch, source_lang, target_lang)
            with torch.no_grad():
                gen = self.model.generate(
                    input_ids=enc["input_ids"].to(self.model.device),
                    attention_mask=enc["attention_mask"].to(self.model.device),
                    **forced, max_new_tokens=self.max_new_tokens,
                    num_beams=self.num_beams, do_sample=False,
                )
            out += [t.strip() for t in self.decode(gen)]
        return out

    def close(self) -> None:
        self.model = None


class M2M100Translator(Translator):
    """facebook/m2m100_418M (or another M2M100/NLLB checkpoint through option ``model``)."""

    name = "m2m100"
    description = "M2M100 418M through transformers (no te, eu, qu; the `nllb` translator covers them)"
    stand_in = "tiny-m2m100"  # --rehearse: the tiny local model instead of the hub one
    default_options: dict[str, Any] = {
        "model": "facebook/m2m100_418M", "revision": "main", "batch_size": 8,
        "max_new_tokens": 256, "num_beams": 1, "max_length": 512,
    }

    def languages(self) -> list[str]:
        return sorted(M2M100_LANGS)

    def opts(self, ctx: Context) -> dict[str, Any]:
        return translator_options(self, ctx)

    def fingerprint(self, ctx: Context) -> str:
        o = self.opts(ctx)
        return digest(self.name, o["model"], o["revision"], o["max_new_tokens"], o["num_beams"], o["max_length"])

    def load(self, ctx: Context) -> LoadedTranslator:
        from .flores_codes import NLLB_CODES
        from .seq2seq_hub import load_checkpoint

        o = self.opts(ctx)
        model_id = str(o["model"])
        tok, model = load_checkpoint(self.name, model_id, str(o["revision"]), ctx)
        nllb = "nllb" in model_id.lower()

        def code(lang: str) -> str:
            if nllb:
                if lang not in NLLB_CODES:
                    raise HarnessError(f"translator m2m100 ({model_id}): no NLLB code for {lang!r}")
                return NLLB_CODES[lang]
            return lang

        def encode(texts: Sequence[str], src: str, tgt: str) -> Any:
            tok.src_lang = code(src)
            return tok(list(texts), return_tensors="pt", padding=True, truncation=True,
                       max_length=int(o["max_length"]))

        def lang_id(lang: str) -> int:
            token = code(lang) if nllb else f"__{lang}__"
            return int(tok.convert_tokens_to_ids(token))

        return Seq2SeqTranslator(model, encode, lang_id, lambda g: tok.batch_decode(g, skip_special_tokens=True),
                                 batch_size=int(o["batch_size"]), max_new_tokens=int(o["max_new_tokens"]),
                                 num_beams=int(o["num_beams"]), name=self.name)

    def describe(self) -> dict[str, Any]:
        from .seq2seq_hub import coverage

        return {"licence": "MIT", "model": self.default_options["model"],
                **coverage({c: c for c in M2M100_LANGS}, [c for c, *_ in XTREME_R])}


# ----------------------------------------------------------------------------- tiny local model

TINY_LANGS: tuple[str, ...] = tuple(sorted(set(M2M100_LANGS) | {c for c, *_ in XTREME_R}))
TINY_SPECIALS = ("<s>", "<pad>", "</s>", "<unk>")
TINY_CONFIG: dict[str, Any] = {
    "d_model": 32, "encoder_layers": 1, "decoder_layers": 1, "encoder_attention_heads": 2,
    "decoder_attention_heads": 2, "encoder_ffn_dim": 64, "decoder_ffn_dim": 64,
    "max_position_embeddings": 512, "bos_token_id": 0, "pad_token_id": 1, "eos_token_id": 2,
    "decoder_start_token_id": 2, "scale_embedding": True, "dropout": 0.0,
}
TINY_RECIPE_VERSION = 1


def tiny_recipe(seed: int) -> dict[str, Any]:
    return {"version": TINY_RECIPE_VERSION, "config": TINY_CONFIG, "langs": TINY_LANGS, "seed": seed}


def build_tiny_m2m100(home: Path, seed: int = 0) -> Path:
    """Build (once) a random-init M2M100 with a byte-level tokenizer under ``home``; return its folder.

    The folder is keyed by a digest of the recipe and written atomically (temp dir + os.replace),
    so concurrent or interrupted builds never leave a half-written model.
    """
    recipe = tiny_recipe(seed)
    dest = Path(home) / "models" / "tiny-m2m100" / digest(recipe)[:16]
    if (dest / "recipe.json").exists():
        return dest
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import M2M100Config, M2M100ForConditionalGeneration, PreTrainedTokenizerFast

    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    vocab = {t: i for i, t in enumerate([*TINY_SPECIALS, *alphabet, *(f"__{c}__" for c in TINY_LANGS)])}
    core = Tokenizer(models.BPE(vocab=vocab, merges=[], unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    core.decoder = decoders.ByteLevel()
    tok = PreTrainedTokenizerFast(tokenizer_object=core, bos_token="<s>", pad_token="<pad>", eos_token="</s>",
                                  unk_token="<unk>",
                                  additional_special_tokens=[f"__{c}__" for c in TINY_LANGS])
    torch.manual_seed(seed)
    model = M2M100ForConditionalGeneration(M2M100Config(vocab_size=len(vocab), **TINY_CONFIG)).float()
    return build_once(dest, digest(recipe), model, tok)


def build_once(dest: Path, recipe_digest: str, model: Any, tok: Any) -> Path:
    """Save ``model`` and ``tok`` into ``dest`` atomically (temp dir + os.replace), ``recipe.json`` last,
    so concurrent or interrupted builds never leave a half-written model."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".build-", dir=dest.parent))
    try:
        model.save_pretrained(tmp)
        tok.save_pretrained(tmp)
        (tmp / "recipe.json").write_text(recipe_digest + "\n")
        try:
            os.replace(tmp, dest)
        except OSError:  # another process finished first: keep theirs
            if not (dest / "recipe.json").exists():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dest


class TinyM2M100Translator(Translator):
    """A tiny random-init M2M100 built locally: exercises the translation path offline (gibberish output)."""

    name = "tiny-m2m100"
    description = ("tiny random-init M2M100 built under HARNESS_HOME, for tests and --rehearse (a pseudo-"
                   "translation: the input's words reversed, tagged [LANG], plus the model's gibberish)")
    default_options: dict[str, Any] = {"batch_size": 64, "max_new_tokens": 8}  # the output is a stand-in
    seed = 0

    def languages(self) -> list[str]:
        return list(TINY_LANGS)

    def opts(self, ctx: Context) -> dict[str, Any]:
        return translator_options(self, ctx)

    def fingerprint(self, ctx: Context) -> str:
        o = self.opts(ctx)
        return digest(self.name, tiny_recipe(self.seed), o["max_new_tokens"], DistinctOutputs.VERSION)

    def load(self, ctx: Context) -> LoadedTranslator:
        o = self.opts(ctx)
        try:
            import torch
            from transformers import M2M100ForConditionalGeneration, PreTrainedTokenizerFast
        except ImportError as exc:
            raise HarnessError("translator tiny-m2m100 needs the `ml` extra (torch, transformers)") from exc
        path = build_tiny_m2m100(ctx.home, self.seed)
        tok = PreTrainedTokenizerFast.from_pretrained(path)
        model = M2M100ForConditionalGeneration.from_pretrained(path, dtype=torch.float32)
        model.to(ctx.device).eval()
        eos, pad = tok.eos_token_id, tok.pad_token_id

        def lang_id(lang: str) -> int:
            if lang not in TINY_LANGS:
                raise HarnessError(f"translator tiny-m2m100 does not cover {lang!r}")
            return int(tok.convert_tokens_to_ids(f"__{lang}__"))

        def encode(texts: Sequence[str], src: str, tgt: str) -> Any:
            # M2M100 layout: __src__ tokens </s>, padded on the right
            rows = [[lang_id(src), *tok.encode(t, add_special_tokens=False)[:500], eos] for t in texts]
            width = max(len(r) for r in rows)
            ids = torch.tensor([r + [pad] * (width - len(r)) for r in rows])
            mask = torch.tensor([[1] * len(r) + [0] * (width - len(r)) for r in rows])
            return {"input_ids": ids, "attention_mask": mask}

        return DistinctOutputs(Seq2SeqTranslator(
            model, encode, lang_id, lambda g: tok.batch_decode(g, skip_special_tokens=True),
            batch_size=int(o["batch_size"]), max_new_tokens=int(o["max_new_tokens"]), num_beams=1, name=self.name))


class DistinctOutputs(LoadedTranslator):
    """The tiny model's output alone is one string for nearly every input, so a stand-in would collapse
    distinct prompts into one text and hide the shape of the real study. Each output is a deterministic
    pseudo-translation: ``[LANG]``, the input's words in reverse order (distinct inputs stay distinct),
    then the model's printable output (the translation path still runs end to end)."""

    VERSION = "distinct/v1"

    def __init__(self, inner: LoadedTranslator) -> None:
        self.inner = inner

    def translate(self, texts: Sequence[str], source_lang: str, target_lang: str) -> list[str]:
        raw = self.inner.translate(texts, source_lang, target_lang)
        out = []
        for text, gib in zip(texts, raw):
            noise = "".join(ch for ch in gib if ch.isprintable() and ch != "\ufffd").strip()
            words = " ".join(reversed(text.split(" ")))
            out.append(f"[{target_lang}] {words}" + (f" {noise}" if noise else ""))
        return out

    def close(self) -> None:
        self.inner.close()


def tiny_tree_digest(path: Path) -> str:
    """Digest of a built tiny model folder (tests use it to check builds are byte-identical)."""
    return tree_digest(path)
