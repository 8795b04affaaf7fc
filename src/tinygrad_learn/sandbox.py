"""The one way learner code is run: `run_sandboxed` starts every such child (the grading run of
check, verify and watch, and the workers of graph, bench and train) with the same guards.

- A scratch folder holds copies: the learner's exercises (regular files only, size-capped, see
  `learnerfiles`), the course's reference solutions, and whatever the caller adds (the suite).
  The child's working folder and HOME lie in it.
- The environment names neither the workspace, the course, nor the folder the command was run
  from: variables that mention them are dropped (from PATH-like lists, only those entries), and
  start-up hooks are cleared. The tool's own package keeps its cached bytecode; bytecode of
  learner code can only land in the scratch copy.
- A memory cap, a file-size cap and a CPU-time limit (see `sandbox_limits`), with a wall-clock
  guard several times larger only for code that sleeps or blocks; its own session, and a marker
  in its environment: when the run ends, the group is killed and then every process that still
  carries the marker (a double fork, a new session), found through /proc on Linux.
- Learner code the course's import policy refuses never runs (`grading/allowlist.py`), and the
  child confines itself to the scratch folder (`grading/confine.py`: Landlock, an audit hook).
- The channel is read in bounded, non-blocking pieces under the parent's own deadline, so neither
  a flood nor a stray that keeps the pipe open can hold the verdict back.

Only this module and `runner` start processes. Nothing here prints.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from .grading import CHANNEL_ENV, EXERCISES_ENV, SOLUTIONS_ENV
from .grading.allowlist import ImportPolicy, Refusal, screen
from .grading.confine import child_settings
from .grading.protocol import Problem
from .grading.warm import ENTRY as WARM_ENTRY
from .grading.warm import WARM_FD_ENV
from .learnerfiles import copy_exercises
from .sandbox_limits import (
    RUN_MARKER_ENV,
    has_ended,
    kill_group,
    kill_strays,
    limit_resources,
    pipe_names,
    reap,
)
from .sandbox_pump import Pump
from .sandbox_warm import ForkedChild, WarmGrader

DEFAULT_MEMORY_LIMIT = 4 * 1024**3

# The arrays in the course are small: BLAS threads only fight over the cores, most of all on a busy
# machine, where they made the Week-4 suites several times slower.
SINGLE_THREADED_MATH = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
CLEARED_ENV = (
    "PYTEST_ADDOPTS",
    "PYTEST_PLUGINS",
    "PYTHONSTARTUP",
    "PYTHONINSPECT",
    "PYTHONBREAKPOINT",
    "OLDPWD",
    "VIRTUAL_ENV",
)
LIST_ENV = ("PATH", "PYTHONPATH")
"""Variables that are lists of folders: only the entries that lead to a hidden folder are dropped."""


@dataclass(frozen=True)
class Scratch:
    """The layout of a run's scratch folder, which testkit finds through the environment."""

    root: Path

    @property
    def work(self) -> Path:
        """The child's working folder."""
        return self.root / "run"

    @property
    def exercises(self) -> Path:
        return self.root / "learner" / "exercises"

    @property
    def solutions(self) -> Path:
        return self.root / "reference" / "solutions"

    @property
    def extra(self) -> Path:
        """Where the caller's own files (the suite) are placed."""
        return self.root / "suite"


@dataclass(frozen=True)
class SandboxRun:
    """How a sandboxed child ended, and what it sent."""

    exit_code: int
    stopped: Problem | None
    """TIMEOUT or IDLE_TIMEOUT when the parent stopped it; None when it ended by itself."""
    clock: str | None
    """With TIMEOUT, the limit it passed: cpu (the CPU limit) or wall (the wall-clock limit)."""
    channel: bytes
    """Everything it sent on the channel, up to CHANNEL_LIMIT bytes."""
    output: str
    """The tail of what it printed."""
    duration: float
    cpu_seconds: float
    """The CPU time (user + system) of the run: the child and every process it started."""
    refused: Refusal | None = None
    """What in the learner's files the import policy refused; then none of them ran."""
    lingered: bool = False
    """It had sent its complete results, and was stopped because it did not exit after them."""


