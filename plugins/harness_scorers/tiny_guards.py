"""Offline stand-ins of the guards and the judge: tiny random-weight models behind local tokenizers that
carry the real prompt formats (the guards' chat templates, ChatML for the judge).

Each is built on first use under ``HARNESS_HOME/scorers/NAME/<digest>`` (the digest covers the recipe,
the template, the tokenizer corpus and the library versions), beside its final place and moved in with
one ``os.replace``. Weights are random with a fixed seed; one deterministic change makes the answers
parse often enough to exercise the reading code: the output rows of the answer labels' first tokens
(and, for the judge, of its end-of-turn token) are scaled by ``LABEL_BOOST``, so the greedy first token
is usually a label and which label depends on the input (a recipe's ``boost`` overrides the factor).
Some answers still do not parse, which exercises the missing-with-reason path.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from harness.atomic import build_folder
from harness.fingerprint import digest, file_digest

from .guard_fields import FIELD_FORMATS
from .guard_formats import FORMATS, TEMPLATES
from .rubrics import RUBRICS_DIR, load_rubric

DEMO_PROMPTS = Path(__file__).resolve().parents[1] / "harness_sources" / "demo_prompts.json"
PAIRS_FILE = Path(__file__).parent / "preference_pairs.jsonl"
LABEL_BOOST = 30.0
SEED = 0
LINE_BOOST = 4.0  # for PolyGuard's stand-in, whose free-text lines must end for its answers to parse

#: llama-like decoder, shrunk
DECODER: Mapping[str, Any] = {
    "hidden_size": 64,
    "intermediate_size": 128,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "head_dim": 16,
    "max_position_embeddings": 4096,
    "tie_word_embeddings": False,
    # 10x the usual 0.02: at 0.02 a tiny random decoder's last position barely depends on the input
    # (every guard answer the same); at 0.2 attention is peaky and the answer varies with the exchange
    "initializer_range": 0.2,
}

#: DuoGuard's twelve categories, in its head's order
DUOGUARD_CATEGORIES = (
    "Violent crimes",
    "Non-violent crimes",
    "Sex-related crimes",
    "Child sexual exploitation",
    "Specialized advice",
    "Privacy",
    "Intellectual property",
    "Indiscriminate weapons",
    "Hate",
    "Suicide and self-harm",
    "Sexual content",
    "Jailbreak prompts",
)

LLAMA_SPECIALS = [
    "<|begin_of_text|>",
    "<|end_of_text|>",
    "<|start_header_id|>",
    "<|end_header_id|>",
    "<|eot_id|>",
    "<|finetune_right_pad_id|>",
]
QWEN_SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<think>", "</think>"]

#: a Qwen2 decoder behind ChatML (the judge; PolyGuard-Qwen)
CHATML_QWEN2: Mapping[str, Any] = {
    "arch": "qwen2",
    "head": "causal",
    "template": "chatml.jinja",
    "specials": QWEN_SPECIALS,
    "eos": "<|im_end|>",
    "pad": "<|endoftext|>",
}

RECIPES: dict[str, dict[str, Any]] = {
    "tiny-llama-guard": {
        "arch": "llama",
        "head": "causal",
        "template": "llama-guard-3.jinja",
        "specials": LLAMA_SPECIALS,
        "eos": "<|eot_id|>",
        "pad": "<|finetune_right_pad_id|>",
        "labels": list(FORMATS["llama-guard-3"].labels),
    },
    "tiny-qwen3guard": {
        "arch": "qwen3",
        "head": "causal",
        "template": "qwen3guard.jinja",
        "specials": QWEN_SPECIALS,
        "eos": "<|im_end|>",
        "pad": "<|endoftext|>",
        "labels": list(FORMATS["qwen3guard"].labels),
    },
    "tiny-wildguard": {
        "arch": "mistral",
        "head": "causal",
        "template": "wildguard.jinja",
        "specials": ["<s>", "</s>", "<unk>"],
        "eos": "</s>",
        "pad": "<unk>",
        "labels": list(FIELD_FORMATS["wildguard"].labels),
        "format": "wildguard",
        "boost": 8.0,  # logits of ~16, not ~60: float32 noise stays under 1e-5 in an unsaturated P(yes)
    },
    "tiny-polyguard": {
        **CHATML_QWEN2,
        "labels": list(FIELD_FORMATS["polyguard"].labels),
        "format": "polyguard",
        "boost": 8.0,
        "line_boost": LINE_BOOST,
    },
    "tiny-judge": {
        **CHATML_QWEN2,
        "labels": "rubrics",
        "boost_eos": True,  # a judge's label is followed by its end of turn, so the verdict parses as a word
    },
    "tiny-duoguard": {
        "arch": "qwen2",
        "head": "multi-label",
        "template": "",
        "specials": QWEN_SPECIALS,
        "eos": "<|endoftext|>",
        "pad": "<|endoftext|>",
        "labels": list(DUOGUARD_CATEGORIES),
    },
}


def _labels(recipe: Mapping[str, Any]) -> list[str]:
    if recipe["labels"] == "rubrics":
        return [label for path in sorted(RUBRICS_DIR.glob("*.toml")) for label in load_rubric(path.stem).labels]
    return list(recipe["labels"])


def build_key(name: str) -> str:
    recipe = RECIPES[name]
    versions = {p: metadata.version(p) for p in ("torch", "transformers", "tokenizers")}
    template = (TEMPLATES / recipe["template"]).read_text(encoding="utf-8") if recipe["template"] else ""
    rubrics = [file_digest(p) for p in sorted(RUBRICS_DIR.glob("*.toml"))] if recipe["labels"] == "rubrics" else []
    # a labelled-lines format's own texts (the system prompt, the field names) shape the tokenizer
    extra = [FIELD_FORMATS[recipe["format"]].corpus()] if recipe.get("format") else []
    return digest(
        "tiny-guard/v1",
        name,
        recipe,
        DECODER,
        LABEL_BOOST,
        SEED,
        template,
        rubrics,
        file_digest(DEMO_PROMPTS),
        file_digest(PAIRS_FILE),
        versions,
        *extra,
    )


def build_dir(home: Path, name: str) -> Path:
    return Path(home) / "scorers" / name / build_key(name)[:20]


def ensure_built(home: Path, name: str, log: Callable[[str], None] = print) -> Path:
    """The stand-in's folder, building it first when missing (atomically)."""
    return build_folder(build_dir(home, name), lambda out: _build(out, name), log, name)


