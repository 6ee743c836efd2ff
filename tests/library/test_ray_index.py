"""``library index --ray``: embedding on Ray Data actors, stored like the local pipeline.

The Ray tests start a local Ray instance (2 CPUs) once for the module and shut it down, or a
two-node cluster of separate processes (the last test); they are skipped when the optional Ray
extra is not installed. They live in one file so that pytest-xdist runs them on one worker
(make test: --dist loadfile): two Ray instances at once would overload 2 cores."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

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


@pytest.fixture(scope="module", autouse=True)
def own_home(tmp_path_factory):
    """Ray keeps state in the home folder: a local ``ray.init()`` writes ~/.ray/auth_token, and a
    ``ray start --head`` that finds one turns token authentication on while ``ray start
    --address`` does not, so the worker node was refused (InvalidAuthToken) on any machine where
    Ray had run before. Each module run gets a home of its own; the user's is never touched."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HOME", str(tmp_path_factory.mktemp("home")))
        yield


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


# -- a real cluster shape on one machine ---------------------------------------------------------------
# A head and a worker node started as separate processes (`ray start --head`, `ray start --address`),
# the index built through `--ray ADDRESS`, the worker killed while it holds a batch, and the run
# finishing with every image stored once. Which batch runs when is made deterministic with named
# pipes: the images after the first FIRST are FIFOs in the workspace, so an actor that reaches one
# blocks in its read until the test opens the gate. The test waits until the first FIRST are stored
# (both actors are then blocked on a FIFO, one of them on the worker node), kills the worker node's
# whole process tree with SIGKILL, then opens the gate.
ROOT = Path(__file__).resolve().parents[2]
N, FIRST = 12, 6  # images; the first FIRST are plain files, the rest FIFOs behind the gate
BATCH = 2


def _free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def _node_ports() -> list[str]:
    """Ports of the services each node starts; two nodes on one machine must not share them."""
    names = ["--dashboard-agent-listen-port", "--dashboard-agent-grpc-port", "--runtime-env-agent-port"]
    names += ["--metrics-export-port"]
    return [arg for name, port in zip(names, _free_ports(len(names))) for arg in (name, str(port))]


def _ray(log: Path, *args: str, env: dict[str, str]) -> subprocess.Popen:
    """``ray start --block ARGS`` in a session of its own, its output in ``log``; returns once the
    node is up. A start whose raylet gave up waiting for its agents (they import slowly on a busy
    machine) is killed and tried again, twice at most."""
    for attempt in range(3):
        with open(log, "wb") as out:
            # the node runs this interpreter (the same venv, as every node of a cluster must)
            proc = subprocess.Popen(
                [sys.executable, "-m", "ray.scripts.scripts", "start", "--block", *args, *_node_ports()],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,  # its processes share this session id, whatever their process group
            )
        deadline = time.monotonic() + 300
        # read its log rather than ask the cluster: a probe that imports ray takes the CPU the node's
        # agents need to start in time
        while b"Ray runtime started" not in log.read_bytes() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.5)
        if b"Ray runtime started" in log.read_bytes():
            return proc
        _kill_session(proc)
    raise AssertionError(log.read_text(errors="replace")[-3000:])


def _session_runs(proc: subprocess.Popen, name: str) -> bool:
    """Whether a process of the session ``proc`` leads has ``name`` in its command line."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                sid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[3])
                if sid == proc.pid and name.encode() in (entry / "cmdline").read_bytes():
                    return True
            except (OSError, IndexError, ValueError):
                continue
    return False


def _kill_session(proc: subprocess.Popen) -> None:
    """SIGKILL to every process of the session ``proc`` leads: the node's raylet, its agents and its actors."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[3]) == proc.pid:
                    os.kill(int(entry.name), signal.SIGKILL)
            except (OSError, IndexError, ValueError):
                continue
    proc.wait(timeout=30)


class Gate:
    """Serves each FIFO's image bytes, again and again (a retried batch reads it anew), once opened."""

    def __init__(self, fifos: dict[Path, bytes]):
        self.opened, self.stop = threading.Event(), threading.Event()
        self.threads = [threading.Thread(target=self._serve, args=item, daemon=True) for item in fifos.items()]
        for t in self.threads:
            t.start()

    def _serve(self, fifo: Path, data: bytes) -> None:
        self.opened.wait()
        while not self.stop.is_set():
            try:
                fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)  # ENXIO while no reader has it open
            except OSError:
                time.sleep(0.05)
                continue
            os.set_blocking(fd, True)
            try:
                os.write(fd, data)
            except BrokenPipeError:  # the reader died mid-read: serve the retry
                pass
            finally:
                os.close(fd)
            time.sleep(0.2)  # let the reader see EOF before the next open

    def close(self) -> None:
        self.stop.set()
        self.opened.set()


