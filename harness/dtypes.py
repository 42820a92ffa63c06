"""``--dtype auto|fp32|bf16|fp16``: one name per precision, resolved for every plugin, without torch.

The dtype changes outputs (bf16 rounds every matmul), so plugins put the *resolved* dtype in
their fingerprints and fp32 and bf16 results never mix in the store. ``auto`` keeps the old
choice: float32 on CPU; on a GPU the checkpoint's own dtype, which only the plugin knows
(``resolve_dtype(..., checkpoint=...)``). Whether a CPU runs bf16 fast is read from
``/proc/cpuinfo`` (AMX tiles, else AVX-512 BF16), so the core never imports torch for it.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from .choices import unknown

#: What users type (CLI and suite options) -> the torch attribute name.
NAMES: dict[str, str] = {
    "auto": "auto",
    "fp32": "float32",
    "float32": "float32",
    "bf16": "bfloat16",
    "bfloat16": "bfloat16",
    "fp16": "float16",
    "float16": "float16",
}
CHOICES: tuple[str, ...] = ("auto", "fp32", "bf16", "fp16")
SHORT: dict[str, str] = {"float32": "fp32", "bfloat16": "bf16", "float16": "fp16", "auto": "auto"}


def canonical(name: str | None) -> str:
    """``bf16`` -> ``bfloat16`` (``None``/empty -> ``auto``); HarnessError with "did you mean" otherwise."""
    key = str(name or "auto").strip().lower().replace("torch.", "")
    if key not in NAMES:
        raise unknown("dtype", str(name), NAMES)
    return NAMES[key]


def resolve_dtype(requested: str | None, device: str, checkpoint: str | None = None) -> str:
    """The concrete dtype (``float32``/``bfloat16``/``float16``) a component runs in.

    ``auto``: float32 on CPU; on a GPU the checkpoint's dtype (``checkpoint``, e.g. a config's
    ``torch_dtype``), float32 when the checkpoint does not say.
    """
    name = canonical(requested)
    if name != "auto":
        return name
    if not str(device).startswith("cuda"):
        return "float32"
    try:
        ck = canonical(checkpoint)
    except Exception:  # noqa: BLE001 - an odd checkpoint dtype (int8 ...) is not ours to run
        ck = "auto"
    return "float32" if ck == "auto" else ck


def run_dtype(requested: str | None, device: str) -> str:
    """The run's ``--dtype`` resolved once for every plugin: concrete on CPU; ``auto`` stays on a GPU
    (each plugin then takes its checkpoint's dtype)."""
    name = canonical(requested)
    return name if name != "auto" or str(device).startswith("cuda") else "float32"


def component_dtype(option: str | None, run_dtype: str | None, device: str, checkpoint: str | None = None) -> str:
    """A component's dtype: its own ``dtype`` option when set (not auto), else the run's ``--dtype``."""
    requested = option if canonical(option) != "auto" else run_dtype
    return resolve_dtype(requested, device, checkpoint)


@lru_cache(maxsize=1)
def cpu_flags() -> frozenset[str]:
    """The CPU feature flags of this machine (empty where /proc/cpuinfo is absent)."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return frozenset()
    for line in text.splitlines():
        if line.startswith(("flags", "Features")):
            return frozenset(line.split(":", 1)[1].split())
    return frozenset()


def cpu_half_support(dtype: str, flags: frozenset[str] | None = None) -> str:
    """How this CPU runs ``bfloat16``/``float16`` matmuls: ``amx``, ``avx512`` or ``none`` (emulated)."""
    flags = cpu_flags() if flags is None else flags
    if dtype == "bfloat16":
        return "amx" if "amx_bf16" in flags else "avx512" if "avx512_bf16" in flags else "none"
    if dtype == "float16":
        return "amx" if "amx_fp16" in flags else "avx512" if "avx512_fp16" in flags else "none"
    return "amx"


def dtype_note(dtype: str, device: str, flags: frozenset[str] | None = None) -> str | None:
    """A line to show the user when a half dtype on this CPU will be slower than they expect."""
    if str(device).startswith("cuda") or dtype not in ("bfloat16", "float16"):
        return None
    short = SHORT[dtype]
    support = cpu_half_support(dtype, flags)
    if support == "amx":
        return None
    if support == "avx512":
        return (f"note: this CPU has no AMX ({'amx_bf16' if short == 'bf16' else 'amx_fp16'} missing from "
                f"/proc/cpuinfo); {short} runs on AVX-512 {short.upper()}: faster than fp32, not AMX's ~6x")
    return (f"note: this CPU has neither AMX nor AVX-512 {short.upper()}: {short} matmuls are emulated and "
            f"usually slower than fp32 (results still differ from fp32)")
