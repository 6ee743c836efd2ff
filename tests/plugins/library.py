"""Fixtures for workspaces and generated images."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from vspectrum_app.library.catalog import open_workspace


@pytest.fixture
def workspace(tmp_path):
    ws = open_workspace(tmp_path / "ws")
    yield ws
    ws.close()


def make_image_bytes(color=(200, 30, 30), size=(64, 96), fmt="JPEG", seed: int | None = None) -> bytes:
    """A small real image; with ``seed``, a distinct noisy picture (so content hashes differ)."""
    img = Image.new("RGB", size, color)
    if seed is not None:
        import random

        rng = random.Random(seed)
        px = img.load()
        for _ in range(size[0] * size[1] // 4):
            px[rng.randrange(size[0]), rng.randrange(size[1])] = (
                rng.randrange(256),
                rng.randrange(256),
                rng.randrange(256),
            )
    out = io.BytesIO()
    img.save(out, fmt)
    return out.getvalue()


@pytest.fixture
def image_folder(tmp_path):
    """A folder of 6 distinct JPEG/PNG/WebP images."""
    folder = tmp_path / "shots"
    folder.mkdir()
    fmts = [("JPEG", "jpg"), ("PNG", "png"), ("WEBP", "webp")]
    for i in range(6):
        fmt, ext = fmts[i % 3]
        (folder / f"shot{i}.{ext}").write_bytes(make_image_bytes(seed=i, fmt=fmt))
    return folder


def stored_embeddings(ws, n=40, key="fuzz-model", dim=16):
    """A model with ``n`` stored unit vectors (no CLIP needed: the index is built from the table)."""
    from vspectrum_app.library.importer import add_image

    rng = np.random.default_rng(0)
    with ws.transaction() as conn:
        conn.execute(
            "INSERT INTO clip_models(model_key, spec_json, dim, created_at) VALUES (?, '{}', ?, 'now')", (key, dim)
        )
    ids = [add_image(ws, make_image_bytes(seed=i), source_name=f"{i}.jpg")[0] for i in range(n)]
    vectors = rng.normal(size=(n, dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    with ws.transaction() as conn:
        conn.executemany(
            "INSERT INTO embeddings(image_id, model_key, vector) VALUES (?, ?, ?)",
            [(i, key, v.tobytes()) for i, v in zip(ids, vectors)],
        )
    return key, ids, vectors