def _stored(db: Path) -> int:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30) as conn:
        return conn.execute("SELECT COUNT(*) FROM embeddings").fetchone()[0]


@pytest.mark.slow
@pytest.mark.timeout(900)  # two nodes and two actors importing torch: minutes on a busy machine
def test_a_worker_node_killed_mid_run_loses_and_repeats_no_image(workspace, tiny_clip):
    if not HAVE_RAY:
        pytest.skip("the optional Ray extra is not installed (pip install '.[ray]')")
    ids, fifos = [], {}
    for i in range(N):
        data = make_image_bytes(seed=500 + i, color=(17 * i % 255, 90, 200))
        image_id, *_ = add_image(workspace, data, source_name=f"c{i}.jpg")
        ids.append(image_id)
        if i >= FIRST:
            sha, ext = workspace.db.execute("SELECT sha256, ext FROM images WHERE id = ?", (image_id,)).fetchone()
            path = workspace.image_path(sha, ext)
            path.unlink()
            os.mkfifo(path)
            fifos[path] = data
    gate = Gate(fifos)
    temp = tempfile.mkdtemp(prefix="vsray", dir="/tmp")  # short: Ray's socket paths have a length limit
    (port,) = _free_ports(1)
    # the nodes and the driver import this checkout (the head ships it to the workers as a py_module too)
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "PYTHONPATH": path}
    # a raylet gives its agents seconds to start (Python imports: slow on a busy machine); where Ray reads them, more
    env.update(RAY_raylet_start_wait_time_s="300", RAY_agent_register_timeout_ms="300000")
    common = ["--num-cpus", "1", "--disable-usage-stats", "--temp-dir", temp]
    common += ["--object-store-memory", "80000000"]  # the least Ray accepts; the vectors are small
    nodes: list[subprocess.Popen] = []
    driver = None
    try:
        head = ["--head", "--port", str(port), "--include-dashboard", "false"]
        nodes.append(_ray(Path(temp) / "head.log", *head, *common, env=env))
        worker = ["--address", f"127.0.0.1:{port}"]  # one node at a time: two starting at once strain 2 cores
        nodes.append(_ray(Path(temp) / "worker.log", *worker, *common, env=env))
        clip = ["--clip-config", tiny_clip.config, "--clip-checkpoint", tiny_clip.checkpoint]
        driver = subprocess.Popen(
            [sys.executable, "-m", "vspectrum_app", "-w", str(workspace.root), "library", "index"]
            + ["--ray", f"127.0.0.1:{port}", "--batch-size", str(BATCH), "--backend", "torch", "--json", *clip],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        # mid-run: a batch stored, then nothing more for a while (every actor waits on a FIFO),
        # and the worker node holds an actor
        deadline, last, since = time.monotonic() + 300, -1, time.monotonic()
        while (now := _stored(workspace.root / "catalog.sqlite")) == 0 or now != last or time.monotonic() - since < 5:
            if now != last:
                last, since = now, time.monotonic()
            assert driver.poll() is None, driver.communicate()
            assert time.monotonic() < deadline, "the plain images were not stored in time"
            time.sleep(0.2)
        assert 0 < last < N and _session_runs(nodes[1], "MapWorker")
        _kill_session(nodes[1])  # its raylet, its actor and the `ray start` that watched them
        gate.opened.set()
        out, err = driver.communicate(timeout=300)
        assert driver.returncode == 0, err
    finally:
        gate.close()
        if driver is not None and driver.poll() is None:
            driver.kill()
            driver.wait()
        for node in reversed(nodes):
            _kill_session(node)
        shutil.rmtree(temp, ignore_errors=True)
    report = json.loads(out)
    # nothing lost, nothing stored twice: each image counted once, the catalog and the index hold each once
    assert report["embedded"] == N and report["failed"] == 0, report
    assert _stored(workspace.root / "catalog.sqlite") == N
    from vspectrum_app.library.indexer import load_vectors, open_index

    got_ids, vectors = load_vectors(workspace, tiny_clip.model_key)
    assert sorted(got_ids.tolist()) == ids
    index, repaired = open_index(workspace, tiny_clip.model_key, vectors.shape[1])
    assert repaired == 0 and index.labels() == set(ids)
