"""`dev check`: everything a course must satisfy, checked together, as a list of findings.

The manifest loads; every checkpoint has its lesson in both languages; no text `dev new` left to
fill remains; exercises/ and solutions/ hold the same files; every suite fails on the stubs and
passes on the solutions (graded by the real runner, on temporary copies: never the course
folder itself); no test name is used twice; and every time limit leaves at least
HEADROOM times the solutions' measured time. Without grading (`--no-grading`) only what needs no
grading run is checked: in seconds, where grading the whole course takes minutes.

The solutions' time is the CPU time of the grading run as the runner reports it (user + system
of the child and every process it started): what the checkpoint's time limit counts, and what a
busy machine barely changes. Where there is no such accounting it is the best wall time of a few
runs.
"""

from __future__ import annotations

import enum
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import TinygradLearnError
from ..i18n import LANGUAGES
from ..korean_lint import lint
from ..manifest import Checkpoint, Course, load_course
from ..paths import MANIFEST_NAME
from ..runner import RunResult, available_cores, expected_tests, new_seed, run_suite
from ..stubs import LOCK_NAME, lock_text
from . import PLACEHOLDER

HEADROOM = 5.0
WALL_RUNS = 3


class Problem(enum.Enum):
    MANIFEST = "manifest"
    LESSON_MISSING = "lesson_missing"
    PLACEHOLDER = "placeholder"
    TWIN_MISSING = "twin_missing"
    FILE_MISSING = "file_missing"
    ENGINE_MISSING = "engine_missing"
    SUITE_UNREADABLE = "suite_unreadable"
    DUPLICATE_TEST = "duplicate_test"
    STUB_PASSES = "stub_passes"
    SOLUTION_FAILS = "solution_fails"
    TIME_HEADROOM = "time_headroom"
    STUB_LOCK = "stub_lock"
    KOREAN = "korean"


