"""Re-grading a class: every submission in the sandbox, with fresh seeds, against this course.

Returns finished records (`ClassGrade`, `StudentGrade`, `CheckpointGrade`); prints nothing. The
runner starts every process: each submission is graded in a thread of a pool, and that thread
calls the runner, which runs one sandboxed child at a time for it (forked from a warm grading
process of the submission's own when it has several checkpoints to grade). A submission that
cannot be read (a corrupt bundle) becomes a `StudentGrade` with a problem, never an exception, so
one student can never stop the others.
"""

from __future__ import annotations

import hashlib
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from .. import __version__
from ..checking import run_checkpoint
from ..errors import TinygradLearnError
from ..manifest import Checkpoint, Course
from ..paths import Workspace
from ..progress import Entry, ProgressStore, Snapshot
from ..runner import RunResult, available_cores, new_seed, warm_graders
from ..state import medal_track
from .bundle import course_version, is_bundle, open_bundle


@dataclass(frozen=True)
class CheckpointGrade:
    checkpoint: Checkpoint
    result: RunResult
    claimed: bool
    """The student's own progress file says this checkpoint passed."""
    entry: Entry

    @property
    def passed(self) -> bool:
        return self.result.passed

    @property
    def claimed_but_failed(self) -> bool:
        return self.claimed and not self.result.passed


@dataclass(frozen=True)
class StudentGrade:
    name: str
    source: Path
    checkpoints: tuple[CheckpointGrade, ...]
    medals: tuple[str, ...]
    problem: str | None = None
    """Why this submission could not be graded at all (a corrupt bundle, no exercises/)."""
    edited_files: tuple[str, ...] = ()
    """Bundle members changed after `submit` (their hash no longer matches)."""
    submitted_course_version: str | None = None
    submitted_tool_version: str | None = None
    progress_damaged: bool = False
    course_version_differs: bool = False

    @property
    def passed_count(self) -> int:
        return sum(grade.passed for grade in self.checkpoints)

    @property
    def claimed_but_failed(self) -> tuple[str, ...]:
        return tuple(grade.checkpoint.id for grade in self.checkpoints if grade.claimed_but_failed)

    @property
    def flagged(self) -> bool:
        return bool(self.problem or self.edited_files or self.claimed_but_failed or self.course_version_differs)


@dataclass(frozen=True)
class ClassGrade:
    students: tuple[StudentGrade, ...]
    checkpoints: tuple[Checkpoint, ...]
    course_version: str
    tool_version: str
    seed: int
    workers: int
    duration: float


def find_submissions(paths: Sequence[Path]) -> tuple[Path, ...]:
    """Each path is a bundle, a workspace, or a folder of them; TinygradLearnError when one is none."""
    found: list[Path] = []
    for path in paths:
        if is_bundle(path) or _is_workspace(path):
            found.append(path)
        elif path.is_dir():
            inside = sorted(child for child in path.iterdir() if is_bundle(child) or _is_workspace(child))
            if not inside:
                raise TinygradLearnError("instructor.grade_nothing", path=str(path))
            found.extend(inside)
        else:
            raise TinygradLearnError("instructor.grade_not_a_submission", path=str(path))
    names = [student_name(path) for path in found]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise TinygradLearnError("instructor.grade_duplicate", names=", ".join(duplicates))
    return tuple(found)


def _is_workspace(path: Path) -> bool:
    return path.is_dir() and (path / "exercises").is_dir() and not path.is_symlink()


def student_name(path: Path) -> str:
    return path.stem if is_bundle(path) else path.resolve().name


def check_seed(run_seed: int, student: str, checkpoint: Checkpoint) -> int:
    """Each student and checkpoint gets its own values, all fixed by the run's seed (`--seed` repeats it)."""
    digest = hashlib.sha256(f"{run_seed}\0{student}\0{checkpoint.id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % 100_000


def grade_class(
    course: Course,
    paths: Sequence[Path],
    checkpoints: Sequence[Checkpoint] | None = None,
    *,
    seed: int | None = None,
    workers: int | None = None,
    on_graded: Callable[[StudentGrade], None] | None = None,
) -> ClassGrade:
    submissions = find_submissions(paths)
    chosen = tuple(checkpoints) if checkpoints else course.checkpoints
    run_seed = new_seed() if seed is None else seed
    pool_size = max(1, workers or available_cores())
    version = course_version(course)
    started = time.perf_counter()

    def one(path: Path) -> StudentGrade:
        grade = grade_submission(course, path, chosen, run_seed, version)
        if on_graded is not None:
            on_graded(grade)
        return grade

    pool = ThreadPoolExecutor(max_workers=pool_size, thread_name_prefix="grade")
    try:
        students = tuple(pool.map(one, submissions))
    finally:
        # On Ctrl-C, submissions not started yet are dropped; the runs under way end within their limits.
        pool.shutdown(wait=True, cancel_futures=True)
    return ClassGrade(
        students=students,
        checkpoints=chosen,
        course_version=version,
        tool_version=__version__,
        seed=run_seed,
        workers=pool_size,
        duration=time.perf_counter() - started,
    )


def grade_submission(
    course: Course, path: Path, checkpoints: tuple[Checkpoint, ...], run_seed: int, version: str
) -> StudentGrade:
    name = student_name(path)
    if not is_bundle(path):
        return _grade_workspace(course, Workspace(path.resolve()), name, path, checkpoints, run_seed)
    with tempfile.TemporaryDirectory(prefix="tinygrad-learn-submission-", ignore_cleanup_errors=True) as scratch:
        try:
            opened = open_bundle(path, Path(scratch))
        except (ValueError, OSError) as error:
            return StudentGrade(name, path, (), (), problem=str(error))
        graded = _grade_workspace(course, opened.workspace, name, path, checkpoints, run_seed)
    return StudentGrade(
        name=name,
        source=path,
        checkpoints=graded.checkpoints,
        medals=graded.medals,
        edited_files=opened.edited,
        submitted_course_version=opened.manifest.course_version,
        submitted_tool_version=opened.manifest.tool_version,
        progress_damaged=graded.progress_damaged,
        course_version_differs=opened.manifest.course_version != version,
    )


def _claims(workspace: Workspace) -> tuple[Snapshot, bool]:
    """The student's progress as written, repairing nothing (their folder is never written to)."""
    try:
        return ProgressStore(workspace).inspect(), False
    except (ValueError, TinygradLearnError):
        return Snapshot({}), True


def _grade_workspace(
    course: Course,
    workspace: Workspace,
    name: str,
    source: Path,
    checkpoints: tuple[Checkpoint, ...],
    run_seed: int,
) -> StudentGrade:
    snapshot, damaged = _claims(workspace)
    grades = []
    # The submission's runs are forked from a warm grading process of its own, which never
    # imports its code: each run is as clean as a cold one, without starting Python each time.
    with warm_graders(workspace.exercises, course.solutions, len(checkpoints)) as warm:
        for checkpoint in checkpoints:
            result = run_checkpoint(course, workspace, checkpoint, check_seed(run_seed, name, checkpoint), warm())
            entry = snapshot.entry(checkpoint.id)
            grades.append(CheckpointGrade(checkpoint, result, entry.passed, entry))
    passed = {grade.checkpoint.id for grade in grades if grade.passed}
    medals = tuple(status.medal.id for status in medal_track(course, passed) if status.earned)
    return StudentGrade(name, source, tuple(grades), medals, progress_damaged=damaged)
