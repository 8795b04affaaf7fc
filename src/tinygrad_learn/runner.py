"""Runs one checkpoint's hidden suite against the learner's files, in a subprocess, and returns a verdict.

The only module that starts processes. It prints nothing: it returns a `RunResult`.

The verdict is built from the records the grading plugin sends over an inherited pipe, stamped
with a token passed on standard input; what the learner's code prints is kept only for
`--verbose`. A pass needs exit status 0, the plugin's closing record, and every test function of
the suite (read from the suite's source here, in the parent) present and passed.

The run sees copies: the learner's exercises/ and the suite are copied into a scratch folder, and
the environment names neither the workspace nor the folder the command was started from, so
learner code cannot reach the progress file, its own originals or the course's suite by the
paths it is given. Whatever it leaves running is killed: its process group, and (on Linux) any
process that still carries the run's marker in its environment.
"""

from __future__ import annotations

import ast
import contextlib
import importlib
import json
import os
import queue
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .grading import CHANNEL_ENV, EXERCISES_ENV, SEED_ENV, SOLUTIONS_ENV
from .grading.allowlist import ImportPolicy, screen
from .grading.confine import child_settings, confine
from .paths import PYTEST_INI

OUTPUT_TAIL = 20_000
CHANNEL_LIMIT = 4_000_000
DEFAULT_MEMORY_LIMIT = 4 * 1024**3
FILE_SIZE_LIMIT = 256 * 1024**2

# Built-in plugins a grading run has no use for; leaving them out also makes start-up faster.
UNUSED_PLUGINS = ("cacheprovider", "doctest", "junitxml", "pastebin", "legacypath", "stepwise", "nose")

# The arrays in the course are small: BLAS threads only fight over the cores, most of all on a busy
# machine, where they made the Week-4 suites several times slower.
SINGLE_THREADED_MATH = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}

CLEARED_ENV = ("PYTEST_ADDOPTS", "PYTEST_PLUGINS", "PYTHONSTARTUP", "PYTHONINSPECT", "PYTHONBREAKPOINT")
# Settings that would tell learner code where the workspace or the course is; grading needs neither.
HIDDEN_ENV = ("TINYGRAD_LEARN_WORKSPACE", "TINYGRAD_LEARN_COURSE", "OLDPWD")
# Every process of one grading run carries this, so strays that left its process group are found.
RUN_MARKER_ENV = "TINYGRAD_LEARN_RUN"


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
    """A run-level problem: timeout, memory, killed, crashed, collect_error, no_results, interrupted, tampered."""
    problem_detail: dict[str, Any] = field(default_factory=dict)
    output: str = ""

    @property
    def failed_tests(self) -> tuple[TestOutcome, ...]:
        return tuple(test for test in self.tests if test.outcome != "passed")


def expected_tests(suite: Path) -> tuple[str, ...]:
    """The test functions a suite defines, read from its source (never from the learner's process)."""
    return _test_names(suite.read_bytes(), suite)


def _test_names(source: bytes, suite: Path) -> tuple[str, ...]:
    tree = ast.parse(source, filename=str(suite))
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


def _learner_env(exercises: Path, solutions: Path, hide: tuple[str, ...] = ()) -> dict[str, str]:
    """The environment of a child that runs learner code: ours, less start-up hooks and `hide`."""
    env = {name: value for name, value in os.environ.items() if name not in CLEARED_ENV and name not in hide}
    env.update(
        {
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONIOENCODING": "utf-8",
            **SINGLE_THREADED_MATH,
            EXERCISES_ENV: str(exercises),
            SOLUTIONS_ENV: str(solutions.resolve()),
        }
    )
    return env


def _start_confined(
    command: list[str], cwd: Path, env: dict[str, str], channel_fd: int, memory_limit: int
) -> subprocess.Popen[bytes]:
    """Start a child for learner code: its own process group, capped memory, one channel fd passed on."""
    return subprocess.Popen(
        command,
        cwd=cwd,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        pass_fds=(channel_fd,),
        start_new_session=True,
        preexec_fn=(lambda: _limit_resources(memory_limit)) if os.name == "posix" else None,
    )


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    if os.name == "posix":
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
    else:
        process.kill()


def _kill_strays(marker: str) -> None:
    """Kill what escaped the process group (a double fork, a new session): found by the run's marker.

    Only where /proc lists each process's environment (Linux); elsewhere the group kill is all.
    """
    needle = f"{RUN_MARKER_ENV}={marker}".encode()
    proc = Path("/proc")
    if not proc.is_dir():
        return
    for _ in range(3):  # a stray may fork again while we look
        found = False
        for entry in proc.iterdir():
            if not entry.name.isdigit():
                continue
            try:
                environ = (entry / "environ").read_bytes()
            except OSError:
                continue
            if needle in environ.split(b"\0"):
                try:
                    os.kill(int(entry.name), signal.SIGKILL)
                    found = True
                except OSError:
                    pass
        if not found:
            return


