"""The Benchmark pane's answer rows show the image's thumbnail, and a run that asks the same
image many times asks the catalog for it once (the pane used to run one query per answer)."""

from __future__ import annotations

import pytest

from tests.gui.fakes import shown_pane, use_fake_jobs
from tests.plugins.library import make_image_bytes
from vspectrum_app.core import events
from vspectrum_app.gui.context import AppContext
from vspectrum_app.gui.panes.benchmark import BenchmarkPane
from vspectrum_app.library import catalog
from vspectrum_app.library.importer import add_image

pytestmark = pytest.mark.gui


def _answer(image_id: int, target: str) -> events.Answer:
    return events.Answer(
        target=target,
        value="Power",
        keyword="money",
        image_id=image_id,
        answer_class="yes",
        answer="Yes.",
        reason="It shows wealth.",
    )


def test_answer_rows_carry_the_thumbnail_and_ask_the_catalog_once_per_image(qtbot, tmp_path, monkeypatch):
    pane = shown_pane(qtbot, BenchmarkPane, use_fake_jobs(AppContext()), tmp_path / "ws")
    ws = pane.ctx.workspace
    image_id, _ = add_image(ws, make_image_bytes(seed=5))
    asked = []
    real = catalog.image_file
    monkeypatch.setattr(catalog, "image_file", lambda ws, i: asked.append(i) or real(ws, i))
    for target in ("lab:m1", "lab:m2", "lab:m3"):
        pane._on_event(_answer(image_id, target))
    pane._on_event(_answer(999, "lab:m1"))  # an image the catalog does not have: a row without a picture
    assert pane.table.rowCount() == 4
    assert pane.table.item(0, 0).icon().isNull()
    assert all(not pane.table.item(row, 0).icon().isNull() for row in (1, 2, 3))
    assert asked == [image_id, 999]
    ws.close()