def run_sandboxed(
    command: Callable[[Scratch], list[str]],
    *,
    exercises: Path,
    solutions: Path,
    stdin: bytes,
    time_limit: float,
    cpu_limit: float | None = None,
    memory_limit: int = DEFAULT_MEMORY_LIMIT,
    extra_files: dict[str, bytes] | None = None,
    env: dict[str, str] | None = None,
    idle_limit: float | None = None,
    on_line: Callable[[bytes], None] | None = None,
    complete: Callable[[bytes], bool] | None = None,
    cancel: threading.Event | None = None,
    warm: WarmGrader | None = None,
    policy: ImportPolicy = ImportPolicy.of(),
) -> SandboxRun:
    """Run `python <command(scratch)>` on scratch copies of `exercises` and `solutions`.

    `stdin` is written to the child and closed; `on_line` receives each complete channel line as
    it arrives; once `complete(line)` is true for one, the child has LINGER_SECONDS to exit; setting
    `cancel` (from another thread) stops the run as Ctrl+C does, raising KeyboardInterrupt. The
    run is stopped after `time_limit` seconds of wall time, or once it has used `cpu_limit`
    seconds of CPU time, counting every process it started. Raises TinygradLearnError
    when a learner file is refused, OSError when the scratch folder or the process cannot be made.
    With `warm` (see `start_warm`), a `python -m pytest` run is forked from the warm process
    instead, with the same guards; it starts cold when the warm process cannot fork it.
    Learner code that `policy` refuses never runs (the result's `refused` says why).
    """
    with tempfile.TemporaryDirectory(prefix="tinygrad-learn-", ignore_cleanup_errors=True) as folder:
        scratch = Scratch(Path(folder))
        scratch.work.mkdir()
        copy_exercises(exercises, scratch.exercises)
        scratch.extra.mkdir()
        for name, data in (extra_files or {}).items():
            (scratch.extra / name).write_bytes(data)
        marker = secrets.token_hex(8)
        child_env = sandbox_env(scratch, hidden=(exercises.parent, solutions.parent, *_working_folder()))
        child_env.update(env or {})
        child_env.update(child_settings(scratch.root, policy))  # the child confines itself (grading/confine.py)
        child_env[RUN_MARKER_ENV] = marker
        read_fd, write_fd = os.pipe()
        child_env[CHANNEL_ENV] = str(write_fd)
        started = time.monotonic()
        try:
            arguments = command(scratch)
            process: subprocess.Popen[bytes] | ForkedChild | None = None
            if warm is not None and arguments[:2] == ["-m", "pytest"]:
                process = warm.fork(arguments[2:], str(scratch.work), child_env, write_fd, memory_limit, cpu_limit)
            if process is None:
                started_cold = [sys.executable, *arguments]
                process = _start(started_cold, scratch.work, child_env, write_fd, memory_limit, cpu_limit)
        except OSError:
            os.close(read_fd)
            raise
        finally:
            os.close(write_fd)
        assert process.stdout is not None
        pipes = pipe_names(read_fd, process.stdout.fileno())
        exit_fd = _exit_notice(process)
        try:
            # Copied and read while the child starts, which waits for its standard input before it
            # collects the suite or loads learner code. A course handed out without its solutions
            # gets an empty folder: suites that need none still grade.
            if solutions.is_dir():
                ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
                shutil.copytree(solutions, scratch.solutions, ignore=ignore)
            else:
                scratch.solutions.mkdir(parents=True)
            refusal = screen(scratch.exercises, policy)
            if refusal is not None:
                kill_group(process)
            _feed(process, stdin if refusal is None else b"")
            ended = partial(has_ended, process)
            if isinstance(process, ForkedChild):
                ended = partial(_forked_run_ended, process)
            pump = Pump(
                read_fd, process.stdout.fileno(), process.pid, ended, exit_fd, on_line, cpu_limit, complete, cancel
            )
            stopped = pump.run(started + time_limit, idle_limit)
        except BaseException:
            # Ctrl+C stops the learner's run too, instead of leaving it to its time limit.
            kill_group(process)
            kill_strays((marker,), pipes)
            if isinstance(process, ForkedChild):
                process.grader.close()
            os.close(read_fd)
            raise
        finally:
            if exit_fd is not None and not isinstance(process, ForkedChild):
                os.close(exit_fd)
        # Whatever the learner's code left running goes, then what it had sent is read to the end.
        cpu_seen = pump.cpu_seen
        kill_group(process)
        if isinstance(process, ForkedChild):
            exit_code, cpu_waited = process.wait(), process.cpu_seconds
            process.grader.sweep(marker, pipes)
        else:
            exit_code, cpu_waited = reap(process)
            kill_strays((marker,), pipes)
        pump.drain()
        os.close(read_fd)
        assert process.stdout is not None
        process.stdout.close()
        return SandboxRun(
            exit_code,
            stopped,
            pump.clock if stopped is Problem.TIMEOUT else None,
            pump.channel(),
            pump.output(),
            time.monotonic() - started,
            max(cpu_seen, cpu_waited),
            refusal,
            pump.lingered,
        )


