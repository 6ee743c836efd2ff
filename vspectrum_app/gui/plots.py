"""The paper's plots in pyqtgraph: radar over the ten values with interval bands (Fig. 5),
bars with error bars (Figs. 6, 7), a scatter map, and export to PNG/SVG.

Legends sit below the plot area (a row of the plot's own layout), so they never cover a
label, a bar or a band, and they are part of every export. Unmeasured values are gaps,
never zeros."""

from __future__ import annotations

import math
import weakref

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF
from PySide6.QtGui import QFontMetrics, QPainterPath, QResizeEvent
from PySide6.QtWidgets import QGraphicsPathItem, QWidget

from vspectrum_app.bench.circumplex import ORDER as RADAR_ORDER  # spokes in Schwartz's circle order
from vspectrum_app.gui import style
from vspectrum_app.core.values import VALUE_CODES

# The plots' look in each theme: paper-like figures on white, and the same on the dark window's base.
THEMES = {
    "light": {"background": "#ffffff", "foreground": "#1c1e21", "ring": "#bbbbbb", "spoke": "#dddddd",
              "ring_text": "#777777", "label": "#333333", "zero": "#999999"},
    "dark": {"background": "#1b1d20", "foreground": "#e6e7e9", "ring": "#5c6168", "spoke": "#43474d",
             "ring_text": "#a3a8ae", "label": "#d6d8db", "zero": "#7d828a"},
}  # fmt: skip
_themed: weakref.WeakSet[pg.PlotWidget] = weakref.WeakSet()  # every plot shown, restyled when the theme changes


def theme() -> dict[str, str]:
    return THEMES["dark" if style.is_dark() else "light"]


def themed(plot: pg.PlotWidget) -> pg.PlotWidget:
    """``plot`` in the current theme, and in each theme chosen later (View > Theme)."""
    _themed.add(plot)
    _restyle(plot, hook=False)
    return plot


def _restyle(plot: pg.PlotWidget, hook: bool = True) -> None:
    t = theme()
    item = plot.plotItem
    if item is None:  # closed: pyqtgraph has let its contents go
        return
    plot.setBackground(t["background"])
    for name in ("left", "bottom", "top", "right"):
        axis = item.getAxis(name)
        axis.setPen(t["foreground"])
        axis.setTextPen(t["foreground"])
    if item.titleLabel.text:
        item.titleLabel.setText(item.titleLabel.text, color=t["foreground"])
    legend = item.legend
    if legend is not None:
        legend.setLabelTextColor(t["foreground"])
        for _, label in legend.items:
            label.setText(label.text, color=t["foreground"])
        if legend.brush().style() != pg.QtCore.Qt.BrushStyle.NoBrush:  # a legend inside the plot: its backdrop
            backdrop = pg.mkColor(t["background"])
            backdrop.setAlpha(215)
            legend.setBrush(backdrop)
    if hook and hasattr(plot, "theme_changed"):
        plot.theme_changed()  # what the plot drew in the theme's colours itself


def _apply_theme() -> None:
    t = theme()
    pg.setConfigOptions(background=t["background"], foreground=t["foreground"], antialias=True)
    import shiboken6

    for plot in list(_themed):
        if shiboken6.isValid(plot):  # a closed plot's wrapper can outlive its widget
            _restyle(plot)


_apply_theme()
style.on_theme_change(_apply_theme)

SHORT = {
    "Self-Direction": "Self-Dir.",
    "Universalism": "Univ.",
    "Benevolence": "Benev.",
    "Stimulation": "Stim.",
    "Achievement": "Achiev.",
    "Hedonism": "Hedon.",
    "Conformity": "Conf.",
    "Tradition": "Trad.",
    "Security": "Secur.",
}

CODES = VALUE_CODES

COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"]
# (tab10: ten series, e.g. the nine built-in wordings, before a colour repeats)
BAND_ALPHA = "55"  # interval bands: clearly visible, lines still readable through them
NARROW_RADAR_PX = 440  # below this width the radar uses short value names
LEGEND_ROW = 4  # below the bottom axis in PlotItem's grid (title 0, top axis 1, view 2, bottom axis 3)
LEGEND_MARGIN = 70  # the y axis and the plot's margins beside the legend, in pixels
TITLE_PX = 34  # a plot's title row
RADAR_VIEW_PX, BAR_VIEW_PX = 170, 150  # the least plot area that keeps the value names apart

