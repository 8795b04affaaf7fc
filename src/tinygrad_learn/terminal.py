"""The one module that owns the terminal: every line the learner reads is rendered here.

The core hands over plain values (a Standing, a CheckReport, a HintReply); this module turns
them into Rich output in the learner's language. Colour goes away by itself when NO_COLOR is set
or the output is not a terminal; symbols fall back to ASCII where the encoding cannot show them.
"""

from __future__ import annotations

import json
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

from .checking import CheckReport, Outcome
from .errors import TinygradLearnError
from .hints import HintReply
from .i18n import Translator
from .manifest import Checkpoint, Course
from .paths import Workspace
from .runner import RunResult, TestOutcome
from .state import Standing

MAX_FAILURES_SHOWN = 6
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
        self._line("  tinygrad-learn init my-course", "cyan")
        self._line("  cd my-course", "cyan")
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

    def check_report(self, report: CheckReport, language: str, next_checkpoint: Checkpoint | None, verbose: bool) -> None:
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
            headline = self.t("check.failed", id=checkpoint_id, failed=len(result.failed_tests), count=len(result.tests))
        self._line(f"{self.symbols['failed']} {headline}", "bold red")
        if report.outcome is Outcome.REGRESSED:
            self.note("check.regressed", id=checkpoint_id)
        if result.problem is not None:
            self._line("")
            self._line(self.t(f"problem.{result.problem}", **_problem_params(result)), "red")

    def _failures(self, result: RunResult) -> None:
        failed = list(result.failed_tests)
        if result.problem is not None:
            # After a run-level problem, only tests that reported something real are worth showing.
            failed = [test for test in failed if test.outcome != "missing"]
        shown = failed[:MAX_FAILURES_SHOWN]
        for test in shown:
            self._line("")
            self._line(f"{self.symbols['failed']} {test.name.removeprefix('test_').replace('_', ' ')}", "bold")
            self.out.print(Padding(self.describe(test), (0, 0, 0, 2), expand=False))
        if len(failed) > len(shown):
            self._line("")
            self._line(self.t("check.more_failures", count=len(failed) - len(shown)), "dim")

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
            try:
                text = text.format(**fields)
            except (KeyError, IndexError, ValueError):
                pass
            return Group(RichText(text), *self._context(params))
        if kind in {"skipped", "collect_error"}:
            return Group(RichText(self.t(f"failure.{kind}", **params)))
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
        else:
            text = self.t("failure.raised", type=kind, message=message)
        parts = [RichText(text)]
        where = params.get("where")
        if isinstance(where, dict):
            parts.append(RichText(self.t("failure.at", file=where.get("file"), line=where.get("line")), style="cyan"))
            if where.get("code"):
                parts.append(RichText(f"    {where['code']}", style="dim"))
        return Group(*parts)

    def _grad_table(self, params: dict[str, Any]) -> Group:
        table = Table(show_edge=False, pad_edge=False)
        for key in ("col_name", "col_autograd", "col_numeric", "col_diff"):
            table.add_column(self.t(f"failure.{key}"), justify="left" if key == "col_name" else "right")
        for row in params.get("rows") or []:
            style = "red" if row.get("wrong") else ""
            diff = row.get("diff")
            diff_text = f"{diff:.3g}" if isinstance(diff, (int, float)) else str(diff)
            table.add_row(str(row.get("name")), str(row.get("autograd")), str(row.get("numeric")), diff_text, style=style)
        head = RichText(self.t("failure.grad_mismatch", expr=params.get("expr", "")))
        return Group(head, *self._context({"given": params.get("given")}), table)

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
            self.note("standing.stale_note", ids=" ".join(stale))

    def hints(self, reply: HintReply, language: str) -> None:
        from rich.markdown import Markdown

        checkpoint = reply.checkpoint
        for level, text in reply.shown:
            title = self.t("hint.title", level=level, last=reply.last_level, id=checkpoint.id)
            kind = self.t(f"hint.levels.{min(level, 3)}")
            self.out.print(Panel(Markdown(text.get(language)), title=f"{title} · {kind}", title_align="left"))
        key = "hint.last" if reply.exhausted else "hint.more"
        self._line(self.t(key, id=checkpoint.id), "cyan")

    def initialized(self, workspace: Workspace) -> None:
        self._line(self.t("init.created", path=str(workspace.root)), "bold green")
        self._line(self.t("init.next", path=_display_path(workspace.root)), "cyan")


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
                    {"name": test.name, "outcome": test.outcome, "failure": test.failure} for test in report.result.tests
                ],
            }
            for report in reports
        ],
    }
