"""Reading and copying the learner's files without trusting them.

The tool's own process reads what a learner put in `exercises/` only through here: regular files
only (a named pipe would block a read forever, a device like /dev/zero never ends), never through
a link that leaves the workspace, and never more than a size cap. Each refusal is a
`TinygradLearnError` naming the file and what to do, so the command ends with exit code 2
instead of hanging or reading without end.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from .errors import TinygradLearnError

FILE_LIMIT = 8 * 1024**2
"""The largest single file read or copied from exercises/: a source file is a few kilobytes."""
TOTAL_LIMIT = 64 * 1024**2
"""The most a scratch copy of exercises/ may hold."""
SKIPPED_NAMES = ("__pycache__",)


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "fifo"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    if stat.S_ISDIR(mode):
        return "folder"
    return "other"


def _shown(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def checked_file(path: Path, root: Path, limit: int = FILE_LIMIT) -> os.stat_result | None:
    """The status of `path` if it is a regular file, inside `root` once links are followed, and under
    `limit`; None when it does not exist (or is a link to nothing). Anything else is refused."""
    shown = _shown(path, root)
    try:
        if path.is_symlink():
            target = path.resolve()
            if not target.exists():  # a link to nothing: nothing to read
                return None
            if not target.is_relative_to(root.resolve()):
                raise TinygradLearnError("files.outside", path=shown, target=str(target))
        status = path.stat()
    except FileNotFoundError:
        return None
    except (OSError, RuntimeError) as error:  # RuntimeError: a loop of links
        raise TinygradLearnError("files.unreadable", path=shown, problem=str(error)) from None
    if not stat.S_ISREG(status.st_mode):
        raise TinygradLearnError("files.not_regular", path=shown, kind=_kind(status.st_mode))
    if status.st_size > limit:
        raise TinygradLearnError(
            "files.too_large", path=shown, size=_megabytes(status.st_size), limit=_megabytes(limit)
        )
    return status


def read_learner_file(path: Path, root: Path, limit: int = FILE_LIMIT) -> bytes | None:
    """The bytes of a learner file (see `checked_file`), or None when it does not exist."""
    if checked_file(path, root, limit) is None:
        return None
    try:
        # Non-blocking, so a pipe swapped in after the check still cannot make the read wait.
        handle = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        return None
    except OSError as error:
        raise TinygradLearnError("files.unreadable", path=_shown(path, root), problem=str(error)) from None
    try:
        if not stat.S_ISREG(os.fstat(handle).st_mode):
            raise TinygradLearnError("files.not_regular", path=_shown(path, root), kind="other")
        chunks = []
        size = 0
        while size <= limit and (chunk := os.read(handle, 1 << 20)):
            chunks.append(chunk)
            size += len(chunk)
    except BlockingIOError:
        raise TinygradLearnError("files.not_regular", path=_shown(path, root), kind="fifo") from None
    finally:
        os.close(handle)
    if size > limit:
        raise TinygradLearnError(
            "files.too_large", path=_shown(path, root), size=_megabytes(size), limit=_megabytes(limit)
        )
    return b"".join(chunks)


def copy_exercises(source: Path, target: Path, *, limit: int = FILE_LIMIT, total_limit: int = TOTAL_LIMIT) -> int:
    """Copy the learner's exercises/ into `target`: regular files only, bytecode caches and linked
    folders (a link to a parent folder would copy without end) left out. Returns the files copied."""
    root = source.parent
    budget = [total_limit]
    copied = [0]

    def copy_folder(folder: Path, into: Path) -> None:
        into.mkdir(parents=True, exist_ok=True)
        try:
            entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
        except OSError as error:
            raise TinygradLearnError("files.unreadable", path=_shown(folder, root), problem=str(error)) from None
        for entry in entries:
            path = Path(entry.path)
            if entry.name in SKIPPED_NAMES or entry.name.endswith(".pyc"):
                continue
            if entry.is_dir(follow_symlinks=False):
                copy_folder(path, into / entry.name)
                continue
            if entry.is_symlink() and path.is_dir():
                continue
            data = read_learner_file(path, root, limit)
            if data is None:  # a link to nothing
                continue
            budget[0] -= len(data)
            if budget[0] < 0:
                raise TinygradLearnError("files.too_much", path=_shown(source, root), limit=_megabytes(total_limit))
            (into / entry.name).write_bytes(data)
            copied[0] += 1

    copy_folder(source, target)
    return copied[0]


def _too_large(shown: str, size: int, limit: int) -> TinygradLearnError:
    return TinygradLearnError("files.too_large", path=shown, size=_megabytes(size), limit=_megabytes(limit))


def _megabytes(size: int) -> str:
    return f"{size / 1024**2:.1f}"
