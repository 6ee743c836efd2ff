"""The plots' own geometry: what pyqtgraph would silently clip."""

from __future__ import annotations

import pytest

from PySide6.QtWidgets import QApplication

from vspectrum_app.gui.plots import RadarPlot

pytestmark = pytest.mark.gui


@pytest.mark.parametrize("size", [(260, 240), (330, 300), (430, 380), (700, 500)])
def test_radar_value_names_stay_inside_the_plot_at_every_width(qtbot, size):
    # value names keep their size in pixels while the rings scale with the widget: a fixed
    # view range cut "Benevolence" at the Benchmark pane's 1024 px layout
    radar = RadarPlot()
    qtbot.addWidget(radar)
    radar.resize(*size)
    radar.show()
    qtbot.waitExposed(radar)
    QApplication.processEvents()  # the view applies a new range on its next update
    view = radar.plotItem.vb.sceneBoundingRect().adjusted(-1, -1, 1, 1)  # 1 px for rounding
    outside = [label.toPlainText() for label, _ in radar._value_labels
               if not view.contains(label.sceneBoundingRect())]
    assert outside == [], outside
