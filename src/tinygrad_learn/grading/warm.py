"""The warm grading process of `watch`: the interpreter, pytest, numpy and the grading code are
imported once, and each grading run is a fresh child forked from it.

The sandbox starts this process like every other child (`sandbox.start_warm`) and then sends it
one job per run over a Unix socket, with the run's standard input, output and channel as file
descriptors. The forked child takes the run's guards before anything of the run is imported: a
session of its own, the run's environment and scratch folder, its memory and CPU limits; then it
runs pytest in-process. The learner's code and the suite are imported only in that child, so
nothing of one run reaches the next. The pytest plugin is not imported here either: it reads the
channel and the token when it is imported, which must happen in the child.

Replies are JSON lines: `{"ready": true}` once warm, then for each job `{"pid": N}` when the child
is forked and `{"exit_code": N, "cpu_seconds": S}` when it has ended.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import socket
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

WARM_FD_ENV = "TINYGRAD_LEARN_WARM_FD"
ENTRY = "from tinygrad_learn.grading.warm import serve; serve()"
"""What the sandbox runs with `python -c` to start the warm process."""
JOB_FDS = 3
"""Standard input, output (standard error too) and the channel of the run, in this order."""
JOB_SIZE_LIMIT = 1_000_000
CHILD_FAILED = 70
REMEMBERED_SUITES = 64


def serve() -> None:
    import importlib

    import numpy  # noqa: F401  (imported to be shared by every forked run)
    import pytest  # noqa: F401
    from _pytest.config import default_plugins

    # The plugin's own modules too; the plugin itself is imported in each child (see above).
    from tinygrad_learn.grading import audit, confine, deepguard, landlock, protocol, suitekit, testkit  # noqa: F401

    for name in default_plugins:  # what pytest.main imports first
        with contextlib.suppress(ImportError):
            importlib.import_module(f"_pytest.{name}")

    prepare_suite = _rewritten_once()
    # What is imported now stays out of every forked run's garbage collections (pytest collects
    # several times per run), and its memory stays shared with the warm process.
    gc.collect()
    gc.freeze()
    control = socket.socket(fileno=int(os.environ.pop(WARM_FD_ENV)))
    _reply(control, {"ready": True})
    while True:
        job, fds = _receive(control)
        if job is None:
            return
        try:
            prepare_suite(job["args"][0] if job["args"] else "")
            pid = _fork_run(job, fds, control)
        finally:
            for fd in fds:
                os.close(fd)
        _reply(control, {"pid": pid})
        _, status, usage = os.wait4(pid, 0)
        cpu_seconds = usage.ru_utime + usage.ru_stime
        _reply(control, {"exit_code": os.waitstatus_to_exitcode(status), "cpu_seconds": cpu_seconds})


def _rewritten_once() -> Callable[[str], None]:
    """pytest rewrites a suite's asserts and compiles it on every run (some 10 ms for a large
    suite): here it is done once per suite, in the warm process before it forks a run (the
    sandbox has written the suite into the run's scratch folder, and no code of the run exists
    yet), and each forked run takes the code. A suite whose bytes differ is rewritten as usual.

    The function given is called with the suite's path before each fork. Where pytest's rewriting
    is not where this expects it, nothing is remembered and every run rewrites as before."""
    try:
        from _pytest.assertion import rewrite
        from _pytest.config import Config

        rewrite_test = rewrite._rewrite_test
    except (ImportError, AttributeError):
        return lambda path: None
    remembered: dict[bytes, tuple[bytes, types.CodeType]] = {}

    def prepare(path: str) -> None:
        if not path.endswith(".py") or len(remembered) >= REMEMBERED_SUITES:
            return
        # A suite that cannot be read or rewritten here is left to the run, which reports it.
        with contextlib.suppress(OSError, SyntaxError, ValueError, RecursionError, MemoryError):
            suite = Path(path)
            source = suite.read_bytes()
            if source not in remembered:
                # No config: it only turns on the assertion-pass hook, which the grading ini leaves off.
                remembered[source] = rewrite_test(suite, None)  # type: ignore[arg-type]

    def rewritten(fn: Path, config: Config) -> tuple[bytes, types.CodeType]:  # pytest's own names
        found = remembered.get(fn.read_bytes())
        if found is None:
            return rewrite_test(fn, config)
        source_hash, code = found
        return source_hash, _named(code, str(fn))

    rewrite._rewrite_test = rewritten
    return prepare


def _named(code: types.CodeType, filename: str) -> types.CodeType:
    """`code`, and every code object within it, as compiled from `filename` (each run has its own
    scratch folder)."""
    constants = tuple(_named(item, filename) if isinstance(item, types.CodeType) else item for item in code.co_consts)
    return code.replace(co_filename=filename, co_consts=constants)


def _receive(control: socket.socket) -> tuple[dict[str, Any] | None, list[int]]:
    data, fds, _, _ = socket.recv_fds(control, JOB_SIZE_LIMIT, JOB_FDS)
    while data and not data.endswith(b"\n") and len(data) < JOB_SIZE_LIMIT:
        more = control.recv(JOB_SIZE_LIMIT)
        if not more:
            break
        data += more
    if not data or len(fds) != JOB_FDS:
        for fd in fds:
            os.close(fd)
        return None, []
    return json.loads(data), fds


def _reply(control: socket.socket, message: dict[str, Any]) -> None:
    control.sendall(json.dumps(message).encode() + b"\n")


def _fork_run(job: dict[str, Any], fds: list[int], control: socket.socket) -> int:
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid:
        return pid
    code = CHILD_FAILED
    try:
        code = _run_in_child(job, fds, control)
    finally:
        os._exit(code)


def _run_in_child(job: dict[str, Any], fds: list[int], control: socket.socket) -> int:
    """In the forked child: take the run's guards, then grade."""
    from tinygrad_learn.grading import CHANNEL_ENV
    from tinygrad_learn.sandbox_limits import limit_resources

    os.setsid()
    stdin_fd, output_fd, channel_fd = fds
    os.dup2(stdin_fd, 0)
    os.dup2(output_fd, 1)
    os.dup2(output_fd, 2)
    control.close()
    for fd in (stdin_fd, output_fd):
        os.close(fd)
    os.environ.clear()
    os.environ.update(job["env"])
    os.environ[CHANNEL_ENV] = str(channel_fd)
    os.chdir(job["cwd"])
    limit_resources(int(job["memory_limit"]), job["cpu_limit"])
    import pytest

    sys.argv = ["pytest", *job["args"]]
    code = pytest.main(list(job["args"]))
    _end_like_an_interpreter()
    return int(code)


def _end_like_an_interpreter() -> None:
    """What Python does when a program ends, which `os._exit` would skip: wait for the threads
    that are not daemons, run the atexit functions, flush the output."""
    import atexit
    import threading

    shutdown = getattr(threading, "_shutdown", None)
    if shutdown is not None:
        shutdown()
    run_exit_functions = getattr(atexit, "_run_exitfuncs", None)
    if run_exit_functions is not None:
        run_exit_functions()
    sys.stdout.flush()
    sys.stderr.flush()
