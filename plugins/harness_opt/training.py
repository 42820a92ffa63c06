"""SFT and DPO with TRL: one code path for the tiny family and the real OPT-350M.

SFT is a full fine-tune with ``SFTTrainer`` on the ``chosen`` transcripts. DPO trains a LoRA
adapter with ``DPOTrainer`` (no explicit reference model: the adapter-free start model is the
reference, so SFT+DPO's reference is its SFT checkpoint), then merges it so every checkpoint
loads with plain ``from_pretrained``. The train log and config are saved beside the weights.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import platform
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

Log = Callable[[str], None]


def _args(section: Mapping[str, Any], device: str, seed: int, out: Path) -> dict[str, Any]:
    """TrainingArguments shared by SFTConfig and DPOConfig (CPU-safe: no bf16, no checkpointing)."""
    import torch
    from transformers import TrainingArguments

    on_cuda = device.startswith("cuda")
    bf16 = on_cuda and torch.cuda.is_bf16_supported()
    # transformers >= 5.2x renamed gradient_checkpointing; TRL configs default it to True.
    fields = {f.name for f in dataclasses.fields(TrainingArguments)}
    ckpt = "activation_checkpointing" if "activation_checkpointing" in fields else "gradient_checkpointing"
    return {ckpt: False, **dict(
        output_dir=str(out),
        num_train_epochs=float(section["epochs"]),
        learning_rate=float(section["learning_rate"]),
        per_device_train_batch_size=int(section["per_device_batch_size"]),
        gradient_accumulation_steps=int(section["gradient_accumulation_steps"]),
        max_length=int(section["max_length"]),
        logging_steps=int(section.get("logging_steps", 10)),
        lr_scheduler_type=str(section.get("lr_scheduler_type", "linear")),
        warmup_steps=int(section.get("warmup_steps", 0)),
        seed=seed,
        data_seed=seed,
        save_strategy="no",
        report_to=[],
        use_cpu=not on_cuda,
        bf16=bf16,
        fp16=False,
        disable_tqdm=True,
        dataloader_num_workers=0,
    )}


def _progress(stage: str, log: Log):
    from transformers import TrainerCallback

    class Progress(TrainerCallback):
        """Prints step, loss and elapsed time at every logging step."""

        def __init__(self) -> None:
            self.t0 = time.perf_counter()

        def on_log(self, args, state, control, logs=None, **kwargs):  # noqa: ANN001 - HF signature
            logs = logs or {}
            shown = {k: v for k, v in logs.items() if k in ("loss", "rewards/accuracies", "rewards/margins")}
            if not shown:
                return
            vals = " ".join(f"{k} {v:.4f}" for k, v in shown.items())
            log(f"[{stage}] step {state.global_step}/{state.max_steps} {vals} "
                f"({time.perf_counter() - self.t0:.1f}s)")

    return Progress()


def _quiet(trainer) -> None:
    """Our Progress callback shows step/loss; drop the Trainer's raw dict printer."""
    from transformers.trainer_callback import PrinterCallback

    trainer.remove_callback(PrinterCallback)


def quiet_libraries() -> None:
    """No per-dataset-map or per-shard progress bars: they drown the step/loss lines."""
    import transformers

    transformers.utils.logging.disable_progress_bar()
    try:
        import datasets
    except ImportError:  # generation-only installs need no datasets
        return
    datasets.disable_progress_bars()


def _load(path: str, device: str, trust_remote_code: bool):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(path, trust_remote_code=trust_remote_code)
    if tok.model_max_length > 100_000:
        tok.model_max_length = 2048
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32, trust_remote_code=trust_remote_code)
    return model, tok


def _finish(trainer, model, tok, out: Path, info: dict[str, Any], t0: float) -> dict[str, Any]:
    import torch

    model = model.to("cpu").to(torch.float32)
    model.save_pretrained(out)
    tok.save_pretrained(out)
    with open(out / "train_log.jsonl", "w") as fh:
        for row in trainer.state.log_history:
            fh.write(json.dumps(row) + "\n")
    losses = [r["loss"] for r in trainer.state.log_history if "loss" in r]
    info = dict(info, seconds=round(time.perf_counter() - t0, 2), steps=trainer.state.global_step,
                first_loss=losses[0] if losses else None, last_loss=losses[-1] if losses else None)
    (out / "train_config.json").write_text(json.dumps(info, indent=2, sort_keys=True, default=str))
    return info


def _versions() -> dict[str, str]:
    import peft
    import torch
    import transformers
    import trl

    return {"torch": torch.__version__, "transformers": transformers.__version__, "trl": trl.__version__,
            "peft": peft.__version__, "python": platform.python_version()}


