"""What this machine can compute, asked once and shared by every model backend (embedders and
LLMs alike, which sit on the same layer and so may not import each other).

Only capability probes live here: the policies that use them (which dtype a generative model or
an embedder runs in) stay with each backend. torch is imported inside the probe that needs it.
"""

from __future__ import annotations

import os


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity), not the machine's count."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def native_cpu_dtype() -> str:
    """bfloat16 when the CPU computes it natively (AMX / AVX512-BF16), else float32."""
    import torch

    for probe in ("_is_amx_tile_supported", "_is_avx512_bf16_supported"):
        check = getattr(torch.cpu, probe, None)
        try:
            if check is not None and check():
                return "bfloat16"
        except Exception:  # private probes; a failure only means "unknown"
            pass
    return "float32"
