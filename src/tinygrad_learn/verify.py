"""Verify: re-check every checkpoint marked passed, so a later edit that broke an earlier one shows.

Each re-check goes through `checking.check_many`, which stores the new verdict together with the
files' hash and the suite's version. A checkpoint that fails now loses its pass, and with it every
medal that needed it: a medal only ever counts checkpoints whose last check passed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .checking import CheckReport, check_many
from .manifest import Checkpoint, Course, Medal
from .paths import Workspace
from .progress import ProgressStore
from .state import earned_medals, medal_track


@dataclass(frozen=True)
class VerifyReport:
    results: tuple[CheckReport, ...]
    """One re-check per checkpoint that was marked passed, in course order."""
    lost_medals: tuple[tuple[Medal, tuple[str, ...]], ...]
    """Each medal held before and not any more, with the checkpoints it now misses."""
    moved_aside: Path | None = None

    @property
    def regressions(self) -> tuple[CheckReport, ...]:
        return tuple(report for report in self.results if not report.result.passed)


def verify(
    course: Course,
    workspace: Workspace,
    seed: int | None = None,
    on_start: Callable[[Checkpoint, int, int], None] | None = None,
) -> VerifyReport:
    """Re-check what was passed; `on_start(checkpoint, number, total)` is called before each run."""
    store = ProgressStore(workspace)
    before = store.read()
    targets = [checkpoint for checkpoint in course.checkpoints if before.entry(checkpoint.id).passed]
    results = check_many(course, workspace, targets, seed, on_start)
    after = store.read()
    lost = earned_medals(course, before) - earned_medals(course, after)
    passed_now = {name for name, entry in after.entries.items() if entry.passed}
    lost_medals = tuple(
        (status.medal, status.missing) for status in medal_track(course, passed_now) if status.medal.id in lost
    )
    return VerifyReport(tuple(results), lost_medals, before.moved_aside)
