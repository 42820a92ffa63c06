"""A tiny-reward build killed with kill -9 leaves its `.build-PID-*` folder; the next build removes it,
and a live build's folder is left alone."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from harness_scorers import tiny_reward


def test_a_killed_builds_folder_is_removed_by_the_next_build(tmp_path, monkeypatch):
    dead = int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                              text=True).stdout)
    parent = tiny_reward.build_dir(tmp_path).parent
    stale = parent / f".build-{dead}-abc123"
    live = parent / f".build-{os.getpid()}-def456"
    (stale / "trainer").mkdir(parents=True)
    live.mkdir()

    def fake_build(out):
        (out / "build.json").write_text(json.dumps({"fake": True}))

    monkeypatch.setattr(tiny_reward, "_build", fake_build)
    target = tiny_reward.ensure_built(tmp_path, log=lambda msg: None)
    assert (target / "build.json").is_file()
    assert not stale.exists()
    assert live.exists()
    assert sorted(p.name for p in parent.iterdir()) == sorted([target.name, live.name])


def test_building_prints_nothing_on_stdout(tmp_path, monkeypatch, capfd):
    """The trainer prints its metrics dict; stdout is for results (e.g. `harness run --dry-run --json`)."""
    pairs = tiny_reward.load_pairs("train")[:8]
    monkeypatch.setattr(tiny_reward, "load_pairs", lambda split: pairs)
    monkeypatch.setitem(tiny_reward.TRAIN_RECIPE, "epochs", 1)
    tiny_reward._build(tmp_path)
    out = capfd.readouterr().out
    assert "train_runtime" not in out and out.strip() == "", out
    assert (tmp_path / "build.json").is_file()
