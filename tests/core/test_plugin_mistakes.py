"""A plugin author's mistakes, each named in one line that names the plugin, before any work.

Each mistake is a small plugin module written beside the test (on PYTHONPATH) next to the fake plugin,
run through the real `harness` command line: `harness plugins` shows the error with what the plugin did
register, `--strict-plugins` makes it fatal as one line, and an exception from plugin code in any command
(`prompts`, `run --dry-run`) is one line naming the plugin and the method.
"""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import pytest
from corehelp import assert_one_line_error, plugin_env, run_harness

HEAD = """
from harness import hookimpl, PromptSource, Prompt, Statistic
from fakeplug import FakeScorer, FakeSource
"""

MISTAKES = {
    "misspelt": """
        @hookimpl
        def harness_register_sources(register):
            register(type("Mine", (FakeSource,), {"name": "mine"})())

        @hookimpl
        def harness_register_scorer(register):
            register(FakeScorer())
    """,
    "wrongparam": """
        @hookimpl
        def harness_register_sources(register):
            register(type("Mine", (FakeSource,), {"name": "mine"})())

        @hookimpl
        def harness_register_scorers(reg):
            reg(FakeScorer())
    """,
    "noparam": """
        @hookimpl
        def harness_register_sources(register):
            register(type("Mine", (FakeSource,), {"name": "mine"})())

        @hookimpl
        def harness_register_scorers():
            pass
    """,
    "unmarked": """
        @hookimpl
        def harness_register_sources(register):
            register(type("Mine", (FakeSource,), {"name": "mine"})())

        def harness_register_scorers(register):
            register(FakeScorer())
    """,
    "badsig": """
        class OneArg(FakeSource):
            name = "one-arg"
            def fingerprint(self, ctx):
                return ""

        class Tuple(FakeSource):
            name = "tuple-langs"
            languages = ("en",)

        @hookimpl
        def harness_register_sources(register):
            register(type("Mine", (FakeSource,), {"name": "mine"})())
            register(OneArg())
            register(Tuple())
    """,
    "raising": """
        class Raising(FakeSource):
            name = "raising"
            def load(self, language, ctx):
                return self.table()[language]
            def table(self):
                return {"en": []}

        @hookimpl
        def harness_register_sources(register):
            register(Raising())
    """,
    "statfail": """
        class Broken(Statistic):
            name = "broken-stat"
            def compute(self, rows, options):
                return {}["no such key"]

        @hookimpl
        def harness_register_stats(register):
            register(Broken())
    """,
}

#: the one line each mistake gets in `harness plugins` (and, under --strict-plugins, as the error)
EXPECTED = {
    "misspelt": "hook implementation harness_register_scorer is not a hook (did you mean 'harness_register_scorers'?)",
    "wrongparam": "hook implementation harness_register_scorers(reg) has parameter(s) 'reg' that the hook does not "
    "pass; it takes harness_register_scorers(register)",
    "noparam": "hook implementation harness_register_scorers() lacks parameter(s) 'register'; it takes "
    "harness_register_scorers(register)",
    "unmarked": "function harness_register_scorers looks like a hook but has no @hookimpl, so it is never called",
    "badsig": "source 'one-arg' does not match the contract: OneArg.fingerprint(ctx) does not match "
    "PromptSource.fingerprint(language, ctx); not registered",
}


@pytest.fixture
def mistakes(tmp_path: Path) -> Path:
    folder = tmp_path / "mistakes"
    folder.mkdir()
    for name, body in MISTAKES.items():
        (folder / f"{name}.py").write_text(HEAD + textwrap.dedent(body), encoding="utf-8")
    return folder


def _env(home: Path, folder: Path, plugins: str, **extra: str) -> dict[str, str]:
    env = plugin_env(home, plugins, **extra)
    env["PYTHONPATH"] = os.pathsep.join([str(folder), env["PYTHONPATH"]])
    return env


