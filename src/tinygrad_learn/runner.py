"""Runs one checkpoint's hidden suite against the learner's files, in a subprocess, and returns a verdict.

The only module that starts processes. It prints nothing: it returns a `RunResult`.

The verdict is built from the records the grading plugin sends over an inherited pipe, stamped
with a token passed on standard input; what the learner's code prints is kept only for
`--verbose`. A pass needs exit status 0, the plugin's closing record, and every test function of
the suite (read from the suite's source here, in the parent) present and passed.
"""

from __future__ import annotations

import ast
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .grading import CHANNEL_ENV, EXERCISES_ENV, SEED_ENV, SOLUTIONS_ENV
from .paths import PYTEST_INI

OUTPUT_TAIL = 20_000
CHANNEL_LIMIT = 4_000_000
DEFAULT_MEMORY_LIMIT = 4 * 1024**3
FILE_SIZE_LIMIT = 256 * 1024**2

# Built-in plugins a grading run has no use for; leaving them out also makes start-up faster.
UNUSED_PLUGINS = ("cacheprovider", "doctest", "junitxml", "pastebin", "legacypath", "stepwise", "nose")

CLEARED_ENV = ("PYTEST_ADDOPTS", "PYTEST_PLUGINS", "PYTHONSTARTUP", "PYTHONINSPECT", "PYTHONBREAKPOINT")


@dataclass(frozen=True)
class TestOutcome:
    name: str
    outcome: str
    """passed, failed, error, skipped, xfailed, or missing (never reported)."""
    failure: dict[str, Any] | None = None


@dataclass(frozen=True)
class RunResult:
    passed: bool
    tests: tuple[TestOutcome, ...]
    seed: int
    duration: float
    timed_out: bool = False
    exit_code: int | None = None
    problem: str | None = None
    """A run-level problem: timeout, killed, crashed, collect_error, no_results, interrupted."""
    problem_detail: dict[str, Any] = field(default_factory=dict)
    output: str = ""

    @property
    def failed_tests(self) -> tuple[TestOutcome, ...]:
        return tuple(test for test in self.tests if test.outcome != "passed")


def expected_tests(suite: Path) -> tuple[str, ...]:
    """The test functions a suite defines, read from its source (never from the learner's process)."""
    tree = ast.parse(suite.read_text(encoding="utf-8"), filename=str(suite))
    names = [
        node.name
        for node in tree.body
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test_")
    ]
    return tuple(names)


def new_seed() -> int:
    return secrets.randbelow(100_000)


def _limit_resources(memory_limit: int) -> None:
    """Runs in the child before exec: caps memory and file size where the OS allows it."""
    try:
        import resource

        for limit, value in ((resource.RLIMIT_AS, memory_limit), (resource.RLIMIT_FSIZE, FILE_SIZE_LIMIT)):
            _, hard = resource.getrlimit(limit)
            if hard == resource.RLIM_INFINITY or hard > value:
                resource.setrlimit(limit, (value, hard))
    except (ImportError, ValueError, OSError):
        pass


def _read_head(stream: Any, sink: list[bytes], limit: int) -> None:
    """Drain a pipe, keeping its first `limit` bytes, so a flooding child can never block us."""
    kept = 0
    while chunk := stream.read(65536):
        if kept < limit:
            sink.append(chunk[: limit - kept])
            kept += len(sink[-1])
    stream.close()


def _read_tail(stream: Any, sink: list[bytes], limit: int) -> None:
    """Drain a pipe, keeping its last `limit` bytes (pytest's summary is at the end)."""
    kept = 0
    while chunk := stream.read(65536):
        sink.append(chunk)
        kept += len(chunk)
        while kept - len(sink[0]) >= limit:
            kept -= len(sink.pop(0))
    stream.close()


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    if os.name == "posix":
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    else:
        process.kill()


