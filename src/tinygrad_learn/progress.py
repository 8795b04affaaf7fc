"""The progress store: the only code that writes `.tinygrad-learn/progress.yaml`.

Every change is a read-modify-write under a file lock, written to a temporary file, flushed to
disk and moved into place, so two commands at once lose nothing and a crash at any moment leaves
either the old file or the new one. A damaged file is moved aside, never deleted.
"""

from __future__ import annotations

import copy
import hashlib
import os
import stat
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml

from .errors import TinygradLearnError
from .filelocking import LockTimeout, locked
from .paths import Workspace

SCHEMA_VERSION = 1
LOCK_TIMEOUT = 30.0
HEADER = (
    "# tinygrad-learn progress. Written by the tool: please don't edit it by hand.\n"
    "# If it is ever lost or damaged, `tinygrad-learn check --all` rebuilds it from your code.\n"
)

PROGRESS_LIMIT = 4 * 1024**2
"""A progress file larger than this is damaged: a whole course takes a few kilobytes."""
TEMPORARY_PREFIX = ".progress-"
TEMPORARY_SUFFIX = ".tmp"

PASSED = "passed"
FAILED = "failed"


@dataclass(frozen=True)
class Entry:
    """What the store knows about one checkpoint."""

    status: str | None = None
    first_passed: str | None = None
    last_checked: str | None = None
    attempts: int = 0
    hints_used: tuple[int, ...] = ()
    files_hash: str | None = None
    suite_version: str | None = None
    peeked: bool = False

    @property
    def passed(self) -> bool:
        return self.status == PASSED


@dataclass(frozen=True)
class Snapshot:
    """The whole progress file as read, plus where a damaged predecessor was moved, if it was."""

    entries: dict[str, Entry]
    moved_aside: Path | None = None

    def entry(self, checkpoint_id: str) -> Entry:
        return self.entries.get(checkpoint_id, Entry())


def now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def files_hash(folder: Path, names: tuple[str, ...]) -> str:
    """A fingerprint of the learner's files `names` in `folder` (exercises/), read as `learnerfiles`
    reads them: a pipe, a device or an oversized file is refused, never read."""
    from .learnerfiles import read_learner_file

    digest = hashlib.sha256()
    for name in names:
        digest.update(name.encode() + b"\0")
        data = read_learner_file(folder / name, folder.parent)
        digest.update(b"<missing>" if data is None else data)
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def _entry_from(node: Any) -> Entry:
    if not isinstance(node, dict):
        raise ValueError("entry is not a mapping")
    hints = node.get("hints_used") or []
    if not isinstance(hints, list) or not all(isinstance(level, int) for level in hints):
        raise ValueError("hints_used is not a list of levels")
    status = node.get("status")
    if status not in (None, PASSED, FAILED):
        raise ValueError(f"unknown status {status!r}")
    attempts = node.get("attempts", 0)
    if not isinstance(attempts, int) or attempts < 0:
        raise ValueError("attempts is not a count")
    return Entry(
        status=status,
        first_passed=_optional_text(node.get("first_passed")),
        last_checked=_optional_text(node.get("last_checked")),
        attempts=attempts,
        hints_used=tuple(sorted(set(hints))),
        files_hash=_optional_text(node.get("files_hash")),
        suite_version=_optional_text(node.get("suite_version")),
        peeked=bool(node.get("peeked", False)),
    )


def _optional_text(value: Any) -> str | None:
    return None if value is None else str(value)


def _entry_to(entry: Entry) -> dict[str, Any]:
    node: dict[str, Any] = {"status": entry.status, "attempts": entry.attempts}
    for name in ("first_passed", "last_checked", "files_hash", "suite_version"):
        if getattr(entry, name) is not None:
            node[name] = getattr(entry, name)
    if entry.hints_used:
        node["hints_used"] = list(entry.hints_used)
    if entry.peeked:
        node["peeked"] = True
    return node


def _migrate(data: dict[str, Any]) -> dict[str, Any]:
    """Bring an older file forward; version 0 was the unversioned draft with a flat mapping."""
    version = data.get("schema_version", 0)
    if version == 0:
        data = {"schema_version": 1, "checkpoints": {k: v for k, v in data.items() if isinstance(v, dict)}}
    return data


