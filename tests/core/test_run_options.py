"""The run-wide settings: one RunOptions from the command line to every Context, the suite's keys as defaults."""

from __future__ import annotations

import json

import pytest

from harness.run_options import RunOptions


def _options(invoke, tmp_path, *args):
    out = tmp_path / "run"
    result = invoke(["run", "--suite", "_fake", "--no-progress", "--out", str(out), *args])
    assert result.exit_code == 0, result.output
    return json.loads((out / "manifest.json").read_text())["options"]


def test_suite_batch_size_and_device_are_the_defaults_of_the_flags(invoke, tmp_path):
    assert _options(invoke, tmp_path)["batch_size"] == "auto"
    suite_set = _options(invoke, tmp_path, "--set", "batch_size=2", "--set", "device=cpu")
    assert (suite_set["batch_size"], suite_set["device"]) == (2, "cpu")
    flag_wins = _options(invoke, tmp_path, "--set", "batch_size=2", "--batch-size", "3")
    assert flag_wins["batch_size"] == 3


@pytest.mark.parametrize(
    ("setting", "words"),
    [
        ("device=tpu", ["suite key device", "'tpu'", "auto, cpu, cuda"]),
        ("batch_size=0", ["suite key batch_size", "0", "'auto'"]),
        ("batch_size=many", ["suite key batch_size", "'many'", "'auto'"]),
    ],
)
def test_a_bad_suite_setting_is_one_line_before_any_work(invoke, tmp_path, setting, words):
    out = tmp_path / "run"
    result = invoke(["run", "--suite", "_fake", "--no-progress", "--out", str(out), "--set", setting])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and all(w in lines[0] for w in words), result.output
    assert not out.exists()


def test_the_device_is_resolved_once_and_the_request_kept(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    run = RunOptions.resolve(device="auto", dtype="auto", batch_size="4", limit=2)
    assert (run.requested_device, run.device, run.requested_dtype, run.dtype) == ("auto", "cpu", "auto", "float32")
    assert (run.batch_size, run.limit, run.train_missing) == (4, 2, False)


def test_a_script_may_give_the_settings_as_keywords_but_not_both():
    from harness.context import make_context
    from harness.plugins import PluginHost

    host = PluginHost(entry_points=False, modules=[])
    by_hand = make_context(host, None, "models", "x", device="cpu", batch_size=2, limit=3)
    from_object = make_context(host, None, "models", "x", RunOptions.resolve(device="cpu", batch_size=2, limit=3))
    assert (by_hand.device, by_hand.batch_size, by_hand.limit) == (from_object.device, 2, 3)
    with pytest.raises(TypeError, match="not both"):
        make_context(host, None, "models", "x", RunOptions.resolve(), device="cpu")
