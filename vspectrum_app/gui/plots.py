"""The paper's plots in pyqtgraph: radar over the ten values with interval bands (Fig. 5),
bars with error bars (Figs. 6, 7), and export to PNG/SVG."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg

from vspectrum_app.core.values import SCHWARTZ_VALUES

pg.setConfigOptions(background="w", foreground="k", antialias=True)  # paper-like figures

SHORT = {"Self-Direction": "Self-Dir.", "Universalism": "Univ.", "Benevolence": "Benev.", "Stimulation": "Stim.",
         "Achievement": "Achiev.", "Hedonism": "Hedon.", "Conformity": "Conf.", "Tradition": "Trad.",
         "Security": "Secur."}

COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]


def _angles(n: int) -> np.ndarray:
    return np.pi / 2 - 2 * np.pi * np.arange(n) / n


class RadarPlot(pg.PlotWidget):
    """Scores 0-100 on ten spokes; per model a line and a band between interval bounds."""

    def __init__(self, title: str = "", parent=None):
        super().__init__(parent=parent, title=title)
        self.setAspectLocked(True)
        self.hideAxis("bottom")
        self.hideAxis("left")
        self.setMouseEnabled(False, False)
        self.addLegend(offset=(10, 10))
        self.curves: dict[str, pg.PlotDataItem] = {}
        self._draw_grid()

    def _draw_grid(self) -> None:
        a = _angles(len(SCHWARTZ_VALUES))
        for r in (25, 50, 75, 100):
            ring = np.append(a, a[0])
            self.plot(r * np.cos(ring), r * np.sin(ring), pen=pg.mkPen("#cccccc", width=1))
        for angle, value in zip(a, SCHWARTZ_VALUES):
            self.plot([0, 100 * math.cos(angle)], [0, 100 * math.sin(angle)], pen=pg.mkPen("#dddddd"))
            label = pg.TextItem(value, anchor=(0.5, 0.5), color="#444444")
            label.setPos(118 * math.cos(angle), 112 * math.sin(angle))
            self.addItem(label)
        self.setXRange(-135, 135)
        self.setYRange(-125, 125)

    def set_series(self, series: dict[str, dict[str, tuple[float | None, float | None, float | None]]]) -> None:
        """``series``: model -> value -> (score, ci_low, ci_high). Missing values are drawn at 0."""
        for item in list(self.curves.values()):
            self.removeItem(item)
        self.curves = {}
        a = _angles(len(SCHWARTZ_VALUES))
        for n, (model, scores) in enumerate(series.items()):
            color = COLORS[n % len(COLORS)]
            def ring(i):
                vals = np.array([(scores.get(v) or (None, None, None))[i] or 0.0 for v in SCHWARTZ_VALUES])
                closed = np.append(vals, vals[0])
                ang = np.append(a, a[0])
                return closed * np.cos(ang), closed * np.sin(ang)
            lo = pg.PlotDataItem(*ring(1), pen=pg.mkPen(color, width=0.5))
            hi = pg.PlotDataItem(*ring(2), pen=pg.mkPen(color, width=0.5))
            band = pg.FillBetweenItem(lo, hi, brush=pg.mkBrush(color + "40"))
            line = self.plot(*ring(0), pen=pg.mkPen(color, width=2), name=model, symbol="o", symbolSize=5,
                             symbolBrush=color)
            for item in (lo, hi, band):
                self.addItem(item)
            self.curves[model] = line
            self.curves[model + "#lo"], self.curves[model + "#hi"], self.curves[model + "#band"] = lo, hi, band


class BarPlot(pg.PlotWidget):
    """Grouped bars with error bars; categories on the x axis."""

    def __init__(self, title: str = "", parent=None):
        super().__init__(parent=parent, title=title)
        self.setMouseEnabled(False, False)
        self.addLegend(offset=(10, 10))
        self.bars: list[pg.GraphicsObject] = []

    def set_groups(self, categories: list[str], groups: dict[str, list[tuple[float | None, float | None, float | None]]],
                   y_range: tuple[float, float] | None = (0, 100)) -> None:
        """``groups``: series name -> per category (value, low, high)."""
        for item in self.bars:
            self.removeItem(item)
        self.bars = []
        width = 0.8 / max(len(groups), 1)
        for n, (name, values) in enumerate(groups.items()):
            x = np.arange(len(categories)) - 0.4 + width * (n + 0.5)
            heights = np.array([v[0] if v[0] is not None else 0 for v in values])
            bar = pg.BarGraphItem(x=x, height=heights, width=width * 0.9, brush=COLORS[n % len(COLORS)], name=name)
            self.addItem(bar)
            self.bars.append(bar)
            lows = np.array([(v[0] - v[1]) if v[1] is not None and v[0] is not None else 0 for v in values])
            highs = np.array([(v[2] - v[0]) if v[2] is not None and v[0] is not None else 0 for v in values])
            if lows.any() or highs.any():
                err = pg.ErrorBarItem(x=x, y=heights, bottom=lows, top=highs, beam=width * 0.4)
                self.addItem(err)
                self.bars.append(err)
        self.getAxis("bottom").setTicks([[(i, SHORT.get(c, c)) for i, c in enumerate(categories)]])
        if y_range:
            self.setYRange(*y_range)


def export_plot(plot: pg.PlotWidget, path: str) -> None:
    """PNG or SVG by the file's suffix. SVG goes through Qt's own generator: pyqtgraph's
    SVG exporter fails on some filled paths (the radar's bands)."""
    if not path.lower().endswith(".svg"):
        from pyqtgraph.exporters import ImageExporter

        exporter = ImageExporter(plot.plotItem)
        exporter.parameters()["width"] = max(800, int(plot.width()))
        exporter.export(path)
        return
    from PySide6.QtCore import QRect, QSize
    from PySide6.QtGui import QPainter
    from PySide6.QtSvg import QSvgGenerator

    size = QSize(max(plot.width(), 640), max(plot.height(), 480))
    generator = QSvgGenerator()
    generator.setFileName(path)
    generator.setSize(size)
    generator.setViewBox(QRect(0, 0, size.width(), size.height()))
    generator.setTitle(plot.plotItem.titleLabel.text or "Value-Spectrum plot")
    painter = QPainter(generator)
    try:
        plot.render(painter)
    finally:
        painter.end()
