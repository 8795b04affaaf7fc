"""`train`: a progress bar with the latest loss, then the loss curve and the accuracy."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator
from typing import Any

from .checking_view import learner_error
from .terminal import Terminal
from .training import TrainingRun


@contextlib.contextmanager
def training(term: Terminal, task_name: str) -> Iterator[Callable[[dict[str, Any]], None]]:
    """A progress bar that also shows the latest loss; yields `on_record` for the core to call."""
    with term.progress("loss") as bar:
        task = bar.add_task(term.t("train.running", task=task_name), total=None, loss="")

        def on_record(record: dict[str, Any]) -> None:
            if record.get("kind") == "start" and isinstance(record.get("total"), int):
                bar.update(task, total=record["total"])
            elif record.get("kind") == "step" and isinstance(record.get("loss"), (int, float)):
                bar.update(task, completed=record.get("step", 0), loss=term.t("train.loss", loss=record["loss"]))

        yield on_record


def show(term: Terminal, run: TrainingRun) -> None:
    if run.error is not None:
        term.say("train.failed", "bold red", task=run.task.name)
        term.indented(learner_error(term, run.error))
        term.say("train.check_first", "cyan", id=run.task.checkpoint)
        return
    if run.problem is not None:
        term.say(f"train.{run.problem}", "bold red", task=run.task.name)
        return
    losses = run.losses
    if losses:
        term.say("train.curve", "bold")
        term.line("  " + sparkline(losses, term.unicode), "cyan")
        term.say("train.first_last", steps=len(losses), first=losses[0], last=losses[-1])
    if run.accuracy is not None:
        style = "bold green" if run.accuracy == 1.0 else "bold yellow"
        term.say("train.accuracy", style, accuracy=run.accuracy * 100, seconds=run.duration)


def sparkline(values: tuple[float, ...], unicode: bool = True, width: int = 60) -> str:
    """The loss curve in one line of block characters (ASCII digits where they cannot show)."""
    levels = "▁▂▃▄▅▆▇█" if unicode else "12345678"
    if min(values) > 0:
        # Losses shrink by orders of magnitude; on a log scale the whole descent stays visible.
        values = tuple(math.log10(value) for value in values)
    step = max(1, -(-len(values) // width))
    points = [sum(values[i : i + step]) / len(values[i : i + step]) for i in range(0, len(values), step)]
    low, high = min(points), max(points)
    spread = (high - low) or 1.0
    return "".join(levels[min(len(levels) - 1, int((p - low) / spread * len(levels)))] for p in points)
