"""CLIP weights for the default model: download with progress, cancel and resume, verify,
or take a file the user already has.

The file goes to ``<models folder>/weights/<model>-<tag><suffix>``; ``embedder`` loads it from
there instead of asking the model hub. A download writes ``<target>.part`` and appends to it
with an HTTP Range request after an interruption; only a file whose SHA-256 matches is moved
into place, so the target's existence means "verified". Qt-free: the GUI dialog calls
``download`` in a worker thread and passes a callback and a cancel event.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import Any, Callable

from vspectrum_app.core.paths import models_dir

CHUNK = 1 << 16
HUB = os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")


@dataclass(frozen=True)
class WeightsSource:
    model: str
    pretrained: str
    url: str
    sha256: str | None  # pinned checksum; None: the server's stated checksum is used
    size: int | None = None  # bytes, shown before the download starts
    suffix: str = ".bin"

    @property
    def label(self) -> str:
        return f"{self.model} / {self.pretrained}"


# The default model of Settings (ViT-B-32 with its LAION-2B weights), as open_clip fetches it.
# SHA-256 and size pinned from public records of this exact file (not from the hub itself,
# which this build could not reach), found alike in several unrelated projects: a download
# manifest naming the hub repository and file name, a test asserting the checkpoint's
# SHA-256 together with its size of 605,219,813 bytes (read from the hub cache's LFS object),
# and research logs stating both figures. The safetensors copy of the same weights is not the
# default: no public record of its size or checksum was found.
DEFAULT = WeightsSource(
    model="ViT-B-32",
    pretrained="laion2b_s34b_b79k",
    url=f"{HUB}/laion/CLIP-ViT-B-32-laion2B-s34B-b79K/resolve/main/open_clip_pytorch_model.bin",
    sha256="1bd3c7172de5b207ceac554f5ab5266166f3b9baccc9af5989bc801016d080ad",
    size=605_219_813,
)
SOURCES = {(DEFAULT.model, DEFAULT.pretrained): DEFAULT}


class WeightsError(Exception):
    """A download or a file that cannot be used; the message says why and what to do."""


class Cancelled(Exception):
    """The user cancelled; the partial file is kept for a later resume."""


@dataclass(frozen=True)
class Progress:
    done: int  # bytes on disk (including those from before a resume)
    total: int | None  # bytes in all, when the server says
    speed: float  # bytes per second in this session
    phase: str = "download"  # "download", "verify" or "build" (the lean install's encoder, onnx_build)


ProgressCallback = Callable[[Progress], None]


def source_for(model: str | None, pretrained: str | None) -> WeightsSource | None:
    return SOURCES.get((model or "", pretrained or ""))


def target_path(source: WeightsSource) -> Path:
    return models_dir() / "weights" / f"{source.model}-{source.pretrained}{source.suffix}"


def part_path(source: WeightsSource) -> Path:
    return target_path(source).with_name(target_path(source).name + ".part")


def installed_path(model: str | None, pretrained: str | None) -> Path | None:
    """The verified weights file for this model and tag, if one is in place."""
    source = source_for(model, pretrained)
    if source is None:
        return None
    path = target_path(source)
    return path if path.is_file() else None


def state(source: WeightsSource = DEFAULT) -> str:
    """'ready', 'partial' (an interrupted download can resume) or 'missing'."""
    if target_path(source).is_file():
        return "ready"
    return "partial" if part_path(source).is_file() else "missing"


def download(
    source: WeightsSource = DEFAULT,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    timeout_s: float = 30.0,
) -> Path:
    """Download (or resume) the weights, verify them and move them into place."""
    target, part = target_path(source), part_path(source)
    if target.is_file():
        return target
    part.parent.mkdir(parents=True, exist_ok=True)
    have = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(source.url, headers={"Range": f"bytes={have}-"} if have else {})
    try:
        response = urllib.request.urlopen(request, timeout=timeout_s)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have:  # nothing left to fetch: the part is complete
            return _promote(source, part, None, progress)
        raise WeightsError(
            f"The server refused the download of {source.label} (HTTP {exc.code}); "
            f"try again later or use a file you already have."
        ) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise WeightsError(
            f"Cannot reach the server for {source.label} ({reason}); check the connection "
            f"or use a file you already have."
        ) from None
    with response:
        if response.status != 206:
            have = 0  # the server ignored the range: start again
        length = response.headers.get("Content-Length")
        total = have + int(length) if length and length.isdigit() else source.size
        expected = source.sha256 or _stated_sha256(response.headers)
        started, fetched = time.monotonic(), 0
        try:
            with open(part, "ab" if have else "wb") as out:
                while True:
                    if cancel is not None and cancel.is_set():
                        raise Cancelled()
                    chunk = response.read(CHUNK)
                    if not chunk:
                        break
                    out.write(chunk)
                    fetched += len(chunk)
                    if progress:
                        elapsed = max(time.monotonic() - started, 1e-6)
                        progress(Progress(have + fetched, total, fetched / elapsed))
        except (OSError, urllib.error.URLError, ValueError) as exc:  # includes http.client.IncompleteRead
            raise WeightsError(
                f"The download of {source.label} was interrupted after {_mib(have + fetched)} "
                f"({type(exc).__name__}); start it again to resume where it stopped."
            ) from None
    if total is not None and part.stat().st_size < total:
        raise WeightsError(
            f"The download of {source.label} stopped after {_mib(part.stat().st_size)} of "
            f"{_mib(total)}; start it again to resume where it stopped."
        )
    return _promote(source, part, expected, progress)


def use_existing(file: str | Path, source: WeightsSource = DEFAULT, progress: ProgressCallback | None = None) -> Path:
    """Verify a file the user already has and copy it to where the app loads it from."""
    file = Path(file)
    if not file.is_file():
        raise WeightsError(f"{file} is not a file; choose the downloaded weights file.")
    if source.sha256:
        _check(source, file, source.sha256, progress)
    elif not looks_like_weights(file):
        raise WeightsError(
            f"{file.name} is not a model weights file (neither a PyTorch checkpoint nor "
            f"safetensors); choose {Path(source.url).name}."
        )
    target = target_path(source)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".copy")
    shutil.copyfile(file, tmp)
    os.replace(tmp, target)
    return target


def looks_like_weights(path: Path) -> bool:
    """A cheap structural check where no checksum is pinned: a PyTorch checkpoint is a zip
    archive, a safetensors file starts with the length of its JSON header."""
    import struct
    import zipfile

    if zipfile.is_zipfile(path):
        return True
    with open(path, "rb") as f:
        head = f.read(9)
    return len(head) == 9 and head[8:9] == b"{" and 0 < struct.unpack("<Q", head[:8])[0] < path.stat().st_size


def remove(source: WeightsSource = DEFAULT) -> None:
    for path in (target_path(source), part_path(source)):
        path.unlink(missing_ok=True)


def sha256_file(path: Path, progress: ProgressCallback | None = None) -> str:
    digest, done, total, started = hashlib.sha256(), 0, path.stat().st_size, time.monotonic()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
            done += len(chunk)
            if progress:
                progress(Progress(done, total, done / max(time.monotonic() - started, 1e-6), "verify"))
    return digest.hexdigest()


def _promote(source: WeightsSource, part: Path, expected: str | None, progress: ProgressCallback | None) -> Path:
    try:
        if expected:
            _check(source, part, expected, progress)
        elif not looks_like_weights(part):
            raise WeightsError(
                f"The server sent something that is not a weights file for {source.label}; "
                f"try again later or use a file you already have."
            )
    except WeightsError:
        part.unlink(missing_ok=True)  # resuming would only append to corrupt bytes
        raise
    target = target_path(source)
    os.replace(part, target)
    return target


def _check(source: WeightsSource, path: Path, expected: str, progress: ProgressCallback | None) -> None:
    actual = sha256_file(path, progress)
    if actual != expected.lower():
        raise WeightsError(
            f"The file for {source.label} is damaged or not the right one (its SHA-256 is "
            f"{actual[:12]}..., expected {expected[:12]}...); it was not used."
        )


def _stated_sha256(headers: Message) -> str | None:
    """The model hub states a large file's SHA-256 as its (linked) ETag."""
    for name in ("X-Linked-ETag", "ETag"):
        value = (headers.get(name) or "").strip().strip('"').removeprefix("W/").strip('"')
        if re.fullmatch(r"[0-9a-fA-F]{64}", value):
            return value.lower()
    return None


def _mib(n: int) -> str:
    return f"{n / (1 << 20):.1f} MiB"


def open_clip_args(model: str, pretrained: str | None) -> dict[str, Any]:
    """Given a file instead of a tag, open_clip no longer applies the tag's image
    preprocessing and activation; these arguments restore them (call only where open_clip
    is imported)."""
    from open_clip import pretrained as op

    cfg = op.get_pretrained_cfg(model, pretrained or "") or {}
    names = {
        "mean": "image_mean",
        "std": "image_std",
        "interpolation": "image_interpolation",
        "resize_mode": "image_resize_mode",
    }
    args = {arg: cfg[key] for key, arg in names.items() if cfg.get(key)}
    if cfg.get("quick_gelu"):
        args["force_quick_gelu"] = True
    return args
