"""The one module that owns the terminal: every line the learner reads is rendered here.

The core hands over plain values (a Standing, a CheckReport, a HintReply); this module turns
them into Rich output in the learner's language. Colour goes away by itself when NO_COLOR is set
or the output is not a terminal; symbols fall back to ASCII where the encoding cannot show them.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from rich.console import Console, Group
from rich.padding import Padding
from rich.panel import Panel
from rich.table import Table
from rich.text import Text as RichText

from .bench import MEMORY_STEPS, WORST_GROWTH, BenchReport
from .checking import CheckReport, Outcome
from .doctor import DoctorReport
from .errors import TinygradLearnError
from .graphing import TIME_LIMIT as GRAPH_TIME_LIMIT
from .graphing import GraphReport, TreeItem
from .graphing import number as graph_number
from .graphing import tree as graph_tree
from .hints import HintReply, SolutionReply
from .i18n import Translator, catalogue
from .journal import JournalEntry
from .manifest import Checkpoint, Course
from .paths import Workspace
from .runner import RunResult, TestOutcome
from .state import Standing
from .training import TrainingRun
from .verify import VerifyReport
from .workspace import ResetPlan, ResetResult

MAX_FAILURES_SHOWN = 6
# Exceptions from learner code that have a sentence of their own (integrity.failure.<name>).
INTEGRITY_EXCEPTIONS = {
    "SyntaxError": "syntax_error",
    "IndentationError": "syntax_error",
    "TabError": "syntax_error",
    "MemoryError": "memory_error",
    "SystemExit": "system_exit",
}
WIDTH_ENV = "TINYGRAD_LEARN_WIDTH"

UNICODE_SYMBOLS = {"passed": "✓", "failed": "✗", "not_started": "·", "stale": "!", "current": "→", "medal": "★"}
ASCII_SYMBOLS = {"passed": "+", "failed": "x", "not_started": ".", "stale": "!", "current": ">", "medal": "*"}


def _can_encode(text: str) -> bool:
    encoding = getattr(sys.stdout, "encoding", None) or "ascii"
    try:
        text.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return False
    return True


class Terminal:
    def __init__(self, language: str) -> None:
        self.t = Translator(language)
        self.language = language
        width = int(os.environ[WIDTH_ENV]) if os.environ.get(WIDTH_ENV, "").isdigit() else None
        self.out = Console(highlight=False, width=width)
        self.err = Console(stderr=True, highlight=False, width=width)
        self.symbols = UNICODE_SYMBOLS if _can_encode("✓✗→★·…") else ASCII_SYMBOLS

    # -- small building blocks ----------------------------------------------------------------

    def _line(self, text: str, style: str = "") -> None:
        self.out.print(RichText(text, style=style))

    def error(self, error: TinygradLearnError) -> None:
        self.err.print(RichText(self.t(error.key, **error.params), style="bold red"))

    def failure_text(self, key: str, **params: Any) -> None:
        self.err.print(RichText(self.t(key, **params), style="bold red"))

    def note(self, key: str, **params: Any) -> None:
        self.out.print(RichText(self.t(key, **params), style="yellow"))

    def moved_aside(self, path: Path | None) -> None:
        if path is not None:
            self.err.print(RichText(self.t("progress.moved_aside", path=str(path)), style="yellow"))

    def print_json(self, data: Any) -> None:
        # Plain print: JSON must never be wrapped or coloured.
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")

    def _status_label(self, state: str, stale: bool) -> RichText:
        styles = {"passed": "green", "failed": "red", "not_started": "dim"}
        label = RichText(f"{self.symbols[state]} {self.t('status.' + state)}", style=styles[state])
        if stale:
            label.append(f"  {self.symbols['stale']} {self.t('status.stale')}", style="yellow")
        return label

    # -- where am I ---------------------------------------------------------------------------

    def welcome(self, standing: Standing, language: str) -> None:
        current = standing.current
        if current is None:
            earned = ", ".join(s.medal.name.get(language) for s in standing.medals if s.earned)
            self._line(self.t("welcome.all_done", medals=earned), "bold green")
            return
        self._line(
            self.t(
                "welcome.where",
                id=current.id,
                title=current.title.get(language),
                passed=standing.passed_count,
                total=len(standing.statuses),
            ),
            "bold",
        )
        self._line(self.t("welcome.read"))
        self._line(f"  tinygrad-learn show {current.id}", "cyan")
        files = ", ".join(f"exercises/{name}" for name in current.files)
        self._line(self.t("welcome.edit", files=files))
        self._line(f"  tinygrad-learn check {current.id}", "cyan")

    def no_workspace(self) -> None:
        self._line(self.t("welcome.no_workspace"), "bold")
        self._line(self.t("welcome.start"))
        self._line("  tinygrad-learn init", "cyan")
        self._line("  cd ~/tinygrad-learn", "cyan")
        self._line("  tinygrad-learn", "cyan")

    def checkpoint_list(self, standing: Standing, language: str) -> None:
        table = Table(title=self.t("list.title"), title_justify="left", show_edge=False, pad_edge=False)
        for key in ("col_number", "col_id", "col_stage", "col_title", "col_status"):
            table.add_column(self.t(f"list.{key}"))
        current = standing.current
        for number, status in enumerate(standing.statuses, start=1):
            checkpoint = status.checkpoint
            label = self._status_label(status.state, status.stale)
            if current is not None and checkpoint.id == current.id:
                label.append(f"  {self.symbols['current']} {self.t('status.current')}", style="bold cyan")
            if status.entry.peeked:
                label.append(f"  {self.t('solution.peeked_marker')}", style="magenta")
            table.add_row(
                str(number), checkpoint.id, checkpoint.stage.get(language), checkpoint.title.get(language), label
            )
        self.out.print(table)

    def lesson(self, checkpoint: Checkpoint, text: str, language: str) -> None:
        header = RichText(f"{checkpoint.id} · {checkpoint.title.get(language)}", style="bold")
        details = [
            self.t("show.files", files=", ".join(f"exercises/{name}" for name in checkpoint.files)),
            self.t("show.tasks", tasks=", ".join(checkpoint.tasks)),
        ]
        if checkpoint.requires:
            details.append(self.t("show.requires", requires=", ".join(checkpoint.requires)))
        self.out.print(Panel(Group(header, RichText("\n".join(details), style="dim")), expand=False))
        from rich.markdown import Markdown

        self.out.print(Markdown(text))
        self._line("")
        self._line(self.t("show.check_with", id=checkpoint.id), "cyan")

    # -- checking -----------------------------------------------------------------------------

    def check_report(
        self, report: CheckReport, language: str, next_checkpoint: Checkpoint | None, verbose: bool
    ) -> None:
        result = report.result
        checkpoint = report.checkpoint
        if verbose:
            self.out.rule(self.t("check.verbose_output"))
            self.out.print(RichText(result.output.strip() or self.t("check.no_output")))
            self.out.rule()
        if result.passed:
            key = "check.passed_again" if report.outcome is Outcome.PASSED_AGAIN else "check.passed"
            self._line(
                f"{self.symbols['passed']} "
                + self.t(key, id=checkpoint.id, count=len(result.tests), seconds=result.duration),
                "bold green",
            )
            for medal in report.new_medals:
                self._line(
                    f"{self.symbols['medal']} "
                    + self.t("check.medal", name=medal.name.get(language), description=medal.description.get(language)),
                    "bold yellow",
                )
            if report.outcome is Outcome.NEWLY_PASSED:
                if next_checkpoint is None:
                    self._line(self.t("check.done"), "bold green")
                else:
                    self._line(self.t("check.next", id=next_checkpoint.id), "cyan")
            return
        self._failed_summary(report)
        self._failures(result)
        self._line("")
        if report.unmet_requirements:
            self.note("check.unmet", id=checkpoint.id, requires=", ".join(report.unmet_requirements))
        self._line(self.t("check.seed", id=checkpoint.id, seed=result.seed), "dim")
        self._line(self.t("check.stuck", id=checkpoint.id), "cyan")

    def _failed_summary(self, report: CheckReport) -> None:
        result = report.result
        checkpoint_id = report.checkpoint.id
        if result.problem is not None:
            headline = self.t("check.problem_failed", id=checkpoint_id)
        else:
            headline = self.t(
                "check.failed", id=checkpoint_id, failed=len(result.failed_tests), count=len(result.tests)
            )
        self._line(f"{self.symbols['failed']} {headline}", "bold red")
        if report.outcome is Outcome.REGRESSED:
            self.note("check.regressed", id=checkpoint_id)
        if result.problem is not None:
            self._line("")
            self._line(self.problem_text(result), "red")

    def _failures(self, result: RunResult) -> None:
        failed = list(result.failed_tests)
        if result.problem is not None:
            # After a run-level problem, only tests that reported something real are worth showing.
            failed = [test for test in failed if test.outcome != "missing"]
        # Tests that fail for the very same reason (typically a stub not written yet) are shown once.
        groups: dict[str, list[TestOutcome]] = {}
        for test in failed:
            groups.setdefault(json.dumps([test.outcome, test.failure], sort_keys=True, default=str), []).append(test)
        shown = list(groups.values())[:MAX_FAILURES_SHOWN]
        for tests in shown:
            names = ", ".join(test.name.removeprefix("test_").replace("_", " ") for test in tests)
            self._line("")
            self._line(f"{self.symbols['failed']} {names}", "bold")
            self.out.print(Padding(self.describe(tests[0]), (0, 0, 0, 2), expand=False))
        hidden = sum(len(tests) for tests in list(groups.values())[MAX_FAILURES_SHOWN:])
        if hidden:
            self._line("")
            self._line(self.t("check.more_failures", count=hidden), "dim")

    def describe(self, test: TestOutcome) -> Group:
        """A failed test in the learner's terms: what was expected, with which values, and where."""
        failure = test.failure
        if failure is None:
            key = {"skipped": "failure.skipped", "xfailed": "failure.xfailed", "missing": "failure.missing_test"}
            return Group(RichText(self.t(key.get(test.outcome, "failure.error"), message="")))
        params = failure.get("params") or {}
        kind = failure.get("key", "")
        if kind == "exception":
            return self._exception(params)
        if kind == "grad_mismatch":
            return self._grad_table(params)
        if kind == "custom":
            message = params.get("message") or {}
            text = str(message.get(self.language) or message.get("en") or "")
            fields = {k: _inline(v) for k, v in params.items() if k != "message"}
            with contextlib.suppress(KeyError, IndexError, ValueError):
                text = text.format(**fields)
            return Group(RichText(text), *self._context(params))
        if kind in {"skipped", "collect_error"}:
            return Group(RichText(self.t(f"failure.{kind}", **params)))
        if kind == "tampered":
            return Group(RichText(self.t("integrity.failure.tampered", **params)))
        fields = {k: _inline(v) for k, v in params.items()}
        return Group(RichText(self.t(f"failure.{kind}", **fields)), *self._context(params))

    def _context(self, params: dict[str, Any]) -> list[RichText]:
        lines = []
        if params.get("expr"):
            lines.append(RichText(self.t("failure.in_expr", expr=params["expr"]), style="dim"))
        given = params.get("given")
        if isinstance(given, dict) and given:
            values = ", ".join(f"{name} = {value}" for name, value in given.items())
            lines.append(RichText(self.t("failure.given", values=values), style="dim"))
        return lines

    def _exception(self, params: dict[str, Any]) -> Group:
        kind = str(params.get("type", "Exception"))
        message = str(params.get("message", ""))
        if kind == "NotImplementedError":
            text = self.t("failure.not_implemented", message=message)
        elif kind == "RecursionError":
            text = self.t("failure.recursion")
        elif kind == "TypeError" and "unhashable" in message:
            text = self.t("failure.unhashable", message=message)
        elif kind == "OverflowError":
            text = self.t("failure.overflow", message=message)
        elif kind == "SyntaxError" and "utf-8" in message.lower():
            text = self.t("integrity.failure.not_utf8", message=message)
        elif kind in INTEGRITY_EXCEPTIONS:
            text = self.t(f"integrity.failure.{INTEGRITY_EXCEPTIONS[kind]}", type=kind, message=message)
        else:
            text = self.t("failure.raised", type=kind, message=message)
        parts = [RichText(text)]
        where = params.get("where")
        if isinstance(where, dict):
            parts.append(RichText(self.t("failure.at", file=where.get("file"), line=where.get("line")), style="cyan"))
            if where.get("code"):
                parts.append(RichText(f"    {where['code']}", style="dim"))
                if isinstance(where.get("column"), int):
                    parts.append(RichText(" " * (3 + where["column"]) + "^", style="red"))
        return Group(*parts)

    def _grad_table(self, params: dict[str, Any]) -> Group:
        table = Table(show_edge=False, pad_edge=False)
        for key in ("col_name", "col_autograd", "col_numeric", "col_diff"):
            table.add_column(self.t(f"failure.{key}"), justify="left" if key == "col_name" else "right")
        for row in params.get("rows") or []:
            style = "red" if row.get("wrong") else ""
            diff = row.get("diff")
            diff_text = f"{diff:.3g}" if isinstance(diff, (int, float)) else str(diff)
            table.add_row(
                str(row.get("name")), str(row.get("autograd")), str(row.get("numeric")), diff_text, style=style
            )
        head = RichText(self.t("failure.grad_mismatch", expr=params.get("expr", "")))
        places = [RichText(self.t("diagnostics.backward_at"), style="bold")] if params.get("backward_at") else []
        for place in params.get("backward_at") or []:
            places.append(RichText(f"  {place.get('file')}:{place.get('line')} {place.get('name')}", style="cyan"))
        return Group(head, *self._context({"given": params.get("given")}), table, *places)

    def check_all(self, reports: Iterable[CheckReport], total: int) -> None:
        reports = list(reports)
        for report in reports:
            status = "passed" if report.result.passed else "failed"
            style = "green" if report.result.passed else "red"
            self._line(f"{self.symbols[status]} {report.checkpoint.id}", style)
        passed = sum(report.result.passed for report in reports)
        self._line("")
        self._line(self.t("check.summary_all", passed=passed, total=total), "bold")

    # -- progress and hints -------------------------------------------------------------------

    def progress(self, standing: Standing, language: str) -> None:
        self.checkpoint_list(standing, language)
        self._line("")
        table = Table(title=self.t("standing.medals"), title_justify="left", show_edge=False, pad_edge=False)
        table.add_column(self.t("standing.col_medal"))
        table.add_column(self.t("standing.col_status"))
        for status in standing.medals:
            name = RichText(f"{self.symbols['medal']} {status.medal.name.get(language)}", style="bold")
            name.append(f"  {status.medal.description.get(language)}", style="dim")
            if status.earned:
                label = RichText(f"{self.symbols['passed']} {self.t('standing.earned')}", style="green")
            else:
                label = RichText(self.t("standing.needs", missing=", ".join(status.missing)), style="yellow")
            table.add_row(name, label)
        self.out.print(table)
        self._line("")
        self._line(self.t("standing.summary", passed=standing.passed_count, total=len(standing.statuses)), "bold")
        stale = [status.checkpoint.id for status in standing.statuses if status.stale]
        if stale:
            self.note("standing.stale_note", ids=", ".join(stale))

    def hints(self, reply: HintReply, language: str) -> None:
        from rich.markdown import Markdown

        checkpoint = reply.checkpoint
        for level, text in reply.shown:
            title = self.t("hint.title", level=level, last=reply.last_level, id=checkpoint.id)
            kind = self.t(f"hint.levels.{min(level, 3)}")
            self.out.print(Panel(Markdown(text.get(language)), title=f"{title} · {kind}", title_align="left"))
        key = "hint.last" if reply.exhausted else "hint.more"
        self._line(self.t(key, id=checkpoint.id), "cyan")

    def initialized(self, workspace: Workspace, created: bool = True) -> None:
        self._line(self.t("init.created" if created else "init.already", path=str(workspace.root)), "bold green")
        self._line(self.t("init.next", path=_display_path(workspace.root)), "cyan")

    # -- watch, bench, graph, journal, reset, solution, doctor ---------------------------------

    def _path_line(self, text: str, style: str = "") -> None:
        """A line that names a file: never wrapped, so a terminal can still open the path."""
        self.out.print(RichText(text, style=style), soft_wrap=True)

    @property
    def interactive(self) -> bool:
        """Whether there is a person at a terminal to answer a question."""
        try:
            return sys.stdin is not None and sys.stdin.isatty()
        except (AttributeError, ValueError):
            return False

    def watch_screen(self, checkpoint: Checkpoint, language: str, keys_are_lines: bool) -> None:
        """The top of every watch screen: what is watched, and the keys. Clears a real terminal first."""
        if self.out.is_terminal:
            self.out.clear()
        files = ", ".join(f"exercises/{name}" for name in checkpoint.files)
        title = checkpoint.title.get(language)
        self._line(self.t("watch.watching", files=files, id=checkpoint.id, title=title), "bold")
        self._line(self.t("watch.keys_lines" if keys_are_lines else "watch.keys"), "dim")
        self._line("")

    def watch_changed(self, paths: Iterable[Path], root: Path) -> None:
        names = ", ".join(p.relative_to(root).as_posix() if p.is_relative_to(root) else str(p) for p in paths)
        self._line(self.t("watch.changed", files=names), "dim")

    def busy(self, key: str, **params: Any) -> Any:
        """A spinner on a terminal while something runs; nothing at all when the output is captured."""
        return self.err.status(self.t(key, **params))

    def watch_verdict(self, report: CheckReport, language: str, following: Checkpoint | None) -> None:
        """The check's verdict; on a pass, the checkpoint is done and the learner decides when to move on."""
        self.check_report(report, language, following, verbose=False)
        if report.result.passed:
            self._line("")
            if following is None:
                self._line(self.t("watch.done_last", id=report.checkpoint.id), "bold green")
            else:
                self._line(self.t("watch.done", id=report.checkpoint.id, next=following.id), "bold green")

    def watch_note(self, key: str, **params: Any) -> None:
        self._line("")
        self.note(key, **params)

    def task_progress(self, key: str, total: int) -> Any:
        """A progress bar on standard error; returns (context manager, advance(description, steps))."""
        from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

        bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            TimeElapsedColumn(),
            console=self.err,
            transient=True,
        )
        task = bar.add_task(self.t(key), total=total)

        def advance(description: str, steps: int) -> None:
            bar.update(task, description=description, advance=steps)

        return bar, advance

    def bench_step(self, label: str) -> str:
        engine, shape = label.split(":")
        engine_name, shape_name = self.t(f"bench.engine_{engine}"), self.t(f"bench.shape_{shape}")
        return self.t("bench.running", engine=engine_name, shape=shape_name)

    def bench_report(self, report: BenchReport) -> None:
        not_ready = report.not_ready
        if not_ready is not None:
            problem = self._failure_text(not_ready)
            self.out.print(RichText(self.t("bench.not_ready", problem=problem), style="bold red"))
            self._where(not_ready.where)
            return
        table = Table(title=self.t("bench.title"), title_justify="left", show_edge=False, pad_edge=False)
        table.add_column(self.t("bench.col_graph"))
        table.add_column(self.t("bench.col_n"), justify="right")
        table.add_column(self.t("bench.col_yours"), justify="right")
        table.add_column(self.t("bench.col_reference"), justify="right")
        table.add_column(self.t("bench.col_ratio"), justify="right")
        for shape in ("linear", "tree"):
            yours = {t.n: t for t in report.run("yours", shape).timings}
            reference = {t.n: t for t in report.run("reference", shape).timings}
            for n in report.sizes:
                mine, theirs = yours.get(n), reference.get(n)
                ratio = ""
                if mine and theirs and mine.seconds is not None and theirs.seconds:
                    times = "×" if self.symbols is UNICODE_SYMBOLS else "x"
                    ratio = f"{mine.seconds / theirs.seconds:.1f}{times}"
                mine_text, theirs_text = self._timing(mine, report), self._timing(theirs, report)
                table.add_row(self.t(f"bench.shape_{shape}"), f"{n:,}", mine_text, theirs_text, ratio)
            table.add_section()
        self.out.print(table)
        self._line("")
        growth = Table(title=self.t("bench.growth_title"), title_justify="left", show_edge=False, pad_edge=False)
        growth.add_column(self.t("bench.col_graph"))
        growth.add_column(self.t("bench.col_yours"), justify="right")
        growth.add_column(self.t("bench.col_reference"), justify="right")
        for shape in ("linear", "tree"):
            cells = []
            for engine in ("yours", "reference"):
                exponent = report.run(engine, shape).exponent
                text = RichText("–" if exponent is None else f"n^{exponent:.2f}")
                if engine == "yours" and exponent is not None and exponent > WORST_GROWTH:
                    text.stylize("bold red")
                cells.append(text)
            growth.add_row(self.t(f"bench.shape_{shape}"), *cells)
        self.out.print(growth)
        self._bench_memory(report)
        self._bench_findings(report)

    def _timing(self, timing: Any, report: BenchReport) -> RichText:
        if timing is None:
            return RichText(self.t("bench.skipped"), style="dim")
        if timing.seconds is not None:
            seconds = timing.seconds
            text = f"{seconds * 1000:.2f} ms" if seconds < 1 else f"{seconds:.2f} s"
            return RichText(text)
        failure = timing.failure
        if failure.kind == "too_slow":
            return RichText(self.t("bench.too_slow", limit=report.size_limit), style="red")
        if failure.kind == "crashed":
            return RichText(self.t("bench.crashed"), style="red")
        return RichText(failure.type, style="red")

    def _bench_memory(self, report: BenchReport) -> None:
        yours, reference = report.memory_of("yours"), report.memory_of("reference")
        self._line("")
        if yours.bytes_per_node is None or reference.bytes_per_node is None:
            self._line(self.t("bench.memory_unknown"), "dim")
            return
        self._line(
            self.t(
                "bench.memory",
                steps=f"{MEMORY_STEPS:,}",
                yours=f"{yours.bytes_per_node:.0f}",
                reference=f"{reference.bytes_per_node:.0f}",
            )
        )
        if yours.bytes_per_node > 1.5 * reference.bytes_per_node:
            self.note("bench.memory_more", factor=yours.bytes_per_node / reference.bytes_per_node)

    def _bench_findings(self, report: BenchReport) -> None:
        for run in report.slow_shapes():
            self._line("")
            self.note("bench.slow", shape=self.t(f"bench.shape_{run.shape}"), exponent=run.exponent)
        if report.recursion_error:
            self._line("")
            self.note("bench.recursion")
        for run in report.runs:
            for timing in run.timings:
                failure = timing.failure
                if run.engine != "yours" or failure is None or failure.kind != "error":
                    continue
                if failure.type == "RecursionError":
                    continue
                self._line("")
                self._line(
                    self.t(
                        "bench.raised",
                        n=f"{timing.n:,}",
                        shape=self.t(f"bench.shape_{run.shape}"),
                        problem=self._failure_text(failure),
                    ),
                    "red",
                )
                self._where(failure.where)
        if not report.slow_shapes() and not report.failures:
            self._line("")
            self._line(self.t("bench.fine"), "green")

    def _failure_text(self, failure: Any) -> str:
        if failure.type == "NotImplementedError":
            return self.t("failure.not_implemented", message=failure.message)
        return self.t("failure.raised", type=failure.type, message=failure.message)

    def _where(self, where: Any) -> None:
        if isinstance(where, dict):
            self._line("  " + self.t("failure.at", file=where.get("file"), line=where.get("line")), "cyan")
            if where.get("code"):
                self._line(f"      {where['code']}", "dim")

    def graph_report(self, report: GraphReport) -> None:
        from rich.tree import Tree

        if report.error is not None:
            self._graph_error(report)
            return
        if report.graph is None:
            self.failure_text(f"graph.problem_{report.problem}", limit=GRAPH_TIME_LIMIT)
            return
        values = ", ".join(f"{name} = {value:g}" for name, value in report.values.items())
        self._line(self.t("graph.title", expression=report.expression, values=values), "bold")
        self._line("")
        item = graph_tree(report.graph)
        root = Tree(self._graph_label(item))
        pending = [(root, item)]
        while pending:
            branch, current = pending.pop()
            for child in current.children:
                twig = branch.add(self._graph_label(child))
                pending.append((twig, child))
        self.out.print(root)
        if report.graph.truncated:
            self.note("graph.truncated", count=len(report.graph.nodes))
        self._line("")
        inputs = [node for node in report.graph.nodes.values() if node.label]
        grads = ", ".join(f"d/d{node.label} = {graph_number(node.grad)}" for node in inputs)
        result = graph_number(report.graph.nodes[report.graph.root].data)
        self._line(self.t("graph.result", data=result, grads=grads))
        self._line("")
        if report.dot_path is not None:
            self._path_line(self.t("graph.dot_written", path=_display_path(report.dot_path)), "cyan")
        if report.image_path is not None:
            self._path_line(self.t("graph.image_written", path=_display_path(report.image_path)), "cyan")
        elif report.image_note == "no_dot":
            self.note("graph.no_dot")
        elif report.image_note == "dot_failed":
            self.note("graph.dot_failed", detail=report.image_detail)

    def _graph_label(self, item: TreeItem) -> RichText:
        node = item.node
        text = RichText()
        if node.label:
            text.append(node.label, style="bold cyan")
        elif node.op:
            text.append(node.op, style="bold")
        else:
            text.append(self.t("graph.constant"), style="dim")
        text.append(f"  data={graph_number(node.data)}  grad={graph_number(node.grad)}")
        if item.repeat:
            text.append(f"  {self.t('graph.repeat')}", style="dim")
        return text

    def _graph_error(self, report: GraphReport) -> None:
        error = report.error or {}
        kind = str(error.get("type", ""))
        message = str(error.get("message", ""))
        if kind == "no_value":
            self.failure_text("graph.no_value")
        elif kind == "not_a_value":
            self.failure_text("graph.not_a_value", expression=report.expression, type=message)
        elif kind == "NotImplementedError":
            self.failure_text("graph.not_ready", problem=self.t("failure.not_implemented", message=message))
        else:
            self.failure_text("graph.raised", expression=report.expression, type=kind, message=message)
        where = error.get("where")
        if isinstance(where, dict):
            self.err.print(
                RichText("  " + self.t("failure.at", file=where.get("file"), line=where.get("line")), style="cyan")
            )
            if where.get("code"):
                self.err.print(RichText(f"      {where['code']}", style="dim"))

    def journal_written(self, entry: JournalEntry) -> None:
        key = "journal.created" if entry.created else "journal.appended"
        self._path_line(self.t(key, path=_display_path(entry.path), number=entry.section), "bold green")

    def reset_confirm(self, plan: ResetPlan, backups: Path) -> bool:
        """Say what reset will do, then ask; only a clear yes goes ahead."""
        files = ", ".join(f"exercises/{name}" for name in plan.files)
        self._line(self.t("reset.confirm_files", files=files, id=plan.checkpoint.id), "bold")
        if plan.shared_with:
            self.note("reset.confirm_shared", files=files, ids=", ".join(plan.shared_with))
        self._line(self.t("reset.confirm_backup", path=_display_path(backups)))
        from rich.prompt import Confirm

        try:
            return Confirm.ask(self.t("reset.question"), console=self.out, default=False)
        except EOFError:
            return False

    def reset_done(self, result: ResetResult) -> None:
        files = ", ".join(f"exercises/{name}" for name in result.plan.files)
        self._line(f"{self.symbols['passed']} " + self.t("reset.restored", files=files), "bold green")
        if result.backup_dir is not None:
            for name in result.backed_up:
                backup = _display_path(result.backup_dir / "exercises" / name)
                self._path_line(self.t("reset.backup", path=backup), "cyan")
        else:
            self._line(self.t("reset.no_backup"), "dim")
        self._line(self.t("reset.progress_note"), "dim")

    def solution(self, reply: SolutionReply, language: str) -> None:
        from rich.syntax import Syntax

        checkpoint = reply.checkpoint
        self._line(self.t("solution.title", id=checkpoint.id, title=checkpoint.title.get(language)), "bold")
        if reply.peeked:
            self.note("solution.peeked", id=checkpoint.id)
        for part in reply.parts:
            self._line("")
            heading = f"{part.file}:{part.start_line} · {part.name}" if part.name else part.file
            self._line(heading, "cyan")
            theme = "ansi_dark"
            self.out.print(
                Syntax(part.code, "python", line_numbers=True, start_line=part.start_line, theme=theme, word_wrap=True)
            )

    def doctor(self, report: DoctorReport) -> None:
        self._line(self.t("doctor.title"), "bold")
        self._line("")
        for finding in report.findings:
            if finding.ok:
                mark, style = self.symbols["passed"], "green"
            elif finding.required:
                mark, style = self.symbols["failed"], "red"
            else:
                mark, style = self.symbols["stale"], "yellow"
            line = RichText(f"{mark} ", style=style)
            line.append(self.t(f"doctor.{finding.name}"), style="bold")
            line.append(f": {self.t(finding.detail, **finding.params)}")
            if not finding.required and not finding.ok:
                line.append(f" ({self.t('doctor.optional')})", style="dim")
            self.out.print(line)
            if finding.fix is not None:
                self._line("    " + self.t(f"doctor.fix_{finding.fix}", **finding.params), "cyan")
        self._line("")
        failed = sum(1 for finding in report.findings if finding.required and not finding.ok)
        if failed:
            self._line(self.t("doctor.unhealthy", count=failed), "bold red")
        else:
            self._line(self.t("doctor.healthy"), "bold green")

    # -- grading integrity and verify ----------------------------------------------------------

    def problem_text(self, result: RunResult) -> str:
        """The sentence for a run-level problem (problem.<key>, or integrity.problem.<key>)."""
        key = f"problem.{result.problem}"
        if key not in catalogue("en"):
            key = f"integrity.problem.{result.problem}"
        return self.t(key, **_problem_params(result))

    def verify_report(self, report: VerifyReport, language: str) -> None:
        if not report.results:
            self.note("verify.nothing")
            return
        for result in report.results:
            checkpoint_id = result.checkpoint.id
            if result.result.passed:
                self._line(f"{self.symbols['passed']} " + self.t("verify.still_passes", id=checkpoint_id), "green")
            else:
                self._line(f"{self.symbols['failed']} " + self.t("verify.regressed", id=checkpoint_id), "bold red")
                if result.result.problem is not None:
                    self._line("  " + self.problem_text(result.result), "red")
        for medal, missing in report.lost_medals:
            self._line(
                f"{self.symbols['medal']} "
                + self.t("verify.lost_medal", name=medal.name.get(language), missing=", ".join(missing)),
                "bold yellow",
            )
        self._line("")
        kept = sum(result.result.passed for result in report.results)
        key = "verify.all_good" if kept == len(report.results) else "verify.summary"
        self._line(self.t(key, kept=kept, total=len(report.results)), "bold")

    def verify_json(self, report: VerifyReport) -> None:
        """`verify --json`: the results as in `check --json`, and the medals lost."""
        data = check_json(report.results)
        data["lost_medals"] = [medal.id for medal, _ in report.lost_medals]
        self.print_json(data)

    def training_progress(self, task_name: str) -> Any:
        """A progress bar that also shows the latest loss; returns (context manager, on_record)."""
        from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

        bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[loss]}"),
            TimeElapsedColumn(),
            console=self.err,
            transient=True,
        )
        task = bar.add_task(self.t("train.running", task=task_name), total=None, loss="")

        def on_record(record: dict[str, Any]) -> None:
            if record.get("kind") == "start" and isinstance(record.get("total"), int):
                bar.update(task, total=record["total"])
            elif record.get("kind") == "step" and isinstance(record.get("loss"), (int, float)):
                bar.update(task, completed=record.get("step", 0), loss=self.t("train.loss", loss=record["loss"]))

        return bar, on_record

    def training_report(self, run: TrainingRun) -> None:
        if run.error is not None:
            self._line(self.t("train.failed", task=run.task.name), "bold red")
            self.out.print(Padding(self._exception(run.error), (0, 0, 0, 2), expand=False))
            self._line(self.t("train.check_first", id=run.task.checkpoint), "cyan")
            return
        if run.problem is not None:
            self._line(self.t(f"train.{run.problem}", task=run.task.name), "bold red")
            return
        losses = run.losses
        if losses:
            self._line(self.t("train.curve"), "bold")
            self._line("  " + self.sparkline(losses), "cyan")
            self._line(self.t("train.first_last", steps=len(losses), first=losses[0], last=losses[-1]))
        if run.accuracy is not None:
            style = "bold green" if run.accuracy == 1.0 else "bold yellow"
            self._line(self.t("train.accuracy", accuracy=run.accuracy * 100, seconds=run.duration), style)

    def sparkline(self, values: tuple[float, ...], width: int = 60) -> str:
        """The loss curve in one line of block characters (ASCII digits where they cannot show)."""
        levels = "▁▂▃▄▅▆▇█" if self.symbols is UNICODE_SYMBOLS else "12345678"
        if min(values) > 0:
            # Losses shrink by orders of magnitude; on a log scale the whole descent stays visible.
            values = tuple(math.log10(value) for value in values)
        step = max(1, -(-len(values) // width))
        points = [sum(values[i : i + step]) / len(values[i : i + step]) for i in range(0, len(values), step)]
        low, high = min(points), max(points)
        spread = (high - low) or 1.0
        return "".join(levels[min(len(levels) - 1, int((p - low) / spread * len(levels)))] for p in points)


def _inline(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k} = {v}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value)


def _problem_params(result: RunResult) -> dict[str, Any]:
    params: dict[str, Any] = {"limit": 0, "signal": 0, "message": "", "exit_code": result.exit_code}
    params.update(result.problem_detail)
    if result.problem == "collect_error":
        params["message"] = str((result.problem_detail.get("params") or {}).get("message", ""))[-500:]
    return params


def _display_path(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def course_json(course: Course, standing: Standing, language: str) -> dict[str, Any]:
    """The stable JSON of `list` and `progress` (documented in the README)."""
    current = standing.current
    return {
        "format": 1,
        "current": current.id if current else None,
        "checkpoints": [
            {
                "id": status.checkpoint.id,
                "title": status.checkpoint.title.get(language),
                "stage": status.checkpoint.stage.get(language),
                "files": [f"exercises/{name}" for name in status.checkpoint.files],
                "status": status.state,
                "stale": status.stale,
                "attempts": status.entry.attempts,
                "first_passed": status.entry.first_passed,
                "hints_used": list(status.entry.hints_used),
                "peeked": status.entry.peeked,
            }
            for status in standing.statuses
        ],
        "medals": [
            {"id": s.medal.id, "name": s.medal.name.get(language), "earned": s.earned, "missing": list(s.missing)}
            for s in standing.medals
        ],
    }


def check_json(reports: Iterable[CheckReport]) -> dict[str, Any]:
    """The stable JSON of `check --json` (documented in the README)."""
    return {
        "format": 1,
        "results": [
            {
                "id": report.checkpoint.id,
                "passed": report.result.passed,
                "outcome": report.outcome.value,
                "seed": report.result.seed,
                "duration": round(report.result.duration, 3),
                "problem": report.result.problem,
                "new_medals": [medal.id for medal in report.new_medals],
                "tests": [
                    {"name": test.name, "outcome": test.outcome, "failure": test.failure}
                    for test in report.result.tests
                ],
            }
            for report in reports
        ],
    }
