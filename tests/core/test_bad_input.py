"""Bad input: one line on stderr naming the problem (with "did you mean"), exit code 2, nothing stored lost."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from corehelp import GOOD_SUITE, assert_one_line_error, plugin_env, run_harness, store_rows

SUITES = {
    "bad-toml": ("name = 'x'\nseed = \n", ["malformed suite file", "bad-toml.toml"]),
    "wrong-type": (GOOD_SUITE.replace("seed = 0", 'seed = "zero"'), ["'seed' must be a int", "zero"]),
    "unknown-key": (GOOD_SUITE.replace("seed = 0", "sed = 0"), ["unknown key", "'sed'", "did you mean 'seed'"]),
    "unknown-gen-key": (
        GOOD_SUITE.replace("max_new_tokens = 8", "max_new_token = 8"),
        ["'max_new_token'", "did you mean 'max_new_tokens'"],
    ),
    "options-not-table": (
        GOOD_SUITE.replace("[models.fake-base]", '[models]\nfake-base = "x"'),
        ["[models.fake-base]", "table"],
    ),
    "unknown-scheme": (GOOD_SUITE.replace('"joshi"', '"jochi"'), ["tier scheme 'jochi'", "did you mean 'joshi'"]),
    "unknown-model-in-suite": (GOOD_SUITE.replace("fake-base", "fake-bse"), ["'fake-bse'", "did you mean"]),
}

RUN_CASES = {
    "model": (["--models", "fake-bse"], ["unknown model 'fake-bse'", "did you mean 'fake-base'"]),
    "source": (["--sources", "fake-prompt"], ["unknown source 'fake-prompt'", "did you mean 'fake-prompts'"]),
    "scorer": (["--scorers", "fake-rewrd"], ["unknown scorer 'fake-rewrd'", "did you mean 'fake-reward'"]),
    "statistic": (["--stats", "mean-scor"], ["unknown statistic 'mean-scor'", "did you mean 'mean-score'"]),
    "language": (["--langs", "sw,xx"], ["'xx'", "valid:"]),
    "tier": (["--langs", "lo"], ["'lo'", "did you mean 'low'"]),
    "uncovered-only": (["--langs", "qu"], ["qu", "covered"]),
    "suite": (["--suite", "dmeo"], ["unknown suite 'dmeo'", "did you mean 'demo'"]),
    "suite-file-missing": (["--suite", "no/such/suite.toml"], ["no/such/suite.toml", "does not exist"]),
    "set-no-equals": (["--set", "seed"], ["--set expects KEY=VALUE", "'seed'"]),
    "set-unknown-key": (["--set", "fake-bse.salt2=1"], ["'fake-bse.salt2'", "did you mean"]),
    "set-wrong-type": (["--set", "generation.max_new_tokens=many"], ["max_new_tokens", "many"]),
    "set-bad-value": (["--set", "generation.max_new_tokens=0"], ["max_new_tokens must be >= 1"]),
    "set-unknown-top": (["--set", "sede=1"], ["'sede'", "did you mean 'seed'"]),
    "batch-size-zero": (["--batch-size", "0"], ["--batch-size", "'0'"]),
    "batch-size-word": (["--batch-size", "many"], ["--batch-size", "'many'"]),
}


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    """One real run (a subprocess, so the store is closed and checkpointed) that each test copies."""
    root = tmp_path_factory.mktemp("finished")
    out = root / "run"
    result = run_harness(["run", "--suite", "_fake", "--out", str(out), "--no-progress"], plugin_env(root / "home"))
    assert result.returncode == 0, result.stderr
    return root


@pytest.fixture
def populated(finished_run, home, tmp_path):
    """A store and run directory holding a finished run; every bad command must leave them as they are."""
    for f in (finished_run / "home").iterdir():
        shutil.copy2(f, home / f.name)
    out = tmp_path / "run"
    shutil.copytree(finished_run / "run", out)
    store = home / "store.sqlite"
    before = store_rows(store)
    assert len(before["scores"]) == 80
    table = (out / "table.jsonl").read_bytes()

    def unchanged() -> None:
        assert store_rows(store) == before
        assert (out / "table.jsonl").read_bytes() == table

    return out, unchanged


def _check(result, needles):
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert_one_line_error(result.stderr, *needles)
    assert result.stderr.startswith("Error: ")


@pytest.mark.parametrize("case", sorted(RUN_CASES))
def test_bad_run_arguments(invoke, populated, case):
    out, unchanged = populated
    args, needles = RUN_CASES[case]
    extra = [] if "--suite" in args else ["--suite", "_fake"]
    result = invoke(["run", *extra, *args, "--out", str(out), "--no-progress"])
    _check(result, needles)
    unchanged()


@pytest.mark.parametrize("case", sorted(SUITES))
def test_malformed_suite_files(invoke, populated, tmp_path, case):
    out, unchanged = populated
    text, needles = SUITES[case]
    path = tmp_path / f"{case}.toml"
    path.write_text(text, encoding="utf-8")
    result = invoke(["run", "--suite", str(path), "--out", str(out), "--no-progress"])
    _check(result, needles)
    unchanged()


def test_suite_file_not_utf8(invoke, populated, tmp_path):
    out, unchanged = populated
    path = tmp_path / "latin1.toml"
    path.write_bytes(GOOD_SUITE.replace('"mine"', '"m\xe9"').encode("latin-1"))
    _check(invoke(["run", "--suite", str(path), "--no-progress"]), ["not UTF-8", "latin1.toml"])
    unchanged()


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["langs", "--tier", "lo"], ["'lo'", "did you mean 'low'"]),
        (["langs", "--scheme", "jochi"], ["'jochi'", "did you mean 'joshi'"]),
        (["report", "no/such/run"], ["no/such/run", "does not exist"]),
        (["export", "no/such/run", "--format", "csv"], ["no/such/run", "does not exist"]),
    ],
)
def test_bad_arguments_other_commands(invoke, populated, args, needles):
    _, unchanged = populated
    _check(invoke(args), needles)
    unchanged()


# ------------------------------------------------------------------ malformed tables for `harness stats`


def _good_csv(populated_out: Path) -> str:
    return (populated_out / "table.csv").read_text(encoding="utf-8")


TABLES = {
    "missing-column.csv": (lambda t: "\n".join(",".join(line.split(",")[:9]) for line in t.splitlines()), ["score"]),
    "bad-kind.csv": (lambda t: t.replace(",harmful,", ",harmless,", 1), ["row 1", "'harmless'", "harmful, helpful"]),
    "empty.csv": (lambda t: "", ["no rows"]),
    "header-only.jsonl": (lambda t: "\n", ["no rows"]),
    "bad-score.csv": (lambda t: t.replace(",fake-reward,", ",fake-reward,high,", 1), ["non-numeric score"]),
    "not-json.jsonl": (lambda t: '{"model": "a"\n', ["line 1 is not JSON"]),
    "table.xlsx": (lambda t: t, ["unknown table format", ".xlsx"]),
}


@pytest.mark.parametrize("name", sorted(TABLES))
def test_malformed_tables(invoke, populated, tmp_path, name):
    out, unchanged = populated
    make, needles = TABLES[name]
    path = tmp_path / name
    path.write_text(make(_good_csv(out)), encoding="utf-8")
    _check(invoke(["stats", str(path), "--json"]), [name, *needles])
    unchanged()


def test_table_not_utf8(invoke, populated, tmp_path):
    out, unchanged = populated
    path = tmp_path / "latin1.csv"
    path.write_bytes(_good_csv(out).replace("[sw]", "[s\xe9]").encode("latin-1"))
    _check(invoke(["stats", str(path), "--json"]), ["latin1.csv", "not UTF-8"])
    unchanged()


def test_missing_table_and_unknown_stat(invoke, populated, tmp_path):
    out, unchanged = populated
    _check(invoke(["stats", str(tmp_path / "nope.csv")]), ["nope.csv", "does not exist"])
    _check(
        invoke(["stats", str(out / "table.csv"), "--stats", "mean-scor"]),
        ["unknown statistic 'mean-scor'", "did you mean 'mean-score'"],
    )
    unchanged()


def test_bad_input_as_subprocess_has_no_traceback(env, tmp_path):
    """The console script itself (not only CliRunner) turns errors into one line and exit code 2."""
    for args, needle in [
        (["run", "--suite", "_fake", "--models", "fake-bse"], "did you mean 'fake-base'"),
        (["run", "--suite", "dmeo"], "did you mean 'demo'"),
        (["stats", str(tmp_path / "missing.csv")], "does not exist"),
    ]:
        result = run_harness(args, env)
        assert result.returncode == 2, result.stderr
        assert_one_line_error(result.stderr, needle)


def test_unavailable_model_fails_before_any_work(invoke, populated):
    """A model that has pending prompts but cannot load stops the run after the plan, before loading anything."""
    out, unchanged = populated
    args = ["--set", "fake-base.missing=true", "--set", "fake-base.salt2=new"]
    result = invoke(["run", "--suite", "_fake", *args, "--out", str(out), "--no-progress"])
    assert result.exit_code == 2
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last == "Error: fake-base: no checkpoint; run `harness train fake-base`"
    unchanged()
    # cached work needs no checkpoint: the same flag without a changed fingerprint just reads the store
    cached = invoke(["run", "--suite", "_fake", "--set", "fake-base.missing=true", "--out", str(out), "--no-progress"])
    assert cached.exit_code == 0, cached.output
    unchanged()