Score = tuple[float | None, float | None, float | None]  # (score, ci_low, ci_high)


def _angles(n: int) -> np.ndarray:
    return np.pi / 2 - 2 * np.pi * np.arange(n) / n


def _legend_below(plot: pg.PlotWidget) -> pg.LegendItem:
    legend = pg.LegendItem(colCount=4)
    plot.plotItem.layout.addItem(legend, LEGEND_ROW, 1)
    plot.plotItem.legend = legend  # items plotted with name= register here
    return legend


def _legend_columns(legend: pg.LegendItem, entries: list[tuple[pg.GraphicsObject, str]], width: int) -> int:
    """As many columns as the widest name allows in ``width`` pixels (at most 4): a long name
    takes a row of its own rather than running off the plot."""
    widest = max([QFontMetrics(legend.font()).horizontalAdvance(name) + 50 for _, name in entries] or [1])
    return max(1, min(4, len(entries), width // widest))


def _rebuild_legend(legend: pg.LegendItem, entries: list[tuple[pg.GraphicsObject, str]], width: int) -> None:
    # The legend shares the view's column of the plot's grid: a legend wider than the room
    # beside the y axis widens that column past the widget and the right of the plot is cut
    # off, so columns are dropped until the laid-out legend fits.
    room = width - LEGEND_MARGIN
    for columns in range(_legend_columns(legend, entries, width), 0, -1):
        legend.clear()
        legend.setColumnCount(columns)
        for item, name in entries:
            legend.addItem(item, name)
        if legend.layout.preferredWidth() <= room:
            break
    legend.entries = entries  # laid out again when the plot's width changes the columns


def _reserve_legend(plot: pg.PlotWidget, view: int) -> None:
    """Keep room for the title, a ``view`` px tall plot area and the legend below: a legend of
    several rows in a short plot was laid over the plot's labels and its title."""
    legend = plot.__dict__.get("legend")
    rows = legend.layout.preferredHeight() if legend is not None and getattr(legend, "entries", None) else 0
    plot.setMinimumHeight(int(TITLE_PX + view + rows))


def _refit_legend(legend: pg.LegendItem | None, width: int) -> None:
    entries = getattr(legend, "entries", None)
    if legend is None or not entries:
        return
    too_wide = legend.columnCount > 1 and legend.layout.preferredWidth() > width - LEGEND_MARGIN
    if too_wide or _legend_columns(legend, entries, width) > legend.columnCount:
        _rebuild_legend(legend, entries, width)


def _new_width(plot: pg.PlotWidget, event: QResizeEvent | None) -> int:
    return int(plot.width() if event is None else event.size().width())  # pyqtgraph sends None itself


def _half_range(reach: float, text_px: float, view_px: float, floor: float) -> float:
    """Half the data range that shows `reach` plus a label `text_px` pixels long beyond it in a
    view `view_px` pixels across (never below `floor`; a view too small for the label gets 4x)."""
    room = 1 - 2 * text_px / view_px
    return max(floor, reach / room if room > 0.25 else 4 * reach)


class RadarPlot(pg.PlotWidget):  # type: ignore[misc]  # pyqtgraph is untyped: its classes are Any
    """Scores on ten spokes with labelled rings; per series a line, markers and an interval band
    (a whisker along the spoke where a value has no measured neighbour). ``scale`` maps values
    to the radius: (0, 100) for scores, e.g. (-50, 50) for centred profiles."""

    def __init__(self, title: str = "", parent: QWidget | None = None):
        super().__init__(parent=parent, title=title)
        self.setAspectLocked(True)
        self.hideAxis("bottom")
        self.hideAxis("left")
        self.setMouseEnabled(False, False)
        self.setMinimumSize(220, 200)
        self.legend = _legend_below(self)
        self.curves: dict[str, pg.GraphicsObject] = {}
        self.scale = (0.0, 100.0)
        self._grid: list[pg.GraphicsObject] = []
        self._draw_grid()
        themed(self)

    def theme_changed(self) -> None:
        self._draw_grid()

    def radius(self, value: float) -> float:
        lo, hi = self.scale
        return 100 * (value - lo) / (hi - lo)

    def set_scale(self, lo: float, hi: float) -> None:
        if (lo, hi) != self.scale:
            self.scale = (float(lo), float(hi))
            self._draw_grid()

    def ring_labels(self) -> list[str]:
        lo, hi = self.scale
        return [_fmt_tick(lo + (hi - lo) * f, signed=lo < 0) for f in (0.25, 0.5, 0.75, 1.0)]

    def _draw_grid(self) -> None:
        for item in self._grid:
            self.removeItem(item)
        self._grid = []
        t = theme()
        a = _angles(len(RADAR_ORDER))
        ring = np.append(a, a[0])
        for f, text in zip((25, 50, 75, 100), self.ring_labels()):
            self._grid.append(self.plot(f * np.cos(ring), f * np.sin(ring), pen=pg.mkPen(t["ring"], width=1)))
            label = pg.TextItem(text, anchor=(0, 0), color=t["ring_text"])  # just inside each ring, by the top spoke
            label.setPos(1, f)
            self.addItem(label)
            self._grid.append(label)
        self._value_labels = []
        for angle, value in zip(a, RADAR_ORDER):
            self._grid.append(
                self.plot([0, 100 * math.cos(angle)], [0, 100 * math.sin(angle)], pen=pg.mkPen(t["spoke"]))
            )
            label = pg.TextItem(
                value, anchor=(0.5 - 0.5 * math.cos(angle), 0.5 + 0.5 * math.sin(angle)), color=t["label"]
            )
            label.setToolTip(value)
            label.setPos(104 * math.cos(angle), 104 * math.sin(angle))
            self.addItem(label)
            self._grid.append(label)
            self._value_labels.append((label, value))
        for item in self._grid:
            item.setZValue(-10)  # a grid drawn again (a new theme) stays behind the series
        self._fit_labels()

    def _fit_labels(self) -> None:
        """Short value names where the plot is too narrow for the full ones, and a view wide
        enough for the widest name: labels keep their size in pixels while the rings scale, so
        the margin is solved for in data units (half-range h with 104 + px * 2h / width <= h)."""
        narrow = self.width() < NARROW_RADAR_PX
        labels = self.__dict__.get("_value_labels", [])  # resize events come before the grid exists
        if not labels:
            return
        for label, value in labels:
            label.setText(SHORT.get(value, value) if narrow else value)
        box = self.plotItem.vb
        width, height = max(box.width(), 1.0), max(box.height(), 1.0)
        text_w = max((label.textItem.boundingRect().width() for label, _ in labels), default=0.0)
        text_h = max((label.textItem.boundingRect().height() for label, _ in labels), default=0.0)
        half_x = _half_range(104, text_w, width, floor=125)
        half_y = _half_range(104, text_h, height, floor=112)
        # the aspect is locked: one scale that holds both, then each side spans its whole pixels
        # (setting the two ranges one after the other let the second shrink the first)
        px_per_unit = min(width / (2 * half_x), height / (2 * half_y))
        half_x, half_y = width / (2 * px_per_unit), height / (2 * px_per_unit)
        self.setRange(xRange=(-half_x, half_x), yRange=(-half_y, half_y), padding=0)

    def resizeEvent(self, event: QResizeEvent | None) -> None:  # noqa: N802 (Qt's name)
        # the legend before the plot takes its new width: one laid out for a wider plot
        # holds the plot at that width (its minimum), cut off on the right
        _refit_legend(self.__dict__.get("legend"), _new_width(self, event))  # none while being built
        super().resizeEvent(event)
        if "legend" in self.__dict__:
            _reserve_legend(self, RADAR_VIEW_PX)
        self._fit_labels()

    def _clear_series(self) -> None:
        for item in list(self.curves.values()):
            self.removeItem(item)
        self.curves = {}

    def set_series(self, series: dict[str, dict[str, Score]], scale: tuple[float, float] = (0, 100)) -> None:
        """``series``: name -> value -> (score, ci_low, ci_high). A value that is absent or None
        is a gap in the line, never a point at the centre."""
        self.set_scale(*scale)
        self._clear_series()
        a = _angles(len(RADAR_ORDER))
        entries = []
        for n, (name, scores) in enumerate(series.items()):
            color = COLORS[n % len(COLORS)]
            r = np.array([self._r(scores.get(v), 0) for v in RADAR_ORDER])
            closed, ang = np.append(r, r[0]), np.append(a, a[0])
            line = pg.PlotDataItem(
                closed * np.cos(ang),
                closed * np.sin(ang),
                connect="finite",
                pen=pg.mkPen(color, width=2),
                symbol="o",
                symbolSize=6,
                symbolBrush=color,
                symbolPen=color,
            )
            self.addItem(line)
            band = self._band([scores.get(v) for v in RADAR_ORDER], a, color)
            self.addItem(band)
            self.curves[name], self.curves[name + "#band"] = line, band
            entries.append((line, name))
        _rebuild_legend(self.legend, entries, self.width())
        _reserve_legend(self, RADAR_VIEW_PX)

    def set_curve(
        self,
        name: str,
        values: dict[str, float] | None,
        *,
        fine: list[tuple[float, float]] | None = None,
        color: str = "#444444",
    ) -> None:
        """A dashed overlay (e.g. a fitted circumplex curve): ``fine`` as (angle in radians on
        the plot, value) points for a smooth curve; ``values`` per value otherwise."""
        if name in self.curves:
            self.removeItem(self.curves.pop(name))
        if fine:
            ang = np.array([p[0] for p in fine])
            r = np.array([self.radius(p[1]) for p in fine])
        elif values:
            a = _angles(len(RADAR_ORDER))
            r = np.array([self.radius(values[v]) if values.get(v) is not None else np.nan for v in RADAR_ORDER])
            ang, r = np.append(a, a[0]), np.append(r, r[0])
        else:
            return
        curve = pg.PlotDataItem(
            r * np.cos(ang),
            r * np.sin(ang),
            connect="finite",
            pen=pg.mkPen(color, width=1.5, style=pg.QtCore.Qt.PenStyle.DashLine),
        )
        self.addItem(curve)
        self.curves[name] = curve

    def _r(self, score: Score | None, i: int) -> float:
        v = score[i] if score else None
        if v is None:
            return float(np.nan)
        return max(self.radius(v), 0.0)

    def _band(self, scores: list[Score | None], a: np.ndarray, color: str) -> QGraphicsPathItem:
        """The interval band: a quad between neighbouring measured values, and a whisker along
        the spoke for each measured value (so an isolated value still shows its interval)."""
        path = QPainterPath()
        n = len(scores)

        def point(i: int, j: int) -> QPointF:
            r = self._r(scores[i], j)
            return QPointF(r * math.cos(a[i]), r * math.sin(a[i]))

        measured = [s is not None and s[1] is not None and s[2] is not None for s in scores]
        for i in range(n):
            if not measured[i]:
                continue
            path.moveTo(point(i, 1))
            path.lineTo(point(i, 2))
            k = (i + 1) % n
            if measured[k]:
                quad = [point(i, 1), point(k, 1), point(k, 2), point(i, 2)]
                path.moveTo(quad[0])
                for p in quad[1:]:
                    path.lineTo(p)
                path.closeSubpath()
        item = QGraphicsPathItem(path)
        item.setBrush(pg.mkBrush(color + BAND_ALPHA))
        item.setPen(pg.mkPen(color, width=1))
        return item


class BarPlot(pg.PlotWidget):  # type: ignore[misc]  # pyqtgraph is untyped: its classes are Any
    """Grouped bars with error bars; categories on the x axis (labels may have several lines:
    the axis grows to show them all). Missing values are left out, not drawn as 0."""

    def __init__(self, title: str = "", parent: QWidget | None = None):
        super().__init__(parent=parent, title=title)
        self.setMouseEnabled(False, False)
        self.setMinimumSize(220, 200)
        self.legend = _legend_below(self)
        self.bars: list[pg.GraphicsObject] = []
        self.value_marks: list[pg.ScatterPlotItem] = []
        self.categories: list[str] = []
        self.y_shown: tuple[float, float] = (0.0, 100.0)
        self.zero_line: pg.InfiniteLine | None = None
        self.set_groups([], {})
        themed(self)

    def set_groups(
        self, categories: list[str], groups: dict[str, list[Score]], y_range: tuple[float, float] | None = (0, 100)
    ) -> None:
        """``groups``: series name -> per category (value, low, high). ``y_range`` is the least shown:
        it widens to every bar and interval (a negative I_avg included); None fits the data and 0."""
        for item in self.bars + self.value_marks:
            self.removeItem(item)
        self.bars, self.value_marks = [], []
        entries = []
        reach: list[float] = []  # every bar end and interval end, for the y range
        width = 0.8 / max(len(groups), 1)
        for n, (name, values) in enumerate(groups.items()):
            x_all = np.arange(len(categories)) - 0.4 + width * (n + 0.5)
            keep = [i for i, v in enumerate(values) if v[0] is not None]
            measured = [(s, lo, hi) for s, lo, hi in (values[i] for i in keep) if s is not None]
            x = x_all[keep]
            heights = np.array([s for s, _, _ in measured], dtype=float)
            color = COLORS[n % len(COLORS)]
            bar = pg.BarGraphItem(x=x, height=heights, width=width * 0.9, brush=color)
            self.addItem(bar)
            self.bars.append(bar)
            entries.append((bar, name))
            # a dash at each value: a score of 0 is a bar of no height, and must not read as "no data"
            marks = pg.ScatterPlotItem(x=x, y=heights, symbol="_", size=14, pen=pg.mkPen(color, width=3), brush=color)
            self.addItem(marks)
            self.value_marks.append(marks)
            lows = np.array([s - lo if lo is not None else 0.0 for s, lo, _ in measured], dtype=float)
            highs = np.array([hi - s if hi is not None else 0.0 for s, _, hi in measured], dtype=float)
            if lows.any() or highs.any():
                err = pg.ErrorBarItem(x=x, y=heights, bottom=lows, top=highs, beam=width * 0.4)
                self.addItem(err)
                self.bars.append(err)
            reach += [*heights, *(heights - lows), *(heights + highs)]
        self.categories = list(categories)
        self._fit_labels()
        _rebuild_legend(self.legend, entries, self.width())
        _reserve_legend(self, BAR_VIEW_PX)
        if categories:
            self.setXRange(-0.6, len(categories) - 0.4, padding=0)
        self.y_shown = _y_range(reach, y_range)
        if self.zero_line is not None:
            self.removeItem(self.zero_line)
            self.zero_line = None
        if self.y_shown[0] < 0:  # bars go both ways from a visible zero
            self.zero_line = pg.InfiniteLine(0, angle=0, pen=pg.mkPen(theme()["zero"]))
            self.addItem(self.zero_line)
        self.setYRange(*self.y_shown)

    def _fit_labels(self) -> None:
        """Short value names where they fit side by side, else Schwartz's two-letter codes (a
        label pyqtgraph finds overlapping is silently dropped)."""
        axis = self.getAxis("bottom")
        labels = [SHORT.get(c, c) for c in self.categories]
        fm = QFontMetrics(axis.font())
        room = (self.width() - 60) / max(len(labels), 1)
        if any(fm.horizontalAdvance(line) + 8 > room for label in labels for line in label.split("\n")):
            labels = [CODES.get(c, c) for c in self.categories]
        axis.setTicks([list(enumerate(labels))])
        lines = max([label.count("\n") + 1 for label in labels] or [1])
        axis.setHeight(fm.lineSpacing() * lines + 14)

    def resizeEvent(self, event: QResizeEvent | None) -> None:  # noqa: N802 (Qt's name)
        _refit_legend(self.__dict__.get("legend"), _new_width(self, event))  # first: see RadarPlot's
        super().resizeEvent(event)
        if "legend" in self.__dict__:
            _reserve_legend(self, BAR_VIEW_PX)
        if hasattr(self, "categories"):  # Qt resizes the widget while PlotWidget is still being built
            self._fit_labels()


class MapPlot(pg.PlotWidget):  # type: ignore[misc]  # pyqtgraph is untyped: its classes are Any
    """Points on two axes with labels and optional whiskers (e.g. the two higher-order value
    axes, one point per model)."""

    def __init__(self, title: str = "", x_label: str = "", y_label: str = "", parent: QWidget | None = None):
        super().__init__(parent=parent, title=title)
        self.setMouseEnabled(False, False)
        self.setMinimumSize(220, 200)
        self.setLabel("bottom", x_label)
        self.setLabel("left", y_label)
        self.showGrid(x=True, y=True, alpha=0.3)
        self.items: list[pg.GraphicsObject] = []
        self.labels: list[tuple[pg.TextItem, float, float]] = []  # (label, x, y of its point)
        self.plotItem.vb.sigResized.connect(lambda _box: self._spread_labels())
        themed(self)

    def resizeEvent(self, event: QResizeEvent | None) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        if "labels" in self.__dict__:  # Qt resizes the widget while PlotWidget is still being built
            self._spread_labels()

    def _spread_labels(self) -> None:
        """Labels keep their size in pixels while the points are in data units: a label that
        would cover one placed before is lifted by its own height until it is clear (models
        with close scores had their names printed over each other)."""
        if self.plotItem is None:  # closed
            return
        box = self.plotItem.vb
        width, height = max(box.width(), 1.0), max(box.height(), 1.0)
        (x0, x1), (y0, y1) = box.viewRange()
        placed: list[pg.QtCore.QRectF] = []
        for label, x, y in sorted(self.labels, key=lambda item: -item[2]):
            size = label.textItem.boundingRect()
            px, py = (x - x0) / (x1 - x0) * width, (y1 - y) / (y1 - y0) * height
            lift = 0
            while True:  # each placed label blocks at most two lifts: this ends
                rect = pg.QtCore.QRectF(px, py - size.height() * (1 + lift), size.width(), size.height())
                if not any(rect.adjusted(0, -2, 0, 2).intersects(other) for other in placed):  # with some air
                    break
                lift += 1
            placed.append(rect)
            label.setAnchor((0, 1 + lift))

    def set_points(
        self,
        points: dict[str, tuple[float, float, tuple[float, float] | None, tuple[float, float] | None]],
        colors: dict[str, str] | None = None,
    ) -> None:
        """``points``: name -> (x, y, (x_low, x_high) or None, (y_low, y_high) or None);
        ``colors``: name -> colour (to match another plot's series), else one each in turn."""
        for item in self.items:
            self.removeItem(item)
        self.items, self.labels = [], []
        self.addItem(line := pg.InfiniteLine(0, angle=90, pen=pg.mkPen(theme()["zero"])))
        self.items.append(line)
        self.addItem(line := pg.InfiniteLine(0, angle=0, pen=pg.mkPen(theme()["zero"])))
        self.items.append(line)
        extent = 10.0
        for n, (name, (x, y, xi, yi)) in enumerate(points.items()):
            color = (colors or {}).get(name) or COLORS[n % len(COLORS)]
            if xi:
                self.items.append(pg.PlotDataItem([xi[0], xi[1]], [y, y], pen=pg.mkPen(color)))
            if yi:
                self.items.append(pg.PlotDataItem([x, x], [yi[0], yi[1]], pen=pg.mkPen(color)))
            dot = pg.ScatterPlotItem([x], [y], size=10, brush=color, pen=color)
            label = pg.TextItem(name, anchor=(0, 1), color=color)
            label.setPos(x, y)
            self.items += [dot, label]
            self.labels.append((label, x, y))
            extent = max(extent, abs(x), abs(y), *(abs(v) for v in (xi or ()) + (yi or ())))
        for item in self.items[2:]:
            self.addItem(item)
        extent *= 1.2
        self.setXRange(-extent, extent)
        self.setYRange(-extent, extent)
        self._spread_labels()


def _y_range(reach: list[float], least: tuple[float, float] | None) -> tuple[float, float]:
    """The y range that holds ``least`` (or 0, without one) and every value in ``reach``, with a
    margin on a side that the data set."""
    finite = [v for v in reach if math.isfinite(v)]
    lo, hi = least if least else (0.0, 0.0)
    data_lo, data_hi = min(finite, default=lo), max(finite, default=hi)
    margin = 0.08 * max(max(hi, data_hi) - min(lo, data_lo), 1e-9)
    lo = data_lo - margin if data_lo < lo else lo
    hi = data_hi + margin if data_hi > hi else hi
    if hi - lo < 1e-9:
        hi = lo + 1.0
    return float(lo), float(hi)


def _fmt_tick(x: float, signed: bool = False) -> str:
    text = f"{x:.0f}" if abs(x - round(x)) < 1e-9 else f"{x:.1f}"
    return "+" + text if signed and x > 0 else text


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
