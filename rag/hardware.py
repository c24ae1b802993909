"""What this machine offers, read from capabilities, never from a timing: the cores this process
may use and whether the CPU computes bf16 natively. Shared by the embedders and the LLMs.
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
