"""The persona loop's own overhead: a 100-scroll trial on the accelerated simulator, real
Chromium, the real OpenAI SDK against the test VLM server (which answers after a set
latency, like a hosted model), Simple strategy.

Baseline, measured in the same run: the time the trial cannot avoid, i.e. the model calls
it made (timed around each call) plus the virtual clock's waits (capture moment and
watches, divided by the clock speed). Overhead = wall / baseline - 1. Trials per hour are
what one machine runs at that clock speed and model latency, one session at a time.

    python -m perf.persona_loop [--scrolls 100] [--speeds 10,50] [--latency 0.5]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="perf.persona_loop")
    parser.add_argument("--scrolls", type=int, default=100)
    parser.add_argument("--speeds", default="10,50")
    parser.add_argument("--latency", type=float, default=0.5, help="the model's answer time (s)")
    parser.add_argument("--watch", type=float, default=45.0)
    args, _ = parser.parse_known_args(argv)

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    os.environ["VSPECTRUM_API_KEY_BENCH"] = "sk-test-VALIDKEY0123456789abcdef"
    from tests.plugins.sim import make_topic_folder
    from tests.plugins.vlm_server import VALID_KEY, FakeVLMServer
    from vspectrum_app.library.catalog import open_workspace
    from vspectrum_app.persona.agent import run_session
    from vspectrum_app.persona.asker import ModelAsker
    from vspectrum_app.persona.deciders import ModelDecider
    from vspectrum_app.persona.feeds import BrowserFeed
    from vspectrum_app.persona.personas import Persona
    from vspectrum_app.persona.prompts import PromptTemplates
    from vspectrum_app.persona.store import SessionConfig, SessionStore
    from vspectrum_app.providers.config import ProviderConfig
    from vspectrum_app.sim.catalog import Catalog
    from vspectrum_app.sim.clock import VirtualClock
    from vspectrum_app.sim.server import SimPlatform, SimServer

    def red_lover(req) -> str:  # watches the red (Hedonism) pictures
        r, g, b = req.image_rgb_mean()
        return "{'decision': '%s', 'reason': 'r', 'trait_num': 'NA'}" % ("yes" if r > g + 40 and r > b + 40 else "no")

    persona = Persona(
        "Hedonist", ("I love parties", "I live for fun", "red is my colour", "festivals"), values=("Hedonism",)
    )
    assert VALID_KEY == os.environ["VSPECTRUM_API_KEY_BENCH"]
    vlm = FakeVLMServer(answer=red_lover, latency_s=args.latency).start()
    provider = ProviderConfig(
        name="bench",
        kind="openai-compatible",
        base_url=vlm.openai_base_url,
        models=["m"],
        requests_per_minute=10_000,
        timeout_s=30,
        max_retries=3,
    )
    print(f"  {args.scrolls}-scroll trial, model latency {args.latency:g} s, watch {args.watch:g} s on a yes")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            catalog = Catalog.from_folder(make_topic_folder(Path(tmp) / "img", 60))
            for speed in (float(s) for s in args.speeds.split(",")):
                with (
                    SimServer(SimPlatform(catalog, VirtualClock(speed=speed))) as server,
                    open_workspace(Path(tmp) / f"ws-{speed:g}") as ws,
                ):
                    cfg = SessionConfig(
                        persona=persona.to_json(),
                        strategy="simple",
                        provider="bench",
                        model="m",
                        trials=1,
                        scrolls=args.scrolls,
                        window=args.scrolls // 2,
                        watch_s=args.watch,
                        prompt=PromptTemplates().render("simple", persona),
                        time_scale=speed,
                    )
                    session = SessionStore(ws).create(cfg)
                    asker = ModelAsker(provider, "m")
                    model_s = []

                    def timed_ask(image, prompt):
                        start = time.perf_counter()
                        try:
                            return asker(image, prompt)
                        finally:
                            model_s.append(time.perf_counter() - start)

                    feed = BrowserFeed(platform="sim", session_id=session, skin="tiktok", sim_base=server.url)
                    feed.start_trial(0, 0)  # browser start-up and first page load: not the loop's
                    start = time.perf_counter()
                    run_session(ws, session, feed, ModelDecider(timed_ask, "simple"))
                    wall = time.perf_counter() - start
                    feed.close()
                    asker.close()
                    steps = SessionStore(ws).steps(session)
                yes = sum(s.decision == "yes" for s in steps)
                clock_s = (len(steps) * cfg.capture_at_s + yes * args.watch) / speed
                baseline = sum(model_s) + clock_s
                print(
                    f"  clock x{speed:<4g} wall {wall:6.1f} s = model {sum(model_s):5.1f} s + clock {clock_s:5.1f} s"
                    f" + loop {wall - baseline:5.1f} s ({yes} watched); wall/baseline {wall / baseline:.2f}, "
                    f"loop {1000 * (wall - baseline) / len(steps):.0f} ms/video; "
                    f"{3600 / wall:.1f} trials/hour",
                    flush=True,
                )
                # the same trial at clock x1 (the paper's real time): the model and the loop as
                # measured, the clock's waits at full length
                real = sum(model_s) + (wall - baseline) + clock_s * speed
                print(
                    f"             at clock x1 this trial would take {real / 60:.0f} min: "
                    f"{3600 / real:.1f} trials/hour",
                    flush=True,
                )
    finally:
        vlm.stop()


if __name__ == "__main__":
    main(sys.argv[1:])
