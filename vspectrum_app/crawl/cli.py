"""``vspectrum crawl``: capture short videos from a feed in a watched browser.

vspectrum crawl --platform sim --skin tiktok --count 20 --headless
vspectrum crawl --platform tiktok --count 100          # a visible window; log in once
vspectrum crawl check --platform tiktok --html saved.html
vspectrum crawl sessions
"""

from __future__ import annotations

import argparse
from pathlib import Path

from vspectrum_app.core.command import CommandContext
from vspectrum_app.core.operations import add_parser
from vspectrum_app.core.protocol import CAPTURE_AT_S
from vspectrum_app.crawl.adapters import PLATFORMS
from vspectrum_app.crawl.ops import Crawl


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    crawl = add_parser(
        sub,
        Crawl,
        help=f"capture screenshots {CAPTURE_AT_S:g} s into each video of a short-video feed",
        description=f"Scroll a feed in a browser you can watch and capture each video {CAPTURE_AT_S:g} s in.",
    )
    crawl.set_defaults(func=cmd_crawl)
    csub = crawl.add_subparsers(dest="crawl_command", metavar="ACTION")
    check = csub.add_parser("check", help="report which of an adapter's selectors match a page")
    check.add_argument("--platform", choices=PLATFORMS, required=True, dest="check_platform")
    where = check.add_mutually_exclusive_group(required=True)
    where.add_argument("--html", type=Path, help="a saved page")
    where.add_argument("--url", dest="check_url", help="a live page (opens the watched browser with your profile)")
    check.add_argument("--browser", metavar="PATH")
    check.set_defaults(func=cmd_check)
    sessions = csub.add_parser("sessions", help="list crawl sessions")
    sessions.add_argument("--json", action="store_true")
    sessions.set_defaults(func=cmd_sessions)


def cmd_crawl(args: argparse.Namespace, ctx: CommandContext) -> int:
    from vspectrum_app.crawl import ops

    params = ctx.params(Crawl, args)
    result = ops.run(params, ctx.workspace(), ctx.reporter)
    ctx.show(params, result, lambda: ops.summary(result))
    return 0 if result.status == "done" else 1


def cmd_check(args: argparse.Namespace, ctx: CommandContext) -> int:
    from playwright.sync_api import sync_playwright

    from vspectrum_app.crawl import browser as browsers
    from vspectrum_app.crawl.adapters import Adapter

    adapter = Adapter.load(args.check_platform)
    executable = browsers.find_browser(args.browser or ctx.settings.get("browser_executable"))
    with sync_playwright() as pw:
        if args.html:
            browser = pw.chromium.launch(**browsers.launch_options(executable, headless=True))
            page = browser.new_page(viewport=browsers.VIEWPORT)
            page.goto(args.html.resolve().as_uri())
            result = adapter.check(page)
            browser.close()
        else:
            profile = browsers.profile_dir(args.check_platform)
            context, page = browsers.launch(pw, executable, profile, headless=not browsers.has_display())
            page.goto(args.check_url)
            page.wait_for_timeout(3000)
            result = adapter.check(page)
            context.close()
    if ctx.json or args.events:
        ctx.print_json(result)
    else:
        print(f"{adapter.platform} adapter ({result['selectors_file']}) on {result['url']}")
        for selector, n in result["selectors"].items():
            print(f"  {'OK ' if n > 0 else ('BAD' if n < 0 else '-- ')} {n:3d}  {selector}")
        for name, value in result["item"].items():
            print(f"  {name:14s} {value!r}")
        print(f"  flags          {', '.join(k for k, v in result['flags'].items() if v) or 'none'}")
    return 0


def cmd_sessions(args: argparse.Namespace, ctx: CommandContext) -> int:
    from vspectrum_app.crawl.store import CrawlStore

    rows = CrawlStore(ctx.workspace()).sessions()
    if ctx.json or args.events:
        ctx.print_json(rows)
        return 0
    for r in rows:
        print(
            f"{r['id']}  {r['platform']:<9} {r['skin'] or '':<9} {r['status']:<8} {r['stored']}/{r['target']}"
            + (f"  {r['message']}" if r["message"] else "")
        )
    return 0
