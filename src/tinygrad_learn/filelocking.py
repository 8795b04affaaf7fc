"""One lock file held by one process at a time: the progress store's writers take turns with it.

The operating system's own advisory lock (`flock` on Linux and macOS, `msvcrt.locking` on
Windows) is released when its holder exits, however it exits, so a killed writer never leaves the
lock behind. It is the mechanism the `filelock` package uses too, in a few lines instead of an
import that cost `check` more than all of its own work on the progress file.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

POLL_SECONDS = 0.02


class LockTimeout(Exception):
    """Another process held the lock for longer than the wait allowed."""


try:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)

except ImportError:  # Windows
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)  # type: ignore[attr-defined]


@contextmanager
def locked(path: Path, timeout: float) -> Iterator[None]:
    """Hold the lock on `path` (created if missing) for the block; LockTimeout after `timeout`
    seconds of waiting; OSError if the file cannot be opened."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + timeout
        while not _try_lock(fd):
            if time.monotonic() >= deadline:
                raise LockTimeout(str(path))
            time.sleep(POLL_SECONDS)
        try:
            yield
        finally:
            _unlock(fd)
    finally:
        os.close(fd)
