"""Stalls are never silent: the rate limiter says when and why it waits, the run engine turns
that into a typed "waiting" event, and its ETA counts the limit (issue 12, "silent stalls")."""

from __future__ import annotations

import asyncio

from tests.plugins.library import make_image_bytes
from tests.plugins.vlm_server import VALID_KEY, FakeVLMServer
from vspectrum_app.bench.prompts import PromptSet
from vspectrum_app.bench.runner import RunEngine
from vspectrum_app.bench.store import RunStore
from tests.plugins.reporting import RecordingReporter
from vspectrum_app.library.importer import add_image
from vspectrum_app.providers.clients import Params
from vspectrum_app.providers.config import ProviderConfig, ProviderStore
from vspectrum_app.providers.ratelimit import RateLimiter


class SimulatedClock:
    """A clock that only moves when the limiter sleeps: waits are exact and instant."""

    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)


def test_limiter_reports_each_wait_with_its_cause():
    clock = SimulatedClock()
    limiter = RateLimiter(2, clock=clock)
    limiter.sleep = clock.sleep
    waits = []
    limiter.on_wait = lambda seconds, cause: waits.append((round(seconds, 2), cause))

    async def three():
        for _ in range(3):
            await limiter.acquire()

    asyncio.run(three())
    assert waits == [(60.25, "requests")]  # the third start waits for the first to leave the window
    assert limiter.describe() == "2/min"


def test_limiter_seconds_for_counts_the_window():
    clock = SimulatedClock()
    limiter = RateLimiter(60, clock=clock)
    limiter.sleep = clock.sleep
    assert limiter.seconds_for(0) == 0 and limiter.seconds_for(60) == 0  # a fresh window takes 60 at once

    async def burst():
        for _ in range(60):
            await limiter.acquire()

    asyncio.run(burst())
    clock.now = 10.0
    # the 61st start waits for the first to leave (at 60.25), the 121st a whole window more
    assert limiter.seconds_for(1) == 60.25 - 10
    assert limiter.seconds_for(61) == 60.25 - 10 + 60.25


def _one_item_run(workspace) -> str:
    image_id, _ = add_image(workspace, make_image_bytes(seed=1), source_name="a.jpg")
    sha = workspace.db.execute("SELECT sha256 FROM images WHERE id = ?", (image_id,)).fetchone()[0]
    return RunStore(workspace).create_run(
        {"prompts": PromptSet().to_json(), "params": Params().to_json(), "targets_label": ["fakelab:m1"]},
        [
            {
                "target": "fakelab:m1",
                "mode": "vlm",
                "value": "Power",
                "keyword": "money",
                "rank": 1,
                "image_id": image_id,
                "image_sha256": sha,
                "repeat": 0,
            }
        ],
    )


def test_a_retry_wait_is_an_event_with_its_cause(workspace, monkeypatch):
    """The server says 429 with Retry-After: 1 once: the wait is announced with the reason."""
    monkeypatch.setenv("VSPECTRUM_API_KEY_FAKELAB", VALID_KEY)
    server = FakeVLMServer().start()
    try:
        ProviderStore().save(
            ProviderConfig(name="fakelab", kind="openai-compatible", base_url=server.openai_base_url, models=["m1"])
        )
        server.inject(("429", 1))
        reporter = RecordingReporter()
        outcome = RunEngine(workspace, _one_item_run(workspace), reporter).execute()
    finally:
        server.stop()
    assert outcome.status == "done"
    waiting = reporter.of_type("waiting")
    assert [(w["provider"], w["cause"], w["seconds"]) for w in waiting] == [("fakelab", "retry", 1.0)]
    assert waiting[0]["message"].startswith("waiting 1 s before retrying a call to fakelab: ")
    assert "rate limited" in waiting[0]["message"]


def test_run_emits_a_waiting_event_naming_the_limit(workspace, monkeypatch):
    """One item = three calls against a limit of 2 per minute: the third call waits a window."""
    monkeypatch.setenv("VSPECTRUM_API_KEY_FAKELAB", VALID_KEY)
    server = FakeVLMServer().start()
    try:
        ProviderStore().save(
            ProviderConfig(
                name="fakelab",
                kind="openai-compatible",
                base_url=server.openai_base_url,
                models=["m1"],
                requests_per_minute=2,
            )
        )
        run_id = _one_item_run(workspace)
        clock = SimulatedClock()
        original = RateLimiter.__init__

        def simulated(self, *args, **kwargs):
            original(self, *args, **kwargs, clock=clock)
            self.sleep = clock.sleep

        monkeypatch.setattr(RateLimiter, "__init__", simulated)
        reporter = RecordingReporter()
        outcome = RunEngine(workspace, run_id, reporter).execute()
    finally:
        server.stop()
    assert outcome.status == "done" and outcome.sent == 3
    waiting = reporter.of_type("waiting")
    assert [(w["provider"], w["cause"], w["limit"], w["seconds"]) for w in waiting] == [
        ("fakelab", "requests", "2/min", 60.2)
    ]
    assert waiting[0]["message"] == "waiting for the rate limit of fakelab: 2/min, next call in 60 s"
    status = reporter.of_type("run_status")[-1]
    assert (status["items_done"], status["items_total"], status["calls_sent"], status["calls_left"]) == (1, 1, 3, 0)
