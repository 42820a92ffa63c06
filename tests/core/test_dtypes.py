"""`--dtype`: names, resolution per device, CPU capability notes, and its place in the run directory."""

from __future__ import annotations

import json

import pytest

from harness.dtypes import canonical, component_dtype, cpu_half_support, dtype_note, resolve_dtype, run_dtype
from harness.types import HarnessError


def test_short_and_long_names():
    assert [canonical(x) for x in ("fp32", "bf16", "fp16", "auto", None, "BFloat16")] == [
        "float32", "bfloat16", "float16", "auto", "auto", "bfloat16"]


def test_bad_name_is_one_line_with_did_you_mean():
    with pytest.raises(HarnessError) as err:
        canonical("bf61")
    assert "unknown dtype 'bf61'" in str(err.value) and "did you mean" in str(err.value)


def test_auto_is_fp32_on_cpu_and_the_checkpoints_on_a_gpu():
    assert resolve_dtype("auto", "cpu", checkpoint="float16") == "float32"
    assert resolve_dtype("auto", "cuda", checkpoint="float16") == "float16"
    assert resolve_dtype("auto", "cuda:1", checkpoint=None) == "float32"
    assert resolve_dtype("bf16", "cpu") == "bfloat16"
    assert run_dtype("auto", "cpu") == "float32" and run_dtype("auto", "cuda") == "auto"


def test_a_components_own_option_wins_over_the_run_dtype():
    assert component_dtype("auto", "bfloat16", "cpu") == "bfloat16"
    assert component_dtype("fp16", "bfloat16", "cpu") == "float16"
    assert component_dtype(None, "auto", "cuda", checkpoint="bfloat16") == "bfloat16"


def test_cpu_capability_is_read_from_flags():
    amx = frozenset({"avx512f", "avx512_bf16", "amx_bf16", "amx_tile"})
    avx = frozenset({"avx512f", "avx512_bf16"})
    old = frozenset({"avx2"})
    assert cpu_half_support("bfloat16", amx) == "amx" and dtype_note("bfloat16", "cpu", amx) is None
    assert cpu_half_support("bfloat16", avx) == "avx512"
    assert "no AMX" in dtype_note("bfloat16", "cpu", avx)
    assert "emulated" in dtype_note("bfloat16", "cpu", old)
    assert dtype_note("float32", "cpu", old) is None and dtype_note("bfloat16", "cuda", old) is None


def test_run_records_the_dtype_and_keeps_dtypes_apart(invoke, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    base = ["run", "--suite", "_fake", "--no-progress"]
    a, b = invoke(base), invoke([*base, "--dtype", "bf16"])
    assert a.exit_code == 0 and b.exit_code == 0, a.output + b.output
    dir_a, dir_b = (r.output.split("run directory: ")[1].splitlines()[0] for r in (a, b))
    assert dir_a != dir_b
    assert json.loads((tmp_path / dir_b / "manifest.json").read_text())["options"]["dtype"] == "bf16"
    bad = invoke([*base, "--dtype", "int8"])
    assert bad.exit_code == 2 and "int8" in bad.output
