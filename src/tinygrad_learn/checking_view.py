"""How a check report reads: the verdict, each failure in the learner's terms, what to do next.

`check`, `watch` and `verify` all show a checkpoint's report through here. Everything a failure
carries came from learner code (messages, reprs, code lines), so it goes through `visible`.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from typing import Any

from rich.console import Group
from rich.text import Text

from .checking import CheckReport, Outcome
from .grading.protocol import REFUSED_FAILURE
from .i18n import catalogue, check_title
from .manifest import Checkpoint
from .runner import RunResult, TestOutcome
from .terminal import Terminal, visible, visible_values
from .verdict import custom_message, inline

MAX_FAILURES_SHOWN = 6
# Exceptions from learner code that have a sentence of their own (integrity.failure.<name>).
INTEGRITY_EXCEPTIONS = {
    "SyntaxError": "syntax_error",
    "IndentationError": "syntax_error",
    "TabError": "syntax_error",
    "MemoryError": "memory_error",
    "SystemExit": "system_exit",
}


def show_report(term: Terminal, report: CheckReport, verbose: bool = False) -> None:
    result, checkpoint = report.result, report.checkpoint
    if verbose:
        term.out.rule(term.text(term.t("check.verbose_output")))
        term.out.print(Text(visible(result.output.strip(), block=True) or term.t("check.no_output")))
        term.out.rule()
    if result.passed:
        key = "check.passed_again" if report.outcome is Outcome.PASSED_AGAIN else "check.passed"
        term.success(key, id=checkpoint.id, count=len(result.tests), seconds=result.duration)
        for medal in report.new_medals:
            name, description = medal.name.get(term.language), medal.description.get(term.language)
            term.line(
                f"{term.symbols['medal']} " + term.t("check.medal", name=name, description=description), "bold yellow"
            )
        if report.outcome is Outcome.NEWLY_PASSED and report.save_error is None:
            if report.next_checkpoint is None:
                term.say("check.done", "bold green")
            else:
                term.say("check.next", "cyan", id=report.next_checkpoint.id)
        return
    _failed_summary(term, report)
    _failures(term, report, verbose)
    term.line()
    if report.unmet_requirements:
        term.note("check.unmet", id=checkpoint.id, requires=", ".join(report.unmet_requirements))
    term.say("check.seed", "dim", id=checkpoint.id, seed=result.seed)
    term.say("check.stuck", "cyan", id=checkpoint.id)


def show_summary(term: Terminal, reports: list[CheckReport]) -> None:
    """`check --all`: one line per checkpoint (a failed one with its first reason), then the count."""
    for report in reports:
        passed = report.result.passed
        term.line(
            f"{term.symbols['passed' if passed else 'failed']} {report.checkpoint.id}", "green" if passed else "red"
        )
        if not passed:
            term.line(f"  {first_reason(term, report)}", "red")
    term.line()
    term.say("check.summary_all", "bold", passed=sum(report.result.passed for report in reports), total=len(reports))


def show_rechecks(term: Terminal, reports: tuple[CheckReport, ...]) -> None:
    """The earlier checkpoints re-checked after a check: one line each, a regression with its reason."""
    for report in reports:
        checkpoint_id = report.checkpoint.id
        if report.result.passed:
            term.line(f"{term.symbols['passed']} " + term.t("recheck.still_passes", id=checkpoint_id), "dim")
        else:
            term.line(f"{term.symbols['failed']} " + term.t("verify.regressed", id=checkpoint_id), "bold red")
            term.line(f"  {first_reason(term, report)}", "red")


def first_reason(term: Terminal, report: CheckReport) -> str:
    """Why a checkpoint failed, in one line: the run's problem, or its first failed check and why."""
    result = report.result
    if result.problem is not None:
        return _one_line(problem_text(term, result))
    failed = result.failed_tests
    if not failed:
        return term.t("check.problem_failed", id=report.checkpoint.id)
    test = failed[0]
    title = visible(check_title(report.checkpoint.suite_path.name, test.name, term.language))
    reason = describe(term, test).renderables[0]
    text = reason.plain if isinstance(reason, Text) else ""
    return _one_line(f"{title}: {text}" if text else title)


def _one_line(text: str, limit: int = 160) -> str:
    line = text.strip().split("\n", 1)[0]
    return line if len(line) <= limit else line[: limit - 1] + "…"


