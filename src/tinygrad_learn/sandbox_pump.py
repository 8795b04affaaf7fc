"""Reading a sandboxed child's channel and output without ever blocking, under the run's limits:
the wall-clock deadline, the idle limit and the CPU limit (see `sandbox_limits`).

Nothing here starts a process or prints.
"""

from __future__ import annotations

import os
import selectors
import threading
import time
from collections.abc import Callable

from .grading.protocol import Problem
from .sandbox_limits import CPU_POLL_SECONDS, LINGER_SECONDS, session_cpu_seconds

OUTPUT_TAIL = 20_000
CHANNEL_LIMIT = 4_000_000
READ_SIZE = 65536


class Pump:
    """Reads the channel and the output without ever blocking, until the child ends or a limit passes."""

    def __init__(
        self,
        channel_fd: int,
        output_fd: int,
        session: int,
        ended: Callable[[], bool],
        exit_fd: int | None,
        on_line: Callable[[bytes], None] | None,
        cpu_limit: float | None,
        complete: Callable[[bytes], bool] | None = None,
        cancel: threading.Event | None = None,
    ):
        """`ended` says whether the child has ended; `exit_fd`, when there is one, becomes readable
        when it may have (the caller opens and closes it); `session` is the child's session id;
        `complete` tells the channel line after which nothing more is awaited (see `lingered`);
        once `cancel` is set, the run stops as it would on Ctrl+C."""
        self.session = session
        self.ended = ended
        self.exit_fd = exit_fd
        self.cpu_limit = cpu_limit
        self.cpu_seen = 0.0
        # A run cannot compute faster than every core at once: until then its CPU time is not read,
        # which spares a short run (most of them) the reading.
        self.next_cpu_look = time.monotonic() + (cpu_limit or 0.0) / (os.cpu_count() or 1)
        self.clock = "wall"
        self.on_line = on_line
        self.fds = {channel_fd: "channel", output_fd: "output"}
        for fd in self.fds:
            os.set_blocking(fd, False)
        self.channel_chunks: list[bytes] = []
        self.channel_size = 0
        self.partial = b""
        self.output_chunks: list[bytes] = []
        self.output_size = 0
        self.last_line = time.monotonic()
        self.complete = complete
        self.cancel = cancel
        self.completed_at: float | None = None
        self.lingered = False
        """Set when the child was still running LINGER_SECONDS after its results were complete."""

    def run(self, deadline: float, idle_limit: float | None) -> Problem | None:
        selector = selectors.DefaultSelector()
        for fd in self.fds:
            selector.register(fd, selectors.EVENT_READ)
        if self.exit_fd is not None:
            selector.register(self.exit_fd, selectors.EVENT_READ)
        try:
            while not self.ended():
                if self.cancel is not None and self.cancel.is_set():
                    raise KeyboardInterrupt
                now = time.monotonic()
                if now >= deadline:
                    return Problem.TIMEOUT
                if self.cpu_limit is not None and now >= self.next_cpu_look:
                    self.next_cpu_look = now + CPU_POLL_SECONDS
                    if self.cpu_seconds() >= self.cpu_limit:
                        self.clock = "cpu"
                        return Problem.TIMEOUT
                if idle_limit is not None and now >= self.last_line + idle_limit:
                    return Problem.IDLE_TIMEOUT
                if self.completed_at is not None and now >= self.completed_at + LINGER_SECONDS:
                    self.lingered = True
                    return None
                wait = deadline - now
                if self.completed_at is not None:
                    wait = min(wait, self.completed_at + LINGER_SECONDS - now)
                if idle_limit is not None:
                    wait = min(wait, self.last_line + idle_limit - now)
                if self.exit_fd is None:
                    wait = min(wait, 0.05)  # no exit notification here: look again soon
                if self.cpu_limit is not None:
                    wait = min(wait, max(self.next_cpu_look - now, 0.0))
                if self.cancel is not None:
                    wait = min(wait, CPU_POLL_SECONDS)
                for key, _ in selector.select(max(wait, 0.0)):
                    if key.fd != self.exit_fd and not self._read(key.fd):
                        selector.unregister(key.fd)
            return None
        finally:
            selector.close()

    def cpu_seconds(self) -> float:
        """The most CPU time the run's session has been seen to use."""
        seen = session_cpu_seconds(self.session)
        if seen is not None:
            self.cpu_seen = max(self.cpu_seen, seen)
        return self.cpu_seen

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
            if self.complete is not None and self.completed_at is None and self.complete(line):
                self.completed_at = self.last_line
        return True

    def channel(self) -> bytes:
        return b"".join(self.channel_chunks)

    def output(self) -> str:
        return b"".join(self.output_chunks).decode("utf-8", errors="replace")[-OUTPUT_TAIL:]
