"""Models named without a plugin: ``--models hf:...`` and a suite's ``[models.NAME] model = "hf:..."``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness.types import GenerationSettings

from .conftest import make_ctx

REPO = Path(__file__).resolve().parents[2]


def harness(args: list[str], home: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HARNESS_")}
    env.update(HARNESS_HOME=str(home), HF_HUB_OFFLINE="1", PYTHONUNBUFFERED="1")
    return subprocess.run([sys.executable, "-c", "from harness.cli import main; main()", *args], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=timeout)


def one_line(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    lines = [x for x in result.stderr.splitlines() if x.strip()]
    assert result.returncode == 2 and len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.mark.parametrize("models, needles", [
    ("hfx:Qwen/Qwen2.5-0.5B-Instruct", ("unknown model backend", "did you mean 'hf'")),
    ("hf:Qwen//Qwen2.5-0.5B-Instruct", ("malformed model id", "did you mean 'hf:Qwen/Qwen2.5-0.5B-Instruct'")),
    ("hf:Qwen/Qwen 2.5", ("malformed model id", "did you mean 'hf:Qwen/Qwen-2.5'")),
    ("Qwen/Qwen2.5-0.5B-Instruct", ("unknown model", "did you mean 'hf:Qwen/Qwen2.5-0.5B-Instruct'")),
    ("hf:./no-such-model", ("model folder './no-such-model' does not exist",)),
    ("hf:", ("needs a hub id or a folder",)),
])
def test_bad_model_references_are_one_line_with_a_hint(models, needles, tmp_path):
    one_line(harness(["run", "--suite", "demo", "--models", models, "--dry-run"], tmp_path), *needles)
    assert not any(tmp_path.iterdir())  # nothing built, no store


def test_dry_run_of_a_hub_model_builds_nothing(home, tmp_path):
    before = sorted(home.rglob("*"))
    result = harness(["run", "--suite", "demo", "--models", "hf:Qwen/Qwen2.5-0.5B-Instruct", "--langs", "low,high",
                      "--scorers", "lang-fidelity", "--dry-run", "--json", "--store", str(tmp_path / "s.sqlite")], home)
    assert result.returncode == 0, result.stderr
    assert "hf:Qwen/Qwen2.5-0.5B-Instruct" in json.dumps(json.loads(result.stdout)["models"])
    assert sorted(home.rglob("*")) == before and not any(tmp_path.iterdir())


def _tiny_folder(hf_variants, home: Path, family: str) -> Path:
    v = hf_variants[family]
    plan = v.plan(make_ctx(v, home))
    return Path(v._base_path(plan, make_ctx(v, home)))


def _suite(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "mine.toml"
    path.write_text('name = "mine"\nlangs = ["sw", "en"]\n[generation]\nmax_new_tokens = 8\nprompt_format = "chat"\n'
                    + body + '\n[sources.demo-prompts]\n[scorers.tiny-reward]\n[stats.rates]\n', encoding="utf-8")
    return path


@pytest.mark.slow
@pytest.mark.ml
def test_a_declared_folder_model_is_listed_and_runs(hf_variants, home, tmp_path):
    folder = _tiny_folder(hf_variants, home, "tiny-llama")
    suite = _suite(tmp_path, f'[models.my-llama]\nmodel = "hf:{folder}"\nsystem_prompt = "Be brief."\n')
    listed = harness(["models", "--suite", str(suite)], home)
    assert listed.returncode == 0 and "my-llama" in listed.stdout and "hf:" in listed.stdout, listed.stderr
    out = tmp_path / "run"
    result = harness(["run", "--suite", str(suite), "--limit", "1", "--no-progress", "--out", str(out),
                      "--store", str(tmp_path / "s.sqlite")], home)
    assert result.returncode == 0, result.stderr[-2000:]
    rows = [json.loads(x) for x in (out / "table.jsonl").read_text(encoding="utf-8").splitlines()]
    assert {r["model"] for r in rows} == {"my-llama"} and all(r["score"] is not None for r in rows)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["config"]["models"]["my-llama"]["model"] == f"hf:{folder}"


@pytest.mark.ml
def test_chat_format_without_a_template_fails_before_any_work(variants_opt_folder, tmp_path):
    suite = _suite(tmp_path, f'[models.opt-chat]\nmodel = "hf:{variants_opt_folder}"\n')
    one_line(harness(["run", "--suite", str(suite), "--store", str(tmp_path / "s.sqlite")], tmp_path / "h"),
             "needs a chat template")


@pytest.fixture(scope="module")
def variants_opt_folder(home) -> Path:
    from harness_opt.builders import ensure_tiny_base
    from harness_opt.recipes import load_recipe_file

    recipe = load_recipe_file("tiny-opt")
    return ensure_tiny_base(home, recipe["tiny"], int(recipe["seed"]), log=lambda m: None)


@pytest.mark.ml
def test_fingerprint_covers_weights_template_format_and_system_prompt(hf_variants, home, tmp_path):
    from harness_hf.backend import HfBackend

    copy = tmp_path / "m"
    shutil.copytree(_tiny_folder(hf_variants, home, "tiny-qwen2"), copy)

    def fp(options=None, fmt="chat"):
        v = HfBackend().declare("m", str(copy), options or {})
        return v.fingerprint(make_ctx(v, home, options, generation=GenerationSettings(8, fmt)))

    base = fp()
    assert fp() == base
    assert fp({"system_prompt": "x"}) != base
    assert fp(fmt="hh") != base and fp({"prompt_format": "hh"}) == fp(fmt="hh")
    cfg = copy / "tokenizer_config.json"
    text = cfg.read_text() if cfg.is_file() else ""
    jinja = copy / "chat_template.jinja"
    if jinja.is_file():
        jinja.write_text(jinja.read_text() + " ")
    else:
        data = json.loads(text)
        data["chat_template"] += " "
        cfg.write_text(json.dumps(data))
    changed_template = fp()
    assert changed_template != base
    weights = copy / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 1
    weights.write_bytes(bytes(data))
    assert fp() != changed_template


def test_rehearse_swaps_a_declared_hub_model_for_the_tiny_model_of_its_architecture(home, tmp_path):
    suite = _suite(tmp_path, '[models.qwen]\nmodel = "hf:Qwen/Qwen2.5-0.5B-Instruct"\narchitecture = "qwen2"\n')
    result = harness(["run", "--suite", str(suite), "--rehearse", "--dry-run", "--json", "--scorers", "lang-fidelity",
                      "--store", str(tmp_path / "s.sqlite")], home)
    assert result.returncode == 0, result.stderr
    assert '"qwen": "tiny-qwen2"' in result.stdout, result.stdout
