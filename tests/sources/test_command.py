"""`harness prompts` through the real CLI, with only this plugin loaded."""

from __future__ import annotations

import json

import harness_sources.plugin as plugin
import pytest
from click.testing import CliRunner

from harness.cli import build_cli
from harness.plugins import PluginHost


@pytest.fixture(scope="module")
def cli():
    return build_cli(PluginHost(entry_points=False, plugins=[("sources", plugin)], strict=True))


@pytest.fixture
def run(cli, sample_data, monkeypatch):
    monkeypatch.setenv("HARNESS_DATA_DIR", str(sample_data))

    def invoke(*args):
        return CliRunner().invoke(cli, list(args), catch_exceptions=False)

    return invoke


def test_json_lists_the_selected_prompts(run):
    res = run("prompts", "--source", "demo-prompts", "--suite", "demo", "--lang", "sw,de", "--kind", "harmful",
              "--json")
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)
    assert len(rows) == 20
    assert {tuple(sorted(r)) for r in rows} == {("kind", "language", "prompt_id", "source", "text")}
    assert {r["language"] for r in rows} == {"sw", "de"} and {r["kind"] for r in rows} == {"harmful"}
    assert {r["source"] for r in rows} == {"demo-prompts"}


def test_tier_names_expand_to_covered_languages(run):
    res = run("prompts", "--source", "demo-prompts", "--suite", "demo", "--lang", "low", "--json")
    assert res.exit_code == 0, res.output
    assert {r["language"] for r in json.loads(res.stdout)} == {"sw", "ht", "mr"}


def test_set_overrides_reach_the_source(run):
    res = run("prompts", "--source", "multijail", "--suite", "demo", "--lang", "jv", "--set",
              "sources.multijail.n=3", "--json")
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)
    assert len(rows) == 3 and all(r["prompt_id"].startswith("multijail-") for r in rows)


def test_text_output_and_paper_selection(run):
    res = run("prompts", "--source", "hh-rlhf", "--suite", "paper", "--kind", "helpful", "--set",
              "hh-rlhf.prompts_file=opt350m-paper/prompts/helpful_prompts.json")
    assert res.exit_code == 0, res.output
    assert res.stdout.count("--- hh-rlhf en helpful") == 50
    assert "Human: Is climate change raising temperatures" in res.stdout


@pytest.mark.usefixtures("shared_data")  # the two items are of the study's full draw
def test_diff_shows_where_paper_and_turns_differ(run):
    res = run("prompts", "--source", "hh-rlhf", "--suite", "paper", "--kind", "harmful", "--diff", "--json",
              "--set", "hh-rlhf.prompts_file=opt350m-paper/prompts/helpful_prompts.json")
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)
    assert sorted(r["prompt_id"] for r in rows) == ["harmless-test-1272", "harmless-test-720"]
    assert all(r["paper"].startswith(r["turns"]) for r in rows)
    text = run("prompts", "--source", "hh-rlhf", "--suite", "paper", "--kind", "harmful", "--diff",
               "--set", "hh-rlhf.prompts_file=opt350m-paper/prompts/helpful_prompts.json")
    assert "+++ selection=turns" in text.stdout and "-Assistant:" in text.stdout


def test_user_errors_are_one_line_exit_2(run):
    res = run("prompts", "--source", "nope", "--suite", "demo")
    assert res.exit_code == 2 and "unknown source" in res.stderr
    res = run("prompts", "--source", "xquad", "--suite", "demo", "--lang", "sw")
    assert res.exit_code == 2 and "no 'sw' prompts" in res.stderr
    res = run("prompts", "--source", "xquad", "--suite", "demo", "--diff")
    assert res.exit_code == 2 and "--diff" in res.stderr


def test_one_kind_needs_only_that_kinds_data(run):
    """Offline, helpful-base is missing; asking for harmful prompts outside the paper suite must not need it."""
    res = run("prompts", "--source", "hh-rlhf", "--lang", "en", "--kind", "harmful", "--json")
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)
    assert len(rows) == 50 and {r["kind"] for r in rows} == {"harmful"}
    # the harmful draw comes first in the seeded stream, so it is the one a two-kind run makes
    paper = run("prompts", "--source", "hh-rlhf", "--suite", "paper", "--kind", "harmful", "--json")
    alone = run("prompts", "--source", "hh-rlhf", "--suite", "paper", "--kind", "harmful", "--json",
                "--set", "hh-rlhf.prompts_file=")
    assert paper.exit_code == 0 and alone.exit_code == 0, alone.output
    assert json.loads(paper.stdout) == json.loads(alone.stdout)
