"""Charts as data (panels of lines, or a decision boundary over the plane), written as SVG by the
tool itself or as any format matplotlib knows when the `plots` extra is installed.

SVG needs nothing beyond the core install, so `train --plot curve.svg` and `bench --plot t.svg`
always work; PNG goes through matplotlib. Every line is a `<g class="series">` carrying its name,
the boundary a `<g class="boundary">`, so tests read the picture back with an XML parser.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from ..graphing import Graph

COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")
PANEL = (420.0, 300.0)
INSET = (60.0, 30.0, 20.0, 45.0)
"""Left, top, right and bottom space around each panel's plotting area."""


@dataclass(frozen=True)
class Series:
    name: str
    points: tuple[tuple[float, float], ...]
    dashed: bool = False


@dataclass(frozen=True)
class LinePanel:
    title: str
    x_label: str
    y_label: str
    series: tuple[Series, ...]
    log_x: bool = False
    log_y: bool = False


@dataclass(frozen=True)
class BoundaryPanel:
    """A model's output over a square grid, with the training points on top."""

    title: str
    axis: tuple[float, ...]
    outputs: tuple[tuple[float, ...], ...]
    """Row by row: outputs[j][i] is the output at (axis[i], axis[j])."""
    points: tuple[tuple[float, float, float], ...]
    """(x, y, target) of each training point."""


Panel = LinePanel | BoundaryPanel


def write_chart(panels: tuple[Panel, ...], path: Path) -> None:
    """SVG by the tool itself; other formats through matplotlib (the caller checks it is installed)."""
    if path.suffix.lower() == ".svg":
        path.write_text(chart_svg(panels), encoding="utf-8")
    else:
        _matplotlib_chart(panels, path)


def chart_svg(panels: tuple[Panel, ...]) -> str:
    width, height = PANEL[0] * len(panels), PANEL[1]
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="Helvetica, Arial, sans-serif" font-size="11">',
        '<rect width="100%" height="100%" fill="white"/>',
    ]
    for index, panel in enumerate(panels):
        out.append(f'<g class="panel" transform="translate({PANEL[0] * index:.0f},0)">')
        out.extend(_line_panel(panel) if isinstance(panel, LinePanel) else _boundary_panel(panel))
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _scale(values: list[float], log: bool) -> tuple[float, float]:
    usable = [math.log10(v) if log else v for v in values if not log or v > 0]
    low, high = (min(usable), max(usable)) if usable else (0.0, 1.0)
    if high == low:
        low, high = low - 0.5, high + 0.5
    return low, high


def _ticks(low: float, high: float, log: bool) -> list[float]:
    """Tick positions in plotted units: whole powers of ten on a log axis, five steps otherwise."""
    if log:
        return [float(p) for p in range(math.ceil(low), math.floor(high) + 1)] or [low, high]
    return [low + (high - low) * i / 4 for i in range(5)]


def _tick_text(value: float, log: bool) -> str:
    return f"{10**value:g}" if log else f"{value:.3g}"


