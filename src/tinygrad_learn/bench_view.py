"""`bench`: timings of the learner's engine against the reference, growth, memory, findings."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

from rich.console import Group
from rich.text import Text

from .bench import MEMORY_STEPS, WORST_GROWTH, BenchReport, Failure, Timing
from .checking_view import where_lines
from .terminal import Terminal, visible


@contextlib.contextmanager
def measuring(term: Terminal, total: int) -> Iterator[Callable[[str, int], None]]:
    """A progress bar over the measurements; yields `on_step(label, steps)` for the core to call."""
    with term.progress() as bar:
        task = bar.add_task(term.t("bench.starting"), total=total)

        def on_step(label: str, steps: int) -> None:
            engine, shape = label.split(":")
            engine_name, shape_name = term.t(f"bench.engine_{engine}"), term.t(f"bench.shape_{shape}")
            bar.update(task, description=term.t("bench.running", engine=engine_name, shape=shape_name), advance=steps)

        yield on_step


def show(term: Terminal, report: BenchReport) -> None:
    not_ready = report.not_ready
    if not_ready is not None:
        term.out.print(Text(term.t("bench.not_ready", problem=_failure_text(term, not_ready)), style="bold red"))
        _where(term, not_ready.where)
        return
    columns = ("col_graph", "left"), ("col_n", "right"), ("col_yours", "right"), ("col_reference", "right")
    headings = tuple((term.t(f"bench.{key}"), justify) for key, justify in (*columns, ("col_ratio", "right")))
    table = term.table(term.t("bench.title"), headings)
    for shape in ("linear", "tree"):
        yours = {t.n: t for t in report.run("yours", shape).timings}
        reference = {t.n: t for t in report.run("reference", shape).timings}
        for n in report.sizes:
            mine, theirs = yours.get(n), reference.get(n)
            ratio = ""
            if mine and theirs and mine.seconds is not None and theirs.seconds:
                ratio = f"{mine.seconds / theirs.seconds:.1f}{'×' if term.unicode else 'x'}"
            timings = _timing(term, mine, report), _timing(term, theirs, report)
            table.add_row(Text(term.t(f"bench.shape_{shape}")), Text(f"{n:,}"), *timings, Text(ratio))
        table.add_section()
    term.out.print(table)
    term.line()
    growth = term.table(
        term.t("bench.growth_title"), tuple((term.t(f"bench.{key}"), j) for key, j in columns[:1] + columns[2:])
    )
    for shape in ("linear", "tree"):
        cells = []
        for engine in ("yours", "reference"):
            exponent = report.run(engine, shape).exponent
            text = Text("–" if exponent is None else f"n^{exponent:.2f}")
            if engine == "yours" and exponent is not None and exponent > WORST_GROWTH:
                text.stylize("bold red")
            cells.append(text)
        growth.add_row(Text(term.t(f"bench.shape_{shape}")), *cells)
    term.out.print(growth)
    _memory(term, report)
    _findings(term, report)


def _timing(term: Terminal, timing: Timing | None, report: BenchReport) -> Text:
    if timing is None:
        return Text(term.t("bench.skipped"), style="dim")
    if timing.seconds is not None:
        seconds = timing.seconds
        return Text(f"{seconds * 1000:.2f} ms" if seconds < 1 else f"{seconds:.2f} s")
    failure = timing.failure
    if failure is None or failure.kind == "crashed":
        return Text(term.t("bench.crashed"), style="red")
    if failure.kind == "too_slow":
        return Text(term.t("bench.too_slow", limit=report.size_limit), style="red")
    return Text(visible(failure.type), style="red")


def _memory(term: Terminal, report: BenchReport) -> None:
    yours, reference = report.memory_of("yours"), report.memory_of("reference")
    term.line()
    if yours.bytes_per_node is None or reference.bytes_per_node is None:
        term.say("bench.memory_unknown", "dim")
        return
    steps, mine, theirs = f"{MEMORY_STEPS:,}", f"{yours.bytes_per_node:.0f}", f"{reference.bytes_per_node:.0f}"
    term.say("bench.memory", steps=steps, yours=mine, reference=theirs)
    if yours.bytes_per_node > 1.5 * reference.bytes_per_node:
        term.note("bench.memory_more", factor=yours.bytes_per_node / reference.bytes_per_node)


def _findings(term: Terminal, report: BenchReport) -> None:
    for run in report.slow_shapes():
        term.line()
        term.note("bench.slow", shape=term.t(f"bench.shape_{run.shape}"), exponent=run.exponent)
    if report.recursion_error:
        term.line()
        term.note("bench.recursion")
    for run in report.runs:
        for timing in run.timings:
            failure = timing.failure
            if run.engine != "yours" or failure is None or failure.kind != "error" or failure.type == "RecursionError":
                continue
            term.line()
            shape = term.t(f"bench.shape_{run.shape}")
            term.say("bench.raised", "red", n=f"{timing.n:,}", shape=shape, problem=_failure_text(term, failure))
            _where(term, failure.where)
    if not report.slow_shapes() and not report.failures:
        term.line()
        term.say("bench.fine", "green")


def _failure_text(term: Terminal, failure: Failure) -> str:
    message = visible(failure.message)
    if failure.type == "NotImplementedError":
        return term.t("failure.not_implemented", message=message)
    return term.t("failure.raised", type=visible(failure.type), message=message)


def _where(term: Terminal, where: dict[str, Any] | None) -> None:
    lines = where_lines(term, where)
    if lines:
        term.indented(Group(*lines))
