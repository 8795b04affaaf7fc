"""The one way learner code is run: `run_sandboxed` starts every such child (the grading run of
check, verify and watch, and the workers of graph, bench and train) with the same guards.

- A scratch folder holds copies: the learner's exercises (regular files only, size-capped, see
  `learnerfiles`), the course's reference solutions, and whatever the caller adds (the suite).
  The child's working folder and HOME lie in it.
- The environment names neither the workspace, the course, nor the folder the command was run
  from: variables that mention them are dropped (from PATH-like lists, only those entries), and
  start-up hooks are cleared. The tool's own package keeps its cached bytecode; bytecode of
  learner code can only land in the scratch copy.
- A memory cap and a file-size cap (where the OS has them), its own process group, and a marker
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
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .grading import CHANNEL_ENV, EXERCISES_ENV, SOLUTIONS_ENV
from .grading.allowlist import ImportPolicy, Refusal, screen
from .grading.confine import child_settings
from .grading.protocol import Problem
from .learnerfiles import copy_exercises

OUTPUT_TAIL = 20_000
CHANNEL_LIMIT = 4_000_000
DEFAULT_MEMORY_LIMIT = 4 * 1024**3
FILE_SIZE_LIMIT = 256 * 1024**2
READ_SIZE = 65536

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
# Every process of one run carries this, so strays that left its process group are found.
RUN_MARKER_ENV = "TINYGRAD_LEARN_RUN"


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
    channel: bytes
    """Everything it sent on the channel, up to CHANNEL_LIMIT bytes."""
    output: str
    """The tail of what it printed."""
    duration: float
    refused: Refusal | None = None
    """What in the learner's files the import policy refused; then none of them ran."""


