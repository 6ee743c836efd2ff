"""Device selection (auto|cpu|cuda|mps), fp16 on CUDA and batch size from free memory,
tested on a CPU-only machine by pretending devices are there."""

from __future__ import annotations

import pytest

from tests.plugins.reporting import RecordingReporter
from vspectrum_app.encoders import device
from vspectrum_app.encoders import backends as backends_module
from vspectrum_app.encoders import embedder as embedder_module
from vspectrum_app.encoders.device import DeviceUnavailable, batch_for_free_memory, choose_device
from vspectrum_app.encoders.embedder import ClipModelUnavailable
from vspectrum_app.encoders.backends import load_embedder


@pytest.mark.parametrize(
    "requested, cuda, mps, expected",
    [
        ("auto", True, True, "cuda"),
        ("auto", False, True, "mps"),
        ("auto", False, False, "cpu"),
        ("cpu", True, True, "cpu"),
        ("cuda", True, False, "cuda"),
        ("mps", False, True, "mps"),
    ],
)
def test_auto_prefers_cuda_then_mps_then_cpu_and_explicit_wins(requested, cuda, mps, expected):
    assert choose_device(requested, cuda, mps) == expected


@pytest.mark.parametrize("requested", ["cuda", "mps", "tpu"])
def test_a_missing_device_is_one_clear_sentence(requested):
    with pytest.raises(DeviceUnavailable) as err:
        choose_device(requested, cuda=False, mps=False)
    message = str(err.value)
    assert requested in message.lower() and "\n" not in message and message.endswith(".")


def test_fp16_only_on_cuda():
    assert device.uses_fp16("cuda") and not device.uses_fp16("cpu") and not device.uses_fp16("mps")


def test_batch_size_follows_free_memory():
    gib = 1 << 30
    # ViT-B-32 in fp16: 24 MiB per image, half the free memory used: 8 GiB free -> 170 fit -> 128
    assert batch_for_free_memory(8 * gib) == 128
    assert batch_for_free_memory(80 * gib) == 512  # capped
    assert batch_for_free_memory(100 << 20) == 8  # floor: still makes progress
    assert batch_for_free_memory(8 * gib, params=4 * device.REFERENCE_PARAMS) == 32  # a 4x bigger model
    assert batch_for_free_memory(8 * gib, fp16=False) == 64  # fp32 activations are twice as big
    sizes = [batch_for_free_memory(g * gib) for g in range(1, 40)]
    assert sizes == sorted(sizes) and all(s & (s - 1) == 0 for s in sizes)  # monotone powers of two


def test_the_embedder_lands_on_the_chosen_device_with_fp16_on_cuda(tiny_clip, monkeypatch):
    """Pretend torch sees a GPU; moving the model is recorded instead of done."""
    import torch

    monkeypatch.setattr(backends_module, "_cache", {})
    monkeypatch.setattr(embedder_module, "_torch_cache", {})
    monkeypatch.setattr(device, "torch_availability", lambda: (True, False))
    moves = []
    monkeypatch.setattr(torch.nn.Module, "to", lambda self, *a, **k: moves.append(a) or self)
    monkeypatch.setattr(torch.nn.Module, "half", lambda self: moves.append("half") or self)
    monkeypatch.setattr(device, "cuda_free_bytes", lambda: 8 << 30)
    got = load_embedder(tiny_clip, backend="torch", device="auto")
    assert got.device == "cuda" and got.fp16 and moves[-2:] == [("cuda",), "half"]  # open_clip moves it too
    assert got.describe() == "torch on cuda (fp16)"
    assert got.batch_size == 512  # the tiny model's activations are small: the cap
    monkeypatch.setattr(device, "torch_availability", lambda: (False, False))
    backends_module._cache.clear()  # as a new process on a machine without a GPU
    cpu = load_embedder(tiny_clip, backend="torch", device="auto")
    assert cpu.device == "cpu" and not cpu.fp16 and cpu.batch_size == device.CPU_BATCH


def test_asking_for_cuda_without_one_fails_clearly(tiny_clip, monkeypatch):
    monkeypatch.setattr(backends_module, "_cache", {})
    monkeypatch.setattr(device, "torch_availability", lambda: (False, False))
    with pytest.raises(ClipModelUnavailable) as err:
        load_embedder(tiny_clip, backend="torch", device="cuda")
    assert "--device cpu" in str(err.value)


def test_onnx_without_a_gpu_build_serves_cpu_and_hands_cuda_to_torch(tiny_clip, monkeypatch):
    import onnxruntime

    monkeypatch.setattr(onnxruntime, "get_available_providers", lambda: ["CPUExecutionProvider"])
    assert device.onnx_providers("auto") == device.onnx_providers("cpu") == ["CPUExecutionProvider"]
    assert device.onnx_providers("cuda") is None and device.onnx_providers("mps") is None
    monkeypatch.setattr(
        onnxruntime, "get_available_providers", lambda: ["CUDAExecutionProvider", "CPUExecutionProvider"]
    )
    assert device.onnx_providers("auto")[0] == "CUDAExecutionProvider"
    monkeypatch.setattr(onnxruntime, "get_available_providers", lambda: ["CPUExecutionProvider"])
    monkeypatch.setattr(backends_module, "_cache", {})
    load_embedder(tiny_clip, backend="onnx", device="cpu")  # the export exists
    monkeypatch.setattr(embedder_module, "_torch_cache", {})
    monkeypatch.setattr(device, "torch_availability", lambda: (True, False))
    monkeypatch.setattr(embedder_module, "_load", lambda spec, reporter, dev: f"torch model on {dev}")
    reporter = RecordingReporter()
    got = load_embedder(tiny_clip, reporter, backend="onnx", device="cuda")
    assert got == "torch model on cuda"
    assert [e["message"] for e in reporter.of_type("log") if e["level"] == "warning"] == [
        "ONNX Runtime cannot use the cuda device here; embedding with torch on it"
    ]


def test_device_comes_from_argument_environment_or_setting(monkeypatch):
    from vspectrum_app.core.settings import Settings
    from vspectrum_app.library.ops import BackendOptions

    settings = Settings.load()
    settings.set("clip_device", "cpu")
    settings.save()
    assert device.configured_device() == "auto"  # the settings file is the entry point's to read
    assert BackendOptions().from_settings(settings.as_dict()).device == "cpu"
    assert BackendOptions(device="cuda").from_settings(settings.as_dict()).device == "cuda"
    monkeypatch.setenv("VSPECTRUM_CLIP_DEVICE", "mps")
    assert device.configured_device() == "mps" and device.configured_device("cuda") == "cuda"
    assert BackendOptions().from_settings(settings.as_dict()).device == "mps"
    with pytest.raises(DeviceUnavailable):
        device.configured_device("gpu")
