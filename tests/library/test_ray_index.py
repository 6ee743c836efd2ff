"""``library index --ray``: embedding on Ray Data actors, stored like the local pipeline.

The Ray tests start a local Ray instance (2 CPUs) once for the module and shut it down;
they are skipped when the optional Ray extra is not installed."""

from __future__ import annotations

import importlib.util
import json
import sys

import numpy as np
import pytest

from tests.plugins.library import make_image_bytes
from vspectrum_app.cli import main
from vspectrum_app.core.jobs import Cancelled, NullReporter
from vspectrum_app.library.catalog import open_workspace
from vspectrum_app.library.importer import add_image
from vspectrum_app.library.indexer import build_index, index_path, load_vectors
from vspectrum_app.library.ray_index import MISSING, build_index_on_ray

HAVE_RAY = importlib.util.find_spec("ray") is not None


def test_without_ray_the_flag_says_so_in_one_sentence(monkeypatch, workspace, tiny_clip, capsys):
    monkeypatch.setitem(sys.modules, "ray", None)  # importing ray now raises ImportError
    add_image(workspace, make_image_bytes(seed=1), source_name="a.jpg")
    clip = ["--clip-config", tiny_clip.config, "--clip-checkpoint", tiny_clip.checkpoint]
    assert main(["-w", str(workspace.root), "library", "index", "--ray", *clip]) != 0
    err = capsys.readouterr().err.strip()
    assert MISSING in err and "Traceback" not in err and len(err.splitlines()) == 1
    assert workspace.db.execute("SELECT COUNT(*) FROM embeddings").fetchone()[0] == 0


@pytest.fixture(scope="module")
def local_ray():
    if not HAVE_RAY:
        pytest.skip("the optional Ray extra is not installed (pip install '.[ray]')")
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


def _library(ws, n):
    return [
        add_image(ws, make_image_bytes(seed=300 + i, color=(11 * i % 255, 40, 160)), source_name=f"r{i}.jpg")[0]
        for i in range(n)
    ]


class _StopAfter(NullReporter):
    """Raises Cancelled once ``n`` images are stored, as a killed driver would stop there."""

    def __init__(self, n):
        super().__init__()
        self.n, self.done = n, 0

    def progress(self, done, total, message=""):
        self.done = done

    def check_cancelled(self):
        if self.done >= self.n:
            raise Cancelled()


@pytest.mark.slow
@pytest.mark.timeout(1200)  # two datasets, each starting two actors that import torch: minutes on a busy machine
def test_ray_embeds_like_the_local_path_and_resumes_without_re_embedding(
    local_ray, workspace, tiny_clip, tmp_path, capsys
):
    ids = _library(workspace, 10)
    ws_path = workspace.image_path(
        *workspace.db.execute("SELECT sha256, ext FROM images WHERE id = ?", (ids[-1],)).fetchone()
    )
    ws_path.write_bytes(b"not an image")  # one unreadable file: reported, not stored
    with pytest.raises(Cancelled):  # the driver stops after the first batches are stored
        build_index_on_ray(workspace, tiny_clip, reporter=_StopAfter(4), batch_size=2, backend="torch")
    key = tiny_clip.model_key
    stored_ids, stored = load_vectors(workspace, key)
    assert 4 <= len(stored_ids) < 9
    clip = ["--clip-config", tiny_clip.config, "--clip-checkpoint", tiny_clip.checkpoint]
    assert (
        main(
            [
                "-w",
                str(workspace.root),
                "library",
                "index",
                "--ray",
                "--batch-size",
                "2",
                "--backend",
                "torch",
                "--json",
                *clip,
            ]
        )
        == 1
    )
    report = json.loads(capsys.readouterr().out)  # exit 1: one image failed
    assert report["embedded"] == 9 - len(stored_ids) and report["failed"] == 1  # only what the catalog lacked
    assert workspace.db.execute("SELECT COUNT(*) FROM embeddings").fetchone()[0] == 9
    got_ids, got = load_vectors(workspace, key)
    assert got_ids.tolist() == ids[:-1]
    kept = np.isin(got_ids, stored_ids)
    assert np.array_equal(got[kept], stored)  # the first run's vectors were not recomputed

    # the same vectors as the local pipeline, and the index holds them all
    local = open_workspace(tmp_path / "local")
    _library(local, 9)
    build_index(local, tiny_clip, batch_size=4, backend="torch")  # "auto" may pick per machine
    assert np.allclose(load_vectors(local, key)[1], got, atol=1e-5)
    from vspectrum_app.library.indexer import open_index

    index, repaired = open_index(workspace, key, got.shape[1])
    assert repaired == 0 and index.labels() == set(ids[:-1]) and index_path(workspace, key).exists()
    hit, _ = index.query(got[3:4], 1)
    assert hit[0, 0] == ids[3]
