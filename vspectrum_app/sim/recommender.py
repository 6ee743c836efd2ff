"""The simulator's recommender: transparent, seeded, driven by dwell time and likes.

The user profile is a vector in the catalogue's topic space. After each video it decays a
little and moves towards the item by the viewer's *engagement*: 0 for a skip (which also
pushes away slightly), rising linearly to 1 at ``full_watch_s`` of dwell, plus a bonus for
a like. The next item is, with probability ``explore``, a uniformly random unseen one
(exploration); otherwise it is sampled from a softmax over profile . item among unseen items
(exploitation). A new viewer gets a cold start, as on the real sites: exploration falls
linearly from 1 to ``explore`` over the first ``warmup`` videos, so the first videos of a
persona session show a varied feed and the adaptation shows in its later ones. All randomness comes from one ``random.Random(seed)``, and engagement is
rounded to a tenth, so the same seed and the same actions give the same feed even when
dwell times measured by a browser jitter by a fraction of a second.
"""

from __future__ import annotations

import math
import random
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from vspectrum_app.sim.catalog import Catalog, Item


@dataclass(frozen=True)
class RecommenderConfig:
    explore: float = 0.15  # share of random picks (after the warm-up)
    warmup: int = 20  # videos over which exploration falls from 1 to ``explore``
    temperature: float = 0.08  # softmax temperature over cosine scores
    skip_s: float = 3.0  # dwell at or below this is a skip
    full_watch_s: float = 30.0  # dwell at which engagement reaches 1
    skip_penalty: float = 0.15  # how far a skip pushes the profile away from the item
    like_bonus: float = 0.5
    decay: float = 0.97  # per video: old interests fade


class Recommender:
    def __init__(self, catalog: Catalog, seed: int, config: RecommenderConfig | None = None):
        self.catalog, self.seed = catalog, int(seed)
        self.config = config or RecommenderConfig()
        self.rng = random.Random(self.seed)
        self.profile: np.ndarray = np.zeros(catalog.matrix.shape[1], dtype=np.float32)
        self.history: list[dict[str, Any]] = []  # served items and what the viewer did
        self._unseen = list(range(len(catalog)))

    # -- serving ------------------------------------------------------------------------
    def next_item(self) -> Item:
        if not self._unseen:  # everything served: start over, as real feeds repeat
            self._unseen = list(range(len(self.catalog)))
        if self.rng.random() < self.explore_rate() or not self.profile.any():
            pick = self.rng.randrange(len(self._unseen))
            how = "explore"
        else:
            scores = self.catalog.matrix[self._unseen] @ self.profile
            weights = np.exp((scores - scores.max()) / self.config.temperature)
            pick = _sample(weights, self.rng.random())
            how = "exploit"
        index = self._unseen.pop(pick)
        item = self.catalog.items[index]
        self.history.append({"key": item.key, "how": how, "dwell_s": None, "liked": False, "engagement": None})
        return item

    def explore_rate(self) -> float:
        c = self.config
        cold = max(0.0, 1 - len(self.history) / c.warmup) if c.warmup > 0 else 0.0
        return c.explore + (1 - c.explore) * cold

    def serve_first(self, item: Item) -> Item:
        """Open the feed on a given item (a shared link), as the real sites do."""
        index = self.catalog.items.index(item)
        if index in self._unseen:
            self._unseen.remove(index)
        self.history.append({"key": item.key, "how": "link", "dwell_s": None, "liked": False, "engagement": None})
        return item

    # -- learning -----------------------------------------------------------------------
    def feedback(self, key: str, dwell_s: float, liked: bool = False) -> None:
        """The viewer left ``key`` after ``dwell_s`` virtual seconds (and maybe liked it)."""
        item = self.catalog.by_key.get(key)
        if item is None:
            return  # an injected item (ad, test frame): not part of the catalogue
        engagement = self.engagement(dwell_s)
        step = engagement + (self.config.like_bonus if liked else 0.0)
        if engagement == 0 and not liked:
            step = -self.config.skip_penalty
        self.profile = self.config.decay * self.profile + step * item.vector
        for entry in reversed(self.history):
            if entry["key"] == key and entry["dwell_s"] is None:
                entry.update(dwell_s=round(float(dwell_s), 2), liked=bool(liked), engagement=engagement)
                break

    def engagement(self, dwell_s: float) -> float:
        c = self.config
        raw = (dwell_s - c.skip_s) / (c.full_watch_s - c.skip_s)
        return round(min(max(raw, 0.0), 1.0), 1)

    # -- inspection ---------------------------------------------------------------------
    def inspect(self, recent: int = 20) -> dict[str, Any]:
        """What the recommender has learnt, in the catalogue's terms: for each topic, the
        mean affinity of the profile to that topic's items, and the topic mix of the last
        ``recent`` items served."""
        affinity = {}
        for topic in self.catalog.topics:
            rows = [i for i, it in enumerate(self.catalog.items) if topic in it.topics]
            affinity[topic] = round(float((self.catalog.matrix[rows] @ self.profile).mean()), 4)
        served_mix: dict[str, float] = {}
        last = [self.catalog.by_key[h["key"]] for h in self.history[-recent:] if h["key"] in self.catalog.by_key]
        for it in last:
            for t in it.topics:
                served_mix[t] = served_mix.get(t, 0.0) + 1 / len(last)
        return {
            "seed": self.seed,
            "config": asdict(self.config),
            "served": len(self.history),
            "profile_norm": round(float(np.linalg.norm(self.profile)), 4),
            "topic_affinity": affinity,
            "recent_topic_mix": {t: round(v, 3) for t, v in served_mix.items()},
            "history": self.history,
        }


def _sample(weights: np.ndarray, u: float) -> int:
    cumulative = np.cumsum(weights)
    total = float(cumulative[-1])
    if not math.isfinite(total) or total <= 0:
        return 0
    return min(int(np.searchsorted(cumulative, u * total, side="right")), len(weights) - 1)