def run_suite(
    suite: Path,
    exercises: Path,
    solutions: Path,
    *,
    seed: int,
    time_limit: float,
    memory_limit: int = DEFAULT_MEMORY_LIMIT,
) -> RunResult:
    """Grade `exercises` with `suite`; every failure mode ends in a RunResult, never an exception."""
    expected = expected_tests(suite)
    token = secrets.token_hex(16)
    read_fd, write_fd = os.pipe()
    env = {name: value for name, value in os.environ.items() if name not in CLEARED_ENV}
    env.update(
        {
            "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONIOENCODING": "utf-8",
            EXERCISES_ENV: str(exercises.resolve()),
            SOLUTIONS_ENV: str(solutions.resolve()),
            SEED_ENV: str(seed),
            CHANNEL_ENV: str(write_fd),
        }
    )
    command = [
        sys.executable,
        "-B",
        "-m",
        "pytest",
        str(suite.resolve()),
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
    ]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="tinygrad-learn-") as scratch:
        command += ["--rootdir", scratch]
        try:
            process = subprocess.Popen(
                command,
                cwd=scratch,
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                pass_fds=(write_fd,),
                start_new_session=True,
                preexec_fn=(lambda: _limit_resources(memory_limit)) if os.name == "posix" else None,
            )
        except OSError as error:
            os.close(read_fd)
            os.close(write_fd)
            return RunResult(False, (), seed, 0.0, problem="crashed", problem_detail={"message": str(error)})
        os.close(write_fd)
        channel_chunks: list[bytes] = []
        output_chunks: list[bytes] = []
        readers = [
            threading.Thread(target=_read_head, args=(os.fdopen(read_fd, "rb"), channel_chunks, CHANNEL_LIMIT)),
            threading.Thread(target=_read_tail, args=(process.stdout, output_chunks, OUTPUT_TAIL)),
        ]
        for reader in readers:
            reader.daemon = True
            reader.start()
        assert process.stdin is not None
        try:
            process.stdin.write((token + "\n").encode())
            process.stdin.close()
        except (BrokenPipeError, OSError):
            pass
        timed_out = False
        try:
            exit_code = process.wait(timeout=time_limit)
        except subprocess.TimeoutExpired:
            timed_out = True
            _kill_group(process)
            exit_code = process.wait()
        # Whatever the learner's code left running in the background goes too.
        _kill_group(process)
        for reader in readers:
            reader.join(timeout=2)
    duration = time.perf_counter() - started
    output = b"".join(output_chunks).decode("utf-8", errors="replace")[-OUTPUT_TAIL:]
    records = _authentic_records(b"".join(channel_chunks), token)
    return _verdict(expected, records, seed, duration, exit_code, timed_out, time_limit, output)


def _authentic_records(raw: bytes, token: str) -> list[dict[str, Any]]:
    records = []
    for line in raw.decode("utf-8", errors="replace").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and record.get("token") == token:
            records.append(record)
    return records


def _verdict(
    expected: tuple[str, ...],
    records: list[dict[str, Any]],
    seed: int,
    duration: float,
    exit_code: int,
    timed_out: bool,
    time_limit: float,
    output: str,
) -> RunResult:
    outcomes: dict[str, list[str]] = {name: [] for name in expected}
    failures: dict[str, dict[str, Any]] = {}
    finished = None
    collect_failure = None
    for record in records:
        kind = record.get("kind")
        if kind == "test":
            name = str(record.get("name", "")).split("[")[0]
            outcome = str(record.get("outcome"))
            if record.get("when") != "call" and outcome == "passed":
                continue
            if record.get("when") != "call" and outcome == "failed":
                outcome = "error"
            outcomes.setdefault(name, []).append(outcome)
            if "failure" in record and name not in failures:
                failures[name] = record["failure"]
        elif kind == "collect" and collect_failure is None:
            collect_failure = record.get("failure")
        elif kind == "finish":
            finished = record

    tests = []
    for name, seen in outcomes.items():
        if not seen:
            outcome = "missing"
        elif all(item == "passed" for item in seen):
            outcome = "passed"
        else:
            outcome = next(item for item in seen if item != "passed")
        tests.append(TestOutcome(name, outcome, failures.get(name)))

    problem: str | None = None
    detail: dict[str, Any] = {}
    if timed_out:
        problem, detail = "timeout", {"limit": time_limit}
    elif collect_failure is not None:
        problem, detail = "collect_error", collect_failure
    elif exit_code < 0:
        problem, detail = "killed", {"signal": -exit_code}
    elif finished is None:
        problem, detail = ("no_results" if not records else "interrupted"), {"exit_code": exit_code}
    elif exit_code not in (0, 1):
        problem, detail = "interrupted", {"exit_code": exit_code}

    unexpected = set(outcomes) - set(expected)
    passed = (
        problem is None
        and exit_code == 0
        and finished is not None
        and finished.get("exitstatus") == 0
        and not unexpected
        and bool(expected)
        and all(test.outcome == "passed" for test in tests)
    )
    if not passed and problem is None and all(test.outcome == "passed" for test in tests):
        problem, detail = "interrupted", {"exit_code": exit_code}
    return RunResult(
        passed=passed,
        tests=tuple(tests),
        seed=seed,
        duration=duration,
        timed_out=timed_out,
        exit_code=exit_code,
        problem=problem,
        problem_detail=detail,
        output=output,
    )
