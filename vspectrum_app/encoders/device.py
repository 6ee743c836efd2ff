"""Where embedding runs: ``auto|cpu|cuda|mps``, fp16 on CUDA, batch size from free memory.

The choices are pure functions of what is available, so they are tested on a machine
without a GPU; only ``torch_availability`` and ``cuda_free_bytes`` ask torch.
"""

from __future__ import annotations

import os

DEVICES = ("auto", "cpu", "cuda", "mps")
CPU_BATCH = 32
# Activation memory per image of a ViT-B-32-sized forward pass in fp16, with headroom for
# the allocator; bigger models scale it by their parameter count (``batch_for_free_memory``).
BYTES_PER_IMAGE_FP16 = 24 << 20
REFERENCE_PARAMS = 151_000_000  # ViT-B-32, both towers


class DeviceUnavailable(Exception):
    """The requested device is not there; the message says what to use instead."""


# A machine's own choice (e.g. a cluster node's), above the settings' (library.ops.BackendOptions)
DEVICE_ENV = "VSPECTRUM_CLIP_DEVICE"
BACKEND_ENV = "VSPECTRUM_CLIP_BACKEND"


def configured_choice(given: str | None, env: str, choices: tuple[str, ...], what: str) -> str:
    """``given`` if set, else the environment variable ``env``, else ``choices[0]``; an unknown
    value raises ValueError with one sentence. (The settings' choice comes in as ``given``: the
    entry points fill it in, library.ops.BackendOptions.)"""
    value = given or os.environ.get(env) or choices[0]
    if value not in choices:
        raise ValueError(f"Unknown {what} {value!r}: choose one of {', '.join(choices)}.")
    return value


def configured_device(device: str | None = None) -> str:
    """``device`` if given, else $VSPECTRUM_CLIP_DEVICE, else auto."""
    try:
        return configured_choice(device, DEVICE_ENV, DEVICES, "device")
    except ValueError as exc:
        raise DeviceUnavailable(str(exc)) from None


def choose_device(requested: str, cuda: bool, mps: bool) -> str:
    """The device to use: auto prefers CUDA, then Apple's MPS, then the CPU."""
    if requested == "auto":
        return "cuda" if cuda else "mps" if mps else "cpu"
    if requested == "cuda" and not cuda:
        raise DeviceUnavailable("No CUDA GPU is visible to torch: use --device cpu (or auto).")
    if requested == "mps" and not mps:
        raise DeviceUnavailable("Apple's MPS device is not available here: use --device cpu (or auto).")
    if requested not in DEVICES:
        raise DeviceUnavailable(f"Unknown device {requested!r}: choose one of {', '.join(DEVICES)}.")
    return requested


def uses_fp16(device: str) -> bool:
    """Half precision on CUDA only: tensor cores make it about twice as fast there, while on
    the CPU fp16 matmuls are slower than fp32 and MPS support for it is uneven."""
    return device == "cuda"


def batch_for_free_memory(
    free_bytes: int, params: int = REFERENCE_PARAMS, fp16: bool = True, lo: int = 8, hi: int = 512
) -> int:
    """The largest power of two of images whose activations fit in half the free memory."""
    per_image = BYTES_PER_IMAGE_FP16 * max(params, 1) / REFERENCE_PARAMS * (1 if fp16 else 2)
    fit = int(free_bytes * 0.5 / per_image)
    batch = lo
    while batch * 2 <= min(fit, hi):
        batch *= 2
    return batch


def torch_availability() -> tuple[bool, bool]:
    import torch

    mps = getattr(torch.backends, "mps", None)
    return bool(torch.cuda.is_available()), bool(mps is not None and mps.is_available())


def cuda_free_bytes() -> int:
    import torch

    free, _total = torch.cuda.mem_get_info()
    return int(free)


def onnx_providers(requested: str) -> list[str] | None:
    """ONNX Runtime providers for ``requested``, or None when ONNX Runtime cannot serve it
    (MPS, or CUDA without the GPU build): the caller then uses torch."""
    import onnxruntime as ort

    cuda = "CUDAExecutionProvider" in ort.get_available_providers()
    if requested in ("auto", "cuda") and cuda:
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    if requested in ("auto", "cpu"):
        return ["CPUExecutionProvider"]
    return None