def _line_panel(panel: LinePanel) -> list[str]:
    left, top, right, bottom = INSET
    plot_w, plot_h = PANEL[0] - left - right, PANEL[1] - top - bottom
    xs = [x for s in panel.series for x, _ in s.points]
    ys = [y for s in panel.series for _, y in s.points]
    x_low, x_high = _scale(xs, panel.log_x)
    y_low, y_high = _scale(ys, panel.log_y)

    def place(x: float, y: float) -> tuple[float, float] | None:
        if (panel.log_x and x <= 0) or (panel.log_y and y <= 0) or not (math.isfinite(x) and math.isfinite(y)):
            return None
        u = math.log10(x) if panel.log_x else x
        v = math.log10(y) if panel.log_y else y
        return left + (u - x_low) / (x_high - x_low) * plot_w, top + plot_h - (v - y_low) / (y_high - y_low) * plot_h

    out = [
        f'<text class="title" x="{PANEL[0] / 2:.0f}" y="18" text-anchor="middle" font-size="13">'
        f"{escape(panel.title)}</text>",
        f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#333"/>',
        f'<text x="{left + plot_w / 2:.0f}" y="{PANEL[1] - 8:.0f}" text-anchor="middle">{escape(panel.x_label)}</text>',
        f'<text x="14" y="{top + plot_h / 2:.0f}" text-anchor="middle" '
        f'transform="rotate(-90 14 {top + plot_h / 2:.0f})">{escape(panel.y_label)}</text>',
    ]
    for tick in _ticks(x_low, x_high, panel.log_x):
        x = left + (tick - x_low) / (x_high - x_low) * plot_w
        out.append(
            f'<text x="{x:.1f}" y="{top + plot_h + 14:.1f}" text-anchor="middle">{_tick_text(tick, panel.log_x)}</text>'
        )
    for tick in _ticks(y_low, y_high, panel.log_y):
        y = top + plot_h - (tick - y_low) / (y_high - y_low) * plot_h
        out.append(f'<text x="{left - 4:.1f}" y="{y + 4:.1f}" text-anchor="end">{_tick_text(tick, panel.log_y)}</text>')
    for number, series in enumerate(panel.series):
        colour = COLOURS[number % len(COLOURS)]
        placed = [p for p in (place(x, y) for x, y in series.points) if p is not None]
        points = " ".join(f"{x:.1f},{y:.1f}" for x, y in placed)
        dash = ' stroke-dasharray="5,3"' if series.dashed else ""
        dots = len(placed) if len(placed) < 30 else 0
        legend_y = top + 14 + 14 * number
        out.append(
            f'<g class="series" data-name={quoteattr(series.name)} data-points="{len(placed)}">'
            f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="1.5"{dash}/>'
            + "".join(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2" fill="{colour}"/>' for x, y in placed[:dots])
            + f'<text x="{left + plot_w - 6:.1f}" y="{legend_y:.1f}" text-anchor="end" fill="{colour}">'
            f"{escape(series.name)}</text></g>"
        )
    return out


def _boundary_panel(panel: BoundaryPanel) -> list[str]:
    left, top, right, bottom = INSET
    side = min(PANEL[0] - left - right, PANEL[1] - top - bottom)
    low, high = panel.axis[0], panel.axis[-1]
    count = len(panel.axis)
    cell = side / count

    def place(x: float, y: float) -> tuple[float, float]:
        return left + (x - low) / (high - low) * side, top + side - (y - low) / (high - low) * side

    out = [
        f'<text class="title" x="{left + side / 2:.0f}" y="18" text-anchor="middle" font-size="13">'
        f"{escape(panel.title)}</text>",
        '<g class="boundary">',
    ]
    for j, row in enumerate(panel.outputs):
        for i, value in enumerate(row):
            out.append(
                f'<rect x="{left + i * cell:.1f}" y="{top + side - (j + 1) * cell:.1f}" width="{cell + 0.3:.1f}" '
                f'height="{cell + 0.3:.1f}" fill="{_diverging(value)}"/>'
            )
    out.append("</g>")
    out.append(f'<rect x="{left}" y="{top}" width="{side:.1f}" height="{side:.1f}" fill="none" stroke="#333"/>')
    for x, y, target in panel.points:
        cx, cy = place(x, y)
        fill = "#d62728" if target > 0 else "#1f77b4"
        out.append(f'<circle class="point" cx="{cx:.1f}" cy="{cy:.1f}" r="6" fill="{fill}" stroke="black"/>')
    for tick in (low, (low + high) / 2, high):
        x, y = place(tick, tick)
        out.append(f'<text x="{x:.1f}" y="{top + side + 14:.1f}" text-anchor="middle">{tick:g}</text>')
        out.append(f'<text x="{left - 4:.1f}" y="{y + 4:.1f}" text-anchor="end">{tick:g}</text>')
    return out


def _diverging(value: float) -> str:
    """Blue below zero, red above, white at the boundary itself."""
    strength = max(-1.0, min(1.0, value if math.isfinite(value) else 0.0))
    fade = int(255 * (1 - abs(strength) * 0.7))
    return f"rgb(255,{fade},{fade})" if strength > 0 else f"rgb({fade},{fade},255)"


def _matplotlib_chart(panels: tuple[Panel, ...], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    figure, axes = pyplot.subplots(1, len(panels), figsize=(5 * len(panels), 3.8), squeeze=False)
    for ax, panel in zip(axes[0], panels, strict=True):
        ax.set_title(panel.title)
        if isinstance(panel, LinePanel):
            for series in panel.series:
                xs, ys = zip(*series.points, strict=True) if series.points else ((), ())
                ax.plot(xs, ys, "--" if series.dashed else "-", marker="o" if len(xs) < 30 else None, label=series.name)
            ax.set_xscale("log" if panel.log_x else "linear")
            ax.set_yscale("log" if panel.log_y else "linear")
            ax.set_xlabel(panel.x_label)
            ax.set_ylabel(panel.y_label)
            if len(panel.series) > 1:
                ax.legend(fontsize="small")
        else:
            extent = (panel.axis[0], panel.axis[-1], panel.axis[0], panel.axis[-1])
            ax.imshow(panel.outputs, origin="lower", extent=extent, cmap="coolwarm", vmin=-1, vmax=1)
            for x, y, target in panel.points:
                ax.scatter([x], [y], color="#d62728" if target > 0 else "#1f77b4", edgecolors="black", s=60)
    figure.tight_layout()
    figure.savefig(path)
    pyplot.close(figure)


def graph_png(graph: Graph, title: str, path: Path) -> None:
    """The same layout as the SVG graph, drawn by matplotlib."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot
    from matplotlib.patches import Ellipse, Rectangle

    from .graph_svg import graph_layout

    placed, lines_of = graph_layout(graph)
    figure = pyplot.figure(figsize=(max(placed.width, 200) / 80, max(placed.height, 120) / 80), dpi=100)
    ax = figure.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, placed.width)
    ax.set_ylim(placed.height, 0)
    ax.axis("off")
    for route in placed.routes:
        xs, ys = zip(*route.points, strict=True)
        ax.annotate("", xy=route.points[-1], xytext=route.points[-2], arrowprops={"arrowstyle": "->", "color": "#555"})
        ax.plot(xs[:-1], ys[:-1], color="#555", linewidth=1)
    for key, box in placed.nodes.items():
        name = str(key)
        shape: Any
        if name.endswith("_op"):
            shape = Ellipse((box.x, box.y), box.width, box.height, facecolor="#eef3fb", edgecolor="#4a6fa5")
            text = graph.nodes[int(name[1:-3])].op
        else:
            corner = (box.x - box.width / 2, box.y - box.height / 2)
            shape = Rectangle(corner, box.width, box.height, facecolor="#fffbea", edgecolor="#8a6d1d")
            text = "\n".join(lines_of[name])
        ax.add_patch(shape)
        ax.text(box.x, box.y, text, ha="center", va="center", fontsize=8)
    figure.suptitle(title, fontsize=9)
    figure.savefig(path)
    pyplot.close(figure)
