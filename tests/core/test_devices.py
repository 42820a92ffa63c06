"""`--device auto` is resolved once, in the core, without importing torch on a machine with no GPU."""

from __future__ import annotations

import os
import subprocess
import sys

from harness.devices import resolve_device


def test_explicit_devices_pass_through():
    assert resolve_device("cpu") == "cpu"
    assert resolve_device("cuda:1") == "cuda:1"


def test_auto_without_a_gpu_is_cpu_and_imports_no_torch():
    code = (
        "import sys; from harness.devices import resolve_device; "
        "assert resolve_device('auto') == 'cpu'; assert 'torch' not in sys.modules; print('ok')"
    )
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert done.stdout.strip() == "ok"


def test_plugins_receive_a_concrete_device(monkeypatch):
    from harness.context import make_context
    from harness.plugins import PluginHost
    from harness.run_options import RunOptions

    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    run = RunOptions.resolve(device="auto")
    assert (run.requested_device, run.device) == ("auto", "cpu")
    ctx = make_context(PluginHost(entry_points=False, modules=[]), None, "models", "x", run)
    assert ctx.device == "cpu"
