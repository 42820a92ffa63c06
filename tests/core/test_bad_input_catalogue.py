"""The bad-input catalogue: over 100 bad inputs across the whole CLI.

Each must give exit code 2, exactly one line on stderr (``Error: ...``), nothing on stdout,
no traceback, the bad value named and, where there are some, the valid choices. Cases run
in-process through click's CliRunner, so the catalogue stays fast; one finished fake-suite
run (a subprocess) provides the store, run directory and tables the cases point at, and must
be byte-identical after every case.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
from pathlib import Path

import pytest
from corehelp import GOOD_SUITE, plugin_env, run_harness

from harness.devices import no_nvidia_driver

FAKE = ["fakeplug"]
STATS = ["harness_stats.plugin"]
OPT = ["harness_opt.plugin"]
SOURCES = ["harness_sources.plugin"]
BUILTINS = ["harness_opt.plugin", "harness_sources.plugin", "harness_scorers.plugin", "harness_stats.plugin"]

RUN = ["run", "--suite", "_fake", "--no-progress", "--out", "{ws}/out"]

#: name -> suite file text
SUITES = {
    "bad-toml": ("name = 'x'\nseed = \n", ["malformed suite file", "bad-toml.toml"]),
    "wrong-type": (
        GOOD_SUITE.replace("seed = 0", 'seed = "zero"'),
        ["'seed' must be a int", "zero", "wrong-type.toml"],
    ),
    "unknown-key": (GOOD_SUITE.replace("seed = 0", "sed = 0"), ["'sed'", "did you mean 'seed'", "unknown-key.toml"]),
    "unknown-gen-key": (
        GOOD_SUITE.replace("max_new_tokens = 8", "max_new_token = 8"),
        ["'max_new_token'", "did you mean 'max_new_tokens'"],
    ),
    "options-not-table": (
        GOOD_SUITE.replace("[models.fake-base]", '[models]\nfake-base = "x"'),
        ["[models.fake-base]", "table", "'x'"],
    ),
    "unknown-scheme": (GOOD_SUITE.replace('"joshi"', '"jochi"'), ["'jochi'", "did you mean 'joshi'"]),
    "unknown-model": (GOOD_SUITE.replace("fake-base", "fake-bse"), ["'fake-bse'", "did you mean", "valid:"]),
    "option-type": (
        GOOD_SUITE.replace("[sources.fake-prompts]", '[sources.fake-prompts]\nn = "five"'),
        ["fake-prompts.n", "'five'", "an integer"],
    ),
    "format-type": (
        GOOD_SUITE.replace("max_new_tokens = 8", "max_new_tokens = 8\nprompt_format = 5"),
        ["prompt_format", "5", "str"],
    ),
    "langs-type": (GOOD_SUITE.replace('langs = ["low", "high"]', 'langs = "low"'), ["'langs'", "'low'", "list"]),
}

#: name -> (how to make the table from the good CSV/JSONL text, file name)
TABLES = {
    "missing-column": (lambda csv, jl: "\n".join(",".join(x.split(",")[:9]) for x in csv.splitlines()), "t.csv"),
    "bad-kind": (lambda csv, jl: csv.replace(",harmful,", ",harmless,", 1), "t.csv"),
    "empty": (lambda csv, jl: "", "t.csv"),
    "blank-jsonl": (lambda csv, jl: "\n", "t.jsonl"),
    "non-numeric": (lambda csv, jl: jl.replace('"score": ', '"score": "high", "x": ', 1), "t.jsonl"),
    "not-json": (lambda csv, jl: '{"model": "a"\n', "t.jsonl"),
    "xlsx": (lambda csv, jl: csv, "t.xlsx"),
    "inf-csv": (lambda csv, jl: _set_score_csv(csv, "inf"), "t.csv"),
    "neg-inf-csv": (lambda csv, jl: _set_score_csv(csv, "-inf"), "t.csv"),
    "infinity-jsonl": (lambda csv, jl: _set_score_jsonl(jl, "Infinity"), "t.jsonl"),
    "nan-jsonl": (lambda csv, jl: _set_score_jsonl(jl, "NaN"), "t.jsonl"),
}


def _set_score_csv(text: str, value: str) -> str:
    lines = text.splitlines()
    head = lines[0].split(",")
    i = head.index("score")
    import csv
    import io

    rows = list(csv.reader(io.StringIO(text)))
    rows[1][i] = value
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


def _set_score_jsonl(text: str, token: str) -> str:
    first, rest = text.split("\n", 1)
    import re

    return re.sub(r'"score": [^,}]+', f'"score": {token}', first, count=1) + "\n" + rest


def C(args, needles, modules=FAKE):  # noqa: N802 - a table row
    return (args, needles, modules)


CASES: dict[str, tuple[list[str], list[str], list[str]]] = {
    # ------------------------------------------------------------- click usage errors
    "limit-negative": C([*RUN, "--limit", "-1"], ["--limit", "-1", "x>=1"]),
    "limit-zero": C([*RUN, "--limit", "0"], ["--limit", "0", "x>=1"]),
    "limit-word": C([*RUN, "--limit", "abc"], ["--limit", "'abc'"]),
    "limit-float": C([*RUN, "--limit", "1.5"], ["--limit", "'1.5'"]),
    "device-tpu": C([*RUN, "--device", "tpu"], ["'tpu'", "'auto', 'cpu', 'cuda'"]),
    "device-upper": C([*RUN, "--device", "GPU"], ["'GPU'", "'auto', 'cpu', 'cuda'"]),
    "out-is-file": C([*RUN[:-1], "{file}"], ["--out", "{file}", "is a file"]),
    "store-is-dir": C([*RUN, "--store", "{ws}"], ["--store", "{ws}", "directory"]),
    "unknown-option": C([*RUN, "--limt", "3"], ["'--limt'", "--limit"]),
    "missing-value": C(["run", "--suite"], ["--suite", "requires an argument"]),
    "extra-argument": C(["run", "extra-arg"], ["(extra-arg)", "run --help"]),
    "export-format": C(["export", "{run}", "--format", "xlsx"], ["'xlsx'", "'csv', 'jsonl', 'parquet'"]),
    "export-no-dir": C(["export"], ["RUN_DIR"]),
    "stats-dir": C(["stats", "{ws}"], ["{ws}", "is a directory"]),
    "unknown-command": C(["nosuch"], ["unknown command 'nosuch'", "valid:", "report, run"]),
    "command-typo": C(["rn"], ["'rn'", "did you mean 'run'"]),
    "command-typo-stats": C(["stat"], ["'stat'", "did you mean 'stats'"]),
    "top-option": C(["--bogus"], ["'--bogus'"]),
    "langs-option": C(["langs", "--jsn"], ["'--jsn'", "--json"]),
    "report-no-dir": C(["report"], ["RUN_DIR"]),
    "plugins-option": C(["plugins", "--jason"], ["'--jason'", "--json"]),
    "batch-zero": C([*RUN, "--batch-size", "0"], ["--batch-size", "'0'", "'auto'"]),
    "batch-negative": C([*RUN, "--batch-size", "-3"], ["--batch-size", "'-3'", "'auto'"]),
    "batch-word": C([*RUN, "--batch-size", "many"], ["--batch-size", "'many'", "'auto'"]),
    "batch-float": C([*RUN, "--batch-size", "1.5"], ["--batch-size", "'1.5'", "'auto'"]),
    "store-subcommand": C(["store", "chek"], ["'chek'", "did you mean 'check'", "valid: check, repair"]),
    "store-check-dir": C(["store", "check", "--store", "{ws}"], ["--store", "{ws}", "directory"]),
    "store-check-missing": C(["store", "check", "--store", "{ws}/none.sqlite"], ["none.sqlite", "does not exist"]),
    "store-repair-option": C(["store", "repair", "--bogus"], ["'--bogus'"]),
    # ------------------------------------------------------------- run: names and values
    "model": C([*RUN, "--models", "fake-bse"], ["'fake-bse'", "did you mean 'fake-base'", "valid:"]),
    "model-empty": C([*RUN, "--models", ""], ["--models", "''", "valid: fake-base, fake-dpo"]),
    "model-second": C([*RUN, "--models", "fake-base,nope"], ["'nope'", "valid: fake-base, fake-dpo"]),
    "source": C([*RUN, "--sources", "fake-prompt"], ["'fake-prompt'", "did you mean 'fake-prompts'"]),
    "source-empty": C([*RUN, "--sources", " "], ["--sources", "valid: fake-prompts"]),
    "scorer": C([*RUN, "--scorers", "fake-rewrd"], ["'fake-rewrd'", "did you mean 'fake-reward'"]),
    "scorer-empty": C([*RUN, "--scorers", ","], ["--scorers", "valid: fake-reward"]),
    "stat": C([*RUN, "--stats", "mean-scor"], ["'mean-scor'", "did you mean 'mean-score'"]),
    "stat-empty": C([*RUN, "--stats", ""], ["--stats", "valid: mean-score"]),
    "language": C([*RUN, "--langs", "sw,xx"], ["'xx'", "valid:"]),
    "tier": C([*RUN, "--langs", "lo"], ["'lo'", "did you mean 'low'"]),
    "langs-empty": C([*RUN, "--langs", ""], ["--langs", "''", "high, low, mid"]),
    "langs-uncovered": C([*RUN, "--langs", "qu"], ["qu", "covered", "fake-prompts"]),
    "suite-name": C(["run", "--suite", "dmeo"], ["'dmeo'", "did you mean 'demo'", "valid:"]),
    "suite-file": C(["run", "--suite", "no/such/suite.toml"], ["no/such/suite.toml", "does not exist"]),
    "suite-folder": C(["run", "--suite", "{ws}"], ["{ws}", "is a folder", ".toml"]),
    "set-no-equals": C([*RUN, "--set", "seed"], ["--set", "'seed'", "KEY=VALUE"]),
    "set-empty-key": C([*RUN, "--set", "=3"], ["--set", "'=3'", "KEY=VALUE"]),
    "set-unknown-component": C([*RUN, "--set", "fake-bse.salt2=1"], ["'fake-bse.salt2'", "did you mean"]),
    "set-gen-type": C([*RUN, "--set", "generation.max_new_tokens=many"], ["max_new_tokens", "'many'"]),
    "set-gen-zero": C([*RUN, "--set", "generation.max_new_tokens=0"], ["max_new_tokens", ">= 1", "0"]),
    "set-gen-key": C([*RUN, "--set", "generation.max_new_token=3"], ["'max_new_token'", "did you mean"]),
    "set-top-typo": C([*RUN, "--set", "sede=1"], ["'sede'", "did you mean 'seed'"]),
    "set-seed-type": C([*RUN, "--set", "seed=x"], ["'seed'", "'x'", "int"]),
    "set-langs-type": C([*RUN, "--set", "langs=3"], ["'langs'", "3", "list"]),
    "set-option-word": C([*RUN, "--set", "fake-prompts.n=abc"], ["fake-prompts.n", "'abc'", "an integer"]),
    "set-option-float": C([*RUN, "--set", "fake-prompts.n=1.5"], ["fake-prompts.n", "1.5", "an integer"]),
    "set-option-bool": C([*RUN, "--set", "fake-prompts.n=true"], ["fake-prompts.n", "True", "an integer"]),
    "out-under-file": C([*RUN[:-1], "{file}/sub"], ["{file}", "a file is in the way"]),
    "store-under-file": C([*RUN, "--store", "{file}/x.sqlite"], ["{file}", "a file is in the way"]),
    "store-garbage": C([*RUN, "--store", "{garbage}"], ["{garbage}", "damaged", "harness store repair"]),
    "store-truncated": C([*RUN, "--store", "{truncated}"], ["{truncated}", "damaged", "harness store repair"]),
    "store-garbage-dry": C([*RUN, "--store", "{garbage}", "--dry-run"], ["{garbage}", "damaged"]),
    "store-check-garbage": C(["store", "check", "--store", "{garbage}"], ["{garbage}", "damaged", "repair"]),
    "executor": C([*RUN, "--executor", "lcoal"], ["'lcoal'", "did you mean 'local'"]),
    # ------------------------------------------------------------- suite files
    **{f"suite-{name}": C(["run", "--suite", f"{{ws}}/{name}.toml"], needles) for name, (_, needles) in SUITES.items()},
    "suite-not-utf8": C(["run", "--suite", "{ws}/latin1.toml"], ["latin1.toml", "not UTF-8"]),
    # ------------------------------------------------------------- harness stats
    **{
        f"table-{name}": C(["stats", f"{{ws}}/{name}/{fname}"], [f"{name}/{fname}"])
        for name, (_, fname) in TABLES.items()
    },
    "table-missing": C(["stats", "{ws}/nope.csv"], ["nope.csv", "does not exist"]),
    "table-not-utf8": C(["stats", "{ws}/latin1.csv"], ["latin1.csv", "not UTF-8"]),
    "stats-name": C(["stats", "{table}", "--stats", "mean-scor"], ["'mean-scor'", "did you mean 'mean-score'"]),
    "stats-empty": C(["stats", "{table}", "--stats", ""], ["--stats", "valid: mean-score"]),
    "stats-option-word": C(
        ["stats", "{table}", "--set", "rates.harmless_threshold=abc"], ["rates.harmless_threshold", "'abc'"], STATS
    ),
    "stats-option-typo": C(
        ["stats", "{table}", "--set", "rates.harmless_treshold=1"],
        ["harmless_treshold", "did you mean 'harmless_threshold'", "valid:"],
        STATS,
    ),
    "stats-option-stat": C(
        ["stats", "{table}", "--set", "rats.harmless_threshold=1"], ["'rats'", "did you mean 'rates'"], STATS
    ),
    "stats-option-int": C(
        ["stats", "{table}", "--set", "paired.bootstrap_reps=1.5"], ["paired.bootstrap_reps", "1.5", "integer"], STATS
    ),
    "stats-option-inf": C(
        ["stats", "{table}", "--set", "rates.harmless_threshold=inf"],
        ["rates.harmless_threshold", "inf", "finite"],
        STATS,
    ),
    "stats-option-list": C(
        ["stats", "{table}", "--set", "rates.tier_order=low"], ["tier_order", "'low'", "list"], STATS
    ),
    "stats-option-no-equals": C(["stats", "{table}", "--set", "rates"], ["--set", "'stats.rates'", "KEY=VALUE"], STATS),
    "stats-option-table": C(["stats", "{table}", "--set", "rates=1"], ["rates", "STAT.KEY=VALUE"], STATS),
    # ------------------------------------------------------------- report, export, langs
    "report-missing": C(["report", "no/such/run"], ["no/such/run", "does not exist"]),
    "report-empty-dir": C(["report", "{ws}/emptyrun"], ["emptyrun", "not a finished run directory"]),
    "report-bad-manifest": C(["report", "{badmanifest}"], ["manifest.json", "damaged", "harness run"]),
    "export-missing": C(["export", "no/such/run", "--format", "csv"], ["no/such/run", "does not exist"]),
    "export-mismatch": C(["export", "{run}", "--format", "parquet", "-o", "{ws}/x.csv"], ["x.csv", ".csv", "parquet"]),
    "export-suffix": C(["export", "{run}", "-o", "{ws}/x.xlsx"], ["x.xlsx", ".csv, .jsonl or .parquet"]),
    "export-under-file": C(["export", "{run}", "-o", "{file}/x.csv"], ["{file}", "a file is in the way"]),
    "export-onto-folder": C(["export", "{run}", "-o", "{ws}/folder.csv"], ["folder.csv", "a folder is in the way"]),
    "langs-tier": C(["langs", "--tier", "lo"], ["'lo'", "did you mean 'low'", "valid:"]),
    "langs-scheme": C(["langs", "--scheme", "jochi"], ["'jochi'", "did you mean 'joshi'", "valid:"]),
    # ------------------------------------------------------------- built-in plugins' commands and options
    "train-variant": C(["train", "tiny-opt-sfd"], ["'tiny-opt-sfd'", "did you mean 'tiny-opt-sft'", "valid:"], OPT),
    "train-nothing": C(["train"], ["VARIANTS"], OPT),
    "train-device": C(["train", "tiny-opt", "--device", "tpu"], ["'tpu'", "'auto', 'cpu', 'cuda'"], OPT),
    "prompts-source": C(
        ["prompts", "--source", "demo-prompt"], ["'demo-prompt'", "did you mean 'demo-prompts'"], SOURCES
    ),
    "prompts-kind": C(
        ["prompts", "--source", "demo-prompts", "--kind", "harmfull"], ["'harmfull'", "'harmful', 'helpful'"], SOURCES
    ),
    "prompt-format": C(
        ["run", "--suite", "demo", "--models", "tiny-opt", "--set", "generation.prompt_format=hhh", "--no-progress"],
        ["'hhh'", "did you mean 'hh'", "valid: hh, raw"],
        BUILTINS,
    ),
    "suite-stat-option": C(
        ["run", "--suite", "demo", "--set", "rates.harmless_threshold=abc", "--no-progress"],
        ["rates.harmless_threshold", "'abc'", "a number"],
        BUILTINS,
    ),
    "suite-stat-typo": C(
        ["run", "--suite", "demo", "--set", "tradeoff.baselin=x", "--no-progress"],
        ["tradeoff.baselin", "did you mean 'baseline'"],
        BUILTINS,
    ),
    # ------------------------------------------------------------- statistic options beyond their types
    "stats-random-unbalanced": C(
        ["stats", "{table}", "--set", "tradeoff.random=(1|item"], ["tradeoff.random", "unbalanced '('"], STATS
    ),
    "stats-random-column": C(
        ["stats", "{table}", "--set", "tradeoff.random=(1|lang)"], ["tradeoff.random", "lang", "columns:"], STATS
    ),
    "stats-alpha": C(
        ["stats", "{table}", "--set", "paired.alpha=1.5"], ["paired.alpha", "1.5", "between 0 and 1"], STATS
    ),
    "stats-correction": C(
        ["stats", "{table}", "--set", "paired.correction=bonferoni"],
        ["paired.correction", "'bonferoni'", "holm"],
        STATS,
    ),
    "stats-reps-zero": C(["stats", "{table}", "--set", "paired.bootstrap_reps=0"], ["bootstrap_reps", ">= 1"], STATS),
    "stats-reps-negative": C(
        ["stats", "{table}", "--set", "verdict.bootstrap_reps=-5"], ["verdict.bootstrap_reps", "-5", ">= 0"], STATS
    ),
    "stats-seed-negative": C(["stats", "{table}", "--set", "verdict.seed=-1"], ["verdict.seed", "-1", ">= 0"], STATS),
    "stats-lmm-typo": C(
        ["stats", "{table}", "--set", "verdict.lmm.randm=x"], ["verdict.lmm.randm", "did you mean 'random'"], STATS
    ),
    "stats-lmm-formula": C(
        ["stats", "{table}", "--set", "verdict.lmm.random=(1|x"], ["verdict.lmm.random", "unbalanced"], STATS
    ),
    "suite-stat-random": C(
        ["run", "--suite", "demo", "--set", "tradeoff.random=(1|item", "--no-progress"],
        ["tradeoff.random", "unbalanced '('"],
        BUILTINS,
    ),
    # ------------------------------------------------------------- simulate and power: every number has its range
    "simulate-nothing": C(
        ["simulate", "--n-null", "0", "--n-effect", "0"], ["--n-null", "--n-effect", "nothing"], STATS
    ),
    "simulate-n-negative": C(["simulate", "--n-null", "-1"], ["--n-null", "-1", "x>=0"], STATS),
    "simulate-sd-negative": C(["simulate", "--sd", "residual=-1"], ["residual=-1", ">= 0"], STATS),
    "simulate-sd-word": C(["simulate", "--sd", "residual=big"], ["residual=big", "a number"], STATS),
    "simulate-sd-name": C(["simulate", "--sd", "resid=1"], ["'resid'", "did you mean 'residual'"], STATS),
    "simulate-langs-negative": C(["simulate", "--low", "-2"], ["--low", "-2", "x>=1"], STATS),
    "simulate-high-zero": C(["simulate", "--high", "0"], ["--high", "0", "x>=1"], STATS),
    "simulate-one-model": C(["simulate", "--models", "1"], ["--models", "1", "x>=2"], STATS),
    "simulate-items-zero": C(["simulate", "--items", "0"], ["--items", "0", "x>=1"], STATS),
    "simulate-effect-inf": C(["simulate", "--effect", "inf"], ["--effect", "inf", "finite"], STATS),
    "simulate-seed-negative": C(["simulate", "--seed", "-3"], ["--seed", "-3", "x>=0"], STATS),
    "simulate-random": C(["simulate", "--random", "(1|item"], ["--random", "unbalanced"], STATS),
    "power-n-zero": C(["power", "--n", "0"], ["--n", "0", "x>=1"], STATS),
    "power-seed-negative": C(["power", "--seed", "-1"], ["--seed", "-1", "x>=0"], STATS),
    "power-random": C(["power", "--random", "(1|lang)"], ["--random", "lang"], STATS),
    # ------------------------------------------------------------- placement (executor) options and --dtype
    "set-num-gpus-negative": C([*RUN, "--set", "fake-base.num_gpus=-1"], ["fake-base.num_gpus", ">= 0", "-1"]),
    "set-num-cpus-word": C([*RUN, "--set", "fake-reward.num_cpus=many"], ["fake-reward.num_cpus", "'many'"]),
    "set-memory-word": C([*RUN, "--set", "fake-base.memory=lots"], ["fake-base.memory", "'lots'", "16GiB"]),
    "dtype": C([*RUN, "--dtype", "fp8"], ["'fp8'", "'auto', 'fp32', 'bf16', 'fp16'"]),
}
if no_nvidia_driver():
    CASES["device-cuda-missing"] = C([*RUN, "--device", "cuda"], ["--device cuda", "no NVIDIA GPU", "--device cpu"])


def _digest_tree(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.name.endswith(("-wal", "-shm"))
    }


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("catalogue")
    home, run = root / "home", root / "run"
    result = run_harness(["run", "--suite", "_fake", "--out", str(run), "--no-progress"], plugin_env(home))
    assert result.returncode == 0, result.stderr
    ws = root / "ws"
    ws.mkdir()
    (ws / "file").write_text("a file, not a folder\n")
    (ws / "garbage.sqlite").write_bytes(b"this is not a database\n" * 100)
    (ws / "truncated.sqlite").write_bytes((home / "store.sqlite").read_bytes()[:50000])
    (ws / "emptyrun").mkdir()
    (ws / "folder.csv").mkdir()
    bad = ws / "badmanifest"
    shutil.copytree(run, bad)
    (bad / "manifest.json").write_text('{"config": {"name": ', encoding="utf-8")
    for name, (text, _) in SUITES.items():
        (ws / f"{name}.toml").write_text(text, encoding="utf-8")
    (ws / "latin1.toml").write_bytes(GOOD_SUITE.replace('"mine"', '"m\xe9"').encode("latin-1"))
    csv_text = (run / "table.csv").read_text(encoding="utf-8")
    jsonl_text = (run / "table.jsonl").read_text(encoding="utf-8")
    for name, (make, fname) in TABLES.items():
        (ws / name).mkdir()
        (ws / name / fname).write_text(make(csv_text, jsonl_text), encoding="utf-8")
    (ws / "latin1.csv").write_bytes(csv_text.replace("[sw]", "[s\xe9]").encode("latin-1"))
    return {
        "root": str(root),
        "home": str(home),
        "ws": str(ws),
        "run": str(run),
        "file": str(ws / "file"),
        "garbage": str(ws / "garbage.sqlite"),
        "truncated": str(ws / "truncated.sqlite"),
        "badmanifest": str(bad),
        "table": str(run / "table.csv"),
    }


@pytest.fixture(scope="module")
def before(workspace) -> dict[str, dict[str, str]]:
    return {"home": _digest_tree(Path(workspace["home"])), "run": _digest_tree(Path(workspace["run"]))}


_HOSTS: dict[tuple[str, ...], object] = {}


def _cli(modules: list[str]):
    from harness.cli import build_cli
    from harness.plugins import PluginHost

    key = tuple(modules)
    if key not in _HOSTS:
        _HOSTS[key] = PluginHost(entry_points=False, modules=modules, disabled=[], strict=False)
    return build_cli(_HOSTS[key])


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input(case, workspace, before, monkeypatch):
    from click.testing import CliRunner

    args, needles, modules = CASES[case]
    if case.startswith("simulate-sd-") and importlib.util.find_spec("numpy") is None:
        pytest.skip("--sd names are checked where the stats extra is installed; here the command says it needs it")
    args = [a.format(**workspace) for a in args]
    needles = [n.format(**workspace) for n in needles]
    monkeypatch.setenv("HARNESS_HOME", workspace["home"])
    monkeypatch.chdir(workspace["ws"])
    for name in ("HARNESS_DISABLE_PLUGINS", "HARNESS_STRICT_PLUGINS", "HARNESS_PLUGINS", "HARNESS_EXECUTOR"):
        monkeypatch.delenv(name, raising=False)
    result = CliRunner().invoke(_cli(modules), args, catch_exceptions=False)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.exit_code == 2, f"{case}: exit {result.exit_code}\n{result.stderr}"
    assert "Traceback" not in result.stderr + result.stdout
    assert len(lines) == 1, f"{case}: expected one line on stderr, got:\n{result.stderr}"
    assert lines[0].startswith("Error: "), lines[0]
    assert result.stdout == "", result.stdout
    for needle in needles:
        assert needle in lines[0], f"{case}: {needle!r} not in {lines[0]!r}"


def test_catalogue_is_large_and_changed_nothing(workspace, before):
    """Runs after the cases (file order): the store and the run directory are as they were."""
    assert len(CASES) >= 100, len(CASES)
    assert _digest_tree(Path(workspace["home"])) == before["home"]
    assert _digest_tree(Path(workspace["run"])) == before["run"]
    assert not os.path.exists(os.path.join(workspace["ws"], "out"))


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_a_table_with_a_byte_order_mark_reads_as_without(workspace, tmp_path, fmt):
    # a spreadsheet's "CSV UTF-8" starts with U+FEFF; it was refused as lacking column `model`
    from harness.table import read_table

    plain = Path(workspace["run"]) / f"table.{fmt}"
    bom = tmp_path / f"bom.{fmt}"
    bom.write_bytes(b"\xef\xbb\xbf" + plain.read_bytes())
    assert read_table(bom) == read_table(plain)