def run_sandboxed(
    command: Callable[[Scratch], list[str]],
    *,
    exercises: Path,
    solutions: Path,
    stdin: bytes,
    time_limit: float,
    memory_limit: int = DEFAULT_MEMORY_LIMIT,
    extra_files: dict[str, bytes] | None = None,
    env: dict[str, str] | None = None,
    idle_limit: float | None = None,
    on_line: Callable[[bytes], None] | None = None,
    policy: ImportPolicy = ImportPolicy.of(),
) -> SandboxRun:
    """Run `python <command(scratch)>` on scratch copies of `exercises` and `solutions`.

    `stdin` is written to the child and closed; `on_line` receives each complete channel line as
    it arrives. Learner code that `policy` refuses never runs (the result's `refused` says why).
    Raises TinygradLearnError when a learner file is refused, OSError when the scratch folder or
    the process cannot be made.
    """
    with tempfile.TemporaryDirectory(prefix="tinygrad-learn-", ignore_cleanup_errors=True) as folder:
        scratch = Scratch(Path(folder))
        scratch.work.mkdir()
        copy_exercises(exercises, scratch.exercises)
        if solutions.is_dir():
            shutil.copytree(solutions, scratch.solutions, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:  # a course handed out without its solutions: suites that need none still grade
            scratch.solutions.mkdir(parents=True)
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
            process = _start([sys.executable, *command(scratch)], scratch.work, child_env, write_fd, memory_limit)
        except OSError:
            os.close(read_fd)
            raise
        finally:
            os.close(write_fd)
        assert process.stdout is not None
        pipes = _pipe_names(read_fd, process.stdout.fileno())
        try:
            # Read while the child starts, which waits for its standard input before it loads learner code.
            refusal = screen(scratch.exercises, policy)
            if refusal is not None:
                _kill_group(process)
            _feed(process, stdin if refusal is None else b"")
            pump = _Pump(read_fd, process, on_line)
            stopped = pump.run(started + time_limit, idle_limit)
        except BaseException:
            # Ctrl+C stops the learner's run too, instead of leaving it to its time limit.
            _kill_group(process)
            _kill_strays(marker, pipes)
            os.close(read_fd)
            raise
        # Whatever the learner's code left running goes, then what it had sent is read to the end.
        _kill_group(process)
        exit_code = process.wait()
        _kill_strays(marker, pipes)
        pump.drain()
        os.close(read_fd)
        assert process.stdout is not None
        process.stdout.close()
        return SandboxRun(exit_code, stopped, pump.channel(), pump.output(), time.monotonic() - started, refusal)


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


def _start(
    command: list[str], cwd: Path, env: dict[str, str], channel_fd: int, memory_limit: int
) -> subprocess.Popen[bytes]:
    """Its own process group, capped memory, one channel fd passed on, output merged into one pipe."""
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


def _feed(process: subprocess.Popen[bytes], data: bytes) -> None:
    assert process.stdin is not None
    try:
        process.stdin.write(data)
        process.stdin.close()
    except (BrokenPipeError, OSError):
        pass


class _Pump:
    """Reads the channel and the output without ever blocking, until the child ends or a limit passes."""

    def __init__(self, channel_fd: int, process: subprocess.Popen[bytes], on_line: Callable[[bytes], None] | None):
        assert process.stdout is not None
        self.process = process
        self.on_line = on_line
        self.fds = {channel_fd: "channel", process.stdout.fileno(): "output"}
        for fd in self.fds:
            os.set_blocking(fd, False)
        self.channel_chunks: list[bytes] = []
        self.channel_size = 0
        self.partial = b""
        self.output_chunks: list[bytes] = []
        self.output_size = 0
        self.last_line = time.monotonic()
        self.exit_fd: int | None = None
        with contextlib.suppress(AttributeError, OSError):
            self.exit_fd = os.pidfd_open(process.pid)

    def run(self, deadline: float, idle_limit: float | None) -> Problem | None:
        selector = selectors.DefaultSelector()
        for fd in self.fds:
            selector.register(fd, selectors.EVENT_READ)
        if self.exit_fd is not None:
            selector.register(self.exit_fd, selectors.EVENT_READ)
        try:
            while self.process.poll() is None:
                now = time.monotonic()
                if now >= deadline:
                    return Problem.TIMEOUT
                if idle_limit is not None and now >= self.last_line + idle_limit:
                    return Problem.IDLE_TIMEOUT
                wait = deadline - now
                if idle_limit is not None:
                    wait = min(wait, self.last_line + idle_limit - now)
                if self.exit_fd is None:
                    wait = min(wait, 0.05)  # no exit notification here: look again soon
                for key, _ in selector.select(max(wait, 0.0)):
                    if key.fd != self.exit_fd and not self._read(key.fd):
                        selector.unregister(key.fd)
            return None
        finally:
            selector.close()
            if self.exit_fd is not None:
                os.close(self.exit_fd)

    def drain(self) -> None:
        """Read what is already in the pipes; never wait for more, nor read without end from a
        process that escaped every kill and keeps writing."""
        for fd in self.fds:
            for _ in range(CHANNEL_LIMIT // READ_SIZE + 2):
                if not self._read(fd):
                    break

    def _read(self, fd: int) -> bool:
        """One bounded piece from `fd`; False when there is nothing more to read now."""
        try:
            chunk = os.read(fd, READ_SIZE)
        except (BlockingIOError, InterruptedError):
            return False
        except OSError:
            return False
        if not chunk:
            return False
        if self.fds[fd] == "output":
            self.output_chunks.append(chunk)
            self.output_size += len(chunk)
            while self.output_size - len(self.output_chunks[0]) >= OUTPUT_TAIL:
                self.output_size -= len(self.output_chunks.pop(0))
            return True
        if self.channel_size >= CHANNEL_LIMIT:
            return True  # read and dropped, so a flood cannot block the child on a full pipe
        chunk = chunk[: CHANNEL_LIMIT - self.channel_size]
        self.channel_chunks.append(chunk)
        self.channel_size += len(chunk)
        *lines, self.partial = (self.partial + chunk).split(b"\n")
        for line in lines:
            self.last_line = time.monotonic()
            if self.on_line is not None:
                self.on_line(line)
        return True

    def channel(self) -> bytes:
        return b"".join(self.channel_chunks)

    def output(self) -> str:
        return b"".join(self.output_chunks).decode("utf-8", errors="replace")[-OUTPUT_TAIL:]


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    if os.name == "posix":
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
    else:
        process.kill()


def _pipe_names(*fds: int) -> set[str]:
    """How /proc names these pipes in a process's fd list (`pipe:[inode]`)."""
    return {f"pipe:[{os.fstat(fd).st_ino}]" for fd in fds}


def _kill_strays(marker: str, pipes: set[str]) -> None:
    """Kill what escaped the process group (a double fork, a new session): every process that
    carries the run's marker in its environment or holds one of the run's pipes (a stray that
    exec'd with an environment of its own still holds them).

    Only where /proc lists each process's environment and files (Linux); elsewhere the group kill is all.
    """
    needle = f"{RUN_MARKER_ENV}={marker}".encode()
    proc = Path("/proc")
    if not proc.is_dir():
        return
    me = os.getpid()
    for _ in range(3):  # a stray may fork again while we look
        found = False
        for entry in proc.iterdir():
            if not entry.name.isdigit() or int(entry.name) == me:
                continue
            if _is_stray(entry, needle, pipes):
                with contextlib.suppress(OSError):
                    os.kill(int(entry.name), signal.SIGKILL)
                    found = True
        if not found:
            return


def _is_stray(entry: Path, needle: bytes, pipes: set[str]) -> bool:
    try:
        if needle in (entry / "environ").read_bytes().split(b"\0"):
            return True
        return any(os.readlink(fd) in pipes for fd in (entry / "fd").iterdir())
    except OSError:
        return False
