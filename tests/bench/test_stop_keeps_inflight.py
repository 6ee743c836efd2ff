"""Issue 14 item 11: the first Ctrl-C waits for the calls in flight and stores their answers;
resume does not send them again."""

from __future__ import annotations

import itertools
import json
import signal
import threading
import time
from pathlib import Path

from tests.bench.test_engine import _signature_of_logged, _signature_of_request, reddish
from tests.bench.test_run_lock import start_bench_run
from tests.plugins.vlm_server import FakeVLMServer
from vspectrum_app.bench.store import RunStore
from vspectrum_app.cli import main
from vspectrum_app.providers.config import ProviderConfig, ProviderStore

ROOT = Path(__file__).resolve().parents[2]
GENEROUS_S = 120


def test_first_sigint_stores_the_answers_in_flight(indexed_workspace, tiny_clip, monkeypatch):
    gate = threading.Event()
    seen = itertools.count()

    def gated(req):  # the first requests answer at once; the rest wait until the test opens the gate
        if next(seen) >= 3:
            gate.wait(GENEROUS_S)
        return reddish(req)

    server = FakeVLMServer(answer=gated).start()
    child = None
    try:
        ProviderStore().save(
            ProviderConfig(
                name="lab",
                kind="openai-compatible",
                base_url=server.openai_base_url,
                models=["m1"],
                concurrency=4,
                requests_per_minute=10_000,
                timeout_s=GENEROUS_S,
                max_retries=2,
            )
        )
        root, child = start_bench_run(indexed_workspace, tiny_clip, monkeypatch)
        deadline = time.monotonic() + GENEROUS_S
        while len(server.log) < 5 and time.monotonic() < deadline:  # calls now waiting at the server
            time.sleep(0.05)
        assert len(server.log) >= 5
        child.send_signal(signal.SIGINT)
        for line in child.stdout:
            if "stopping after the work in flight" in json.loads(line).get("message", ""):
                break
        time.sleep(0.5)  # let a stop that drops calls in flight do so before their answers come
        gate.set()
        child.stdout.read()
        assert child.wait(GENEROUS_S) == 130
        received = {_signature_of_request(r) for r in server.log if r.status == 200}
        from vspectrum_app.library.catalog import open_workspace

        with open_workspace(root) as ws:
            stored = {
                _signature_of_logged(json.loads(r[0])) for r in ws.db.execute("SELECT request_json FROM bench_calls")
            }
            run_id = RunStore(ws).runs()[-1]["id"]
        assert received <= stored  # every answer that was on its way is kept
        before = len(server.log)
        assert main(["-w", str(root), "bench", "resume", run_id]) == 0
        resent = [r for r in server.log[before:] if _signature_of_request(r) in received]
        assert resent == []
    finally:
        gate.set()
        if child is not None and child.poll() is None:
            child.kill()
            child.wait()
        server.stop()
