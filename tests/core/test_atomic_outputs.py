"""Outputs are written atomically and a re-run repairs any damaged output."""

from __future__ import annotations

import errno
import json
import os
import re
import threading
from pathlib import Path

import pytest

from harness import atomic
from harness.types import HarnessError

RUN = ["run", "--suite", "_fake", "--no-progress", "--stats", "mean-score,fake-plot"]
PLUGINS = ["fakeplug", "plotplug"]
TARGETS = ["table.jsonl", "table.csv", "rows.png", "report.html", "stats.json", "manifest.json"]
OUTPUTS = (
    "report.md",
    "report.html",
    "samples.js",
    "stats.json",
    "tables/mean-score__means.csv",
    "plots/rows.png",
    "table.jsonl",
    "table.csv",
)


def _snapshot(out: Path) -> dict[str, bytes]:
    """Every output's bytes, less the run's start and finish times that the report quotes."""
    return {name: re.sub(rb"run: \S+ to \S+", b"run: T", (out / name).read_bytes()) for name in OUTPUTS}


def _temps(out: Path) -> list[Path]:
    return [p for p in out.rglob("*") if ".partial-" in p.name or p.name.endswith(".tmp")]


@pytest.mark.parametrize("damage", ["truncate", "empty", "garbage", "delete"])
@pytest.mark.parametrize(
    "name", ["report.md", "report.html", "stats.json", "tables/mean-score__means.csv", "plots/rows.png"]
)
def test_a_damaged_report_file_is_rebuilt_by_the_next_run(invoke, tmp_path, name, damage):
    out = tmp_path / "run"
    assert invoke([*RUN, "--out", str(out)], modules=PLUGINS).exit_code == 0
    good = _snapshot(out)
    path = out / name
    if damage == "truncate":
        path.write_bytes(good[name][: len(good[name]) // 2])
    elif damage == "empty":
        path.write_bytes(b"")
    elif damage == "garbage":
        path.write_bytes(b"x" * len(good[name]))  # same size, other bytes
    else:
        path.unlink()
    again = invoke([*RUN, "--out", str(out)], modules=PLUGINS)
    assert again.exit_code == 0, again.output
    assert _snapshot(out) == good


def test_the_manifest_records_a_digest_of_every_output(invoke, tmp_path):
    from harness.fingerprint import file_digest

    out = tmp_path / "run"
    assert invoke([*RUN, "--out", str(out)], modules=PLUGINS).exit_code == 0
    manifest = json.loads((out / "manifest.json").read_text())
    recorded = {**manifest["outputs"], **manifest["report_outputs"]}
    assert set(recorded) == set(OUTPUTS)
    assert all(file_digest(out / name) == digest for name, digest in recorded.items())


class _FailingFile:
    """A file whose write() stores half the bytes and then fails like a full disk."""

    def __init__(self, fh) -> None:
        self.fh = fh

    def write(self, data: bytes) -> int:
        self.fh.write(data[: len(data) // 2])
        self.fh.flush()
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.fh.close()


def inject_enospc(monkeypatch: pytest.MonkeyPatch, target: str) -> None:
    """Every atomic write to a file named ``target`` fails with ENOSPC after writing half its bytes."""
    real_open = open

    def fake_open(path, mode="r", *args, **kwargs):
        fh = real_open(path, mode, *args, **kwargs)
        if "w" in mode and Path(path).name.startswith(f".{target}.partial-"):
            return _FailingFile(fh)
        return fh

    monkeypatch.setattr(atomic, "open", fake_open, raising=False)


@pytest.mark.parametrize(
    "target", ["table.jsonl", "table.csv", "rows.png", "report.html", "stats.json", "manifest.json"]
)
def test_disk_full_is_one_line_keeps_the_old_file_and_leaves_no_temp(invoke, tmp_path, monkeypatch, target):
    out = tmp_path / "run"
    assert invoke([*RUN, "--out", str(out)], modules=PLUGINS).exit_code == 0
    good = _snapshot(out)
    (out / "report.md").write_bytes(b"")  # damaged: the next run must write the report again
    inject_enospc(monkeypatch, target)
    failed = invoke([*RUN, "--out", str(out)], modules=PLUGINS)
    assert failed.exit_code == 2
    assert "Traceback" not in failed.stderr
    last = failed.stderr.splitlines()[-1]
    assert target in last and "No space left on device" in last and "free some disk space" in last, last
    assert _temps(out) == []
    now = _snapshot(out)
    for name, data in good.items():  # every file holds its old bytes, or its new and equal ones
        assert name == "report.md" or now[name] == data, name
    json.loads((out / "manifest.json").read_text())
    monkeypatch.undo()
    again = invoke([*RUN, "--out", str(out)], modules=PLUGINS)
    assert again.exit_code == 0, again.output
    assert _snapshot(out) == good


def test_concurrent_writers_of_one_file_never_collide(tmp_path):
    path = tmp_path / "out" / "table.jsonl"
    versions = [f"writer {i}\n".encode() * 2000 for i in range(4)]
    errors: list[BaseException] = []

    def work(data: bytes) -> None:
        try:
            for _ in range(50):
                atomic.write_bytes(path, data)
                assert path.read_bytes() in versions
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(v,)) for v in versions]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert path.read_bytes() in versions
    assert _temps(path.parent) == []


def test_a_failed_write_removes_its_temp_and_names_the_file(tmp_path):
    path = tmp_path / "x.bin"
    path.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with atomic.atomic_path(path) as tmp:
            tmp.write_bytes(b"half")
            raise RuntimeError("writer died")
    assert path.read_bytes() == b"old"
    assert list(tmp_path.iterdir()) == [path]
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where a folder should be")
    with pytest.raises(HarnessError, match="blocked"):
        atomic.write_text(blocked / "report.md", "x")


def test_sweep_removes_what_a_dead_writer_left_and_keeps_a_live_ones(tmp_path):
    import subprocess
    import sys

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)
    stale = tmp_path / "plots" / f".rows.png.partial-{dead_pid}-abcd1234"
    live = tmp_path / f".table.csv.partial-{os.getpid()}-abcd1234"
    stale.parent.mkdir()
    stale.write_bytes(b"half")
    live.write_bytes(b"in progress")
    assert atomic.sweep_temps(tmp_path) == [stale]
    assert live.exists() and not stale.exists()
