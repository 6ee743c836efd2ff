"""Read a model checkpoint's arrays with numpy, without torch: a ``.safetensors`` file, or
a PyTorch zip checkpoint (what ``torch.save`` writes, open_clip's ``.bin``).

safetensors: 8 bytes little-endian header length, a JSON header (name -> dtype, shape,
byte range), the raw bytes, mapped. PyTorch zip: ``data.pkl`` is read by a restricted
unpickler that admits only the classes a state dict needs (tensor rebuild, storage types,
OrderedDict; a crafted file cannot run code), each tensor a strided view of its storage,
the zip's ``data/<key>`` entry mapped from the file. Anything unreadable is a one-sentence
``WeightsError``.
"""

from __future__ import annotations

import json
import pickle
import struct
import zipfile
from pathlib import Path
from typing import IO, Any

import numpy as np

from vspectrum_app.encoders.weights import WeightsError


def read_weights(path: Path) -> dict[str, np.ndarray]:
    """The checkpoint's arrays by name: a ``.safetensors`` file or a PyTorch zip checkpoint
    (what ``torch.save`` writes), read with numpy; WeightsError when it cannot be read."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            head = f.read(4)
        state = _read_torch_zip(path) if head == b"PK\x03\x04" else _read_safetensors(path)
    except WeightsError:
        raise
    except (
        OSError,
        ValueError,
        KeyError,
        TypeError,
        EOFError,
        struct.error,
        zipfile.BadZipFile,
        pickle.UnpicklingError,
        AttributeError,
        IndexError,
    ) as exc:
        raise WeightsError(
            f"The CLIP weights file {path.name} is damaged or incomplete "
            f"({type(exc).__name__}); download it again or choose another file."
        ) from None
    if "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    # a pickled checkpoint can hold anything: only named arrays count as weights
    arrays = {
        k.removeprefix("module."): v for k, v in state.items() if isinstance(k, str) and isinstance(v, np.ndarray)
    }
    if not arrays:
        raise WeightsError(f"The CLIP weights file {path.name} holds no weights; choose the model's checkpoint.")
    return arrays


_SAFETENSORS_DTYPES = {
    "F64": np.float64,
    "F32": np.float32,
    "F16": np.float16,
    "BF16": np.uint16,
    "I64": np.int64,
    "I32": np.int32,
    "I16": np.int16,
    "I8": np.int8,
    "U8": np.uint8,
    "BOOL": np.bool_,
}


def _read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """8 bytes little-endian header length, a JSON header (name -> dtype, shape, byte range), the data."""
    size = path.stat().st_size
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        if not 2 <= n <= size - 8:
            raise ValueError("header length outside the file")
        header = json.loads(f.read(n))
    data = np.memmap(path, dtype=np.uint8, mode="r", offset=8 + n) if size > 8 + n else np.zeros(0, np.uint8)
    out = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        start, end = entry["data_offsets"]
        if not 0 <= start <= end <= len(data):
            raise ValueError(f"tensor {name} lies outside the file")
        raw: np.ndarray = data[start:end].view(_SAFETENSORS_DTYPES[entry["dtype"]])
        out[name] = (_bf16(raw) if entry["dtype"] == "BF16" else raw).reshape(entry["shape"])
    return out


def _bf16(raw: np.ndarray) -> np.ndarray:
    return (raw.astype(np.uint32) << 16).view(np.float32)


_STORAGE_DTYPES = {
    "FloatStorage": np.float32,
    "HalfStorage": np.float16,
    "DoubleStorage": np.float64,
    "BFloat16Storage": np.uint16,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ShortStorage": np.int16,
    "CharStorage": np.int8,
    "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}


class _Storage:
    def __init__(self, name: str):
        self.name = name


class _TorchUnpickler(pickle.Unpickler):
    """Unpickles a ``torch.save`` state dict into numpy arrays: tensors are rebuilt as views of
    the zip's ``data/<key>`` entries; any class other than the few a state dict needs is refused
    (a checkpoint is data, and this keeps a crafted one from running code)."""

    def __init__(self, file: IO[bytes], archive: zipfile.ZipFile, prefix: str, path: Path, big_endian: bool):
        super().__init__(file)
        self.archive, self.prefix, self.path, self.big_endian = archive, prefix, path, big_endian
        self.storages: dict[str, np.ndarray] = {}

    def find_class(self, module: str, name: str) -> Any:
        if module == "collections" and name == "OrderedDict":
            import collections

            return collections.OrderedDict
        if module == "torch._utils" and name in ("_rebuild_tensor_v2", "_rebuild_tensor"):
            return _rebuild_tensor
        if module == "torch._utils" and name == "_rebuild_parameter":
            return lambda data, requires_grad, hooks, *rest: data
        if module == "torch" and name in _STORAGE_DTYPES:
            return _Storage(name)
        if module == "torch" and name == "Size":
            return tuple
        raise pickle.UnpicklingError(f"unexpected {module}.{name} in a weights file")

    def persistent_load(self, pid: Any) -> np.ndarray:
        kind, storage_type, key, _location, _numel = pid[:5]
        if kind != "storage" or not isinstance(storage_type, _Storage):
            raise pickle.UnpicklingError(f"unexpected storage {pid!r}")
        if key not in self.storages:
            dtype = np.dtype(_STORAGE_DTYPES[storage_type.name])
            raw = _zip_entry(self.archive, f"{self.prefix}data/{key}", self.path).view(
                dtype.newbyteorder(">") if self.big_endian else dtype
            )
            self.storages[key] = _bf16(raw) if storage_type.name == "BFloat16Storage" else raw
        return self.storages[key]


def _rebuild_tensor(
    storage: np.ndarray, offset: int, size: tuple[int, ...], stride: tuple[int, ...], *rest: Any
) -> np.ndarray:
    if not size:
        return np.array(storage[offset], dtype=storage.dtype)
    if offset + sum((s - 1) * st for s, st in zip(size, stride)) >= len(storage):
        raise ValueError("a tensor reaches past its storage")
    item = storage.itemsize
    return np.lib.stride_tricks.as_strided(
        storage[offset:], shape=tuple(size), strides=tuple(st * item for st in stride), writeable=False
    )


def _zip_entry(archive: zipfile.ZipFile, name: str, path: Path) -> np.ndarray:
    """A stored (uncompressed) entry mapped from the file, else read into memory."""
    info = archive.getinfo(name)
    if info.compress_type == zipfile.ZIP_STORED:
        with open(path, "rb") as f:
            f.seek(info.header_offset)
            local = f.read(30)
        if local[:4] != b"PK\x03\x04":
            raise zipfile.BadZipFile(f"bad local header for {name}")
        name_len, extra_len = struct.unpack("<HH", local[26:30])
        start = info.header_offset + 30 + name_len + extra_len
        if start + info.file_size > path.stat().st_size:
            raise ValueError(f"entry {name} is cut off")
        if info.file_size == 0:
            return np.zeros(0, np.uint8)
        return np.memmap(path, dtype=np.uint8, mode="r", offset=start, shape=(info.file_size,))
    return np.frombuffer(archive.read(name), dtype=np.uint8)


def _read_torch_zip(path: Path) -> dict[str, Any]:
    with zipfile.ZipFile(path) as archive:
        pickles = [n for n in archive.namelist() if n.endswith("data.pkl")]
        if len(pickles) != 1:
            raise ValueError("not a PyTorch checkpoint (no single data.pkl)")
        prefix = pickles[0][: -len("data.pkl")]
        order = f"{prefix}byteorder"
        big = order in archive.namelist() and archive.read(order).strip() == b"big"
        with archive.open(pickles[0]) as f:
            state = _TorchUnpickler(f, archive, prefix, path, big).load()
    if not isinstance(state, dict):
        raise ValueError("the checkpoint is not a state dict")
    return state