@contextlib.contextmanager
def running(term: Terminal, each: str, first: str | None = None) -> Iterator[Callable[[Checkpoint, int, int], None]]:
    """A progress bar over several checks, described by the locale key `each` (given `id`,
    `number`, `total`); yields `started(checkpoint, number, total)` for the core to call."""
    with term.progress() as bar:
        task = bar.add_task(term.t(first) if first else "", total=None)

        def started(checkpoint: Checkpoint, number: int, total: int) -> None:
            description = term.t(each, id=checkpoint.id, number=number, total=total)
            bar.update(task, description=description, total=total, completed=number - 1)

        yield started


def problem_text(term: Terminal, result: RunResult) -> str:
    """The sentence for a run-level problem (problem.<key>, or integrity.problem.<key>); the
    `forbidden` problem names the learner's file, line and name, so its values go through `visible`."""
    key = f"problem.{result.problem}"
    if result.problem == "timeout" and result.problem_detail.get("clock") == "wall":
        key = "problem.timeout_wall"
    if key not in catalogue("en"):
        key = f"integrity.problem.{result.problem}"
    params: dict[str, Any] = {"limit": 0, "signal": 0, "message": "", "exit_code": result.exit_code}
    params.update(result.problem_detail)
    if result.problem == "collect_error":
        params["message"] = str((result.problem_detail.get("params") or {}).get("message", ""))[-500:]
    name = str(result.problem_detail.get("name", ""))
    if result.problem == "forbidden" and name.split(".")[0] == "exercises":
        # Not machinery at all: the learner's own files, imported the way a shell would.
        key, params["message"] = "failure.exercises_import", f"{result.problem_detail.get('file')}: {name}"
    return term.t(key, **visible_values(params))


def _failed_summary(term: Terminal, report: CheckReport) -> None:
    result, checkpoint_id = report.result, report.checkpoint.id
    if result.problem is not None:
        headline = term.t("check.problem_failed", id=checkpoint_id)
    else:
        headline = term.t("check.failed", id=checkpoint_id, failed=len(result.failed_tests), count=len(result.tests))
    term.line(f"{term.symbols['failed']} {headline}", "bold red")
    if report.outcome is Outcome.REGRESSED:
        term.note("check.regressed", id=checkpoint_id)
    if result.problem is not None:
        term.line()
        term.line(problem_text(term, result), "red")


def _failures(term: Terminal, report: CheckReport, verbose: bool) -> None:
    result, suite = report.result, report.checkpoint.suite_path.name
    failed = list(result.failed_tests)
    if result.problem is not None:
        # After a run-level problem, only tests that reported something real are worth showing.
        failed = [test for test in failed if test.outcome != "missing"]
    # Tests that fail for the very same reason (typically a stub not written yet) are shown once.
    groups: dict[str, list[TestOutcome]] = {}
    for test in failed:
        groups.setdefault(json.dumps([test.outcome, test.failure], sort_keys=True, default=str), []).append(test)
    shown = len(groups) if verbose else MAX_FAILURES_SHOWN
    for tests in list(groups.values())[:shown]:
        names = ", ".join(visible(check_title(suite, test.name, term.language)) for test in tests)
        term.line()
        term.line(f"{term.symbols['failed']} {names}", "bold")
        term.indented(describe(term, tests[0]))
    hidden = sum(len(tests) for tests in list(groups.values())[shown:])
    if hidden:
        term.line()
        term.say("check.more_failures", "dim", count=hidden, id=report.checkpoint.id)


def describe(term: Terminal, test: TestOutcome) -> Group:
    """A failed test in the learner's terms: what was expected, with which values, and where."""
    failure = test.failure
    if failure is None:
        key = {"skipped": "failure.skipped", "xfailed": "failure.xfailed", "missing": "failure.missing_test"}
        return Group(Text(term.t(key.get(test.outcome, "failure.error"), message="")))
    params = failure.get("params") or {}
    kind = failure.get("key", "")
    if kind == "exception":
        return learner_error(term, params)
    if kind == "grad_mismatch":
        return _grad_table(term, params)
    if kind == "custom":
        return Group(Text(custom_message(params, term.language, visible)), *_context(term, params))
    if kind in {"skipped", "collect_error"}:
        return Group(Text(term.t(f"failure.{kind}", **_fields(params))))
    if kind == "tampered":
        return Group(Text(term.t("integrity.failure.tampered", **_fields(params))))
    if kind == REFUSED_FAILURE:  # the call the audit hook refused, and where the learner's code made it
        return Group(Text(term.t("failure.refused", **_fields(params))))
    return Group(Text(term.t(f"failure.{kind}", **_fields(params))), *_context(term, params))


