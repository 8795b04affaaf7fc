"""Runs a checkpoint's hidden suite, or a worker, on the learner's files and returns what happened.

With `sandbox`, the only place that starts processes: learner code always goes through
`sandbox.run_sandboxed`, and `run_program` starts the external programs the tool itself calls
(Graphviz, the learner's editor, git). Nothing here prints: every function returns a result.

A grading run's records are stamped with a token passed on standard input before any learner code
is imported; `verdict` builds the result from them (see there for what a pass needs).
"""

from __future__ import annotations

import ast
import functools
import json
import os
import secrets
import subprocess
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import Any

from . import sandbox
from .grading import SEED_ENV
from .grading.allowlist import ImportPolicy
from .grading.protocol import ErrorRecord, FinishRecord, Problem, Record, Where, WorkerJob
from .grading.worker import ENTRY as WORKER_ENTRY
from .paths import PYTEST_INI
from .sandbox import Scratch, run_sandboxed
from .sandbox_limits import wall_guard
from .sandbox_pump import OUTPUT_TAIL
from .sandbox_warm import WarmGrader
from .verdict import RunResult, TestOutcome, authentic_records, could_not_start, exit_status, is_finish, verdict

__all__ = [
    "RunResult",
    "TestOutcome",
    "expected_tests",
    "new_seed",
    "run_program",
    "run_suite",
    "run_worker",
    "warm_graders",
    "warm_grading",
]

# pytest's own plugins a grading run has no use for: each one blocked is a module the child never
# imports (pdb for `debugging`, logging for `logging`), some 20 ms of every run. The suites use no
# fixture of theirs; `assertion` stays, so the learner's own tests (week2) keep their messages.
UNUSED_PLUGINS = (
    "cacheprovider",
    "doctest",
    "junitxml",
    "pastebin",
    "legacypath",
    "stepwise",
    "nose",
    "unittest",
    "tmpdir",
    "monkeypatch",
    "recwarn",
    "setuponly",
    "setupplan",
    "unraisableexception",
    "threadexception",
    "warnings",
    "logging",
    "subtests",
    "debugging",
)


def expected_tests(suite: Path) -> tuple[str, ...]:
    """The test functions a suite defines, read from its source (never from the learner's process)."""
    return _test_names(suite.read_bytes(), suite)


@functools.lru_cache(maxsize=64)
def _test_names(source: bytes, suite: Path) -> tuple[str, ...]:
    # Remembered: the same suite is read before every run of `watch`, `check --all` and `grade`.
    tree = ast.parse(source, filename=str(suite))
    names = [
        node.name
        for node in tree.body
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test_")
    ]
    return tuple(names)


@contextmanager
def warm_grading(exercises: Path, solutions: Path) -> Iterator[WarmGrader | None]:
    """A warm grading process for the runs of a session (`run_suite(warm=...)`), stopped at the
    end; None where fork is unavailable, and then every run starts cold."""
    grader = sandbox.start_warm(exercises, solutions)
    try:
        yield grader
    finally:
        if grader is not None:
            grader.close()


WARM_PAYS_OFF_AT = 2
"""How many runs one warm grading process must serve to cost less CPU than starting each run
cold: starting it costs a little more than one cold run (it imports numpy and every grading module
once), and each run forked from it about a third of one."""


@contextmanager
def warm_graders(
    exercises: Path, solutions: Path, runs: int, threads: int = 1
) -> Iterator[Callable[[], WarmGrader | None]]:
    """For `runs` grading runs shared among `threads` threads: a function giving the calling
    thread its own warm grading process (started at its first run, as each one serves one run at
    a time), all stopped at the end. It gives None, and every run starts cold, when too few runs
    fall to each thread to pay for starting one."""
    if runs < WARM_PAYS_OFF_AT * max(threads, 1):
        yield lambda: None
        return
    mine = threading.local()
    started: list[WarmGrader] = []
    lock = threading.Lock()

    def grader() -> WarmGrader | None:
        if not hasattr(mine, "grader"):
            mine.grader = sandbox.start_warm(exercises, solutions)
            if mine.grader is not None:
                with lock:
                    started.append(mine.grader)
        return mine.grader

    try:
        yield grader
    finally:
        with lock:
            for each in started:
                each.close()


def new_seed() -> int:
    return secrets.randbelow(100_000)


def _pytest_command(suite_name: str) -> Callable[[Scratch], list[str]]:
    def command(scratch: Scratch) -> list[str]:
        return [
            "-m",
            "pytest",
            str(scratch.extra / suite_name),
            "-c",
            str(PYTEST_INI),
            "--noconftest",
            "--import-mode=importlib",
            "-p",
            "tinygrad_learn.grading.plugin",
            *[arg for name in UNUSED_PLUGINS for arg in ("-p", f"no:{name}")],
            "-q",
            "--tb=short",
            "--color=no",
            "--rootdir",
            str(scratch.work),
            # pytest lists every folder from here down to the suite; without it, that starts at the
            # temporary folder, which can hold thousands of entries on a learner's machine.
            "--confcutdir",
            str(scratch.root),
        ]

    return command


