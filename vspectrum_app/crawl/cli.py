"""``vspectrum crawl``: capture short videos from a feed in a watched browser.

    vspectrum crawl --platform sim --skin tiktok --count 20 --headless
    vspectrum crawl --platform tiktok --count 100          # a visible window; log in once
    vspectrum crawl check --platform tiktok --html saved.html
    vspectrum crawl sessions
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from vspectrum_app.core.operations import add_parser
from vspectrum_app.crawl.adapters import PLATFORMS
from vspectrum_app.crawl.ops import Crawl


def register(sub) -> None:
    crawl = add_parser(sub, Crawl, help="capture screenshots 2 s into each video of a short-video feed",
                       description="Scroll a feed in a browser you can watch and capture each video 2 s in.")
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


def cmd_crawl(args, ctx) -> int:
    from vspectrum_app.core.errors import UserError
    from vspectrum_app.core.settings import Settings
    from vspectrum_app.crawl import browser as browsers
    from vspectrum_app.crawl.session import CrawlConfig, Crawler

    if not args.platform:
        raise UserError("say where to crawl: --platform sim|tiktok|youtube|instagram")
    if args.count < 1:
        raise UserError("--count must be at least 1")
    settings = Settings.load()
    headless = (not browsers.has_display()) if args.headless is None else args.headless
    is_sim = args.platform == "sim"
    ws = ctx.workspace()
    with contextlib.ExitStack() as stack:
        start_url = args.url
        if is_sim and not start_url:
            from vspectrum_app.sim.server import feed_url

            base = args.sim_url or stack.enter_context(_sim_server(args, ctx)).url
            start_url = feed_url(base, args.skin, seed=args.seed, inject=args.inject)
        cfg = CrawlConfig(
            platform=args.platform, skin=args.skin if is_sim else None, count=args.count, start_url=start_url,
            headless=headless,
            delay_s=args.delay if args.delay is not None else (0.0 if is_sim else float(settings.get("crawl_delay_s"))),
            wall_timeout_s=args.wall_timeout if args.wall_timeout is not None else (0.0 if headless else 300.0),
            browser=args.browser or settings.get("browser_executable"))
        report = Crawler(ws, cfg, ctx.reporter).run()
    result = report.as_dict()
    if report.stored and not args.no_index:
        result["index"] = _embed(ws, report.stored, args, ctx)
    ctx.print_json(result) if (ctx.json or args.events) else _print_summary(report)
    return 0 if report.status == "done" else 1


def _sim_server(args, ctx):
    from vspectrum_app.sim.cli import build_platform
    from vspectrum_app.sim.server import SimServer

    platform = build_platform(args, ctx)
    ctx.reporter.log(f"simulated platform with {len(platform.catalog)} items")
    return SimServer(platform).start()


def _embed(ws, image_ids, args, ctx) -> str:
    """Embed the new captures now; a model that cannot load leaves them for `library index`."""
    from vspectrum_app.library.cli import clip_spec_from_args
    from vspectrum_app.library.embedder import ClipModelUnavailable
    from vspectrum_app.library.indexer import ensure_embedded

    try:
        done = ensure_embedded(ws, image_ids, clip_spec_from_args(args), ctx.reporter)
    except ClipModelUnavailable as exc:
        ctx.reporter.log(f"captures kept but not embedded ({exc}); run `vspectrum library index` later", "warning")
        return "skipped"
    return f"{done.embedded} embedded"


def _print_summary(report) -> None:
    print(f"crawl {report.session_id}: {report.status}; {len(report.stored)} stored, {report.duplicates} duplicates, "
          f"{report.flagged} flagged, {report.positions} videos seen"
          + (f"; {report.message}" if report.message else ""))


def cmd_check(args, ctx) -> int:
    from playwright.sync_api import sync_playwright

    from vspectrum_app.core.settings import Settings
    from vspectrum_app.crawl import browser as browsers
    from vspectrum_app.crawl.adapters import Adapter

    adapter = Adapter.load(args.check_platform)
    executable = browsers.find_browser(args.browser or Settings.load().get("browser_executable"))
    with sync_playwright() as pw:
        if args.html:
            profile = None
            browser = pw.chromium.launch(executable_path=executable, headless=True, args=browsers.LAUNCH_ARGS
                                         + (["--no-sandbox"] if browsers.is_root() else []))
            page = browser.new_page(viewport=browsers.VIEWPORT)
            page.goto(args.html.resolve().as_uri())
        else:
            profile = browsers.profile_dir(args.check_platform)
            browser, page = browsers.launch(pw, executable, profile, headless=not browsers.has_display())
            page.goto(args.check_url)
            page.wait_for_timeout(3000)
        result = adapter.check(page)
        browser.close()
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


def cmd_sessions(args, ctx) -> int:
    from vspectrum_app.crawl.store import CrawlStore

    rows = CrawlStore(ctx.workspace()).sessions()
    if ctx.json or args.events:
        ctx.print_json(rows)
        return 0
    for r in rows:
        print(f"{r['id']}  {r['platform']:<9} {r['skin'] or '':<9} {r['status']:<8} {r['stored']}/{r['target']}"
              + (f"  {r['message']}" if r["message"] else ""))
    return 0
