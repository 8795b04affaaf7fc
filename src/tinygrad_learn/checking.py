"""Checking a checkpoint end to end: run its suite, record the result, say what changed."""

from __future__ import annotations

import enum
import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from .errors import TinygradLearnError
from .manifest import Checkpoint, Course, Medal
from .paths import Workspace
from .progress import FAILED, PASSED, Entry, ProgressStore, files_hash, now
from .runner import RunResult, available_cores, new_seed, run_suite, warm_graders
from .sandbox_warm import WarmGrader
from .sourcemap import with_backward_at
from .state import earned_medals
from .versioning import suite_version


class Outcome(enum.Enum):
    NEWLY_PASSED = "newly_passed"
    PASSED_AGAIN = "passed_again"
    FAILED = "failed"
    REGRESSED = "regressed"
    """Passed before, fails now: a later edit broke it."""


@dataclass(frozen=True)
class CheckReport:
    checkpoint: Checkpoint
    result: RunResult
    outcome: Outcome
    new_medals: tuple[Medal, ...]
    unmet_requirements: tuple[str, ...]
    moved_aside: Path | None
    save_error: TinygradLearnError | None = None
    """Set when the verdict could not be saved: the learner still sees it, and why it was not kept."""
    next_checkpoint: Checkpoint | None = None
    """The first checkpoint not passed once this result is stored; None when the course is done."""


def run_checkpoint(
    course: Course,
    workspace: Workspace,
    checkpoint: Checkpoint,
    seed: int | None = None,
    warm: WarmGrader | None = None,
    cancel: threading.Event | None = None,
) -> RunResult:
    return run_suite(
        checkpoint.suite_path,
        workspace.exercises,
        course.solutions,
        seed=new_seed() if seed is None else seed,
        time_limit=checkpoint.time_limit,
        warm=warm,
        policy=course.allowed_imports,
        cancel=cancel,
    )


def record(
    course: Course, workspace: Workspace, checkpoint: Checkpoint, result: RunResult, graded_hash: str
) -> CheckReport:
    """Store a run's result and work out what it means for the learner."""
    store = ProgressStore(workspace)
    version = suite_version(checkpoint.suite_path)

    def apply(entries: dict[str, Entry]) -> dict[str, Entry]:
        old = entries.get(checkpoint.id, Entry())
        entries[checkpoint.id] = replace(
            old,
            status=PASSED if result.passed else FAILED,
            first_passed=old.first_passed or (now() if result.passed else None),
            last_checked=now(),
            attempts=old.attempts + 1,
            files_hash=graded_hash,
            suite_version=version,
        )
        return entries

    before, after = store.update(apply)
    was_passed = before.entry(checkpoint.id).passed
    if result.passed:
        outcome = Outcome.PASSED_AGAIN if was_passed else Outcome.NEWLY_PASSED
    else:
        outcome = Outcome.REGRESSED if was_passed else Outcome.FAILED
    gained = earned_medals(course, after) - earned_medals(course, before)
    unmet = tuple(name for name in checkpoint.requires if not after.entry(name).passed)
    return CheckReport(
        checkpoint=checkpoint,
        result=result,
        outcome=outcome,
        new_medals=tuple(medal for medal in course.medals if medal.id in gained),
        unmet_requirements=unmet,
        moved_aside=before.moved_aside,
        next_checkpoint=next((c for c in course.checkpoints if not after.entry(c.id).passed), None),
    )


def check(
    course: Course,
    workspace: Workspace,
    checkpoint: Checkpoint,
    seed: int | None = None,
    warm: WarmGrader | None = None,
) -> CheckReport:
    """Grade `checkpoint` and store the result; with `warm`, the run is forked from that warm
    grading process (see `sandbox.start_warm`)."""
    return _stored(course, workspace, checkpoint, *_graded(course, workspace, checkpoint, seed, warm))


def check_if_unchanged(
    course: Course,
    workspace: Workspace,
    checkpoint: Checkpoint,
    unchanged: Callable[[], bool],
    warm: WarmGrader | None = None,
) -> CheckReport | None:
    """`check` for files seen changing a moment ago, graded at once: the verdict is stored and
    returned only if `unchanged()`, asked once the run has ended, says the files have not moved
    since; otherwise None, and nothing is stored (their newer state is to be graded instead)."""
    graded = _graded(course, workspace, checkpoint, None, warm)
    return _stored(course, workspace, checkpoint, *graded) if unchanged() else None


