"""Where a local model runs and in which dtype, decided by capability and settings, never by
a timing: CUDA when asked or present; bf16 on GPUs that support it (else fp16); on CPU, bf16
where the CPU computes it natively (AMX or AVX512-BF16), else fp32. A dtype chosen once by
timing on a busy machine is chosen by noise (fp32 was picked that way and then decoded at
1 token/s); ``python -m eval.bench_llm --dtype ...`` measures both for whoever wants to see.
The capability probes themselves are in ``rag.hardware`` (the embedders use them too).
"""

from __future__ import annotations

from rag.errors import ConfigError, ModelError
from rag.hardware import native_cpu_dtype, usable_cores

__all__ = ["native_cpu_dtype", "resolve_device", "resolve_dtype", "usable_cores"]


def resolve_device(torch, device: str | None) -> str:
    device = (device or "auto").lower()
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cpu":
        return device
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ModelError(
                f"device={device!r} was asked but CUDA is not usable here (torch {torch.__version__}, "
                f"built for CUDA {torch.version.cuda}). Check the driver (nvidia-smi) and install a CUDA build "
                "of torch, or use --device cpu."
            )
        try:
            torch.zeros(1, device=device)
        except Exception as exc:
            raise ModelError(f"device={device!r} was asked but CUDA failed to start: {exc}") from exc
        return device
    raise ConfigError(f"Unknown device {device!r}: use 'auto', 'cpu' or 'cuda'.")


def resolve_dtype(torch, dtype, device: str):
    """``dtype`` (a torch dtype or its name) when given, else the device's capability decides."""
    if dtype is not None and dtype != "auto":
        if isinstance(dtype, str):
            resolved = getattr(torch, dtype.removeprefix("torch."), None)
            if not isinstance(resolved, torch.dtype):
                raise ConfigError(f"Unknown dtype {dtype!r}: use bfloat16, float16 or float32.")
            return resolved
        return dtype
    if device.startswith("cuda"):
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return getattr(torch, native_cpu_dtype())
