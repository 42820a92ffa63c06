"""Plugin discovery as a user sees it: `harness plugins`, the listing commands, and broken plugins."""

from __future__ import annotations

import json

import pytest
from corehelp import assert_one_line_error, plugin_env, run_harness

from harness.plugins import PluginError, PluginHost

PLUGIN_KEYS = {"name", "distribution", "version", "hooks", "registered", "error"}


def test_plugins_json_lists_each_plugin_with_its_registrations(invoke):
    result = invoke(["plugins", "--json"])
    assert result.exit_code == 0, result.output
    items = json.loads(result.stdout)
    assert [i["name"] for i in items] == ["fakeplug"]
    info = items[0]
    assert PLUGIN_KEYS <= set(info)
    assert info["error"] is None
    assert "harness_register_models" in info["hooks"]
    assert info["registered"]["models"] == ["fake-base", "fake-dpo"]
    assert info["registered"]["sources"] == ["fake-prompts"]
    assert info["registered"]["scorers"] == ["fake-reward"]
    assert info["registered"]["stats"] == ["mean-score"]
    assert set(info["registered"]["languages"]) == {"de", "en", "qu", "sw", "th", "yo"}


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (["models"], ["fake-base", "fake-dpo"]),
        (["sources"], ["fake-prompts"]),
        (["scorers"], ["fake-reward"]),
        (["stats"], ["mean-score"]),
    ],
)
def test_listing_commands_print_only_json(invoke, command, expected):
    result = invoke([*command, "--json"])
    assert result.exit_code == 0, result.output
    items = json.loads(result.stdout)  # the whole stdout is one JSON document
    assert [i["name"] for i in items] == expected
    assert all(i["plugin"] == "fakeplug" for i in items)


def test_models_json_has_family_and_recipe(invoke):
    items = json.loads(invoke(["models", "--json"]).stdout)
    assert {(i["name"], i["family"], i["recipe"]) for i in items} == {
        ("fake-base", "fake", "base"),
        ("fake-dpo", "fake", "dpo"),
    }


def test_langs_json_filters_by_tier(invoke):
    result = invoke(["langs", "--tier", "low", "--json"])
    assert result.exit_code == 0, result.output
    items = json.loads(result.stdout)
    assert [(i["code"], i["tier"]) for i in items] == [("sw", "low"), ("yo", "low")]
    assert all({"code", "name", "tier", "plugin"} <= set(i) for i in items)
    everything = json.loads(invoke(["langs", "--json"]).stdout)
    assert {i["code"] for i in everything} == {"de", "en", "qu", "sw", "th", "yo"}
    mixed = json.loads(invoke(["langs", "--tier", "low,high", "--json"]).stdout)
    assert [i["code"] for i in mixed] == ["de", "en", "sw", "yo"]


def test_human_listing_is_a_table(invoke):
    result = invoke(["models"])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split()[:2] == ["NAME", "PLUGIN"]
    assert any(line.startswith("fake-dpo") for line in lines)


# ------------------------------------------------------------------ broken plugins


def _by_name(stdout: str) -> dict[str, dict]:
    return {i["name"]: i for i in json.loads(stdout)}


def test_broken_plugins_are_reported_and_skipped(invoke):
    modules = ["fakeplug", "brokenplug", "importfailplug", "dupplug"]
    result = invoke(["plugins", "--json"], modules=modules)
    assert result.exit_code == 0, result.output
    infos = _by_name(result.stdout)
    assert set(infos) == set(modules)
    assert infos["fakeplug"]["error"] is None
    # malformed object and a raising hook, both on the one plugin
    broken = infos["brokenplug"]["error"]
    assert "malformed model" in broken and "NotAModel" in broken
    assert "scorer registry exploded" in broken
    # import failure
    assert "failed to import importfailplug" in infos["importfailplug"]["error"]
    assert "harness_no_such_dependency" in infos["importfailplug"]["error"]
    # duplicate name: reported on the second plugin, its other model still registered
    dup = infos["dupplug"]
    assert "'fake-base' is already registered by plugin 'fakeplug'" in dup["error"]
    assert dup["registered"]["models"] == ["dup-own"]
    # a warning per broken plugin on stderr, none on stdout (it is pure JSON)
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning: plugin")]
    assert {w.split("'")[1] for w in warnings} == {"brokenplug", "importfailplug", "dupplug"}


def test_rest_of_cli_works_with_broken_plugins(invoke):
    modules = ["fakeplug", "brokenplug", "importfailplug", "dupplug"]
    models = json.loads(invoke(["models", "--json"], modules=modules).stdout)
    by_name = {m["name"]: m for m in models}
    assert set(by_name) == {"fake-base", "fake-dpo", "dup-own"}
    assert by_name["fake-base"]["plugin"] == "fakeplug"  # the first registration wins, not the impostor
    assert by_name["fake-base"]["recipe"] == "base"
    result = invoke(["run", "--suite", "_fake", "--dry-run", "--no-progress"], modules=modules)
    assert result.exit_code == 0, result.output
    assert "to do" in result.stdout


def test_strict_mode_in_process_raises():
    with pytest.raises(PluginError, match="brokenplug"):
        PluginHost(entry_points=False, modules=["fakeplug", "brokenplug"], strict=True)
    with pytest.raises(PluginError, match="fake-base"):
        PluginHost(entry_points=False, modules=["fakeplug", "dupplug"], strict=True)


@pytest.mark.parametrize("plugin", ["brokenplug", "importfailplug", "dupplug"])
def test_strict_plugins_flag_is_fatal(home, plugin):
    env = plugin_env(home, f"fakeplug,{plugin}")
    ok = run_harness(["models", "--json"], env)
    assert ok.returncode == 0, ok.stderr
    assert f"warning: plugin '{plugin}'" in ok.stderr
    strict = run_harness(["--strict-plugins", "models", "--json"], env)
    assert strict.returncode == 2
    assert strict.stdout == ""
    assert_one_line_error(strict.stderr, plugin)


def test_strict_plugins_env_is_fatal(home):
    env = plugin_env(home, "fakeplug,brokenplug", HARNESS_STRICT_PLUGINS="1")
    result = run_harness(["plugins", "--json"], env)
    assert result.returncode == 2
    assert_one_line_error(result.stderr, "brokenplug")


def test_disable_plugins_blocks_a_plugin(home):
    env = plugin_env(home, "fakeplug,brokenplug,importfailplug", HARNESS_DISABLE_PLUGINS="brokenplug,importfailplug")
    result = run_harness(["plugins", "--json"], env)
    assert result.returncode == 0, result.stderr
    assert [i["name"] for i in json.loads(result.stdout)] == ["fakeplug"]
    assert result.stderr == ""
    strict = run_harness(["--strict-plugins", "plugins", "--json"], env)
    assert strict.returncode == 0, strict.stderr


def test_plugins_subprocess_stdout_is_pure_json(env):
    result = run_harness(["plugins", "--json"], plugin_env(env["HARNESS_HOME"], "fakeplug,brokenplug"))
    assert result.returncode == 0
    assert {i["name"] for i in json.loads(result.stdout)} == {"fakeplug", "brokenplug"}
    assert "warning: plugin 'brokenplug'" in result.stderr
