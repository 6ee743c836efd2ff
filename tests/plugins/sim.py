"""Fixtures for the simulated platform: a folder of topic images and a running server."""

from __future__ import annotations

import io
import random

import pytest
from PIL import Image, ImageDraw

from vspectrum_app.sim.catalog import Catalog
from vspectrum_app.sim.clock import VirtualClock
from vspectrum_app.sim.server import SimPlatform, SimServer

TOPICS = {"Hedonism": (220, 60, 60), "Universalism": (40, 150, 70), "Power": (60, 70, 200)}


def topic_image(topic: str, n: int, size=(270, 480)) -> bytes:
    """A picture per (topic, n): the topic's colour with random shapes, distinct to a
    perceptual hash from every other picture."""
    rng = random.Random(f"{topic}:{n}")
    base = TOPICS[topic]
    img = Image.new("RGB", size, base)
    draw = ImageDraw.Draw(img)
    for _ in range(14):
        x, y = rng.randrange(size[0]), rng.randrange(size[1])
        w, h = rng.randrange(30, 160), rng.randrange(30, 220)
        shade = tuple(min(255, max(0, c + rng.randrange(-120, 120))) for c in base)
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)([x, y, x + w, y + h], fill=shade)
    out = io.BytesIO()
    img.save(out, "JPEG", quality=90)
    return out.getvalue()


def make_topic_folder(root, per_topic: int):
    """``per_topic`` images per topic, in one sub-folder per topic."""
    for topic in TOPICS:
        (root / topic).mkdir(parents=True)
        for n in range(per_topic):
            (root / topic / f"{topic.lower()}{n:02d}.jpg").write_bytes(topic_image(topic, n))
    return root


@pytest.fixture(scope="session")
def topic_folder(tmp_path_factory):
    """12 images per topic: a small feed for crawls."""
    return make_topic_folder(tmp_path_factory.mktemp("sim-images"), 12)


@pytest.fixture(scope="session")
def large_topic_folder(tmp_path_factory):
    """24 images per topic: enough that a feed pulled to one topic does not run out of it
    within 30 videos (the feed does not repeat)."""
    return make_topic_folder(tmp_path_factory.mktemp("sim-images-large"), 24)


@pytest.fixture(scope="session")
def sim_catalog(topic_folder):
    return Catalog.from_folder(topic_folder)


@pytest.fixture(scope="session")
def large_sim_catalog(large_topic_folder):
    return Catalog.from_folder(large_topic_folder)


@pytest.fixture
def sim_server(sim_catalog):
    """A running simulator at real-time speed (crawls measure the page's own 2 s)."""
    with SimServer(SimPlatform(sim_catalog, VirtualClock(speed=1.0), seed=7)) as server:
        yield server
