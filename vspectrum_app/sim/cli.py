"""``vspectrum sim``: serve the simulated short-video platform on loopback."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import TYPE_CHECKING

from vspectrum_app.core.command import CommandContext

if TYPE_CHECKING:
    from vspectrum_app.sim.server import SimPlatform


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sim = sub.add_parser("sim", help="the simulated short-video platform (offline, repeatable)")
    ssub = sim.add_subparsers(dest="sim_command", metavar="ACTION")
    serve = ssub.add_parser("serve", help="serve the feed on 127.0.0.1 until stopped")
    serve.add_argument(
        "--images",
        metavar="DIR",
        help="serve this folder of images (sub-folder names are topics) instead of the workspace",
    )
    serve.add_argument("--port", type=int, default=0, help="port (default: any free one)")
    serve.add_argument(
        "--speed", type=float, default=1.0, help="virtual clock speed: 10 plays a 45 s watch in 4.5 s (default 1)"
    )
    serve.add_argument("--seed", type=int, default=0, help="the recommender's default seed")
    serve.set_defaults(func=cmd_serve)


def build_platform(args: argparse.Namespace, ctx: CommandContext) -> SimPlatform:
    """The catalogue from --images or the workspace, with the requested clock and seed."""
    from vspectrum_app.sim.catalog import Catalog
    from vspectrum_app.sim.clock import VirtualClock
    from vspectrum_app.sim.server import SimPlatform

    catalog = Catalog.from_folder(Path(args.images)) if args.images else Catalog.from_workspace(ctx.workspace())
    return SimPlatform(catalog, VirtualClock(speed=args.speed), seed=args.seed)


def cmd_serve(args: argparse.Namespace, ctx: CommandContext) -> int:
    from vspectrum_app.sim.server import SimServer

    platform = build_platform(args, ctx)
    with SimServer(platform, port=args.port) as server:
        ctx.reporter.emit("serving", url=server.url)
        ctx.reporter.log(
            f"simulated platform with {len(platform.catalog)} items at {server.url} "
            f"(clock x{args.speed:g}); Ctrl-C to stop"
        )
        if not args.events:
            print(server.url, flush=True)
        while True:
            ctx.reporter.check_cancelled()
            time.sleep(0.2)
