"""The offline reward model: a tiny DeBERTa-v2 classifier trained locally with TRL's RewardTrainer.

It gives offline runs a real, if weak, reward signal. Everything is built on first use under
``HARNESS_HOME/scorers/tiny-reward/<digest>``, where the digest covers the model config, the
training recipe, the tokenizer settings, the package's preference pairs and the library
versions; the folder is built beside its final place and moved in with one ``os.replace``,
so an interrupted or concurrent build never leaves a half-written model.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import sys
from collections.abc import Callable, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

from harness_sources.planted import planted_files

from harness.atomic import build_folder
from harness.fingerprint import digest, file_digest
from harness.types import Context

from .architectures import DEBERTA_V3_LAYOUT
from .encoding import ENCODING_VERSION, encode_pair
from .resolve import ResolvedModel, resolve_model
from .reward import RewardModelScorer

PAIRS_FILE = Path(__file__).parent / "preference_pairs.jsonl"
SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]

TOKENIZER_RECIPE: Mapping[str, Any] = {"kind": "unigram", "vocab_size": 3000, "max_piece_length": 12}
MODEL_CONFIG: Mapping[str, Any] = {  # the DeBERTa-v3 layout, shrunk
    **DEBERTA_V3_LAYOUT,
    "hidden_size": 64,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "intermediate_size": 128,
    "pooler_hidden_size": 64,
    "hidden_dropout_prob": 0.1,
    "attention_probs_dropout_prob": 0.1,
}
BUILD_DTYPE = "float32"  # trained and saved in full precision (its config.json says so)
TRAIN_RECIPE: Mapping[str, Any] = {
    "trainer": "trl.RewardTrainer",
    "epochs": 5,
    "batch_size": 16,
    "learning_rate": 2e-3,
    "warmup_steps": 20,
    "weight_decay": 0.0,
    "seed": 0,
    "max_length": 512,
    "threads": 1,  # one thread: far faster than two on a shared, busy CPU
}


def load_pairs(split: str | None = None) -> list[dict[str, str]]:
    """The package's pairs plus the planted demo's (refusal/compliance, helpful/vague in every demo language)."""
    from harness_sources.planted import reward_pairs

    rows = [json.loads(line) for line in PAIRS_FILE.read_text(encoding="utf-8").splitlines() if line.strip()]
    rows += reward_pairs()
    return [r for r in rows if split is None or r["split"] == split]


def build_key() -> str:
    versions = {p: metadata.version(p) for p in ("torch", "transformers", "trl", "tokenizers")}
    return digest(
        "tiny-reward/v2",
        TOKENIZER_RECIPE,
        MODEL_CONFIG,
        TRAIN_RECIPE,
        ENCODING_VERSION,
        file_digest(PAIRS_FILE),
        [file_digest(f) for f in planted_files()],
        versions,
    )


def build_dir(home: Path) -> Path:
    return Path(home) / "scorers" / "tiny-reward" / build_key()[:20]


def pinned(home: Path) -> ResolvedModel:
    """What fingerprints the tiny model: its build key (recipe, training pairs, library versions)
    fixes the weights, so no build is needed: a dry run on a cold HARNESS_HOME builds nothing."""
    key = build_key()
    return ResolvedModel(str(build_dir(home)), None, key, key, dtype=BUILD_DTYPE)


def ensure_built(home: Path, log: Callable[[str], None] = print) -> Path:
    """The built model's folder, training it first when missing (atomically)."""
    return build_folder(build_dir(home), _build, log, "tiny-reward")


def train_tokenizer(texts: list[str]) -> Any:
    """A Unigram (SentencePiece-style) tokenizer trained on ``texts``, wrapped as DebertaV2Tokenizer."""
    from tokenizers import Regex, Tokenizer, normalizers, pre_tokenizers
    from tokenizers.models import Unigram
    from tokenizers.trainers import UnigramTrainer
    from transformers import DebertaV2Tokenizer

    tok = Tokenizer(Unigram())
    tok.normalizer = normalizers.Sequence(
        [normalizers.Replace(Regex(r"\s{2,}|[\n\r\t]"), " "), normalizers.NFC(), normalizers.Strip(False, True)]
    )
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    alphabet = [chr(c) for c in range(33, 127)]
    trainer = UnigramTrainer(
        vocab_size=TOKENIZER_RECIPE["vocab_size"],
        special_tokens=SPECIAL_TOKENS,
        unk_token="[UNK]",
        initial_alphabet=alphabet,
        max_piece_length=TOKENIZER_RECIPE["max_piece_length"],
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer)
    trained = [(p, float(s)) for p, s in json.loads(tok.to_str())["model"]["vocab"] if p not in SPECIAL_TOKENS]
    # The trainer is multi-threaded: the rarest pieces (the seeded alphabet, scored near the minimum) get
    # run-dependent scores and order. Give that band one score and sort, so a corpus always gives the same ids.
    floor = min(s for _, s in trained)
    band = round(floor, 1) - 0.5
    pieces = sorted(((p, band if s < floor + 0.1 else round(s, 4)) for p, s in trained), key=lambda ps: (-ps[1], ps[0]))
    vocab = [(p, 0.0) for p in SPECIAL_TOKENS] + pieces
    return DebertaV2Tokenizer(vocab=vocab, unk_id=SPECIAL_TOKENS.index("[UNK]"))


