"""`train --plot FILE` and `bench --plot FILE`: what the runs measured, as charts to keep.

SVG is written by the tool itself on any install; PNG (or PDF) needs matplotlib, the `plots`
extra, and without it the command stops before running anything, with the command that installs it.
"""

from __future__ import annotations

from pathlib import Path

from ..bench import BenchReport
from ..errors import TinygradLearnError
from ..i18n import Translator
from ..training import TrainingRun
from .charts import BoundaryPanel, LinePanel, Panel, Series, write_chart
from .graph_image import matplotlib_installed

MATPLOTLIB_FORMATS = (".png", ".pdf")


def plot_target(path: Path) -> Path:
    """The file to write, refused before any work when its format cannot be drawn here."""
    target = path.expanduser()
    suffix = target.suffix.lower()
    if suffix != ".svg" and suffix not in MATPLOTLIB_FORMATS:
        raise TinygradLearnError("pictures.bad_format", path=str(path), formats="svg, png, pdf")
    if suffix != ".svg" and not matplotlib_installed():
        raise TinygradLearnError("pictures.needs_matplotlib", path=str(path))
    return target


def save(panels: tuple[Panel, ...], target: Path) -> Path:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        write_chart(panels, target)
    except OSError as error:
        raise TinygradLearnError("pictures.unwritable", path=str(target), problem=str(error)) from None
    return target


def training_panels(run: TrainingRun, language: str) -> tuple[Panel, ...]:
    t = Translator(language)
    points = tuple((float(step), loss) for step, loss in enumerate(run.losses, start=1))
    curve = LinePanel(
        t("pictures.loss_title", task=run.task.name),
        t("pictures.step"),
        t("pictures.loss"),
        (Series(t("pictures.loss"), points),),
        log_y=bool(run.losses) and min(run.losses) > 0,
    )
    grid = run.boundary
    if grid is None:
        return (curve,)
    boundary = BoundaryPanel(t("pictures.boundary_title"), grid.axis, grid.outputs, grid.points)
    return (curve, boundary)


def bench_panels(report: BenchReport, language: str) -> tuple[Panel, ...]:
    """Time against n on log-log axes, per graph shape: both engines, each with its fitted exponent."""
    t = Translator(language)
    panels = []
    for shape in ("linear", "tree"):
        series = []
        for engine in ("yours", "reference"):
            runs = [run for run in report.runs if run.engine == engine and run.shape == shape]
            if not runs:
                continue
            run = runs[0]
            points = tuple((float(tm.n), tm.seconds) for tm in run.timings if tm.seconds is not None)
            name = t(f"bench.engine_{engine}")
            if run.exponent is not None:
                name = t("pictures.fitted", engine=name, exponent=run.exponent)
            series.append(Series(name, points, dashed=engine == "reference"))
        panels.append(
            LinePanel(t(f"bench.shape_{shape}"), "n", t("pictures.seconds"), tuple(series), log_x=True, log_y=True)
        )
    return tuple(panels)
