"""Issue 29 items 2, 3 and 14: bar plots show negative values whole, every plot (the Library's
coverage chart included) takes the app's plot style however it was opened, and View > Theme
switches the window and the plots between light and dark, remembered in the settings."""

from __future__ import annotations

import pyqtgraph as pg
import pytest
from PySide6.QtWidgets import QApplication, QDialog

from tests.gui.fakes import FakeJob
from vspectrum_app.core import events
from vspectrum_app.core.settings import Settings
from vspectrum_app.gui import plots, style
from vspectrum_app.gui.plots import BarPlot
from vspectrum_app.library.ops import Coverage, LibraryStats, Stats, ValueCoverage

pytestmark = pytest.mark.gui


@pytest.fixture
def light(qapp):
    saved = qapp.palette(), qapp.styleSheet()
    style.apply(qapp, "light")
    yield
    style.apply(qapp, "light")
    qapp.setPalette(saved[0])
    qapp.setStyleSheet(saved[1])


def _y_view(plot) -> tuple[float, float]:
    QApplication.processEvents()
    return tuple(plot.plotItem.vb.viewRange()[1])


@pytest.mark.parametrize("y_range", [None, (0, 100)])
def test_a_negative_bar_and_its_whole_interval_are_shown(qtbot, light, y_range):
    # persona Fig. 8: an I_avg of -7.5 % with its interval -40 to 25 was a sliver at 0, half its interval cut
    bars = BarPlot()
    qtbot.addWidget(bars)
    bars.resize(500, 360)
    bars.show()
    bars.set_groups(["gpt", "claude"], {"I_avg": [(-7.5, -40.0, 25.0), (12.0, 2.0, 22.0)]}, y_range=y_range)
    low, high = _y_view(bars)
    assert low <= -40 and high >= 25
    assert low > -75  # fitted to the data (and a margin), not a fixed -100
    assert bars.zero_line is not None and bars.zero_line.value() == 0  # the zero line bars leave from


def test_positive_scores_keep_their_0_to_100_axis(qtbot, light):
    bars = BarPlot()
    qtbot.addWidget(bars)
    bars.set_groups(["Power"], {"m": [(40.0, 30.0, 50.0)]})
    low, high = _y_view(bars)
    assert -6 < low <= 0 and 100 <= high < 106  # pyqtgraph pads a little


def test_the_coverage_chart_takes_the_plot_style_even_opened_first(window, workspace, light, qtbot):
    pg.setConfigOptions(background="k", foreground="d")  # pyqtgraph's own black, as before any plot existed
    pane = window.show_pane("Library")
    values = {v: ValueCoverage(n, n / 8, {}) for v, n in (("Power", 3), ("Hedonism", 5))}
    stats = LibraryStats(8, 0, {}, {}, {}, Coverage(None, "calibrated", 0.2, "ks", values))
    job = FakeJob(Stats())
    job.send(events.Result(data=stats))  # over the wire, read back as the job's typed result
    pane._plot_coverage(job)
    dialog = pane._coverage_plot
    qtbot.addWidget(dialog)
    (plot,) = dialog.findChildren(pg.PlotWidget)
    assert plot.backgroundBrush().color().name() == plots.THEMES["light"]["background"]
    assert plot.getAxis("left").textPen().color().name() == plots.THEMES["light"]["foreground"]
    assert isinstance(dialog, QDialog)


def test_view_theme_switches_window_and_plots_and_is_remembered(window, light, qtbot):
    bars = BarPlot("a plot open before the switch")
    qtbot.addWidget(bars)
    menu = [a.menu() for a in window.menuBar().actions() if a.text() == "&View"][0]
    assert [a.text() for a in menu.actions()[0].menu().actions()] == ["&System", "&Light", "&Dark"]
    window.theme_actions["dark"].trigger()
    assert style.is_dark() and window.theme_actions["dark"].isChecked()
    assert QApplication.instance().palette().window().color().name() == style.DARK["window"]
    assert bars.backgroundBrush().color().name() == plots.THEMES["dark"]["background"]
    assert pg.mkColor(bars.plotItem.titleLabel.opts["color"]).name() == plots.THEMES["dark"]["foreground"]
    assert Settings.load().get("theme") == "dark"
    window.theme_actions["light"].trigger()
    assert bars.backgroundBrush().color().name() == plots.THEMES["light"]["background"]
    assert Settings.load().get("theme") == "light"


NAMES = ["openai:gpt-4o-2024-08-06", "anthropic:claude-sonnet-4", "demo:vlm-1", "demo:vlm-2"]


def test_the_radar_keeps_room_for_its_legend_below_its_title_and_names(qtbot, light):
    # issue 29 item 15: during a run (a short plot above the answers table) four models' legend
    # was laid over the radar's value names and its title
    from vspectrum_app.gui.plots import RadarPlot

    radar = RadarPlot("Scores per value (live)")
    qtbot.addWidget(radar)
    radar.resize(260, 200)
    radar.show()
    radar.set_series({n: {"Power": (50.0, 40.0, 60.0), "Hedonism": (0.0, 0.0, 30.0)} for n in NAMES})
    radar.resize(260, 200)  # what a splitter asks for; the plot's minimum wins
    QApplication.processEvents()
    assert radar.height() >= radar.minimumHeight() > 200
    title = radar.plotItem.titleLabel.sceneBoundingRect()
    legend = radar.legend.sceneBoundingRect()
    view = radar.plotItem.vb.sceneBoundingRect()
    assert title.bottom() <= view.top() + 1 and view.bottom() <= legend.top() + 1
    for label, _ in radar._value_labels:
        box = label.sceneBoundingRect()
        assert not box.intersects(title) and not box.intersects(legend), label.toPlainText()


def test_a_score_of_zero_is_marked_on_the_live_bar_chart(qtbot, light):
    # a 0 % bar has no height: without a mark the chart looked empty while the radar showed the point
    bars = BarPlot()
    qtbot.addWidget(bars)
    bars.set_groups(["Power", "Hedonism"], {"m": [(0.0, 0.0, 30.0), (None, None, None)]})
    (marks,) = bars.value_marks
    xs, ys = marks.getData()
    assert list(ys) == [0.0] and len(xs) == 1  # the measured value only; the unmeasured one stays a gap


def test_value_map_labels_of_close_points_do_not_cover_each_other(qtbot, light):
    # issue 29 item 7: two models with close scores had their names printed over each other
    from vspectrum_app.gui.plots import MapPlot

    plot = MapPlot("Value map", "openness - conservation", "transcendence - enhancement")
    qtbot.addWidget(plot)
    plot.resize(420, 360)
    plot.show()
    qtbot.waitExposed(plot)
    names = ["openai:gpt-4o-2024-08-06", "anthropic:claude-sonnet-4", "demo:vlm-1"]
    plot.set_points({n: (5.0 + i * 0.3, 4.0 + i * 0.2, None, None) for i, n in enumerate(names)})
    QApplication.processEvents()
    boxes = [label.sceneBoundingRect() for label, _, _ in plot.labels]
    overlaps = [(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1 :] if a.intersects(b)]
    assert not overlaps
