"""Issue 29 item 1: a crawl of a feed that shows only what the library holds stops with a
sentence after a run of duplicates, and the simulator's default material is new to the
workspace (a crawl of it stores what it was asked to), a second crawl included."""

from __future__ import annotations

import pytest

from tests.plugins.library import make_image_bytes
from vspectrum_app.core.jobs import NullReporter
from vspectrum_app.crawl import ops
from vspectrum_app.crawl.ops import Crawl
from vspectrum_app.crawl.session import CrawlConfig, Crawler
from vspectrum_app.library.importer import add_image
from vspectrum_app.sim.clock import VirtualClock
from vspectrum_app.sim.server import SimPlatform, SimServer, feed_url

pytestmark = pytest.mark.usefixtures("chromium")  # marked browser (and slow) by tests/conftest.py


def test_a_run_of_duplicates_stops_the_crawl_with_a_sentence(workspace, sim_catalog, tmp_path):
    # from video 3 on, the feed shows again what it showed two videos before: all known links
    inject = ",".join(f"dup:{p}" for p in range(2, 30))
    with SimServer(SimPlatform(sim_catalog, VirtualClock(speed=4.0), seed=7)) as server:
        cfg = CrawlConfig(
            platform="sim",
            skin="tiktok",
            count=10,
            headless=True,
            start_url=feed_url(server.url, "tiktok", seed=3, inject=inject),
            profile=str(tmp_path / "profile"),
            max_duplicates_in_row=4,
        )
        report = Crawler(workspace, cfg).run()
    assert len(report.stored) == 2 and report.duplicates == 4
    assert report.positions == 6  # not the 3 x 10 + 20 videos of the old give-up limit
    assert report.status == "stopped"
    assert report.message.startswith("stopped after 6 videos: the last 4 in a row were already in the library")
    assert "2 new captures kept" in report.message


def test_the_simulators_default_material_is_new_to_the_workspace_each_crawl(workspace, tmp_path):
    for i in range(12):  # a workspace that holds pictures already (the pilot's, in the issue)
        add_image(workspace, make_image_bytes(seed=i, size=(270, 480)), source_name=f"pilot{i}.jpg")
    params = Crawl(platform="sim", count=3, headless=True, no_index=True, speed=4.0)
    first = ops.run(params, workspace, NullReporter())
    second = ops.run(params, workspace, NullReporter())
    for result in (first, second):
        assert result.status == "done" and result.stored == 3, result
        assert result.positions <= 5, result  # new pictures: (nearly) every video is stored
    assert not set(first.image_ids) & set(second.image_ids)
