"""The plots' own geometry: what pyqtgraph would silently clip."""

from __future__ import annotations

import pytest

from PySide6.QtWidgets import QApplication

from vspectrum_app.gui.plots import RadarPlot

pytestmark = pytest.mark.gui


@pytest.mark.parametrize("size", [(260, 240), (254, 377), (330, 300), (430, 380), (700, 500)])  # (254, 377): tall
def test_radar_value_names_stay_inside_the_plot_at_every_width(qtbot, size):
    # value names keep their size in pixels while the rings scale with the widget: a fixed
    # view range cut "Benevolence" at the Benchmark pane's 1024 px layout; a tall one (the pane at
    # 1024x640) needs the ranges set together, or the locked aspect shrinks the first
    radar = RadarPlot()
    qtbot.addWidget(radar)
    radar.resize(*size)
    radar.show()
    qtbot.waitExposed(radar)
    QApplication.processEvents()  # the view applies a new range on its next update
    view = radar.plotItem.vb.sceneBoundingRect().adjusted(-1, -1, 1, 1)  # 1 px for rounding
    outside = [label.toPlainText() for label, _ in radar._value_labels if not view.contains(label.sceneBoundingRect())]
    assert outside == [], outside


def test_a_legend_laid_out_wide_is_laid_out_again_when_the_plot_narrows(qtbot):
    from vspectrum_app.gui.plots import BarPlot

    bars = BarPlot()
    qtbot.addWidget(bars)
    bars.resize(900, 400)
    bars.show()
    qtbot.waitExposed(bars)
    names = ["openai:gpt-4o-2024-08-06", "anthropic:claude-sonnet-4"]
    bars.set_groups(["Power", "Hedonism"], {n: [(50.0, 40.0, 60.0), (60.0, 50.0, 70.0)] for n in names})
    assert bars.legend.columnCount == 2  # side by side at 900 px
    bars.resize(260, 400)  # the Benchmark pane's bar chart at 1024x640
    QApplication.processEvents()
    assert bars.legend.columnCount == 1
    assert sorted(label.text for _, label in bars.legend.items) == sorted(names)


@pytest.mark.parametrize("width", [240, 254, 300])  # the Benchmark pane's bar chart at 1024x640
@pytest.mark.parametrize("filled_at", ["the same width", "1280x720 first"])
def test_the_last_bar_group_stays_inside_the_widget_beside_a_legend(qtbot, width, filled_at):
    # two short model names side by side were wider than the room beside the y axis: the
    # legend widened the view's grid column and cut off the last value's bars and label; and
    # a legend laid out at 1280x720 held the plot at that width when the window shrank
    from vspectrum_app.core.values import SCHWARTZ_VALUES
    from vspectrum_app.gui.plots import BarPlot

    bars = BarPlot()
    qtbot.addWidget(bars)
    bars.resize(382 if filled_at == "1280x720 first" else width, 377)
    bars.show()
    qtbot.waitExposed(bars)
    groups = {n: [(70.0, 60.0, 80.0)] * len(SCHWARTZ_VALUES) for n in ("demo:vlm-1", "demo:vlm-2")}
    bars.set_groups(list(SCHWARTZ_VALUES), groups)
    bars.resize(width, 377)
    QApplication.processEvents()
    assert bars.plotItem.vb.sceneBoundingRect().right() <= width
    assert bars.legend.sceneBoundingRect().right() <= width
