"""The parent's side of the warm grading process (`grading.warm`), which `sandbox.start_warm`
starts and `sandbox.run_sandboxed` forks each grading run from.

A forked run looks to the sandbox like a started one (`ForkedChild` has the parts of a
`subprocess.Popen` it uses), so it is fed, read, limited, killed and swept exactly the same way.
Whenever the warm process does not answer as it should, it is stopped for good and the runs go
back to starting a fresh interpreter each.

Nothing here starts a process or prints.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import socket
import time
from typing import IO, Any

from .sandbox_limits import Child, kill_group, kill_strays, reap

READY_SECONDS = 60.0
"""How long the warm process may take to import everything before it is given up."""
REPLY_SECONDS = 10.0
LINE_LIMIT = 65536


class WarmGrader:
    """One warm grading process, serving one run at a time."""

    def __init__(self, process: Child, control: socket.socket, marker: str, folder: str) -> None:
        self.process = process
        self.control = control
        self.marker = marker
        self.folder = folder
        self.pending = b""
        self.alive = True
        self.ready = False
        self.forked = 0
        """How many runs it has forked."""

    def fork(self, args: list[str], cwd: str, env: dict[str, str], channel_fd: int, memory_limit: int,
             cpu_limit: float | None) -> ForkedChild | None:  # fmt: skip
        """Fork a run of `pytest args`; None when the warm process cannot (the caller starts one cold)."""
        if not self.alive or (not self.ready and self._read_reply(READY_SECONDS) is None):
            self.close()
            return None
        self.ready = True
        stdin_read, stdin_write = os.pipe()
        output_read, output_write = os.pipe()
        job = {"args": args, "cwd": cwd, "env": env, "memory_limit": memory_limit, "cpu_limit": cpu_limit}
        try:
            socket.send_fds(self.control, [json.dumps(job).encode() + b"\n"], [stdin_read, output_write, channel_fd])
            reply = self._read_reply(REPLY_SECONDS)
        except OSError:
            reply = None
        finally:
            os.close(stdin_read)
            os.close(output_write)
        if reply is None or not isinstance(reply.get("pid"), int):
            os.close(stdin_write)
            os.close(output_read)
            self.close()
            return None
        self.forked += 1
        return ForkedChild(self, reply["pid"], os.fdopen(stdin_write, "wb"), os.fdopen(output_read, "rb"))

    def ended(self, child: ForkedChild, wait: float) -> bool:
        """Whether the warm process has reported `child`'s end, waiting at most `wait` seconds."""
        if child.returncode is not None:
            return True
        reply = self._read_reply(wait)
        if reply is None:
            if not self.alive:
                child.returncode, child.cpu_seconds = -9, 0.0
                return True
            return False
        child.returncode = int(reply.get("exit_code", -9))
        child.cpu_seconds = float(reply.get("cpu_seconds", 0.0))
        return True

    def sweep(self, run_marker: str, pipes: set[str]) -> None:
        """After a run: what carries its marker or holds its pipes is gone, and so is every
        process the warm process has forked, with all they started (they carry its marker)."""
        kill_strays((run_marker, self.marker), pipes, spare={self.process.pid})

    def close(self) -> None:
        """Stop the warm process and everything it started; later runs start cold."""
        if self.process.returncode is None:
            kill_group(self.process)
            reap(self.process)
        if self.alive:
            kill_strays((self.marker,), set())
        self.alive = False
        with contextlib.suppress(OSError):
            self.control.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    def _read_reply(self, wait: float) -> dict[str, Any] | None:
        """The next reply line within `wait` seconds; None when there is none yet (or the warm
        process has gone, which makes it dead)."""
        deadline = time.monotonic() + wait
        while b"\n" not in self.pending:
            left = deadline - time.monotonic()
            if not self.alive:
                return None
            ready, _, _ = select.select([self.control], [], [], max(left, 0.0))
            if not ready:
                return None
            try:
                chunk = self.control.recv(LINE_LIMIT)
            except OSError:
                chunk = b""
            if not chunk or len(self.pending) > LINE_LIMIT:
                self.alive = False
                return None
            self.pending += chunk
        line, self.pending = self.pending.split(b"\n", 1)
        try:
            reply = json.loads(line)
        except ValueError:
            self.alive = False
            return None
        return reply if isinstance(reply, dict) else None


class ForkedChild:
    """A grading run forked by the warm process: the parts of `subprocess.Popen` the sandbox uses."""

    def __init__(self, grader: WarmGrader, pid: int, stdin: IO[bytes], stdout: IO[bytes]) -> None:
        self.grader = grader
        self.pid = pid
        self.stdin: IO[bytes] | None = stdin
        self.stdout: IO[bytes] | None = stdout
        self.returncode: int | None = None
        self.cpu_seconds = 0.0

    def poll(self) -> int | None:
        self.grader.ended(self, 0.0)
        return self.returncode

    def wait(self) -> int:
        """The exit code, once the warm process has reaped the run (which the sandbox has killed)."""
        if not self.grader.ended(self, REPLY_SECONDS):
            self.grader.close()
            self.returncode = -9
        assert self.returncode is not None
        return self.returncode

    def kill(self) -> None:
        kill_group(self)
