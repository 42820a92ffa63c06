"""Where suites come from: `harness suites`, HARNESS_TASKS_DIR, and the tasks/ a wheel ships inside the package."""

from __future__ import annotations

import json
from pathlib import Path

import harness.paths as paths
from harness.suite import load_suite


def test_suites_lists_the_built_in_suites_with_descriptions(invoke, monkeypatch):
    monkeypatch.delenv("HARNESS_TASKS_DIR", raising=False)
    result = invoke(["suites"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["NAME", "DESCRIPTION"]
    names = [line.split()[0] for line in lines[1:]]
    assert {"demo", "paper", "xtreme-r"} <= set(names) and not any(n.startswith("_") for n in names)
    demo = next(line for line in lines if line.startswith("demo "))
    assert "Offline demo" in demo


def test_own_suites_through_harness_tasks_dir_and_by_path(invoke, monkeypatch, tmp_path):
    (tmp_path / "mine.toml").write_text('description = "my own suite"\n[models.fake-base]\n', encoding="utf-8")
    (tmp_path / "broken.toml").write_text("description = \n", encoding="utf-8")
    monkeypatch.setenv("HARNESS_TASKS_DIR", str(tmp_path))
    items = json.loads(invoke(["suites", "--json"]).stdout)
    assert [i["name"] for i in items] == ["broken", "mine"]
    assert items[1]["description"] == "my own suite" and items[0]["description"].startswith("(malformed:")
    assert load_suite("mine").path == tmp_path / "mine.toml"
    monkeypatch.delenv("HARNESS_TASKS_DIR")
    assert load_suite(str(tmp_path / "mine.toml")).name == "mine"


def test_an_installed_package_reads_the_tasks_shipped_inside_it(monkeypatch, tmp_path):
    # as a wheel lays it out (setup.py copies tasks/ to harness/tasks): no source tree beside the package
    pkg = tmp_path / "site-packages" / "harness"
    (pkg / "tasks" / "recipes").mkdir(parents=True)
    (pkg / "tasks" / "demo.toml").write_text('description = "shipped"\n', encoding="utf-8")
    monkeypatch.setattr(paths, "__file__", str(pkg / "paths.py"))
    monkeypatch.delenv("HARNESS_TASKS_DIR", raising=False)
    assert paths.tasks_dir() == pkg / "tasks"
    monkeypatch.setattr(paths, "__file__", str(Path(__file__).resolve().parents[2] / "harness" / "paths.py"))
    assert paths.tasks_dir() == Path(__file__).resolve().parents[2] / "tasks"  # the source tree's