def _graded(
    course: Course,
    workspace: Workspace,
    checkpoint: Checkpoint,
    seed: int | None,
    warm: WarmGrader | None = None,
    cancel: threading.Event | None = None,
) -> tuple[str, RunResult]:
    # Hash before running, so an edit made during the run never gets credited as passing.
    graded_hash = files_hash(workspace.exercises, checkpoint.files)
    result = run_checkpoint(course, workspace, checkpoint, seed, warm, cancel)
    return graded_hash, locate_backward(result, checkpoint, workspace.exercises)


def _stored(
    course: Course, workspace: Workspace, checkpoint: Checkpoint, graded_hash: str, result: RunResult
) -> CheckReport:
    try:
        return record(course, workspace, checkpoint, result, graded_hash)
    except TinygradLearnError as error:
        outcome = Outcome.NEWLY_PASSED if result.passed else Outcome.FAILED
        return CheckReport(checkpoint, result, outcome, (), (), None, save_error=error)


CTRL_C_POLL_SECONDS = 0.2


def check_many(
    course: Course,
    workspace: Workspace,
    targets: list[Checkpoint],
    seed: int | None = None,
    on_start: Callable[[Checkpoint, int, int], None] | None = None,
) -> list[CheckReport]:
    """Grade each, side by side on the machine's cores (time limits count CPU time, so runs
    beside each other never change a verdict), then store the results in the order of `targets`,
    as checking them one by one would. `on_start(checkpoint, number, total)` is called as each
    run starts, from the thread running it. With enough runs per thread, each thread forks its
    runs from a warm grading process of its own (see `runner.warm_graders`)."""
    from concurrent import futures  # here, not at the top: every command imports this module

    started = itertools.count(1)
    cancel = threading.Event()
    workers = max(1, min(len(targets), available_cores()))

    def grade(checkpoint: Checkpoint, warm: Callable[[], WarmGrader | None]) -> tuple[str, RunResult]:
        if cancel.is_set():
            raise KeyboardInterrupt
        if on_start is not None:
            on_start(checkpoint, next(started), len(targets))
        return _graded(course, workspace, checkpoint, seed, warm(), cancel=cancel)

    with (
        warm_graders(workspace.exercises, course.solutions, len(targets), workers) as warm,
        futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="check") as pool,
    ):
        try:
            runs = [pool.submit(grade, checkpoint, warm) for checkpoint in targets]
            # Short waits: a thread blocked for good would see Ctrl+C only once every run ended.
            while futures.wait(runs, timeout=CTRL_C_POLL_SECONDS).not_done:
                pass
        except KeyboardInterrupt:  # it reaches this thread only: the others stop their runs too
            cancel.set()
            raise
        graded = [run.result() for run in runs]
    return [_stored(course, workspace, checkpoint, *run) for checkpoint, run in zip(targets, graded, strict=True)]


def locate_backward(result: RunResult, checkpoint: Checkpoint, exercises: Path) -> RunResult:
    """The result with each gradient mismatch pointed at the learner's backward code, so every
    report that leaves `check` (shown, watched, verified or serialised) carries the same places."""
    tests = tuple(
        replace(test, failure=with_backward_at(test.failure, exercises, checkpoint.files)) for test in result.tests
    )
    if all(new.failure is old.failure for new, old in zip(tests, result.tests, strict=True)):
        return result
    return replace(result, tests=tests)


def checkpoints_to_recheck(course: Course, workspace: Workspace, graded: Checkpoint) -> tuple[Checkpoint, ...]:
    """The earlier checkpoints that passed (or passed once and then failed again), share a file
    with `graded` and whose files changed since they were last graded: the ones a later edit may
    have broken, or mended."""
    store = ProgressStore(workspace).read()
    shared = set(graded.files)
    found = []
    for checkpoint in course.checkpoints[: course.checkpoints.index(graded)]:
        entry = store.entry(checkpoint.id)
        ever_passed = entry.passed or entry.first_passed is not None
        touched = ever_passed and shared & set(checkpoint.files)
        if touched and entry.files_hash != files_hash(workspace.exercises, checkpoint.files):
            found.append(checkpoint)
    return tuple(found)


def recheck_earlier(
    course: Course, workspace: Workspace, targets: tuple[Checkpoint, ...], seed: int | None = None
) -> tuple[CheckReport, ...]:
    """Re-check `targets` (see `checkpoints_to_recheck`) and store their verdicts: one that fails now
    is a regression, shown as such by `progress` and `list` until it passes again."""
    with warm_graders(workspace.exercises, course.solutions, len(targets)) as warm:
        return tuple(check(course, workspace, checkpoint, seed, warm()) for checkpoint in targets)