@dataclass(frozen=True)
class Finding:
    problem: Problem
    checkpoint: str | None
    file: str | None
    """Relative to the course folder (suites: to their folder), when one file is at fault."""
    params: Mapping[str, str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"dev.problem.{self.problem.value}"


@dataclass(frozen=True)
class Timing:
    checkpoint: str
    seconds: float
    limit: float


@dataclass(frozen=True)
class CourseReport:
    root: Path
    findings: tuple[Finding, ...]
    timings: tuple[Timing, ...]
    clock: str
    """cpu (the grading child's CPU time) or wall (the best of WALL_RUNS runs)."""
    checkpoints: int
    seed: int
    graded: bool
    """Whether the suites were graded on the stubs and the solutions (not with --no-grading)."""

    @property
    def clean(self) -> bool:
        return not self.findings


Measure = Callable[[Callable[[], RunResult]], tuple[RunResult, float]]
"""Runs a grading run and returns its result with the seconds it took."""


def child_cpu_time(run: Callable[[], RunResult]) -> tuple[RunResult, float]:
    """The CPU time of the grading run, as the runner measured it against the time limit."""
    result = run()
    return result, result.cpu_seconds


def best_wall_time(run: Callable[[], RunResult]) -> tuple[RunResult, float]:
    """Where no CPU accounting exists: the best of a few runs, the one least disturbed."""
    seconds = []
    for _ in range(WALL_RUNS):
        started = time.perf_counter()
        result = run()
        seconds.append(time.perf_counter() - started)
        if not result.passed:
            break
    return result, min(seconds)


def default_measure() -> tuple[Measure, str]:
    try:
        import resource  # noqa: F401  (POSIX only)
    except ImportError:
        return best_wall_time, "wall"
    return child_cpu_time, "cpu"


def check_course(
    root: Path, *, seed: int | None = None, measure: Measure | None = None, grade: bool = True
) -> CourseReport:
    chosen_seed = new_seed() if seed is None else seed
    clock = "cpu"
    if measure is None:
        measure, clock = default_measure()
    # CPU time is the same whatever runs beside a run, so the suites grade side by side; a wall
    # clock (where there is no CPU accounting) needs them one at a time.
    workers = available_cores() if clock == "cpu" else 1
    try:
        course = load_course(root)
    except TinygradLearnError as error:
        params = {name: str(value) for name, value in error.params.items()}
        finding = Finding(Problem.MANIFEST, None, MANIFEST_NAME, {"key": error.key, **params})
        return CourseReport(root, (finding,), (), clock, 0, chosen_seed, grade)
    findings = [*_text_findings(course), *_korean_findings(course), *_file_findings(course), *_suite_findings(course)]
    timings: list[Timing] = []
    if grade:
        run_findings, timings = _run_findings(course, chosen_seed, measure, workers)
        findings.extend(run_findings)
    return CourseReport(root, tuple(findings), tuple(timings), clock, len(course.checkpoints), chosen_seed, grade)


def _text_findings(course: Course) -> list[Finding]:
    found = []
    for checkpoint in course.checkpoints:
        texts = {"stage": checkpoint.stage, "title": checkpoint.title}
        texts.update({f"hints[{level}]": hint for level, hint in enumerate(checkpoint.hints, start=1)})
        for where, text in texts.items():
            for language in LANGUAGES:
                if PLACEHOLDER in text.get(language):
                    found.append(_placeholder(checkpoint, MANIFEST_NAME, f"{where}.{language}"))
        for language in LANGUAGES:
            lesson = f"{checkpoint.lesson}.{language}.md"
            path = course.root / lesson
            if not path.is_file() or not path.read_text(encoding="utf-8", errors="replace").strip():
                found.append(Finding(Problem.LESSON_MISSING, checkpoint.id, lesson, {"language": language}))
            elif PLACEHOLDER in path.read_text(encoding="utf-8", errors="replace"):
                found.append(_placeholder(checkpoint, lesson, lesson))
    return found


def _placeholder(checkpoint: Checkpoint, file: str, where: str) -> Finding:
    return Finding(Problem.PLACEHOLDER, checkpoint.id, file, {"where": where, "marker": PLACEHOLDER})


def _korean_findings(course: Course) -> list[Finding]:
    """Korean as a native speaker writes it (korean_lint): particles, templates, the glossary."""
    return [
        Finding(Problem.KOREAN, None, finding.source, {"kind": finding.kind, "excerpt": finding.excerpt})
        for finding in lint(course.root)
    ]


def _python_files(folder: Path) -> set[str]:
    return {path.relative_to(folder).as_posix() for path in folder.rglob("*.py") if "__pycache__" not in path.parts}


def _file_findings(course: Course) -> list[Finding]:
    found = []
    stubs, solutions = _python_files(course.exercises), _python_files(course.solutions)
    for name in sorted(stubs ^ solutions):
        missing_in = "solutions" if name in stubs else "exercises"
        found.append(Finding(Problem.TWIN_MISSING, None, f"{missing_in}/{name}", {"name": name}))
    owner = {name: checkpoint.id for checkpoint in course.checkpoints for name in checkpoint.files}
    for name in sorted(solutions):
        text = (course.solutions / name).read_text(encoding="utf-8", errors="replace")
        if PLACEHOLDER in text:
            where = f"solutions/{name}"
            found.append(Finding(Problem.PLACEHOLDER, owner.get(name), where, {"where": where, "marker": PLACEHOLDER}))
    for checkpoint in course.checkpoints:
        for name in checkpoint.files:
            if name not in stubs:
                found.append(Finding(Problem.FILE_MISSING, checkpoint.id, f"exercises/{name}", {"name": name}))
    if course.engine is not None and course.engine.file not in stubs:
        found.append(Finding(Problem.ENGINE_MISSING, None, f"exercises/{course.engine.file}", {}))
    lock = course.root / LOCK_NAME
    if lock.is_file() and lock.read_text(encoding="utf-8") != lock_text(course.root):
        # init and reset would refuse the stubs the author just wrote: the lock must follow them.
        found.append(Finding(Problem.STUB_LOCK, None, LOCK_NAME, {}))
    return found


def _suite_findings(course: Course) -> list[Finding]:
    found = []
    first_use: dict[str, str] = {}
    for checkpoint in course.checkpoints:
        try:
            text = checkpoint.suite_path.read_text(encoding="utf-8")
            names = expected_tests(checkpoint.suite_path)
        except (OSError, SyntaxError, ValueError) as error:
            found.append(Finding(Problem.SUITE_UNREADABLE, checkpoint.id, checkpoint.suite, {"problem": str(error)}))
            continue
        if PLACEHOLDER in text:
            found.append(_placeholder(checkpoint, checkpoint.suite, checkpoint.suite))
        for name in names:
            if name in first_use:
                params = {"name": name, "other": first_use[name]}
                found.append(Finding(Problem.DUPLICATE_TEST, checkpoint.id, checkpoint.suite, params))
            else:
                first_use[name] = checkpoint.id
    return found


def _run_findings(course: Course, seed: int, measure: Measure, workers: int) -> tuple[list[Finding], list[Timing]]:
    found: list[Finding] = []
    timings: list[Timing] = []
    with tempfile.TemporaryDirectory(prefix="tinygrad-learn-dev-") as scratch:
        stubs, solutions = Path(scratch) / "exercises", Path(scratch) / "solutions"
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
        for source, copy in ((course.exercises, stubs), (course.solutions, solutions)):
            if source.is_dir():  # a missing folder is already a finding: every twin is missing
                shutil.copytree(source, copy, ignore=ignore)
            else:
                copy.mkdir()

        def check(checkpoint: Checkpoint) -> tuple[list[Finding], Timing | None]:
            def grade(exercises: Path) -> RunResult:
                return run_suite(
                    checkpoint.suite_path,
                    exercises,
                    solutions,
                    seed=seed,
                    time_limit=checkpoint.time_limit,
                    policy=course.allowed_imports,
                )

            findings = []
            if grade(stubs).passed:
                findings.append(Finding(Problem.STUB_PASSES, checkpoint.id, checkpoint.suite, {}))
            result, seconds = measure(lambda: grade(solutions))
            if not result.passed:
                findings.append(Finding(Problem.SOLUTION_FAILS, checkpoint.id, checkpoint.suite, _why(result)))
                return findings, None
            if checkpoint.time_limit < HEADROOM * seconds:
                params = {
                    "limit": f"{checkpoint.time_limit:g}",
                    "seconds": f"{seconds:.2f}",
                    "needed": f"{HEADROOM * seconds:.1f}",
                }
                findings.append(Finding(Problem.TIME_HEADROOM, checkpoint.id, MANIFEST_NAME, params))
            return findings, Timing(checkpoint.id, seconds, checkpoint.time_limit)

        graded = [checkpoint for checkpoint in course.checkpoints if checkpoint.suite_path.is_file()]
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="dev-check") as pool:
            for findings, timing in pool.map(check, graded):  # in the course's order, whoever ends first
                found.extend(findings)
                if timing is not None:
                    timings.append(timing)
    return found, timings


def _why(result: RunResult) -> dict[str, str]:
    failed = ", ".join(test.name for test in result.failed_tests) or "-"
    return {"tests": failed, "problem": result.problem or "-", "seed": str(result.seed)}
