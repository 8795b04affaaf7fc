"""`graph --format svg|png` on a machine without Graphviz: SVG drawn by the tool itself, PNG
through matplotlib when the `plots` extra is installed (and a clear note when it is not).
"""

from __future__ import annotations

import importlib.util
from dataclasses import replace
from pathlib import Path

from ..errors import TinygradLearnError
from ..graphing import GraphReport


def matplotlib_installed() -> bool:
    return importlib.util.find_spec("matplotlib") is not None


def draw_without_graphviz(report: GraphReport, image: Path) -> GraphReport:
    if report.graph is None:
        return report
    from .graph_svg import graph_svg

    svg = graph_svg(report.graph, report.expression)
    try:
        if image.suffix == ".svg":
            image.write_text(svg, encoding="utf-8")
        elif matplotlib_installed():
            from .charts import graph_png

            graph_png(report.graph, report.expression, image)
        else:
            return replace(report, image_note="no_dot")
    except OSError as error:
        raise TinygradLearnError("graph.unwritable", path=str(image), problem=str(error)) from None
    return replace(report, image_path=image)