def start_warm(exercises: Path, solutions: Path, memory_limit: int = DEFAULT_MEMORY_LIMIT) -> WarmGrader | None:
    """Start the warm grading process `run_sandboxed(warm=...)` forks runs from; None where
    fork is unavailable. Its environment is cleaned like a run's (its HOME and working folder lie
    in a scratch folder of its own), it has its own session, memory cap and marker, and it
    imports no learner code. Call `close()` on it when done."""
    if not hasattr(os, "fork") or not hasattr(socket, "send_fds"):
        return None
    folder = tempfile.mkdtemp(prefix="tinygrad-learn-warm-")
    scratch = Scratch(Path(folder))
    scratch.work.mkdir()
    marker = secrets.token_hex(8)
    env = sandbox_env(scratch, hidden=(exercises.parent, solutions.parent, *_working_folder()))
    ours, theirs = socket.socketpair()
    env.update({RUN_MARKER_ENV: marker, WARM_FD_ENV: str(theirs.fileno()), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"})
    try:
        process = subprocess.Popen(
            [sys.executable, "-c", WARM_ENTRY],
            cwd=scratch.work,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            pass_fds=(theirs.fileno(),),
            start_new_session=True,
            preexec_fn=lambda: limit_resources(memory_limit, None),
        )
    except OSError:
        ours.close()
        shutil.rmtree(folder, ignore_errors=True)
        return None
    finally:
        theirs.close()
    return WarmGrader(process, ours, marker, folder)


def sandbox_env(scratch: Scratch, hidden: tuple[Path, ...]) -> dict[str, str]:
    """Our environment less start-up hooks and anything that leads to a `hidden` folder."""
    roots = {str(path) for folder in hidden for path in _spellings(folder)}

    def leads_to_hidden(text: str) -> bool:
        return any(root in text for root in roots)

    env: dict[str, str] = {}
    for name, value in os.environ.items():
        if name in CLEARED_ENV or name.startswith("TINYGRAD_LEARN_"):
            continue
        if name in LIST_ENV:
            value = os.pathsep.join(part for part in value.split(os.pathsep) if not leads_to_hidden(part))
        elif leads_to_hidden(value):
            continue
        env[name] = value
    env.update(
        {
            "PYTHONIOENCODING": "utf-8",
            **SINGLE_THREADED_MATH,
            "HOME": str(scratch.root),
            "PWD": str(scratch.work),
            EXERCISES_ENV: str(scratch.exercises),
            SOLUTIONS_ENV: str(scratch.solutions),
        }
    )
    return env


def _working_folder() -> tuple[Path, ...]:
    try:
        return (Path.cwd(),)
    except OSError:  # the folder the command was run from has been deleted
        return ()


def _spellings(folder: Path) -> set[Path]:
    spellings = {folder.absolute()}
    with contextlib.suppress(OSError, RuntimeError):
        spellings.add(folder.resolve())
    return {path for path in spellings if path != Path(path.anchor)}


def _start(
    command: list[str], cwd: Path, env: dict[str, str], channel_fd: int, memory_limit: int, cpu_limit: float | None
) -> subprocess.Popen[bytes]:
    """Its own session, capped memory and CPU, one channel fd passed on, output merged into one pipe."""
    return subprocess.Popen(
        command,
        cwd=cwd,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        pass_fds=(channel_fd,),
        start_new_session=True,
        preexec_fn=(lambda: limit_resources(memory_limit, cpu_limit)) if os.name == "posix" else None,
    )


def _exit_notice(process: subprocess.Popen[bytes] | ForkedChild) -> int | None:
    """A file descriptor that becomes readable when the child may have ended: the warm process's
    socket for a forked run (it reports the end), a pidfd for a started one where Linux has them."""
    if isinstance(process, ForkedChild):
        return process.grader.control.fileno()
    with contextlib.suppress(AttributeError, OSError):
        return os.pidfd_open(process.pid)
    return None


def _forked_run_ended(process: ForkedChild) -> bool:
    return process.poll() is not None


def _feed(process: subprocess.Popen[bytes] | ForkedChild, data: bytes) -> None:
    assert process.stdin is not None
    try:
        process.stdin.write(data)
        process.stdin.close()
    except (BrokenPipeError, OSError):
        pass