def available_cores() -> int:
    """How many runs can compute side by side here: the cores this process may use."""
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def run_suite(
    suite: Path,
    exercises: Path,
    solutions: Path,
    *,
    seed: int,
    time_limit: float,
    memory_limit: int | None = None,
    warm: WarmGrader | None = None,
    policy: ImportPolicy = ImportPolicy.of(),
    cancel: threading.Event | None = None,
) -> RunResult:
    """Grade `exercises` with `suite` in the sandbox, within `time_limit` seconds of CPU time (and
    a wall-clock guard several times larger, for code that sleeps or blocks).

    Every failure of the run ends in a RunResult; a learner file the tool refuses to read (a pipe,
    a link out of the workspace, a file over the size cap) raises TinygradLearnError.
    """
    try:
        source = suite.read_bytes()
        expected = _test_names(source, suite)
    except (OSError, SyntaxError, ValueError, RecursionError, MemoryError) as error:
        return could_not_start(seed, error)
    limit = sandbox.DEFAULT_MEMORY_LIMIT if memory_limit is None else memory_limit
    token = secrets.token_hex(16)
    try:
        run = run_sandboxed(
            _pytest_command(suite.name),
            exercises=exercises,
            solutions=solutions,
            stdin=(token + "\n").encode(),
            time_limit=wall_guard(time_limit),
            cpu_limit=time_limit,
            memory_limit=limit,
            extra_files={suite.name: source},
            env={"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", SEED_ENV: str(seed)},
            complete=partial(is_finish, token=token),
            cancel=cancel,
            warm=warm,
            policy=policy,
        )
    except OSError as error:  # no room for the scratch folder, or Python could not start
        return could_not_start(seed, error)
    if run.refused is not None:
        return RunResult(False, (), seed, 0.0, problem=Problem.FORBIDDEN.value, problem_detail=asdict(run.refused))
    records = authentic_records(run.channel, token)
    timed_out = run.stopped is not None
    return verdict(
        expected,
        records,
        seed,
        run.duration,
        exit_status(records, run.exit_code, run.lingered),
        timed_out,
        time_limit,
        run.output,
        limit,
        clock=run.clock,
        cpu_seconds=run.cpu_seconds,
    )


@dataclass(frozen=True)
class WorkerResult:
    """What a worker sent back, and how it ended."""

    records: tuple[Record, ...]
    problem: str | None
    """None when it finished; timeout, idle_timeout, killed, crashed or no_results otherwise."""
    exit_code: int | None
    duration: float
    output: str = ""


def run_worker(
    target: str,
    payload: dict[str, Any],
    *,
    exercises: Path,
    solutions: Path,
    time_limit: float,
    idle_limit: float | None = None,
    on_record: Callable[[Record], None] | None = None,
    memory_limit: int | None = None,
    policy: ImportPolicy = ImportPolicy.of(),
) -> WorkerResult:
    """Run `target` ("module:function") in the sandbox, on a scratch copy of the learner's exercises.

    The function receives `payload` and a `send(record)` callable (see `grading.worker`); records
    come back as JSON lines, each handed to `on_record` as it arrives. The run is stopped after
    `time_limit` seconds, or after `idle_limit` seconds without a record.
    """
    records: list[Record] = []

    def arrived(line: bytes) -> None:
        try:
            record = json.loads(line)
        except ValueError:
            return
        if isinstance(record, dict):
            records.append(record)
            if on_record is not None:
                on_record(record)

    job: WorkerJob = {"target": target, "payload": payload}
    try:
        run = run_sandboxed(
            lambda scratch: ["-c", WORKER_ENTRY],
            exercises=exercises,
            solutions=solutions,
            stdin=(json.dumps(job) + "\n").encode(),
            time_limit=time_limit,
            idle_limit=idle_limit,
            memory_limit=sandbox.DEFAULT_MEMORY_LIMIT if memory_limit is None else memory_limit,
            on_line=arrived,
            policy=policy,
        )
    except OSError as error:
        return WorkerResult((), Problem.CRASHED.value, None, 0.0, str(error))
    if run.refused is not None:  # told like an error of the learner's code, at the refused line
        where: Where = {"file": run.refused.file, "line": run.refused.line, "code": run.refused.name}
        refused: ErrorRecord = {
            "kind": "error",
            "type": "PermissionError",
            "message": f"{run.refused.name} is not allowed",
            "where": where,
        }
        finish: FinishRecord = {"kind": "finish"}
        return WorkerResult((dict(refused), dict(finish)), None, None, 0.0)
    problem: Problem | None = run.stopped
    if problem is None and run.exit_code < 0:
        problem = Problem.KILLED
    elif problem is None and not any(record.get("kind") == "finish" for record in records):
        problem = Problem.NO_RESULTS
    return WorkerResult(
        tuple(records), None if problem is None else problem.value, run.exit_code, run.duration, run.output
    )


@dataclass(frozen=True)
class ProgramResult:
    exit_code: int | None
    output: str
    problem: str | None = None
    """None, not_found, timeout or failed (could not start)."""
    stdout: bytes = b""
    """What a captured program wrote to standard output, in full and unchanged."""


def run_program(
    command: list[str], *, time_limit: float | None = None, interactive: bool = False, cwd: Path | None = None
) -> ProgramResult:
    """Run an external program (never learner code): captured with a time limit, or on the
    learner's own terminal."""
    try:
        if interactive:
            return ProgramResult(subprocess.run(command, cwd=cwd).returncode, "")
        completed = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, timeout=time_limit, cwd=cwd)
    except FileNotFoundError:
        return ProgramResult(None, "", "not_found")
    except subprocess.TimeoutExpired:
        return ProgramResult(None, "", "timeout")
    except OSError as error:
        return ProgramResult(None, str(error), "failed")
    text = (completed.stdout + completed.stderr).decode("utf-8", errors="replace")
    return ProgramResult(completed.returncode, text[-OUTPUT_TAIL:], stdout=completed.stdout)
