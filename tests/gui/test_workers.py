"""The one shared worker pool (docs/gui.md, "Background work"): a Worker is a lane whose tasks
run in order while other lanes and thumbnails proceed; results arrive on the GUI thread; the
pool is shut down when the application quits, and nothing hangs on a pool that is gone."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QObject, QThread

from vspectrum_app.gui import workers
from vspectrum_app.gui.thumbnails import ThumbnailCache
from vspectrum_app.gui.workers import Worker

pytestmark = pytest.mark.gui
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def fresh_pool(monkeypatch):
    """A pool of this test's own, so that shutting it down leaves the other tests' pool alone."""
    monkeypatch.setattr(workers, "_pool", None)
    monkeypatch.setattr(workers, "_closed", False)
    yield
    workers.shutdown()


def test_a_lane_runs_in_order_while_another_lane_proceeds(qtbot, fresh_pool):
    owner = QObject()
    a, b = Worker(owner), Worker(owner)
    gate, ran, delivered_on = threading.Event(), [], []
    a.run(lambda: gate.wait(10), lambda _: None, lambda _: None)  # lane a is busy until the gate opens
    for n in range(3):
        a.run(lambda n=n: ran.append(("a", n)), lambda _: delivered_on.append(QThread.currentThread()), lambda _: None)
    b.run(lambda: ran.append(("b", 0)) or "b done", lambda result: ran.append(result), lambda _: None)
    qtbot.waitUntil(lambda: "b done" in ran, timeout=10_000)  # b did not wait behind a
    assert [r for r in ran if r[0] == "a"] == []
    gate.set()
    qtbot.waitUntil(lambda: len(delivered_on) == 3, timeout=10_000)
    assert [r for r in ran if isinstance(r, tuple) and r[0] == "a"] == [("a", 0), ("a", 1), ("a", 2)]
    assert all(t is owner.thread() for t in delivered_on)  # callbacks run on the GUI thread


def test_an_error_arrives_as_one_sentence(qtbot, fresh_pool):
    worker, got = Worker(), []
    worker.run(lambda: 1 / 0, got.append, lambda message: got.append(("error", message)))
    qtbot.waitUntil(lambda: bool(got), timeout=10_000)
    assert got == [("error", "division by zero")]


def test_worker_shutdown_drops_queued_tasks_and_waits_for_the_running_one(qtbot, fresh_pool):
    worker, ran, gate = Worker(), [], threading.Event()

    class OpensTheGate(threading.Event):  # the running task may end only once shutdown has begun
        def wait(self, timeout=None):
            gate.set()
            return super().wait(timeout)

    worker.lane._idle = OpensTheGate()
    worker.lane._idle.set()
    worker.run(lambda: gate.wait(10) and ran.append("first"), lambda _: None, lambda _: None)
    worker.run(lambda: ran.append("queued"), lambda _: None, lambda _: None)
    worker.shutdown()
    assert ran == ["first"]


def test_after_the_pool_is_shut_down_nothing_runs_and_nothing_hangs(qtbot, fresh_pool):
    gate, ran = threading.Event(), []
    for _ in range(workers.size()):  # every thread busy, so that the lane below waits in the pool's queue
        workers.submit(gate.wait, 10)
    pool = workers._pool
    lane = Worker()
    lane.run(lambda: ran.append("late"), lambda _: None, lambda _: None)
    workers.shutdown(wait=False)  # the queued lane is dropped
    gate.set()
    for thread in list(pool._threads):
        thread.join(10)
        assert not thread.is_alive()  # the running tasks finished and their threads ended
    lane.shutdown()  # returns: the dropped lane is idle, not stuck
    lane.run(lambda: ran.append("after"), lambda _: None, lambda _: None)  # refused, not queued forever
    lane.shutdown()
    assert ran == [] and workers.submit(lambda: None) is None


def test_thumbnails_decode_on_the_shared_pool(qtbot, fresh_pool, tmp_path):
    from tests.plugins.library import make_image_bytes

    path = tmp_path / "a.jpg"
    path.write_bytes(make_image_bytes(seed=1))
    cache, names = ThumbnailCache(), []
    real_load = cache._load
    cache._load = lambda key, p: names.append(threading.current_thread().name) or real_load(key, p)
    assert cache.get("a", str(path)) is None
    cache.wait()
    qtbot.waitUntil(lambda: cache.get("a", str(path)) is not None, timeout=10_000)
    assert names and names[0].startswith("gui-worker")  # not a pool of its own


def test_a_flood_of_thumbnails_leaves_threads_for_a_search(qtbot, fresh_pool, tmp_path):
    """Thumbnails hold at most two of the pool's threads, however many are requested."""
    cache, gate, decoding = ThumbnailCache(), threading.Event(), []
    cache._load = lambda key, path: decoding.append(key) or gate.wait(10)
    try:
        for n in range(50):
            cache.get(f"t{n}", str(tmp_path / f"{n}.jpg"))
        qtbot.waitUntil(lambda: len(decoding) == 2, timeout=10_000)
        search, got = Worker(), []
        search.run(lambda: "hits", got.append, got.append)
        qtbot.waitUntil(lambda: got == ["hits"], timeout=10_000)
        assert len(decoding) == 2  # the other 48 wait in the thumbnails' lane, not in the pool
    finally:
        gate.set()
    cache.wait()
    assert len(decoding) == 50


def test_the_pool_is_shut_down_when_the_application_quits(tmp_path):
    """The real start-up path: a task queued before the window quits is finished, the pool then
    refuses work and no worker thread is left."""
    script = (
        "import threading, time\n"
        "from vspectrum_app.gui import workers\n"
        "from vspectrum_app.gui.app import main\n"
        "done = []\n"
        "workers.submit(lambda: time.sleep(0.2) or done.append(1))\n"
        "main(['vspectrum', '--exit-after-show'])\n"
        "alive = [t.name for t in threading.enumerate() if t.name.startswith('gui-worker')]\n"
        "print('result', done, workers.submit(lambda: None), alive)\n"
    )
    env = {
        **os.environ,
        "VSPECTRUM_DATA_DIR": str(tmp_path / "data"),
        "VSPECTRUM_CONFIG_DIR": str(tmp_path / "cfg"),
        "PYTHONPATH": str(ROOT),
    }
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "result [1] None []" in out.stdout
