"""The ``openai`` backend against a real server: ``transformers serve`` on 127.0.0.1 serving the tiny llama.

Its greedy answers against the in-process backend's for the same weights, every planned row complete, the
manifest's token usage and determinism note, the API key nowhere on disk or in the logs, each failure as one
line before any work, and a server killed mid-run followed by a clean resume."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.testing import run_harness

from .conftest import SERVED

pytestmark = [pytest.mark.ml, pytest.mark.slow]


def write_suite(tmp: Path, url: str, extra: str = "", fmt: str = "chat", langs: str = '["en", "sw", "zh"]',
                in_process: bool = True, name: str = "served") -> Path:
    path = tmp / f"{name}.toml"
    path.write_text(
        f'name = "{name}"\nseed = 0\nlangs = {langs}\n[generation]\nmax_new_tokens = 16\nprompt_format = "{fmt}"\n'
        f'[models.served]\nmodel = "openai:{SERVED}"\nbase_url = "{url}"\n{extra}\n'
        + ("[models.tiny-llama]\n" if in_process else "")
        + "[sources.demo-prompts]\n[scorers.lang-fidelity]\n", encoding="utf-8")
    return path


def env(home: Path) -> dict[str, str]:
    return {"HARNESS_HOME": str(home), "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}


def rows_of(run_dir: Path) -> list[dict]:
    return [json.loads(x) for x in (run_dir / "table.jsonl").read_text(encoding="utf-8").splitlines()]


def one_line(result: subprocess.CompletedProcess[str], *needles: str) -> str:
    lines = [x for x in result.stderr.splitlines() if x.strip() and not x.startswith(("plan:", "  ", "loading "))]
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr[-3000:]
    assert len(lines) == 1, result.stderr[-3000:]
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize("fmt, mode", [("chat", "auto"), ("hh", "completions")])
def test_endpoint_answers_match_the_in_process_backend(served, tmp_path, fmt, mode, monkeypatch):
    home = Path(os.environ["HARNESS_HOME"])
    suite = write_suite(tmp_path, served.url, f'mode = "{mode}"\nmax_concurrency = 4\napi_key_env = "MY_SERVER_KEY"',
                        fmt=fmt, langs='["en", "sw"]')
    out, store = tmp_path / "run", tmp_path / "s.sqlite"
    key = "sk-test-never-written-7f3a"
    result = run_harness(["run", "--suite", str(suite), "--no-progress", "--out", str(out), "--store", str(store)],
                         {**env(home), "MY_SERVER_KEY": key})
    assert result.returncode == 0, result.stderr[-3000:]
    assert "rows: planned 80, complete 80, missing 0" in result.stderr
    rows = rows_of(out)
    pairs: dict[tuple, dict[str, str]] = {}
    for r in rows:
        pairs.setdefault((r["language"], r["kind"], r["prompt_id"]), {})[r["model"]] = r["response"]
    same = sum(v["served"] == v["tiny-llama"] for v in pairs.values())
    print(f"{fmt}/{mode}: identical responses {same}/{len(pairs)}")
    assert len(pairs) == 40 and same / len(pairs) >= 0.9  # one engine's float rounding may flip a rare token
    manifest = json.loads((out / "manifest.json").read_text())
    facts = manifest["executor"]["component_facts"]["served"]
    assert facts["usage"]["requests"] == 40 and facts["usage"]["completion_tokens"] > 0
    assert facts["determinism"].startswith("not guaranteed") and facts["served"]["id"] == SERVED
    assert facts["settings"] == {"max_tokens": 16, "temperature": 0.0, "top_p": 1.0, "seed": 0}
    assert facts["mode"] == ("chat" if fmt == "chat" else "completions")
    assert manifest["config"]["models"]["served"]["api_key_env"] == "MY_SERVER_KEY"
    for path in [*out.rglob("*"), store]:  # the key itself: nowhere on disk, nowhere in the logs
        if path.is_file():
            assert key.encode() not in path.read_bytes(), path
    assert key not in result.stderr + result.stdout
    with sqlite3.connect(store) as db:
        meta = json.loads(db.execute("SELECT meta FROM generations WHERE model = 'served' LIMIT 1").fetchone()[0])
    assert meta["usage"]["completion_tokens"] >= 1 and meta["served_model"].startswith(SERVED)


def test_cache_key_holds_name_served_id_and_settings_not_the_url(served, tmp_path):
    from harness_endpoints.backend import OpenAIBackend

    from harness.types import Context, GenerationSettings

    variant = OpenAIBackend().declare("ep", f"{SERVED}@{served.url}", {})

    def fp(opts=None, **gen):
        settings = GenerationSettings(**{"max_new_tokens": 8, "prompt_format": "chat", **gen})
        return variant.fingerprint(Context(options={**variant.default_options, **(opts or {})}, generation=settings))

    base = fp()
    assert fp() == base
    assert fp(max_new_tokens=9) != base and fp(prompt_format="hh") != base and fp({"send_seed": False}) != base
    assert fp({"system_prompt": "Be brief."}) != base and fp({"weights_id": "rev2"}) != base
    other_url = served.url.replace("127.0.0.1", "localhost")  # the same server by another address: same key
    assert fp({"base_url": other_url}) == base


def test_failures_are_one_line_before_any_work(served, tmp_path):
    home = Path(os.environ["HARNESS_HOME"])
    store = tmp_path / "s.sqlite"
    wrong = write_suite(tmp_path, served.url, in_process=False).read_text().replace(SERVED, "harness/tiny-lama")
    (tmp_path / "wrong.toml").write_text(wrong)
    line = one_line(run_harness(["run", "--suite", str(tmp_path / "wrong.toml"), "--store", str(store)], env(home)),
                    "does not serve model 'harness/tiny-lama'", "did you mean 'harness/tiny-llama'", "it serves:")
    print(line)
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    dead = write_suite(tmp_path, f"http://127.0.0.1:{port}/v1", in_process=False, name="dead")
    print(one_line(run_harness(["run", "--suite", str(dead), "--store", str(store)], env(home)),
                   "connection refused", "is the server running?"))
    nokey = write_suite(tmp_path, served.url, 'api_key_env = "NO_SUCH_KEY_VAR"', in_process=False, name="nokey")
    print(one_line(run_harness(["run", "--suite", str(nokey), "--store", str(store)], env(home)),
                   "api_key_env names NO_SUCH_KEY_VAR, which is not set"))
    if store.exists():  # nothing was computed
        with sqlite3.connect(store) as db:
            assert db.execute("SELECT COUNT(*) FROM generations").fetchone()[0] == 0
    mismatch = write_suite(tmp_path, served.url, 'mode = "chat"', fmt="hh", in_process=False, name="mismatch")
    print(one_line(run_harness(["run", "--suite", str(mismatch), "--store", str(store)], env(home)),
                   "mode 'chat' sends each prompt as a user turn", "prompt format is 'hh'"))


def test_a_server_killed_mid_run_then_a_clean_resume(tiny_llama_folder, tmp_path):
    from local_server import LocalServer

    home = Path(os.environ["HARNESS_HOME"])
    server = LocalServer(tiny_llama_folder, SERVED, tmp_path / "serve").start()
    try:
        suite = write_suite(tmp_path, server.url, "max_concurrency = 2\nmax_retries = 2\nbackoff = 0.2",
                            in_process=False)
        out, store = tmp_path / "run", tmp_path / "s.sqlite"
        args = ["run", "--suite", str(suite), "--no-progress", "--out", str(out), "--store", str(store),
                "--batch-size", "4"]
        proc = subprocess.Popen([sys.executable, "-c", "from harness.cli import main; main()", *args],
                                env={**os.environ, **env(home)}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        done_before_kill = 0
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and proc.poll() is None:
            if store.exists():
                try:
                    with sqlite3.connect(f"file:{store}?mode=ro", uri=True) as db:
                        done_before_kill = db.execute("SELECT COUNT(*) FROM generations").fetchone()[0]
                except sqlite3.OperationalError:
                    pass
            if done_before_kill >= 12:
                server.kill()
                break
            time.sleep(0.05)
        _, stderr = proc.communicate(timeout=240)
        assert done_before_kill >= 12, stderr[-2000:]
        first = one_line(subprocess.CompletedProcess(args, proc.returncode, "", stderr), "connection",
                         "run the same command again to resume")
        print(first)
        with sqlite3.connect(store) as db:
            kept = db.execute("SELECT COUNT(*) FROM generations").fetchone()[0]
        assert 12 <= kept < 60  # every finished batch is in the store, the run did not finish

        server.start()  # the same server again, on the same port
        again = run_harness(args, env(home))
        assert again.returncode == 0, again.stderr[-3000:]
        assert f"generations: 60 distinct needed, {kept} cached, {60 - kept} to do" in again.stderr
        assert "rows: planned 60, complete 60, missing 0" in again.stderr
        print(f"killed after {kept} of 60 stored; the rerun generated {60 - kept} and completed 60 of 60 rows")
    finally:
        server.stop()
