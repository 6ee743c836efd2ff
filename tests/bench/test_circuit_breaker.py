"""Issue 14 item 10: a provider that does not answer pauses the run (resumable) after a few
calls instead of being retried call after call."""

from __future__ import annotations

import socket
from collections import Counter

import pytest

from tests.bench.test_engine import reddish
from tests.plugins.vlm_server import VALID_KEY, FakeVLMServer
from vspectrum_app.bench.store import RunStore
from vspectrum_app.cli import main
from vspectrum_app.providers.config import ProviderConfig, ProviderStore
from vspectrum_app.providers.errors import Retryable
from vspectrum_app.providers.retry import FAILURES_BEFORE_PAUSE, CircuitBreaker, ProviderUnavailable

CONCURRENCY = 4


def _save(base_url, timeout_s):
    ProviderStore().save(
        ProviderConfig(
            name="lab",
            kind="openai-compatible",
            base_url=base_url,
            models=["m1"],
            concurrency=CONCURRENCY,
            requests_per_minute=10_000,
            timeout_s=timeout_s,
            max_retries=6,
        )
    )


def _bench(ws, tiny_clip, *argv):
    return main(
        [
            "-w",
            str(ws.root),
            "bench",
            *argv,
            "--clip-config",
            tiny_clip.config,
            "--clip-checkpoint",
            tiny_clip.checkpoint,
        ]
        if argv[0] == "run"
        else ["-w", str(ws.root), "bench", *argv]
    )


def test_breaker_counts_only_unanswered_calls_in_a_row():
    breaker = CircuitBreaker("lab", threshold=3)
    for _ in range(5):
        breaker.failure(Retryable("429", retry_after=1))  # the server answered
    breaker.failure(Retryable("t", unreachable=True))
    breaker.failure(Retryable("t", unreachable=True))
    breaker.success()
    breaker.failure(Retryable("t", unreachable=True))
    breaker.failure(Retryable("t", unreachable=True))
    breaker.check()
    breaker.failure(Retryable("t", unreachable=True))
    with pytest.raises(ProviderUnavailable, match="did not answer 3 calls in a row"):
        breaker.check()


def test_a_closed_port_pauses_the_run_after_a_few_attempts(indexed_workspace, tiny_clip, monkeypatch, capsys):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    _save(f"http://127.0.0.1:{port}/v1", timeout_s=5)
    monkeypatch.setenv("VSPECTRUM_API_KEY_LAB", VALID_KEY)
    assert _bench(indexed_workspace, tiny_clip, "run", "--model", "lab:m1", "--values", "Power", "--k", "2") == 1
    err = capsys.readouterr().err
    assert "did not answer" in err and "resume" in err
    sent = int(err.split(" calls sent")[0].split()[-1])
    assert sent <= FAILURES_BEFORE_PAUSE + CONCURRENCY - 1
    run = RunStore(indexed_workspace).runs()[-1]
    assert run["status"] == "stopped" and run["done"] == 0


def test_a_server_slower_than_the_timeout_is_not_sent_each_call_six_times(
    indexed_workspace, tiny_clip, monkeypatch, capsys
):
    server = FakeVLMServer(answer=reddish, latency_s=1.5).start()
    try:
        _save(server.openai_base_url, timeout_s=0.3)
        monkeypatch.setenv("VSPECTRUM_API_KEY_LAB", VALID_KEY)
        assert _bench(indexed_workspace, tiny_clip, "run", "--model", "lab:m1", "--values", "Power", "--k", "2") == 1
        assert "did not answer" in capsys.readouterr().err
        assert len(server.log) <= FAILURES_BEFORE_PAUSE + CONCURRENCY - 1
        assert max(Counter(str(r.body) for r in server.log).values()) < 6
        run_id = RunStore(indexed_workspace).runs()[-1]["id"]
        server.latency_s = 0  # the server recovers: the paused run resumes to the end
        _save(server.openai_base_url, timeout_s=5)
        assert _bench(indexed_workspace, tiny_clip, "resume", run_id) == 0
        assert RunStore(indexed_workspace).runs()[-1]["status"] == "done"
    finally:
        server.stop()