def _not_copied(directory: str, names: list[str]) -> set[str]:
    """What the scratch copy of exercises/ leaves out: caches, linked folders (a link to a parent
    would copy without end) and anything that is not a plain file (reading a pipe would block)."""

    def plain(path: str) -> bool:
        return os.path.isfile(path) or (os.path.isdir(path) and not os.path.islink(path))

    return {
        name
        for name in names
        if name == "__pycache__" or name.endswith(".pyc") or not plain(os.path.join(directory, name))
    }


def _could_not_start(seed: int, error: BaseException) -> RunResult:
    return RunResult(False, (), seed, 0.0, problem="crashed", problem_detail={"message": str(error)})


def run_suite(
    suite: Path,
    exercises: Path,
    solutions: Path,
    *,
    seed: int,
    time_limit: float,
    memory_limit: int | None = None,
    policy: ImportPolicy = ImportPolicy.of(),
) -> RunResult:
    """Grade `exercises` with `suite`; every failure mode ends in a RunResult, never an exception."""
    try:
        source = suite.read_bytes()
        expected = _test_names(source, suite)
    except (OSError, SyntaxError, ValueError) as error:
        return _could_not_start(seed, error)
    limit = DEFAULT_MEMORY_LIMIT if memory_limit is None else memory_limit
    try:
        with tempfile.TemporaryDirectory(prefix="tinygrad-learn-", ignore_cleanup_errors=True) as scratch:
            return _run_in(
                Path(scratch), source, suite.name, expected, exercises, solutions, seed, time_limit, limit, policy
            )
    except OSError as error:  # no room for the scratch folder, or the exercises cannot be copied
        return _could_not_start(seed, error)


