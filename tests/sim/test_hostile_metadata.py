"""A screenshot's metadata that looks like HTML, in the simulated platform's three skins, in the
real Chromium (issue 27, item 6): shown as text, never run. The skins build each item from a
data-free <template> and put its fields in with textContent and attributes only."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from vspectrum_app.sim.catalog import Catalog
from vspectrum_app.sim.clock import VirtualClock
from vspectrum_app.sim.server import SimPlatform, SimServer, feed_url

SIM_PAGES = Path(__file__).resolve().parents[2] / "resources" / "sim"
# each would run script if it reached innerHTML (or broke out of an attribute of the old markup)
AUTHORS = [
    '"><img src=x onerror="window.__ran.push(\'img\')">',
    '"><svg onload="window.__ran.push(\'svg\')"></svg>',
    'x" onmouseover="window.__ran.push(\'attr\')" autofocus onfocus="window.__ran.push(\'focus\')" data-x="',
    "\"></a><img src=x onerror=\"window.__ran.push('a')\"><script>window.__ran.push('script')</script>",
]
CAPTION = "<iframe srcdoc=\"<script>parent.__ran.push('iframe')</script>\"></iframe> #fyp"
AUTHOR = {  # where each skin shows the author, how, and its link
    "tiktok": ("[data-e2e=video-author-uniqueid]", "{}", "a.AuthorAnchor", "/@{}"),
    "youtube": ("a.channel", "@{}", "a.channel", "/@{}"),
    "instagram": ("a.author span", "{}", "a.author", "/{}/"),
}


@pytest.fixture(scope="module")
def page(chromium):
    from playwright.sync_api import sync_playwright

    from vspectrum_app.crawl.browser import VIEWPORT, launch_options

    with sync_playwright() as pw:
        browser = pw.chromium.launch(**launch_options(chromium, headless=True))
        page = browser.new_page(viewport=VIEWPORT)
        page.add_init_script("window.__ran = []")
        yield page
        browser.close()


@pytest.fixture(scope="module")
def hostile_server(sim_catalog):
    items = [
        dataclasses.replace(it, author=AUTHORS[n % len(AUTHORS)], caption=CAPTION)
        for n, it in enumerate(sim_catalog.items)
    ]
    with SimServer(SimPlatform(Catalog(items), VirtualClock(speed=1.0), seed=7)) as server:
        yield server


@pytest.mark.parametrize("skin", ["tiktok", "youtube", "instagram"])
def test_html_in_the_author_is_shown_as_text_and_runs_nothing(page, hostile_server, skin):
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(feed_url(hostile_server.url, skin, seed=1, inject="login:2"))
    selector, shown, link, href = AUTHOR[skin]
    seen = []
    for step in range(len(AUTHORS)):
        if step:
            shown_key = page.evaluate("SIM.item.key")
            page.keyboard.press("ArrowDown")
            page.wait_for_function("before => SIM.item && SIM.item.key !== before", arg=shown_key)
        page.wait_for_selector(selector)
        page.wait_for_load_state("networkidle")  # any <img src=x> would have failed to load by now
        assert page.evaluate("window.__ran") == [] and dialogs == []
        text = page.text_content(selector)
        seen.append(text)
        author = next(a for a in AUTHORS if shown.format(a) == text)  # shown exactly, as text
        # the author's link: percent-encoded, on this site
        target = page.eval_on_selector(
            link, "a => [decodeURIComponent(a.getAttribute('href')), new URL(a.href).origin === location.origin]"
        )
        assert target == [href.format(author), True]
        assert page.evaluate("document.querySelectorAll('img, svg:not([aria-label]), iframe').length") == 0
        assert page.evaluate("document.scripts.length") == 2  # the skin's and sim.js, no other
        assert page.evaluate("document.querySelector('[data-x]')") is None
        page.evaluate("document.querySelectorAll('[data-sim-overlay]').forEach((el) => el.remove())")
        page.hover(selector)
        assert page.evaluate("window.__ran") == [] and dialogs == []
    assert len(seen) == len(AUTHORS)


def test_no_skin_builds_markup_from_data():
    for skin in ("tiktok.html", "youtube.html", "instagram.html", "sim.js"):
        code = (SIM_PAGES / skin).read_text()
        for sink in (".innerHTML =", ".outerHTML", "insertAdjacentHTML", "document.write"):
            assert sink not in code, (skin, sink)
