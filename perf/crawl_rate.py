"""Captures per minute on the simulated platform, over the ideal for its settings.

The ideal per video is the capture moment (2 s of the video's own clock) plus the feed's
scroll (the skins' 0.3 s slide): 60 / 2.3 = 26 captures a minute at clock speed 1. The
measured rate is taken between the first and the last capture (browser start-up excluded),
headless, no politeness delay. Goal: ratio >= 0.8.

    python -m perf.crawl_rate [--count 20] [--skin tiktok]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from datetime import datetime
from pathlib import Path

SCROLL_S = 0.3


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="perf.crawl_rate")
    parser.add_argument("--count", type=int, default=20)
    parser.add_argument("--skins", default="tiktok,youtube,instagram")
    args, _ = parser.parse_known_args(argv)

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.plugins.sim import TOPICS, topic_image
    from vspectrum_app.crawl.session import CrawlConfig, Crawler
    from vspectrum_app.library.catalog import open_workspace
    from vspectrum_app.sim.catalog import Catalog
    from vspectrum_app.sim.clock import VirtualClock
    from vspectrum_app.sim.server import SimPlatform, SimServer, feed_url

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for topic in TOPICS:
            (root / "img" / topic).mkdir(parents=True)
            for n in range(args.count):
                (root / "img" / topic / f"{n}.jpg").write_bytes(topic_image(topic, n))
        catalog = Catalog.from_folder(root / "img")
        ideal = 60 / (2.0 + SCROLL_S)
        print(f"  ideal at clock x1: {ideal:.1f} captures/min (2 s capture + {SCROLL_S} s scroll)")
        for skin in args.skins.split(","):
            with (
                SimServer(SimPlatform(catalog, VirtualClock(1.0), seed=1)) as server,
                open_workspace(root / f"ws-{skin}") as ws,
            ):
                cfg = CrawlConfig(
                    platform="sim",
                    skin=skin,
                    count=args.count,
                    headless=True,
                    start_url=feed_url(server.url, skin, seed=1),
                    profile=str(root / f"p-{skin}"),
                )
                report = Crawler(ws, cfg).run()
                times = [
                    datetime.fromisoformat(r[0])
                    for r in ws.db.execute(
                        "SELECT captured_at FROM crawl_captures WHERE outcome = 'stored' ORDER BY id"
                    )
                ]
            span = (times[-1] - times[0]).total_seconds()
            rate = 60 * (len(times) - 1) / span
            print(
                f"  {skin:<9} {len(report.stored)} captures in {span:.1f} s: {rate:.1f}/min, "
                f"ratio to ideal {rate / ideal:.2f}",
                flush=True,
            )


if __name__ == "__main__":
    main(sys.argv[1:])