def corpus(recipe: Mapping[str, Any]) -> list[str]:
    """What the tokenizer learns from: the demo prompts, the preference pairs, the template, the labels."""
    data = json.loads(DEMO_PROMPTS.read_text(encoding="utf-8"))
    texts = [t for p in data["prompts"] for t in p["text"].values()]
    for line in PAIRS_FILE.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            texts += [row["prompt"], row["chosen"], row["rejected"]]
    if recipe["template"]:
        texts += [(TEMPLATES / recipe["template"]).read_text(encoding="utf-8")] * 4
    texts += [(RUBRICS_DIR / f"{n}.toml").read_text(encoding="utf-8") for n in ("multijail-safety", "helpfulness")]
    if recipe.get("format"):
        texts += [FIELD_FORMATS[recipe["format"]].corpus()] * 4
    texts += ["\n".join(_labels(recipe))] * 50  # each label a whole token, as in a real vocabulary
    return texts


def build_tokenizer(recipe: Mapping[str, Any]) -> Any:
    from tokenizers import ByteLevelBPETokenizer
    from transformers import PreTrainedTokenizerFast

    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(
        corpus(recipe), vocab_size=3000, min_frequency=2, special_tokens=list(recipe["specials"]), show_progress=False
    )
    tok = PreTrainedTokenizerFast(
        tokenizer_object=bpe._tokenizer, eos_token=recipe["eos"], pad_token=recipe["pad"], model_max_length=4096
    )
    if recipe["template"]:
        tok.chat_template = (TEMPLATES / recipe["template"]).read_text(encoding="utf-8")
    return tok


def build_model(recipe: Mapping[str, Any], tok: Any) -> Any:
    import torch
    import transformers

    common = {
        **DECODER,
        "vocab_size": len(tok),
        "pad_token_id": tok.pad_token_id,
        "eos_token_id": tok.eos_token_id,
        "bos_token_id": tok.convert_tokens_to_ids(recipe["specials"][0]),
    }
    cfg_cls, model_cls = {
        ("llama", "causal"): ("LlamaConfig", "LlamaForCausalLM"),
        ("qwen3", "causal"): ("Qwen3Config", "Qwen3ForCausalLM"),
        ("qwen2", "causal"): ("Qwen2Config", "Qwen2ForCausalLM"),
        ("mistral", "causal"): ("MistralConfig", "MistralForCausalLM"),
        ("qwen2", "multi-label"): ("Qwen2Config", "Qwen2ForSequenceClassification"),
    }[(recipe["arch"], recipe["head"])]
    if recipe["head"] == "multi-label":
        labels = list(recipe["labels"])
        common.update(
            num_labels=len(labels),
            id2label=dict(enumerate(labels)),
            label2id={n: i for i, n in enumerate(labels)},
            problem_type="multi_label_classification",
        )
    torch.manual_seed(SEED)
    model = getattr(transformers, model_cls)(getattr(transformers, cfg_cls)(**common)).eval()
    if recipe["head"] == "causal":
        rows = {tok(label, add_special_tokens=False)["input_ids"][0] for label in _labels(recipe)}
        if recipe.get("boost_eos"):
            rows.add(tok.eos_token_id)
        rows = sorted(rows)
        with torch.no_grad():
            model.lm_head.weight[rows] *= recipe.get("boost", LABEL_BOOST)
            if recipe.get("line_boost"):  # the end of line, weaker: free-text lines end, yes/no still win
                model.lm_head.weight[tok("\n", add_special_tokens=False)["input_ids"][0]] *= recipe["line_boost"]
    return model


def _build(out: Path, name: str) -> None:
    import torch

    recipe = RECIPES[name]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        tok = build_tokenizer(recipe)
        model = build_model(recipe, tok)
        model.save_pretrained(out)
        tok.save_pretrained(out)
        info = {
            "key": build_key(name),
            "name": name,
            "recipe": recipe,
            "decoder": dict(DECODER),
            "label_boost": LABEL_BOOST,
        }
        (out / "build.json").write_text(json.dumps(info, indent=1), encoding="utf-8")
    finally:
        torch.set_num_threads(threads)


def stand_in_labels(name: str) -> Sequence[str]:
    return _labels(RECIPES[name])
