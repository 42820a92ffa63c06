"""The executor seam: choosing an executor, a plugin executor's table, placement overrides."""

from __future__ import annotations

import json

import pytest
from corehelp import assert_one_line_error

RUN = ["run", "--suite", "_fake", "--no-progress"]
PLUGINS = ["fakeplug", "execplug"]


def _units(log) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()]


def test_plugin_executor_gives_the_local_table(invoke, tmp_path, monkeypatch):
    local = invoke([*RUN, "--batch-size", "2", "--out", str(tmp_path / "local")], PLUGINS)
    assert local.exit_code == 0, local.output
    monkeypatch.setenv("HARNESS_HOME", str(tmp_path / "other-home"))  # a fresh store: everything recomputed
    log = tmp_path / "units.jsonl"
    args = [*RUN, "--batch-size", "2", "--executor", "shuffled", "--shuffled-log", str(log)]
    shuffled = invoke([*args, "--out", str(tmp_path / "shuffled")], PLUGINS)
    assert shuffled.exit_code == 0, shuffled.output
    for name in ("table.jsonl", "table.csv", "stats.json"):
        assert (tmp_path / "shuffled" / name).read_bytes() == (tmp_path / "local" / name).read_bytes()
    units = _units(log)
    assert [(u["component"], u["kind"], u["items"], u["batches"]) for u in units] == [
        ("fake-base", "generate", 40, 20),
        ("fake-dpo", "generate", 40, 20),
        ("fake-reward", "score", 80, 40),
    ]
    assert units[0]["plugin"] == "fakeplug"
    manifest = json.loads((tmp_path / "shuffled" / "manifest.json").read_text())
    assert manifest["executor"] == {"name": "shuffled", "units": 3, "plugins": ["execplug", "fakeplug"]}
    assert manifest["options"]["executor"] == "shuffled"
    assert (
        "- executor: shuffled (units: 3, plugins: ['execplug', 'fakeplug'])"
        in (tmp_path / "shuffled" / "report.md").read_text()
    )


def test_executor_from_env_and_suite(invoke, tmp_path, monkeypatch):
    log = tmp_path / "units.jsonl"
    monkeypatch.setenv("EXECPLUG_LOG", str(log))
    suite = tmp_path / "suite.toml"
    from harness.paths import tasks_dir

    suite.write_text('executor = "shuffled"\n' + (tasks_dir() / "_fake.toml").read_text())
    by_suite = invoke(
        ["run", "--suite", str(suite), "--no-progress", "--limit", "1", "--out", str(tmp_path / "a")], PLUGINS
    )
    assert by_suite.exit_code == 0, by_suite.output
    assert len(_units(log)) == 3

    # --executor wins over the suite; HARNESS_EXECUTOR wins over the suite too
    monkeypatch.setenv("HARNESS_HOME", str(tmp_path / "h2"))
    forced = invoke(
        [
            "run",
            "--suite",
            str(suite),
            "--no-progress",
            "--limit",
            "1",
            "--executor",
            "local",
            "--out",
            str(tmp_path / "b"),
        ],
        PLUGINS,
    )
    assert forced.exit_code == 0, forced.output
    assert len(_units(log)) == 3
    assert json.loads((tmp_path / "b" / "manifest.json").read_text())["executor"] == {"name": "local"}

    monkeypatch.setenv("HARNESS_HOME", str(tmp_path / "h3"))
    monkeypatch.setenv("HARNESS_EXECUTOR", "shuffled")
    by_env = invoke([*RUN, "--limit", "1", "--out", str(tmp_path / "c")], PLUGINS)
    assert by_env.exit_code == 0, by_env.output
    assert len(_units(log)) == 6
    assert (tmp_path / "c" / "table.jsonl").read_bytes() == (tmp_path / "b" / "table.jsonl").read_bytes()


def test_resource_overrides_reach_the_executor_not_the_plugin(invoke, tmp_path, monkeypatch):
    log = tmp_path / "units.jsonl"
    plain = invoke([*RUN, "--limit", "1", "--out", str(tmp_path / "plain")], PLUGINS)
    assert plain.exit_code == 0, plain.output
    monkeypatch.setenv("HARNESS_HOME", str(tmp_path / "h2"))
    sets = ["--set", "fake-base.num_gpus=2", "--set", "fake-reward.memory=2GiB", "--set", "fake-reward.num_cpus=0.5"]
    placed = invoke(
        [
            *RUN,
            "--limit",
            "1",
            *sets,
            "--executor",
            "shuffled",
            "--shuffled-log",
            str(log),
            "--out",
            str(tmp_path / "placed"),
        ],
        PLUGINS,
    )
    assert placed.exit_code == 0, placed.output
    resources = {u["component"]: u["resources"] for u in _units(log)}
    assert resources == {
        "fake-base": {"num_cpus": 1.0, "num_gpus": 2.0, "memory": 0},
        "fake-dpo": {"num_cpus": 1.0, "num_gpus": 0.0, "memory": 0},
        "fake-reward": {"num_cpus": 0.5, "num_gpus": 0.0, "memory": 2 * 2**30},
    }
    # placement is not an option: same fingerprints, same table
    assert (tmp_path / "placed" / "table.jsonl").read_bytes() == (tmp_path / "plain" / "table.jsonl").read_bytes()


@pytest.mark.parametrize(
    "args, needles",
    [
        (
            ["--executor", "shufled"],
            ["unknown executor 'shufled'", "did you mean 'shuffled'", "valid: local, shuffled"],
        ),
        (["--shuffled-log", "x.jsonl"], ["--shuffled-log applies to --executor shuffled", "'local'"]),
        (["--set", "fake-base.num_gpus=lots"], ["fake-base.num_gpus must be a number >= 0"]),
        (["--set", "fake-base.memory=12parsecs"], ["fake-base.memory must be bytes or a size like 16GiB"]),
    ],
)
def test_bad_executor_input_is_one_line(invoke, tmp_path, args, needles):
    result = invoke([*RUN, "--limit", "1", *args, "--out", str(tmp_path / "run")], PLUGINS)
    assert result.exit_code == 2, result.output
    assert_one_line_error(result.stderr, *needles)
    assert not (tmp_path / "run" / "table.jsonl").exists()


def test_unknown_env_executor_names_the_variable(invoke, tmp_path, monkeypatch):
    monkeypatch.setenv("HARNESS_EXECUTOR", "ray")
    result = invoke([*RUN, "--limit", "1", "--out", str(tmp_path / "run")])
    assert result.exit_code == 2
    assert_one_line_error(result.stderr, "unknown executor 'ray'", "valid: local")


def test_a_plugin_declares_its_replica_and_the_default_follows_the_device():
    from fakeplug import FakeScorer
    from harness_scorers.lang_fidelity import LangFidelityScorer

    from harness import Context, Resources
    from harness.executors import resources_of

    assert resources_of(FakeScorer(), Context(device="cuda")) == Resources(num_cpus=1.0, num_gpus=1.0)
    assert resources_of(FakeScorer(), Context(device="cpu")) == Resources(num_cpus=1.0, num_gpus=0.0)
    # a CPU-only scorer says so, and --set still wins
    assert resources_of(LangFidelityScorer(), Context(device="cuda")).num_gpus == 0.0
    ctx = Context(device="cuda", resources={"num_gpus": 0.5})
    assert resources_of(LangFidelityScorer(), ctx).num_gpus == 0.5