@pytest.mark.parametrize("mistake", sorted(EXPECTED))
def test_mistake_is_named_with_what_the_plugin_did_register(home, mistakes, mistake):
    env = _env(home, mistakes, f"fakeplug,{mistake}")
    listing = run_harness(["plugins"], env)
    assert listing.returncode == 0, listing.stderr
    block = listing.stdout.split(f"{mistake}  (no distribution): ", 1)[1].split("\n\n")[0]
    assert block.startswith("2 error(s)" if mistake == "badsig" else "1 error(s)"), block
    assert "  sources: mine" in block  # what did work is shown with the error
    assert f"  error: {EXPECTED[mistake]}" in block
    as_json = {p["name"]: p for p in json.loads(run_harness(["plugins", "--json"], env).stdout)}
    assert as_json[mistake]["registered"] == {"sources": ["mine"]}

    strict = run_harness(["--strict-plugins", "run", "--suite", "_fake", "--dry-run"], env)
    assert strict.returncode == 2
    assert strict.stdout == ""  # before any work: no plan printed
    assert_one_line_error(strict.stderr, f"plugin {mistake!r}", EXPECTED[mistake].split(";")[0])


def test_a_tuple_where_a_method_belongs_is_named(home, mistakes):
    env = _env(home, mistakes, "fakeplug,badsig")
    listing = run_harness(["plugins"], env)
    assert "Tuple.languages is tuple ('en',), not a method PromptSource.languages(ctx)" in listing.stdout
    # asking for the refused source names why it is missing, not a "did you mean" pointing elsewhere
    run = run_harness(["run", "--suite", "_fake", "--sources", "tuple-langs", "--dry-run"], env)
    assert run.returncode == 2
    assert run.stderr.splitlines()[-1] == (
        "Error: source 'tuple-langs' is not registered: plugin 'badsig': source 'tuple-langs' does not match the "
        "contract: Tuple.languages is tuple ('en',), not a method PromptSource.languages(ctx); not registered"
    )


def test_exception_in_plugin_code_is_one_line_in_dry_run(home, mistakes):
    env = _env(home, mistakes, "fakeplug,raising")
    args = ["run", "--suite", "_fake", "--sources", "raising", "--langs", "de", "--dry-run"]
    result = run_harness(args, env)
    assert result.returncode == 2
    assert_one_line_error(
        result.stderr, "plugin 'raising': Raising.load raised KeyError: 'de' (at raising.py:", "HARNESS_DEBUG=1"
    )
    debug = run_harness(args, {**env, "HARNESS_DEBUG": "1"})
    assert debug.returncode == 1 and "Traceback" in debug.stderr and "KeyError: 'de'" in debug.stderr


def test_exception_in_plugin_code_is_one_line_in_prompts(home, mistakes):
    """`harness prompts` is a built-in plugin's command: the plugin named is the one whose code raised."""
    env = _env(home, mistakes, "harness_sources.plugin,raising")
    result = run_harness(["prompts", "--suite", "_fake", "--source", "raising", "--lang", "de"], env)
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if not line.startswith("warning:")]
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert lines[0].startswith("Error: plugin 'raising': Raising.load raised KeyError: 'de'"), lines[0]


def test_failed_statistic_banner_and_strict_exit(home, mistakes, tmp_path):
    env = _env(home, mistakes, "fakeplug,statfail")
    out = tmp_path / "run"
    args = ["run", "--suite", "_fake", "--stats", "mean-score,broken-stat", "--out", str(out), "--no-progress"]
    lenient = run_harness(args, env)
    assert lenient.returncode == 0, lenient.stderr
    assert "warning: broken-stat: failed: plugin 'statfail': Broken.compute raised KeyError" in lenient.stderr
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "> **Failed statistics**: `broken-stat` raised an error" in report.split("## Verdict")[0]
    assert "Mean score" in report  # the other statistic stands

    strict = run_harness(["--strict-plugins", *args], env)
    assert strict.returncode == 2
    assert strict.stderr.strip().splitlines()[-1].startswith(
        "Error: 1 statistic(s) failed under --strict-plugins (the report is written and its banner names them): "
        "broken-stat: plugin 'statfail': Broken.compute raised KeyError"
    )
    assert "Failed statistics" in (out / "report.html").read_text(encoding="utf-8")

    stats = run_harness(["--strict-plugins", "stats", str(out / "table.csv"), "--stats", "broken-stat", "--json"], env)
    assert stats.returncode == 2
    assert "broken-stat: plugin 'statfail': Broken.compute raised KeyError" in stats.stderr.splitlines()[-1]
    assert json.loads(stats.stdout) == {"broken-stat": None}  # the JSON is still printed, whole