class ProgressStore:
    def __init__(self, workspace: Workspace) -> None:
        self.path = workspace.progress_file
        self.lock_path = self.path.with_name(self.path.name + ".lock")

    @contextmanager
    def _locked(self) -> Iterator[None]:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with locked(self.lock_path, LOCK_TIMEOUT):
                yield
        except LockTimeout:
            raise TinygradLearnError("progress.locked", path=str(self.lock_path)) from None
        except OSError as error:
            raise TinygradLearnError("progress.unwritable", path=str(self.path), problem=str(error)) from None

    def read(self) -> Snapshot:
        """The current progress; a damaged file is moved aside (under the lock) and reported."""
        try:
            return self._parse()
        except _Damaged:
            with self._locked():
                return self._read_repairing()

    def inspect(self) -> Snapshot:
        """The progress as it is on disk, repairing nothing; ValueError when the file is damaged."""
        try:
            return self._parse()
        except _Damaged:
            raise ValueError(f"{self.path} is damaged") from None

    def update(self, change: Callable[[dict[str, Entry]], dict[str, Entry]]) -> tuple[Snapshot, Snapshot]:
        """Apply `change` to the entries under the lock; returns the snapshots before and after."""
        with self._locked():
            before = self._read_repairing()
            entries = change(copy.copy(before.entries))
            self._write(entries)
            return before, Snapshot(entries, before.moved_aside)

    def _read_repairing(self) -> Snapshot:
        try:
            return self._parse()
        except _Damaged:
            return Snapshot({}, self._move_aside())

    def _read_text(self) -> str:
        """The file's text; a pipe or device is refused before it is opened (a read would block)."""
        status = self.path.stat()
        if not stat.S_ISREG(status.st_mode):
            raise TinygradLearnError("progress.not_regular", path=str(self.path))
        if status.st_size > PROGRESS_LIMIT:
            raise _Damaged()
        handle = os.open(self.path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(handle, "rb") as stream:
            if not stat.S_ISREG(os.fstat(handle).st_mode):
                raise TinygradLearnError("progress.not_regular", path=str(self.path))
            return stream.read(PROGRESS_LIMIT + 1).decode("utf-8")

    def _parse(self) -> Snapshot:
        try:
            text = self._read_text()
        except FileNotFoundError:
            return Snapshot({})
        except UnicodeDecodeError:
            raise _Damaged() from None
        except OSError as error:
            raise TinygradLearnError("progress.unreadable", path=str(self.path), problem=str(error)) from None
        try:
            data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        except (yaml.YAMLError, ValueError, TypeError, RecursionError):  # e.g. a date like 2024-99-99
            raise _Damaged() from None
        if data is None:
            return Snapshot({})
        if not isinstance(data, dict):
            raise _Damaged()
        version = data.get("schema_version", 0)
        if not isinstance(version, int) or isinstance(version, bool) or version < 0:
            raise _Damaged()
        if version > SCHEMA_VERSION:
            raise TinygradLearnError("progress.too_new", path=str(self.path), found=version, supported=SCHEMA_VERSION)
        data = _migrate(data)
        checkpoints = data.get("checkpoints") or {}
        if not isinstance(checkpoints, dict):
            raise _Damaged()
        try:
            return Snapshot({str(key): _entry_from(node) for key, node in checkpoints.items()})
        except ValueError:
            raise _Damaged() from None

    def _move_aside(self) -> Path:
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        target = self.path.with_name(f"{self.path.name}.damaged-{stamp}")
        counter = 1
        while target.exists():
            counter += 1
            target = self.path.with_name(f"{self.path.name}.damaged-{stamp}-{counter}")
        try:
            os.replace(self.path, target)
        except OSError as error:
            raise TinygradLearnError("progress.unwritable", path=str(self.path), problem=str(error)) from None
        return target

    def _write(self, entries: dict[str, Entry]) -> None:
        document = {
            "schema_version": SCHEMA_VERSION,
            "checkpoints": {key: _entry_to(entry) for key, entry in sorted(entries.items())},
        }
        text = HEADER + yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
        try:
            # Temporary files are only made under the lock, so any found now is from a writer that was killed.
            for leftover in self.path.parent.glob(f"{TEMPORARY_PREFIX}*{TEMPORARY_SUFFIX}"):
                leftover.unlink(missing_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=TEMPORARY_PREFIX, suffix=TEMPORARY_SUFFIX)
            try:
                with os.fdopen(handle, "w", encoding="utf-8") as stream:
                    stream.write(text)
                    stream.flush()
                    os.fsync(stream.fileno())
                os.replace(temporary, self.path)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        except OSError as error:
            raise TinygradLearnError("progress.unwritable", path=str(self.path), problem=str(error)) from None


class _Damaged(Exception):
    pass