def _build(out: Path) -> None:
    import torch
    from datasets import Dataset
    from transformers import DebertaV2Config, DebertaV2ForSequenceClassification
    from trl import RewardConfig, RewardTrainer

    threads = torch.get_num_threads()
    torch.set_num_threads(TRAIN_RECIPE["threads"])
    try:
        train = load_pairs("train")
        texts = [t for r in train for t in (r["prompt"], r["chosen"], r["rejected"])]
        tokenizer = train_tokenizer(texts)
        torch.manual_seed(TRAIN_RECIPE["seed"])
        config = DebertaV2Config(
            vocab_size=len(tokenizer), pad_token_id=tokenizer.pad_token_id, num_labels=1, **MODEL_CONFIG
        )
        model = DebertaV2ForSequenceClassification(config)
        max_len = TRAIN_RECIPE["max_length"]

        def ids(prompt: str, response: str) -> list[int]:
            return encode_pair(tokenizer, prompt, response, max_len).input_ids

        data = Dataset.from_list(
            [
                {"chosen_ids": ids(r["prompt"], r["chosen"]), "rejected_ids": ids(r["prompt"], r["rejected"])}
                for r in train
            ]
        )
        args = RewardConfig(
            output_dir=str(out / "trainer"),
            num_train_epochs=TRAIN_RECIPE["epochs"],
            per_device_train_batch_size=TRAIN_RECIPE["batch_size"],
            learning_rate=TRAIN_RECIPE["learning_rate"],
            warmup_steps=TRAIN_RECIPE["warmup_steps"],
            weight_decay=TRAIN_RECIPE["weight_decay"],
            seed=TRAIN_RECIPE["seed"],
            data_seed=TRAIN_RECIPE["seed"],
            max_length=max_len,
            use_cpu=True,
            bf16=False,
            fp16=False,
            gradient_checkpointing=False,
            save_strategy="no",
            report_to="none",
            logging_steps=1000,
            disable_tqdm=True,
            dataloader_num_workers=0,
        )
        trainer = RewardTrainer(model=model, args=args, train_dataset=data, processing_class=tokenizer)
        with contextlib.redirect_stdout(sys.stderr):  # the trainer prints its metrics: stdout is for results
            result = trainer.train()
        model = trainer.model.eval()
        model.save_pretrained(out)
        tokenizer.save_pretrained(out)
        shutil.rmtree(out / "trainer", ignore_errors=True)
        info = {
            "key": build_key(),
            "train_pairs": len(train),
            "train_loss": round(float(result.training_loss), 4),
            "tokenizer": dict(TOKENIZER_RECIPE),
            "model": dict(MODEL_CONFIG),
            "train": dict(TRAIN_RECIPE),
        }
        (out / "build.json").write_text(json.dumps(info, indent=1), encoding="utf-8")
    finally:
        torch.set_num_threads(threads)


class TinyRewardScorer(RewardModelScorer):
    """``tiny-reward``: the locally built reward model; same input encoding as ``deberta-reward``."""

    def __init__(self) -> None:
        super().__init__(
            name="tiny-reward",
            description="Tiny DeBERTa-v2 reward model trained offline with TRL on the package's preference pairs",
        )
        self.default_options = {k: v for k, v in self.default_options.items() if k not in ("model", "revision")}

    def resolve(self, ctx: Context) -> ResolvedModel:
        return resolve_model(str(ensure_built(ctx.home, ctx.log)))

    def pin(self, ctx: Context) -> ResolvedModel:
        return pinned(ctx.home)

    def describe(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "input": "tokenizer(prompt, response) sentence pair",
            "max_length": self.default_options["max_length"],
            "model": "built locally under HARNESS_HOME/scorers/tiny-reward",
            "training_pairs": str(PAIRS_FILE.name),
        }
