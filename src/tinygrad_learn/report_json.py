"""The JSON contract (documented in the README): what `list`, `progress`, `check` and `verify` print
with `--json`. Every command that serialises a report uses these functions, so the same report
always reads the same. Version changes go through `FORMAT`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .checking import CheckReport
from .manifest import Course
from .state import Standing
from .verify import VerifyReport

FORMAT = 1


def seconds(value: float) -> float:
    """Durations to the millisecond: finer is noise."""
    return round(value, 3)


def course_json(course: Course, standing: Standing, language: str) -> dict[str, Any]:
    """`list --json` and `progress --json`."""
    current = standing.current
    return {
        "format": FORMAT,
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


def check_result_json(report: CheckReport) -> dict[str, Any]:
    """One checkpoint's verdict: the same object in `check --json` and `verify --json`."""
    return {
        "id": report.checkpoint.id,
        "passed": report.result.passed,
        "outcome": report.outcome.value,
        "seed": report.result.seed,
        "duration": seconds(report.result.duration),
        "problem": report.result.problem,
        "new_medals": [medal.id for medal in report.new_medals],
        "tests": [
            {"name": test.name, "outcome": test.outcome, "failure": test.failure} for test in report.result.tests
        ],
    }


def check_json(reports: Iterable[CheckReport]) -> dict[str, Any]:
    """`check --json`."""
    return {"format": FORMAT, "results": [check_result_json(report) for report in reports]}


def verify_json(report: VerifyReport) -> dict[str, Any]:
    """`verify --json`: the results as in `check --json`, and the medals lost."""
    return {**check_json(report.results), "lost_medals": [medal.id for medal, _ in report.lost_medals]}