def train_sft(start: str, out: Path, section: Mapping[str, Any], texts: list[str], *, device: str,
              seed: int, log: Log, trust_remote_code: bool = False, info: dict[str, Any] | None = None) -> dict:
    """Full fine-tune of ``start`` on ``texts``; writes model, tokenizer, train log and config to ``out``."""
    from datasets import Dataset
    from transformers import set_seed
    from trl import SFTConfig, SFTTrainer

    t0 = time.perf_counter()
    quiet_libraries()
    set_seed(seed)
    model, tok = _load(start, device, trust_remote_code)
    args = SFTConfig(**_args(section, device, seed, out / "_trainer"), dataset_text_field="text",
                     packing=False)
    trainer = SFTTrainer(model=model, args=args, train_dataset=Dataset.from_list([{"text": t} for t in texts]),
                         processing_class=tok, callbacks=[_progress("sft", log)])
    _quiet(trainer)
    log(f"[sft] {len(texts)} texts on {device}")
    with contextlib.redirect_stdout(sys.stderr):  # trainers print metrics: stdout is for results
        trainer.train()
    meta = dict(info or {}, stage="sft", start=start, hyper=dict(section), seed=seed, device=device,
                n_examples=len(texts), versions=_versions())
    result = _finish(trainer, trainer.model, tok, out, meta, t0)
    _cleanup(out / "_trainer")
    return result


def lora_targets(model: Any, wanted: Any) -> list[str]:
    """The recipe's LoRA target modules, or with ``"auto"`` the attention's query and value projections
    found in the architecture (peft's own table for known model types, else the attention block's
    linear layers), so a recipe need not know the module names of its base."""
    if wanted != "auto":
        return list(wanted)
    import torch
    from peft.utils.constants import TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING as KNOWN

    model_type = getattr(model.config, "model_type", "")
    if model_type in KNOWN:
        return list(KNOWN[model_type])
    names = {name.rsplit(".", 1)[-1] for name, mod in model.named_modules()
             if isinstance(mod, torch.nn.Linear) and any(k in name.lower() for k in ("attn", "attention"))}
    if not names:
        raise ValueError(f"no attention linear layers found in {model_type or type(model).__name__} for LoRA: "
                         "set dpo.lora_target_modules in the recipe")
    return sorted(names)


def train_dpo(start: str, out: Path, section: Mapping[str, Any], triples: list[dict[str, str]], *,
              device: str, seed: int, log: Log, trust_remote_code: bool = False,
              info: dict[str, Any] | None = None, stage: str = "dpo") -> dict:
    """LoRA DPO from ``start`` (also the implicit reference); saves the merged model and the adapter."""
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import set_seed
    from trl import DPOConfig, DPOTrainer

    t0 = time.perf_counter()
    quiet_libraries()
    set_seed(seed)
    model, tok = _load(start, device, trust_remote_code)
    lora = LoraConfig(
        r=int(section["lora_r"]),
        lora_alpha=int(section["lora_alpha"]),
        lora_dropout=float(section["lora_dropout"]),
        target_modules=lora_targets(model, section.get("lora_target_modules", "auto")),
        bias=str(section.get("lora_bias", "none")),
        task_type="CAUSAL_LM",
    )
    args = DPOConfig(**_args(section, device, seed, out / "_trainer"), beta=float(section["beta"]))
    trainer = DPOTrainer(model=model, ref_model=None, args=args, train_dataset=Dataset.from_list(triples),
                         processing_class=tok, peft_config=lora, callbacks=[_progress(stage, log)])
    _quiet(trainer)
    log(f"[{stage}] {len(triples)} pairs on {device}")
    with contextlib.redirect_stdout(sys.stderr):  # trainers print metrics: stdout is for results
        trainer.train()
    peft_model = trainer.model
    peft_model.save_pretrained(out / "adapter")
    merged = peft_model.merge_and_unload()
    meta = dict(info or {}, stage=stage, start=start, hyper=dict(section), seed=seed, device=device,
                n_examples=len(triples), versions=_versions())
    result = _finish(trainer, merged, tok, out, meta, t0)
    _cleanup(out / "_trainer")
    return result


def _cleanup(path: Path) -> None:
    import shutil

    if path.exists():
        shutil.rmtree(path, ignore_errors=True)


def limit_threads(default: int = 2) -> None:
    """Keep CPU training polite on shared machines: HARNESS_TORCH_THREADS, else the recipe's cpu_threads
    (tiny models run fastest on one thread; extra threads only spin when the machine is busy)."""
    import torch

    torch.set_num_threads(int(os.environ.get("HARNESS_TORCH_THREADS", default)))