def _run_in(
    scratch: Path,
    source: bytes,
    suite_name: str,
    expected: tuple[str, ...],
    exercises: Path,
    solutions: Path,
    seed: int,
    time_limit: float,
    memory_limit: int,
    policy: ImportPolicy,
) -> RunResult:
    work = scratch / "run"
    work.mkdir()
    learner_copy = scratch / "learner" / "exercises"
    shutil.copytree(exercises, learner_copy, ignore=_not_copied)
    suite_copy = scratch / "suite" / suite_name
    suite_copy.parent.mkdir()
    suite_copy.write_bytes(source)
    token = secrets.token_hex(16)
    marker = secrets.token_hex(8)
    env = _learner_env(learner_copy, solutions, hide=HIDDEN_ENV)
    env.update(
        {
            "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
            "PWD": str(work),
            SEED_ENV: str(seed),
            RUN_MARKER_ENV: marker,
            **child_settings(scratch, policy),  # the child confines itself (grading/confine.py)
        }
    )
    command = [
        sys.executable,
        "-B",
        "-m",
        "pytest",
        str(suite_copy),
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
        str(work),
    ]
    started = time.perf_counter()
    read_fd, write_fd = os.pipe()
    env[CHANNEL_ENV] = str(write_fd)
    try:
        process = _start_confined(command, work, env, write_fd, memory_limit)
    except OSError as error:
        os.close(read_fd)
        os.close(write_fd)
        return _could_not_start(seed, error)
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
    # --- learner code the course does not allow never runs (grading/allowlist.py). The copy that
    # would run is read while the child starts: it waits for its token before importing anything.
    refusal = screen(learner_copy, policy)
    if refusal is not None:
        _kill_group(process)
        process.wait()
        for reader in readers:
            reader.join(timeout=2)
        return RunResult(False, (), seed, 0.0, problem="forbidden", problem_detail=vars(refusal).copy())
    # ---
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
    except KeyboardInterrupt:
        # Ctrl+C stops the learner's run too, instead of leaving it to its time limit.
        _kill_group(process)
        _kill_strays(marker)
        raise
    # Whatever the learner's code left running in the background goes too.
    _kill_group(process)
    _kill_strays(marker)
    for reader in readers:
        reader.join(timeout=2)
    duration = time.perf_counter() - started
    output = b"".join(output_chunks).decode("utf-8", errors="replace")[-OUTPUT_TAIL:]
    records = _authentic_records(b"".join(channel_chunks), token)
    return _verdict(expected, records, seed, duration, exit_code, timed_out, time_limit, output, memory_limit)


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
    memory_limit: int = DEFAULT_MEMORY_LIMIT,
) -> RunResult:
    outcomes: dict[str, list[str]] = {name: [] for name in expected}
    failures: dict[str, dict[str, Any]] = {}
    finished = None
    collect_failure = None
    tampered: list[str] = []
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
        elif kind == "tampered":
            tampered.append(str(record.get("names", "")))

    tests = []
    for name, seen in outcomes.items():
        if not seen:
            outcome = "missing"
        elif all(item == "passed" for item in seen):
            outcome = "passed"
        else:
            outcome = next(item for item in seen if item != "passed")
        tests.append(TestOutcome(name, outcome, failures.get(name)))

    for test in tests:
        if test.failure is not None and test.failure.get("key") == "tampered":
            tampered.append(str((test.failure.get("params") or {}).get("names", "")))
    memory = {"limit_mb": memory_limit // 2**20}
    problem: str | None = None
    detail: dict[str, Any] = {}
    if timed_out:
        problem, detail = "timeout", {"limit": time_limit}
    elif collect_failure is not None:
        problem, detail = "collect_error", collect_failure
    elif exit_code == -getattr(signal, "SIGKILL", 9):
        # Not our time limit, so almost always the system's out-of-memory killer.
        problem, detail = "memory", {**memory, "signal": -exit_code}
    elif exit_code < 0:
        problem, detail = "killed", {"signal": -exit_code}
    elif any(_is_memory_error(test.failure) for test in tests) or _is_memory_error(collect_failure):
        problem, detail = "memory", memory
    elif tampered:
        problem, detail = "tampered", {"names": ", ".join(dict.fromkeys(name for name in tampered if name))}
    elif finished is None:
        problem, detail = ("no_results" if not records else "interrupted"), {"exit_code": exit_code}
    elif exit_code not in (0, 1) or any(test.outcome == "missing" for test in tests):
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


def _is_memory_error(failure: dict[str, Any] | None) -> bool:
    if not isinstance(failure, dict) or failure.get("key") != "exception":
        return False
    return (failure.get("params") or {}).get("type") == "MemoryError"


# ---------------------------------------------------------------------------------------------
# Workers: the learner's engine run for something other than grading (bench, graph), and the
# external programs the tool calls (Graphviz, the learner's editor).

WORKER_ENTRY = "from tinygrad_learn.runner import worker_main; worker_main()"


@dataclass(frozen=True)
class WorkerResult:
    """What a worker sent back, and how it ended."""

    records: tuple[dict[str, Any], ...]
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
    on_record: Callable[[dict[str, Any]], None] | None = None,
    memory_limit: int = DEFAULT_MEMORY_LIMIT,
    policy: ImportPolicy = ImportPolicy.of(),
) -> WorkerResult:
    """Run `target` ("module:function") in a fresh process next to the learner's exercises.

    The function receives `payload` and a `send(record)` callable; records come back as JSON
    lines over an inherited pipe, each handed to `on_record` as it arrives. The whole process
    group is stopped after `time_limit` seconds, or after `idle_limit` seconds without a record.
    """
    # --- learner code the course does not allow never runs (grading/allowlist.py)
    refusal = screen(exercises, policy)
    if refusal is not None:
        error = {"kind": "error", "type": "PermissionError", "message": f"{refusal.name} is not allowed"}
        where = {"file": refusal.file, "line": refusal.line, "code": refusal.name}
        return WorkerResult(({**error, "where": where}, {"kind": "finish"}), None, None, 0.0)
    # ---
    read_fd, write_fd = os.pipe()
    env = _learner_env(exercises.resolve(), solutions)
    env[CHANNEL_ENV] = str(write_fd)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="tinygrad-learn-") as scratch:
        env.update(child_settings(Path(scratch), policy))  # the child confines itself (grading/confine.py)
        try:
            process = _start_confined(
                [sys.executable, "-B", "-c", WORKER_ENTRY], Path(scratch), env, write_fd, memory_limit
            )
        except OSError as error:
            os.close(read_fd)
            os.close(write_fd)
            return WorkerResult((), "crashed", None, 0.0, str(error))
        os.close(write_fd)
        arrived: queue.Queue[dict[str, Any] | None] = queue.Queue()
        output_chunks: list[bytes] = []
        readers = [
            threading.Thread(target=_read_records, args=(os.fdopen(read_fd, "rb"), arrived), daemon=True),
            threading.Thread(target=_read_tail, args=(process.stdout, output_chunks, OUTPUT_TAIL), daemon=True),
        ]
        for reader in readers:
            reader.start()
        assert process.stdin is not None
        try:
            process.stdin.write((json.dumps({"target": target, "payload": payload}) + "\n").encode())
            process.stdin.close()
        except (BrokenPipeError, OSError):
            pass
        records, stopped = _collect(arrived, started, time_limit, idle_limit, on_record)
        if stopped is not None:
            _kill_group(process)
        try:
            exit_code = process.wait(timeout=max(0.1, started + time_limit - time.perf_counter()))
        except subprocess.TimeoutExpired:
            stopped = "timeout"
            _kill_group(process)
            exit_code = process.wait()
        _kill_group(process)
        for reader in readers:
            reader.join(timeout=2)
    output = b"".join(output_chunks).decode("utf-8", errors="replace")[-OUTPUT_TAIL:]
    problem = stopped
    if problem is None and exit_code < 0:
        problem = "killed"
    elif problem is None and not any(record.get("kind") == "finish" for record in records):
        problem = "no_results"
    return WorkerResult(tuple(records), problem, exit_code, time.perf_counter() - started, output)