def learner_error(term: Terminal, error: dict[str, Any]) -> Group:
    """An exception raised by learner code (type, message, where) as a sentence and its line."""
    kind, message = visible(error.get("type", "Exception")), visible(error.get("message", ""))
    if kind == "NotImplementedError":
        text = term.t("failure.not_implemented", message=message)
    elif kind in {"ModuleNotFoundError", "ImportError"} and "'exercises" in message:
        text = term.t("failure.exercises_import", message=message)
    elif kind == "RecursionError":
        text = term.t("failure.recursion")
    elif kind == "TypeError" and "unhashable" in message:
        text = term.t("failure.unhashable", message=message)
    elif kind == "OverflowError":
        text = term.t("failure.overflow", message=message)
    elif kind == "SyntaxError" and "utf-8" in message.lower():
        text = term.t("integrity.failure.not_utf8", message=message)
    elif kind in INTEGRITY_EXCEPTIONS:
        text = term.t(f"integrity.failure.{INTEGRITY_EXCEPTIONS[kind]}", type=kind, message=message)
    else:
        text = term.t("failure.raised", type=kind, message=message)
    return Group(Text(text), *where_lines(term, error.get("where")))


def where_lines(term: Terminal, where: Any) -> list[Text]:
    """`at exercises/engine.py:12`, the learner's line, and a caret under the column when known."""
    if not isinstance(where, dict):
        return []
    at = Text(term.t("failure.at", file=visible(where.get("file")), line=where.get("line")), style="cyan")
    lines = [term.file_link(at, where.get("file"))]
    if where.get("code"):
        lines.append(Text(f"    {visible(where['code'])}", style="dim"))
        if isinstance(where.get("column"), int):
            lines.append(Text(" " * (3 + where["column"]) + "^", style="red"))
    return lines


def _grad_table(term: Terminal, params: dict[str, Any]) -> Group:
    columns = (("", "left"),) + tuple(
        (term.t(f"failure.{key}"), "left" if key == "col_name" else "right")
        for key in ("col_name", "col_autograd", "col_numeric", "col_diff")
    )
    table = term.table(columns=columns)
    for row in params.get("rows") or []:
        diff = row.get("diff")
        diff_text = f"{diff:.3g}" if isinstance(diff, (int, float)) else visible(diff)
        cells = [Text(visible(row.get(name))) for name in ("name", "autograd", "numeric")]
        mark = Text(term.symbols["failed"] if row.get("wrong") else "")
        table.add_row(mark, *cells, Text(diff_text), style="red" if row.get("wrong") else "")
    source = str(params.get("expected_from") or "unknown")
    if f"failure.expected_from.{source}" not in catalogue("en"):
        source = "unknown"
    legend = term.t("failure.grad_legend", source=term.t(f"failure.expected_from.{source}"))
    if not term.unicode:
        legend = legend.replace("✗", term.symbols["failed"])
    head = Text(term.t("failure.grad_mismatch", expr=visible(params.get("expr", ""))))
    places = [Text(term.t("diagnostics.backward_at"), style="bold")] if params.get("backward_at") else []
    for place in params.get("backward_at") or []:
        where = f"  {place.get('file')}:{place.get('line')} {place.get('name')}"
        places.append(term.file_link(Text(visible(where), style="cyan"), place.get("file")))
    return Group(head, *_context(term, {"given": params.get("given")}), table, Text(legend, style="dim"), *places)


def _context(term: Terminal, params: dict[str, Any]) -> list[Text]:
    lines = []
    if params.get("expr"):
        lines.append(Text(term.t("failure.in_expr", expr=visible(params["expr"])), style="dim"))
    given = params.get("given")
    if isinstance(given, dict) and given:
        values = ", ".join(f"{name} = {value}" for name, value in given.items())
        lines.append(Text(term.t("failure.given", values=visible(values)), style="dim"))
    return lines


def _fields(params: dict[str, Any]) -> dict[str, Any]:
    """Failure parameters as the text placed into a sentence."""
    return {name: visible(inline(value)) for name, value in params.items()}
