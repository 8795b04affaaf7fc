"""The limits a sandboxed child runs under, and how the parent measures its CPU time.

A grading run is limited by the work it does, not by the clock: a busy machine stretches the wall
time of a correct engine but not its CPU time. The CPU limit is held three ways:

- the parent adds up the CPU time of every process of the run's session (the live ones, and the
  children they have already waited for), read from /proc on Linux, and stops the run when the
  sum passes the limit: an endless loop in a thread or in a child process counts;
- each process also gets RLIMIT_CPU a little above the limit (inherited by its children), so the
  limit holds where there is no /proc;
- when the run ends, the system's account of the child and the children it waited for (wait4).

Then whatever of the run is left is killed: its process group, and every process that carries the
run's marker or holds its pipes. Nothing here starts a process or prints.
"""

from __future__ import annotations

import contextlib
import math
import os
import signal
from typing import Protocol

FILE_SIZE_LIMIT = 256 * 1024**2
CPU_RLIMIT_MARGIN = 1.0
"""Seconds each process may run past the CPU limit before the system itself stops it: the
parent's own check, which adds up every process of the run, normally comes first."""
CPU_POLL_SECONDS = 0.2
LINGER_SECONDS = 2.0
"""How long a child may take to exit once it has said its results are complete. One that takes
longer (a thread of the learner's that never ends) is stopped; its verdict is already whole, so
however busy the machine, this wait never changes one."""
# Every process of one run carries this, so strays that left its process group are found.
RUN_MARKER_ENV = "TINYGRAD_LEARN_RUN"


class Child(Protocol):
    """The part of a started child (a `subprocess.Popen`) these functions use."""

    pid: int
    returncode: int | None

    def poll(self) -> int | None: ...

    def wait(self) -> int: ...

    def kill(self) -> None: ...


def wall_guard(cpu_limit: float) -> float:
    """The wall-clock limit that goes with a CPU limit: only code that sleeps or blocks reaches it."""
    return 4 * cpu_limit + 10


def limit_resources(memory_limit: int, cpu_limit: float | None) -> None:
    """Runs in the child before exec: caps memory, file size and CPU time where the OS allows it."""
    try:
        import resource

        limits = [(resource.RLIMIT_AS, memory_limit), (resource.RLIMIT_FSIZE, FILE_SIZE_LIMIT)]
        for limit, value in limits:
            _, hard = resource.getrlimit(limit)
            if hard == resource.RLIM_INFINITY or hard > value:
                resource.setrlimit(limit, (value, hard))
        if cpu_limit is not None:
            # The soft limit sends SIGXCPU (which code may catch), the hard one SIGKILL.
            soft = math.ceil(cpu_limit + CPU_RLIMIT_MARGIN)
            _, hard = resource.getrlimit(resource.RLIMIT_CPU)
            wanted = soft + 2
            if hard != resource.RLIM_INFINITY:
                soft, wanted = min(soft, hard), min(wanted, hard)
            resource.setrlimit(resource.RLIMIT_CPU, (soft, wanted))
    except (ImportError, ValueError, OSError):
        pass


def _clock_ticks() -> float:
    try:
        return float(os.sysconf("SC_CLK_TCK"))
    except (AttributeError, ValueError, OSError):
        return 100.0


CLOCK_TICKS = _clock_ticks()


def session_cpu_seconds(session: int) -> float | None:
    """CPU seconds of every process in `session`, with the children each has waited for;
    None where /proc does not tell (not Linux)."""
    if not os.path.isfile("/proc/self/stat"):
        return None
    ticks = 0
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as stat_file:
                stat = stat_file.read()
        except OSError:
            continue
        # The command name may hold spaces and parentheses: the fields start after the last ")".
        fields = stat[stat.rfind(b")") + 2 :].split()
        try:
            if int(fields[3]) != session:
                continue
            ticks += int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])
        except (IndexError, ValueError):
            continue
    return ticks / CLOCK_TICKS


def has_ended(process: Child) -> bool:
    """Whether the child has ended, without reaping it, so `reap` can still read its CPU account."""
    if not hasattr(os, "waitid"):
        return process.poll() is not None
    try:
        found = os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        return True
    return found is not None


def reap(process: Child) -> tuple[int, float]:
    """Wait for the child; its exit code and the CPU seconds of it and the children it waited for."""
    if not hasattr(os, "wait4") or process.returncode is not None:
        return process.wait(), 0.0
    try:
        _, status, usage = os.wait4(process.pid, 0)
    except ChildProcessError:
        return process.wait(), 0.0
    exit_code = os.waitstatus_to_exitcode(status)
    process.returncode = exit_code
    return exit_code, usage.ru_utime + usage.ru_stime


def kill_group(process: Child) -> None:
    if os.name == "posix":
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
    else:
        process.kill()


def pipe_names(*fds: int) -> set[str]:
    """How /proc names these pipes in a process's fd list (`pipe:[inode]`)."""
    return {f"pipe:[{os.fstat(fd).st_ino}]" for fd in fds}


def kill_strays(markers: tuple[str, ...], pipes: set[str], spare: frozenset[int] | set[int] = frozenset()) -> None:
    """Kill what escaped the process group (a double fork, a new session): every process that
    carries one of `markers` in its environment or holds one of the run's pipes (a stray that
    exec'd with an environment of its own still holds them).

    Only where /proc lists each process's environment and files (Linux); elsewhere the group kill
    is all. The processes in `spare` are left alone.
    """
    needles = {f"{RUN_MARKER_ENV}={marker}".encode() for marker in markers}
    if not os.path.isdir("/proc"):
        return
    skipped = {os.getpid(), *spare}
    for _ in range(3):  # a stray may fork again while we look
        found = False
        for name in os.listdir("/proc"):
            if not name.isdigit() or int(name) in skipped:
                continue
            if _is_stray(f"/proc/{name}", needles, pipes):
                with contextlib.suppress(OSError):
                    os.kill(int(name), signal.SIGKILL)
                    found = True
        if not found:
            return


def _is_stray(entry: str, needles: set[bytes], pipes: set[str]) -> bool:
    try:
        with open(f"{entry}/environ", "rb") as environ:
            if not needles.isdisjoint(environ.read().split(b"\0")):
                return True
        # A child this tool is starting for another run (grade and the tests run several at once)
        # holds copies of every open pipe until it execs: it is nobody's stray.
        with open(f"{entry}/stat", "rb") as stat:
            parent = int(stat.read().rsplit(b")", 1)[1].split()[1])
        if parent == os.getpid():
            return False
        return any(os.readlink(f"{entry}/fd/{fd}") in pipes for fd in os.listdir(f"{entry}/fd"))
    except (OSError, ValueError, IndexError):
        return False