def _read_records(stream: Any, arrived: queue.Queue[dict[str, Any] | None]) -> None:
    size = 0
    for line in stream:
        size += len(line)
        if size > CHANNEL_LIMIT:
            break
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            arrived.put(record)
    stream.close()
    arrived.put(None)


def _collect(
    arrived: queue.Queue[dict[str, Any] | None],
    started: float,
    time_limit: float,
    idle_limit: float | None,
    on_record: Callable[[dict[str, Any]], None] | None,
) -> tuple[list[dict[str, Any]], str | None]:
    """Records until the channel closes; the second value says which limit stopped the wait."""
    records: list[dict[str, Any]] = []
    last = started
    while True:
        now = time.perf_counter()
        left = started + time_limit - now
        idle_left = last + idle_limit - now if idle_limit is not None else left
        if left <= 0:
            return records, "timeout"
        if idle_left <= 0:
            return records, "idle_timeout"
        try:
            record = arrived.get(timeout=min(left, idle_left))
        except queue.Empty:
            continue
        if record is None:
            return records, None
        records.append(record)
        last = time.perf_counter()
        if on_record is not None:
            on_record(record)


def worker_main() -> None:
    """The child side of `run_worker`: read the job from stdin, run it, report over the channel."""
    channel = os.fdopen(int(os.environ.pop(CHANNEL_ENV)), "w", encoding="utf-8", closefd=True)

    def send(record: dict[str, Any]) -> None:
        channel.write(json.dumps(record, ensure_ascii=False) + "\n")
        channel.flush()

    job = json.loads(sys.stdin.readline())
    confine()  # before the learner's code is imported (grading/confine.py)
    module_name, function_name = str(job["target"]).split(":")
    try:
        function = getattr(importlib.import_module(module_name), function_name)
        function(job["payload"], send)
    except BaseException as error:  # the learner's code may raise anything, SystemExit included
        send({"kind": "error", **describe_error(error)})
    send({"kind": "finish"})
    channel.close()


def describe_error(error: BaseException) -> dict[str, Any]:
    """An exception as plain data, with the innermost line of the learner's exercises it passed."""
    exercises = Path(os.environ.get(EXERCISES_ENV, "")).resolve()
    where = None
    for frame in traceback.extract_tb(error.__traceback__):
        try:
            path = Path(frame.filename).resolve()
        except (OSError, ValueError):
            continue
        if path.is_relative_to(exercises):
            where = {
                "file": str(path.relative_to(exercises.parent)),
                "line": frame.lineno,
                "code": (frame.line or "").strip(),
            }
    try:
        message = str(error)
    except Exception:
        message = ""
    return {"type": type(error).__name__, "message": message[:500], "where": where}


@dataclass(frozen=True)
class ProgramResult:
    exit_code: int | None
    output: str
    problem: str | None = None
    """None, not_found, timeout or failed (could not start)."""


def run_program(command: list[str], *, time_limit: float | None = None, interactive: bool = False) -> ProgramResult:
    """Run an external program: captured with a time limit, or on the learner's own terminal."""
    try:
        if interactive:
            return ProgramResult(subprocess.run(command).returncode, "")
        completed = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, timeout=time_limit)
    except FileNotFoundError:
        return ProgramResult(None, "", "not_found")
    except subprocess.TimeoutExpired:
        return ProgramResult(None, "", "timeout")
    except OSError as error:
        return ProgramResult(None, str(error), "failed")
    text = (completed.stdout + completed.stderr).decode("utf-8", errors="replace")
    return ProgramResult(completed.returncode, text[-OUTPUT_TAIL:])
