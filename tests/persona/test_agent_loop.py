"""The agent loop against in-test doubles of the feed and the model (the real browser and
HTTP server are exercised in test_persona_sim.py)."""

from __future__ import annotations

import random

import pytest

from tests.plugins.reporting import RecordingReporter
from vspectrum_app.persona.agent import FeedItem, run_session
from vspectrum_app.persona.deciders import ControlDecider, ModelDecider
from vspectrum_app.persona.personas import builtin_personas
from vspectrum_app.persona.prompts import PromptTemplates
from vspectrum_app.persona.report import session_report
from vspectrum_app.persona.store import SessionConfig, SessionStore

TOPICS = ["pet care", "cars", "cooking", "football"]


class TinyFeed:
    """A seeded feed that serves more of the topics watched longer (a test double)."""

    replays = True

    def __init__(self):
        self.served = []

    def start_trial(self, trial, seed):
        self.rng = random.Random(seed)
        self.weights = {t: 1.0 for t in TOPICS}
        self.n = 0
        self._pick()

    def _pick(self):
        topics, weights = zip(*self.weights.items())
        self.topic = self.rng.choices(topics, weights)[0]
        self.item = FeedItem(f"v{self.n}-{self.topic}", url=f"http://sim/v/{self.n}", topics=[self.topic])
        self.n += 1
        self.served.append(self.item.item_id)

    def current(self):
        return self.item

    def capture(self, at_s):
        return f"screenshot of {self.topic}".encode()

    def watch(self, seconds):
        self.weights[self.topic] += seconds / 10

    def next(self):
        self._pick()

    def profile(self):
        total = sum(self.weights.values())
        return {"weights": {k: v / total for k, v in self.weights.items()}}

    def close(self):
        pass


def pet_lover(image: bytes, prompt: str) -> str:
    return "{'decision': '%s', 'reason': 'r', 'trait_num': 'NA'}" % ("yes" if b"pet" in image else "no")


def _session(workspace, strategy="simple", trials=3, scrolls=40, window=20):
    persona = next(p for p in builtin_personas() if p.name == "Pet owner")
    cfg = SessionConfig(
        persona=persona.to_json(),
        strategy=strategy,
        trials=trials,
        scrolls=scrolls,
        window=window,
        seed=7,
        prompt=PromptTemplates().render("simple", persona),
        provider="test",
        model="pet-lover",
    )
    return SessionStore(workspace).create(cfg)


def test_feed_shifts_towards_the_watched_topic(workspace):
    session = _session(workspace)
    run_session(workspace, session, TinyFeed(), ModelDecider(pet_lover, "simple"))
    report = session_report(workspace, session)
    assert report["steps"] == 120 and report["trials_done"] == 3
    assert report["last_rate"] > report["first_rate"]
    assert report["i_avg"] > 0
    assert report["served_related"]["last_rate"] > report["served_related"]["first_rate"]
    assert max(report["learnt_profile"], key=report["learnt_profile"].get) == "pet care"


def test_control_policy_gives_no_shift_within_noise(workspace):
    # A random policy's yes-rate does not depend on what is served, so its change is noise.
    session = _session(workspace, trials=20, scrolls=60, window=30)
    run_session(workspace, session, TinyFeed(), ControlDecider(rate=0.4, seed=3))
    report = session_report(workspace, session)
    lo, hi = report["i_avg_ci95"]
    assert lo <= 0 <= hi


def test_unparsed_answers_are_counted_and_scroll_on(workspace):
    session = _session(workspace, trials=1, scrolls=10, window=5)
    answers = iter(["Hard to say, it depends."] * 7 + ["I'm sorry, but I can't role-play this persona."] * 3)
    run_session(workspace, session, TinyFeed(), ModelDecider(lambda i, p: next(answers), "simple"))
    report = session_report(workspace, session)
    assert report["decisions"] == {"yes": 0, "no": 0, "unparsed": 7, "refusal": 3}
    assert all(s.dwell_s == 0 for s in SessionStore(workspace).steps(session))


def test_resume_after_crash_replays_the_feed_and_asks_nothing_twice(workspace):
    session = _session(workspace, trials=2, scrolls=30, window=10)
    asked = []

    def crashing(image, prompt):
        asked.append(image)
        if len(asked) == 42:
            raise RuntimeError("power cut")
        return pet_lover(image, prompt)

    with pytest.raises(RuntimeError):
        run_session(workspace, session, TinyFeed(), ModelDecider(crashing, "simple"))
    assert len(SessionStore(workspace).steps(session)) == 41

    calls_before = len(asked)
    reporter = RecordingReporter()
    run_session(workspace, session, TinyFeed(), ModelDecider(crashing, "simple"), reporter)
    steps = SessionStore(workspace).steps(session)
    assert len(steps) == 60
    assert len(asked) - calls_before == 60 - 41  # only the missing videos were asked
    assert [(s.trial, s.position) for s in steps] == [(t, p) for t in range(2) for p in range(30)]

    # The same seed and actions give the same feed: an uninterrupted run serves the same videos.
    fresh = _session(workspace, trials=2, scrolls=30, window=10)
    run_session(workspace, fresh, TinyFeed(), ModelDecider(pet_lover, "simple"))
    assert [s.item_id for s in SessionStore(workspace).steps(fresh)] == [s.item_id for s in steps]
