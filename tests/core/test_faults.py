"""The fault-injection suite: a fault is survived, or reported in one line that names the
file and what to do; a re-run always repairs the outputs, byte for byte.

Every trial compares with one clean reference run of the fake suite: the tidy table (JSONL and
CSV), stats.json, the statistics' tables and the report (less its timestamps) must equal the
reference after recovery, and no temp file may be left behind.

- kill -9 at random times, at each phase (generation, scoring) and at each output rename (strace);
- disk full (a small tmpfs, where this machine can mount one; the in-process injected write error is
  in test_atomic_outputs.py);
- a damaged store (garbage, truncations, a wrecked header, an empty file) and a read-only store;
- concurrent runs into one --out;
- hostile plugins: load() or generate() raising, non-finite/non-numeric/missing scores, a raising
  hook or describe(), an import error, a name collision;
- non-finite and malformed tables for `harness stats`;
- a double Ctrl-C.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from corehelp import REPO, plugin_env, popen_harness, run_harness, store_rows

RUN = ["run", "--suite", "_fake", "--no-progress"]
OUTPUTS = ("table.jsonl", "table.csv", "stats.json", "tables/mean-score__means.csv", "report.md")


def outputs(out: Path) -> dict[str, bytes]:
    """The run's outputs, less what the report quotes of the moment: start/finish times and the git
    revision (the checkout may change between the reference run and a trial)."""
    out_bytes = {}
    for n in OUTPUTS:
        data = re.sub(rb"run: \S+ to \S+", b"run: T", (out / n).read_bytes())
        out_bytes[n] = re.sub(rb"harness revision: `\w+`( \(dirty\))?", b"harness revision: R", data)
    return out_bytes


def temps(out: Path) -> list[str]:
    return [str(p) for p in out.rglob("*") if ".partial-" in p.name or p.name.endswith(".tmp")]


def strict_json(text: str):
    def refuse(token: str):
        raise AssertionError(f"bare {token} in JSON output")

    return json.loads(text, parse_constant=refuse)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    root = tmp_path_factory.mktemp("reference")
    out = root / "run"
    result = run_harness([*RUN, "--out", str(out)], plugin_env(root / "home"))
    assert result.returncode == 0, result.stderr
    return {"out": out, "outputs": outputs(out), "store": root / "home" / "store.sqlite"}


def _recovered(reference, home: Path, out: Path) -> None:
    """A clean re-run finishes, reproduces the reference outputs and store, and leaves no temp file."""
    again = run_harness([*RUN, "--out", str(out)], plugin_env(home))
    assert again.returncode == 0, again.stderr
    assert "Traceback" not in again.stderr
    assert outputs(out) == reference["outputs"]
    assert store_rows(home / "store.sqlite") == store_rows(reference["store"])
    assert temps(out) == []
    strict_json((out / "manifest.json").read_text())


# ---------------------------------------------------------------------------------------- kill -9


SLOW = "0.05"  # seconds per fake batch: the run lasts seconds, so a kill lands inside it


@pytest.fixture(scope="module")
def slow_run_seconds(tmp_path_factory) -> float:
    """How long a whole slowed run takes on this machine: the random kills fall inside it."""
    root = tmp_path_factory.mktemp("slow")
    start = time.monotonic()
    result = run_harness([*RUN, "--out", str(root / "run")], plugin_env(root / "home", FAKE_SLOW=SLOW))
    assert result.returncode == 0, result.stderr
    return time.monotonic() - start


@pytest.mark.slow
@pytest.mark.parametrize("trial", range(6))
def test_kill9_at_a_random_time_then_resume(reference, slow_run_seconds, tmp_path, trial):
    home, out = tmp_path / "home", tmp_path / "run"
    proc = popen_harness([*RUN, "--out", str(out)], plugin_env(home, FAKE_SLOW=SLOW))
    time.sleep(random.Random(trial).uniform(0.1, 0.7) * slow_run_seconds)
    assert proc.poll() is None, f"the run finished before the kill (exit {proc.returncode}): nothing was interrupted"
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    # the kill stopped a running run, with work left: store rows or outputs still missing
    assert proc.returncode == -signal.SIGKILL, proc.returncode
    complete = store_rows(home / "store.sqlite") == store_rows(reference["store"])
    assert not (complete and all((out / n).is_file() for n in OUTPUTS)), "the kill came after the run's last write"
    _recovered(reference, home, out)


@pytest.mark.slow
@pytest.mark.parametrize(("phase", "line"), [("generate", "loading model fake-dpo"), ("score", "loading scorer")])
def test_kill9_in_each_phase_then_resume(reference, tmp_path, phase, line):
    home, out = tmp_path / "home", tmp_path / "run"
    proc = popen_harness([*RUN, "--out", str(out)], plugin_env(home, FAKE_SLOW="0.05"))
    assert proc.stderr is not None
    seen = ""
    for text in proc.stderr:
        seen += text
        if line in text:
            if phase == "generate":
                time.sleep(0.15)  # a few batches into the phase (scoring is too fast to wait for)
            proc.send_signal(signal.SIGKILL)
            break
    proc.communicate()
    assert line in seen, seen
    assert proc.returncode == -signal.SIGKILL
    counts = {k: len(v) for k, v in store_rows(home / "store.sqlite").items()}
    # where the kill landed depends on the machine's load; what matters is that it was in the phase
    if phase == "generate":
        assert counts["generations"] >= 40 and counts["scores"] < 80, counts
    else:
        assert counts["generations"] == 80, counts
    _recovered(reference, home, out)


STRACE = shutil.which("strace")


@pytest.mark.slow
@pytest.mark.skipif(STRACE is None, reason="strace is not installed")
@pytest.mark.parametrize("nth", [1, 2, 3, 5, 7, 9])
def test_kill9_at_each_output_rename_then_resume(reference, tmp_path, nth):
    """strace kills the run at its nth rename: after the manifest, a table, a report file ..."""
    home, out = tmp_path / "home", tmp_path / "run"
    shutil.copytree(reference["store"].parent, home)  # the writes are what is being killed
    cmd = [STRACE, "-f", "-o", os.devnull, "-e", "trace=rename,renameat,renameat2"]
    cmd += ["-e", f"inject=rename,renameat,renameat2:signal=KILL:when={nth}"]
    cmd += [sys.executable, "-c", "from harness.cli import main; main()", *RUN, "--out", str(out)]
    (out / "plots").mkdir(parents=True)
    killed = subprocess.run(cmd, env=plugin_env(home), cwd=REPO, capture_output=True, text=True, timeout=60)
    assert killed.returncode in (-signal.SIGKILL, 128 + signal.SIGKILL), killed.stderr
    _recovered(reference, home, out)


# ---------------------------------------------------------------------------------------- disk full


def _can_mount() -> bool:
    if os.geteuid() != 0 or not shutil.which("mount"):
        return False
    probe = Path(f"/tmp/harness-mount-probe-{os.getpid()}")
    probe.mkdir(exist_ok=True)
    try:
        ok = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(probe)], capture_output=True)
        if ok.returncode != 0:
            return False
        subprocess.run(["umount", str(probe)], capture_output=True)
        return True
    finally:
        probe.rmdir()


@pytest.fixture(scope="module")
def mountable() -> bool:
    return _can_mount()


@pytest.mark.parametrize(
    ("where", "size_kb", "names"),
    [
        ("store", 24, "store.sqlite"),  # the store fills the disk (SQLite: disk I/O error)
        ("store", 120, "store.sqlite"),  # (SQLite: database or disk is full)
        ("out", 16, "table.jsonl"),  # the store elsewhere: an output fills the disk
        ("out", 48, "table.csv"),
        ("out", 96, "report.html"),
    ],
)
def test_disk_full_is_one_line_and_a_rerun_with_space_repairs(reference, tmp_path, mountable, where, size_kb, names):
    if not mountable:
        pytest.skip("cannot mount a tmpfs here (needs root); the injected ENOSPC test covers the logic")
    disk = tmp_path / "disk"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", str(disk)], check=True)
    try:
        home, out = (disk if where == "store" else tmp_path) / "home", disk / "run"
        full = run_harness([*RUN, "--out", str(out)], plugin_env(home))
        assert full.returncode == 2, full.stderr  # every size here is too small for the whole run
        assert "Traceback" not in full.stderr
        last = full.stderr.strip().splitlines()[-1]
        assert last.startswith("Error: ") and names in last and "disk" in last and "free some" in last, last
        assert temps(out) == [] if out.exists() else True
        subprocess.run(["mount", "-o", "remount,size=4m", str(disk)], check=True)
        _recovered(reference, home, out)
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


# ---------------------------------------------------------------------------------------- the store


def _damage(path: Path, how: str) -> None:
    data = path.read_bytes()
    if how == "garbage":
        path.write_bytes(os.urandom(len(data)))
    elif how == "header":
        path.write_bytes(b"\0" * 100 + data[100:])
    elif how == "empty":
        path.write_bytes(b"")
    else:
        path.write_bytes(data[: len(data) * int(how.split("-")[1]) // 100])


@pytest.mark.parametrize("how", ["garbage", "header", "empty", "truncate-25", "truncate-50", "truncate-80"])
def test_damaged_store_is_named_then_repaired(reference, tmp_path, invoke, home, how):
    store = home / "store.sqlite"
    shutil.copy2(reference["store"], store)
    _damage(store, how)
    out = tmp_path / "run"
    first = invoke([*RUN, "--out", str(out)])
    if how == "empty":  # an empty file is a new store: recomputed
        assert first.exit_code == 0, first.output
    else:
        assert first.exit_code == 2, first.output
        assert first.stderr.count("\n") == 1 and "Traceback" not in first.stderr
        assert str(store) in first.stderr and "damaged" in first.stderr and "harness store repair" in first.stderr
        check = invoke(["store", "check"])
        assert check.exit_code == 2 and "damaged" in check.stderr
        repaired = invoke(["store", "repair"])
        assert repaired.exit_code == 0, repaired.output
        assert "kept" in repaired.stdout and list(home.glob("store.sqlite.damaged-*"))
        assert invoke(["store", "check"]).exit_code == 0
    again = invoke([*RUN, "--out", str(out)])
    assert again.exit_code == 0, again.output
    assert outputs(out) == reference["outputs"]


def test_repair_keeps_what_a_truncated_store_still_holds(reference, invoke, home, tmp_path):
    store = home / "store.sqlite"
    shutil.copy2(reference["store"], store)
    _damage(store, "truncate-80")
    assert invoke(["store", "repair"]).exit_code == 0
    kept = store_rows(store)
    full = store_rows(reference["store"])
    assert kept["generations"] and set(kept["generations"]) <= set(full["generations"])
    assert set(kept["scores"]) <= set(full["scores"])


def _read_only(path: Path) -> list[str] | None:
    """A command prefix under which ``path`` cannot be written, or None where this machine cannot do it."""
    if os.geteuid() != 0:
        return []  # chmod is enough for a normal user
    if shutil.which("unshare") and shutil.which("mount"):
        probe = subprocess.run(["unshare", "-m", "true"], capture_output=True)
        if probe.returncode == 0:
            return ["unshare", "-m", "sh", "-c", f'mount --bind -o ro "{path}" "{path}" && exec "$@"', "sh"]
    return None


def _run_read_only(home: Path, args: list[str]) -> subprocess.CompletedProcess[str]:
    prefix = _read_only(home)
    if prefix is None:
        pytest.skip("cannot make a folder read-only for root here")
    if not prefix:
        for p in [home, *home.iterdir()]:
            p.chmod(p.stat().st_mode & ~0o222)
    try:
        cmd = [*prefix, sys.executable, "-c", "from harness.cli import main; main()", *args]
        return subprocess.run(cmd, env=plugin_env(home), cwd=REPO, capture_output=True, text=True, timeout=60)
    finally:
        if not prefix:
            for p in [home, *home.iterdir()]:
                p.chmod(p.stat().st_mode | 0o200)


def test_a_fully_cached_run_reads_a_read_only_store(reference, tmp_path):
    home, out = tmp_path / "home", tmp_path / "run"
    shutil.copytree(reference["store"].parent, home)
    result = _run_read_only(home, [*RUN, "--out", str(out)])
    assert result.returncode == 0, result.stderr
    assert outputs(out) == reference["outputs"]
    assert sorted(p.name for p in home.iterdir()) == sorted(p.name for p in reference["store"].parent.iterdir())


def test_a_read_only_store_with_work_to_do_stops_before_any_work(reference, tmp_path):
    home, out = tmp_path / "home", tmp_path / "run"
    shutil.copytree(reference["store"].parent, home)
    log = tmp_path / "loads.log"
    args = [*RUN, "--out", str(out), "--set", "fake-base.salt2=new"]
    prefix = _read_only(home)
    if prefix is None:
        pytest.skip("cannot make a folder read-only for root here")
    os.environ["FAKE_LOAD_LOG"] = str(log)
    try:
        result = _run_read_only(home, args)
    finally:
        del os.environ["FAKE_LOAD_LOG"]
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and "read-only" in result.stderr and "store.sqlite" in result.stderr
    assert not log.exists()  # nothing was loaded


# ---------------------------------------------------------------------------------------- concurrency


@pytest.mark.slow
def test_concurrent_runs_into_one_out(reference, tmp_path):
    home, out = tmp_path / "home", tmp_path / "run"
    env = plugin_env(home)
    results = []
    with ThreadPoolExecutor(3) as pool:
        for _ in range(6):
            results += list(pool.map(lambda _: run_harness([*RUN, "--out", str(out)], env), range(3)))
    failed = [r.stderr for r in results if r.returncode != 0]
    assert failed == [], failed[0]
    assert len(results) == 18
    assert outputs(out) == reference["outputs"]
    assert temps(out) == []
    strict_json((out / "manifest.json").read_text())


# ---------------------------------------------------------------------------------------- hostile plugins

HOSTILE = ["fakeplug", "hostileplug"]
HRUN = [*RUN, "--models", "hostile-model", "--scorers", "fake-reward"]


def _last(result) -> str:
    return result.stderr.strip().splitlines()[-1]


def test_load_raising_is_one_line_naming_the_plugin(invoke, tmp_path, monkeypatch):
    monkeypatch.setenv("HOSTILE", "load")
    result = invoke([*HRUN, "--out", str(tmp_path / "run")], modules=HOSTILE)
    assert result.exit_code == 2
    assert "Traceback" not in result.stderr
    last = _last(result)
    assert (
        "model 'hostile-model' (plugin 'hostileplug') failed: HostileModel.load raised RuntimeError: "
        "weights file is corrupt" in last
    )
    assert "(at hostileplug.py:" in last  # the method and the line that raised
    assert "second line of the message" in last  # the message's lines joined into one


def test_generate_raising_keeps_finished_batches_and_resumes(invoke, tmp_path, home, monkeypatch):
    out = tmp_path / "run"
    monkeypatch.setenv("HOSTILE", "generate-late")
    failed = invoke([*HRUN, "--out", str(out)], modules=HOSTILE)
    assert failed.exit_code == 2 and "CUDA error" in _last(failed) and "finished batches are saved" in _last(failed)
    assert 0 < len(store_rows(home / "store.sqlite")["generations"]) < 40
    monkeypatch.delenv("HOSTILE")
    again = invoke([*HRUN, "--out", str(out)], modules=HOSTILE)
    assert again.exit_code == 0, again.output
    clean = invoke([*HRUN, "--out", str(tmp_path / "clean")], modules=HOSTILE)
    assert (out / "table.jsonl").read_bytes() == (tmp_path / "clean" / "table.jsonl").read_bytes()
    assert clean.exit_code == 0


@pytest.mark.parametrize(
    ("flag", "reason"),
    [
        ("score-inf", "returned inf, not a finite number"),
        ("score-nan", "no reward for empty text"),
        ("score-string", "returned 'high', not a number"),
    ],
)
def test_scores_that_are_not_finite_numbers_are_missing_with_a_reason(invoke, tmp_path, monkeypatch, flag, reason):
    out = tmp_path / "run"
    monkeypatch.setenv("HOSTILE", flag)
    result = invoke([*RUN, "--scorers", "hostile-scorer", "--out", str(out)], modules=HOSTILE)
    assert result.exit_code == 0, result.output
    rows = [strict_json(line) for line in (out / "table.jsonl").read_text().splitlines()]
    missing = [r for r in rows if r["score"] is None]
    assert missing and all(reason in r["missing_reason"] for r in missing)
    assert all(isinstance(r["score"], float) for r in rows if r["score"] is not None)
    strict_json((out / "stats.json").read_text())
    strict_json((out / "manifest.json").read_text())


def test_a_scorer_returning_too_few_results_is_an_error_not_a_dropped_row(invoke, tmp_path, monkeypatch):
    monkeypatch.setenv("HOSTILE", "score-short")
    result = invoke([*RUN, "--scorers", "hostile-scorer", "--out", str(tmp_path / "run")], modules=HOSTILE)
    assert result.exit_code == 2
    assert "hostile-scorer returned 7 results for a batch of 8" in _last(result)


def test_raising_hook_describe_import_error_and_collision_leave_the_rest_working(invoke, tmp_path, monkeypatch):
    monkeypatch.setenv("HOSTILE", "register,describe")
    modules = ["fakeplug", "hostileplug", "importfailplug", "dupplug"]
    listing = invoke(["models", "--json"], modules=modules)
    assert listing.exit_code == 0
    models = {m["name"]: m for m in strict_json(listing.stdout)}
    assert models["fake-base"]["plugin"] == "fakeplug"
    assert "describe exploded" in models["hostile-model"]["error"]
    warned = {line.split("'")[1] for line in listing.stderr.splitlines() if line.startswith("warning: plugin")}
    assert warned == {"hostileplug", "importfailplug", "dupplug"}
    result = invoke([*RUN, "--out", str(tmp_path / "run")], modules=modules)
    assert result.exit_code == 0, result.output
    from harness.plugins import PluginError

    with pytest.raises(PluginError, match="plugin '(hostileplug|importfailplug|dupplug)'"):
        invoke(["--strict-plugins", "models"], modules=modules, strict=True)


# ---------------------------------------------------------------------------------------- tables


def test_stats_json_is_valid_json_when_a_statistic_yields_nan(invoke, reference, tmp_path):
    text = (reference["out"] / "table.csv").read_text()
    rows = text.splitlines()
    i = rows[0].split(",").index("score")
    import csv
    import io

    parsed = list(csv.reader(io.StringIO(text)))
    for row in parsed[1:]:
        if row[0] == "fake-dpo":
            row[i] = ""  # every fake-dpo score missing: its mean is nan
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(parsed)
    table = tmp_path / "t.csv"
    table.write_text(buf.getvalue())
    result = invoke(["stats", str(table), "--json"])
    assert result.exit_code == 0, result.output
    data = strict_json(result.stdout)
    assert {d["model"]: d["mean"] for d in data["mean-score"]}["fake-dpo"] is None


@pytest.mark.parametrize("token", ["inf", "-inf", "Infinity", "NaN"])
def test_non_finite_table_scores_are_refused(invoke, reference, tmp_path, token):
    lines = (reference["out"] / "table.jsonl").read_text().splitlines()
    if token in ("inf", "-inf"):
        table = tmp_path / "t.csv"
        text = (reference["out"] / "table.csv").read_text().splitlines()
        head = text[0].split(",")
        body = text[1].split(",")
        body[head.index("score")] = token
        table.write_text("\n".join([text[0], ",".join(body), *text[2:]]) + "\n")
    else:
        table = tmp_path / "t.jsonl"
        first = re.sub(r'"score": [^,}]+', f'"score": {token}', lines[0], count=1)
        table.write_text("\n".join([first, *lines[1:]]) + "\n")
    result = invoke(["stats", str(table), "--json"])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "row 1" in result.stderr or "line 1" in result.stderr
    assert result.stdout == ""


# ---------------------------------------------------------------------------------------- Ctrl-C


@pytest.mark.parametrize("gap", [0.0, 0.005, 0.05, 0.2])
def test_a_double_ctrl_c_exits_130(tmp_path, gap):
    proc = popen_harness([*RUN, "--out", str(tmp_path / "run")], plugin_env(tmp_path / "home", FAKE_SLOW="0.05"))
    assert proc.stderr is not None
    for text in proc.stderr:
        if "loading model" in text:
            break
    proc.send_signal(signal.SIGINT)
    time.sleep(gap)
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
