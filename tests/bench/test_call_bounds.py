"""What one call may cost in time and space, and what several processes may send together:
the provider's timeout is a total deadline (a trickling server is cut there and the breaker
counts it), answers have a size cap, and the rate limit holds for the whole machine.
Real SDKs against the test VLM server."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.plugins.vlm_server import VALID_KEY, FakeVLMServer
from vspectrum_app.providers.clients import MAX_ANSWER_CHARS, Message, Params
from vspectrum_app.providers.config import ProviderConfig, ProviderStore
from vspectrum_app.providers.errors import RequestRejected, Retryable
from vspectrum_app.providers.ratelimit import SharedWindow
from vspectrum_app.providers.service import ModelService

ROOT = Path(__file__).resolve().parents[2]
HANG_GUARD_S = 30  # turns a hang into a failure; not a speed assertion


@pytest.fixture
def server(monkeypatch):
    s = FakeVLMServer().start()
    monkeypatch.setenv("VSPECTRUM_API_KEY_LAB", VALID_KEY)
    yield s
    s.stop()


def _provider(server, **kw):
    config = ProviderConfig(
        name="lab", kind=kw.pop("kind", "openai-compatible"), base_url=server.openai_base_url, models=["m1"], **kw
    )
    if config.kind == "anthropic":
        config.base_url = server.url
    ProviderStore().save(config)
    return config


def _call(service, **kw):
    ask = service.call("lab", "m1", [Message("user", "Do you like it?")], Params(max_tokens=5), **kw)
    return asyncio.run(asyncio.wait_for(_closing(service, ask), HANG_GUARD_S))


async def _closing(service, coro):
    try:
        return await coro
    finally:
        await service.close()


@pytest.mark.parametrize("kind", ["openai-compatible", "anthropic"])
def test_timeout_is_a_total_deadline_that_the_breaker_counts(server, kind):
    """A server sending one byte every 0.4 s would take minutes for its ~300-byte answer; an
    inter-byte timeout never fires. The deadline (1 s) cuts it as a timeout."""
    _provider(server, kind=kind, timeout_s=1.0, max_retries=1)
    server.inject(("trickle", 0.4))
    service = ModelService(shared_limits=False)
    with pytest.raises(Retryable) as err:
        _call(service)
    assert err.value.unreachable  # counted as no answer
    assert service.lines["lab"].breaker.consecutive == 1
    assert len(server.log) == 1


def test_a_huge_answer_is_refused_unread_and_not_retried(server):
    _provider(server, timeout_s=30.0, max_retries=4)
    server.inject(("huge", 3_000_000))
    with pytest.raises(RequestRejected, match="larger than 1024 KiB"):
        _call(ModelService(shared_limits=False))
    assert len(server.log) == 1  # refused, not asked again (and paid again)


def test_a_long_answer_is_kept_up_to_the_cap_and_flagged(server):
    _provider(server, timeout_s=30.0)
    server.inject(("huge", 200_000))
    result = _call(ModelService(shared_limits=False))
    assert result.completion.truncated and len(result.completion.text) == MAX_ANSWER_CHARS
    assert result.completion.text.startswith("Yes. xxx")


def test_shared_window_counts_every_process_start(tmp_path):
    a, b = SharedWindow("lab http://x", tmp_path), SharedWindow("lab http://x", tmp_path)
    assert a.claim(2, 60.0, 100.0) == 0 and b.claim(2, 60.0, 101.0) == 0
    assert a.claim(2, 60.0, 102.0) == pytest.approx(58.0)  # the oldest start leaves the window at 160
    assert b.claim(2, 60.0, 160.5) == 0  # 100 has left; 101 and 160.5 are in
    assert SharedWindow("other http://x", tmp_path).claim(2, 60.0, 102.0) == 0  # another provider: its own window


SENDER = """
import asyncio, sys
from vspectrum_app.providers.clients import Message, Params
from vspectrum_app.providers.service import ModelService

async def main():
    service = ModelService()
    service.on_wait = lambda provider, seconds, cause, reason: print("waiting", cause, flush=True)
    for i in range(8):
        await service.call("lab", "m1", [Message("user", f"q{i}")], Params(max_tokens=5))
        print("sent", flush=True)

asyncio.run(main())
"""


def test_two_processes_on_one_provider_keep_its_limit_together(server, tmp_path):
    """Two processes at 5/min each want 8 calls: together they may start 5 in the first minute.
    Counted per window: once both wait for the limit, the server has seen exactly 5."""
    _provider(server, requests_per_minute=5, timeout_s=10.0)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "VSPECTRUM_API_KEY_LAB": VALID_KEY}
    procs = [
        subprocess.Popen([sys.executable, "-c", SENDER], env=env, stdout=subprocess.PIPE, text=True, cwd=tmp_path)
        for _ in range(2)
    ]
    try:
        waiting = []
        for p in procs:
            for line in p.stdout:  # each process says when the limit holds it
                if line.startswith("waiting"):
                    waiting.append(line.split()[1])
                    break
        assert waiting == ["requests", "requests"]
        time.sleep(1.0)  # anything sent past the limit would have arrived by now
        assert len(server.log) == 5
    finally:
        for p in procs:
            p.kill()
            p.wait()
