"""Re-grading a class: every submission in the sandbox, with fresh seeds, against this course.

Returns finished records (`ClassGrade`, `StudentGrade`, `CheckpointGrade`); prints nothing. The
runner starts every process: each checkpoint of each submission is a task for a pool of threads,
and the thread calls the runner, which runs one sandboxed child for it (forked from a warm grading
process of the submission's own when the thread has several of its checkpoints to grade). A
submission that cannot be read (a corrupt bundle) becomes a `StudentGrade` with a problem, never
an exception, so one student can never stop the others.
"""

from __future__ import annotations

import contextlib
import hashlib
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from .. import __version__
from ..checking import run_checkpoint
from ..errors import TinygradLearnError
from ..i18n import Translator
from ..manifest import Checkpoint, Course
from ..paths import Workspace
from ..progress import Entry, ProgressStore, Snapshot
from ..runner import RunResult, available_cores, new_seed, warm_graders
from ..sandbox_warm import WarmGrader
from ..state import medal_track
from .bundle import OpenedBundle, course_version, is_bundle, open_bundle


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
    graded = [_Submission(course, path, chosen, run_seed, version, pool_size) for path in submissions]
    # Every run of every submission is a task of its own, handed out in the class's order: the
    # workers grade each submission together, so a slow one (an endless loop in every checkpoint)
    # is shared out too instead of keeping one worker busy long after the others are done.
    runs = [(submission, checkpoint) for submission in graded for checkpoint in chosen]

    def run(task: tuple[_Submission, Checkpoint]) -> None:
        grade = task[0].run(task[1])
        if grade is not None and on_graded is not None:
            on_graded(grade)

    pool = ThreadPoolExecutor(max_workers=pool_size, thread_name_prefix="grade")
    try:
        for _ in pool.map(run, runs):
            pass
    finally:
        # On Ctrl-C, runs not started yet are dropped; the runs under way end within their limits.
        pool.shutdown(wait=True, cancel_futures=True)
        for submission in graded:
            submission.close()
    return ClassGrade(
        students=tuple(submission.graded() for submission in graded),
        checkpoints=chosen,
        course_version=version,
        tool_version=__version__,
        seed=run_seed,
        workers=pool_size,
        duration=time.perf_counter() - started,
    )


class _Submission:
    """One submission while its checkpoints are graded, by several workers at once: opened (a
    bundle unpacked) at its first run, each worker's runs forked from a warm grading process of
    the submission's own when it has enough of them, and graded as a whole after its last run."""

    def __init__(
        self, course: Course, path: Path, checkpoints: tuple[Checkpoint, ...], run_seed: int, version: str, threads: int
    ) -> None:
        self.course, self.path, self.checkpoints = course, path, checkpoints
        self.run_seed, self.version, self.threads = run_seed, version, threads
        self.name = student_name(path)
        self.lock = threading.Lock()
        self.resources = contextlib.ExitStack()
        self.opened = False
        self.workspace: Workspace | None = None
        self.bundle: OpenedBundle | None = None
        self.problem: str | None = None
        self.claims, self.damaged = Snapshot({}), False
        self.warm: Callable[[], WarmGrader | None] = lambda: None
        self.results: dict[str, RunResult] = {}
        self.left = len(checkpoints)
        self.grade: StudentGrade | None = None

    def run(self, checkpoint: Checkpoint) -> StudentGrade | None:
        """Grade one checkpoint; the whole submission's grade once this was its last run."""
        with self.lock:
            if not self.opened:
                self.opened = True
                self._open()
        if self.workspace is not None and self.problem is None:
            seed = check_seed(self.run_seed, self.name, checkpoint)
            try:
                result = run_checkpoint(self.course, self.workspace, checkpoint, seed, self.warm())
            except TinygradLearnError as error:
                # A file the tool refuses to read (a pipe, a link out of the submission, one over
                # the size cap): this submission cannot be graded, and the others still are.
                with self.lock:
                    self.problem = self.problem or Translator("en")(error.key, **error.params)
            else:
                with self.lock:
                    self.results[checkpoint.id] = result
        with self.lock:
            self.left -= 1
            if self.left:
                return None
        self.grade = self._graded()
        self.close()
        return self.grade

    def _open(self) -> None:
        if not is_bundle(self.path):
            workspace = Workspace(self.path.resolve())
        else:
            unpacked = tempfile.TemporaryDirectory(prefix="tinygrad-learn-submission-", ignore_cleanup_errors=True)
            scratch = self.resources.enter_context(unpacked)
            try:
                self.bundle = open_bundle(self.path, Path(scratch))
            except (ValueError, OSError) as error:
                self.problem = str(error)
                return
            workspace = self.bundle.workspace
        self.claims, self.damaged = _claims(workspace)
        runs = warm_graders(workspace.exercises, self.course.solutions, len(self.checkpoints), self.threads)
        self.warm = self.resources.enter_context(runs)
        self.workspace = workspace

    def _graded(self) -> StudentGrade:
        if self.problem is not None:
            return StudentGrade(self.name, self.path, (), (), problem=self.problem)
        grades = []
        for checkpoint in self.checkpoints:
            claim = self.claims.entry(checkpoint.id)
            grades.append(CheckpointGrade(checkpoint, self.results[checkpoint.id], claim.passed, claim))
        passed = {grade.checkpoint.id for grade in grades if grade.passed}
        medals = tuple(status.medal.id for status in medal_track(self.course, passed) if status.earned)
        grade = StudentGrade(self.name, self.path, tuple(grades), medals, progress_damaged=self.damaged)
        if self.bundle is None:
            return grade
        manifest = self.bundle.manifest
        return replace(
            grade,
            edited_files=self.bundle.edited,
            submitted_course_version=manifest.course_version,
            submitted_tool_version=manifest.tool_version,
            course_version_differs=manifest.course_version != self.version,
        )

    def graded(self) -> StudentGrade:
        assert self.grade is not None, "every run of the submission has ended"
        return self.grade

    def close(self) -> None:
        """Stop its warm grading processes and remove the unpacked bundle."""
        with self.lock:
            self.resources.close()


def _claims(workspace: Workspace) -> tuple[Snapshot, bool]:
    """The student's progress as written, repairing nothing (their folder is never written to)."""
    try:
        return ProgressStore(workspace).inspect(), False
    except (ValueError, TinygradLearnError):
        return Snapshot({}), True
