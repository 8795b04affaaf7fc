"""`watch`: the session that re-checks on every save, and the events that drive it (saved files,
pressed keys) as a plain generator.

The session never prints: it hands each report to a `WatchScreen` (see `watch_view`). Files
are watched by polling a few `stat` calls every 0.01 s: the graded files of one checkpoint are a
handful, so this costs about 1% of a core while the learner types, behaves the same on every
system (WSL, network drives, containers, where change notifications are missing or unreliable)
and needs no dependency. With `contents=True` (`watch --poll`) a file's bytes are compared too,
for file systems whose timestamps are too coarse to tell two quick saves apart.

An editor may write a file twice (or write a temporary file and rename it), so a change counts
once the files have stayed the same for `DEBOUNCE` seconds. The session does not wait for that
before grading: it grades a save as soon as it is seen, and keeps the verdict only if the files
still look as graded once the run is over and `DEBOUNCE` has passed (the run usually lasts
longer). A save that moved while it was graded is graded again, and only its last state counts.
"""

from __future__ import annotations

import hashlib
import os
import queue
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from .checking import CheckReport
    from .errors import TinygradLearnError
    from .hints import HintReply
    from .manifest import Checkpoint, Course
    from .paths import Workspace
    from .sandbox_warm import WarmGrader
    from .state import Standing

POLL_INTERVAL = 0.01
DEBOUNCE = 0.05


@dataclass(frozen=True)
class FilesChanged:
    paths: tuple[Path, ...]


@dataclass(frozen=True)
class KeyPressed:
    key: str


WatchEvent = FilesChanged | KeyPressed
Signature = tuple[Any, ...] | None


class FileWatcher:
    """Remembers how the watched files looked, and reports settled changes."""

    def __init__(
        self,
        paths: Sequence[Path] = (),
        *,
        contents: bool = False,
        debounce: float = DEBOUNCE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.contents = contents
        self.debounce = debounce
        self.clock = clock
        self.watch(paths)

    def watch(self, paths: Sequence[Path]) -> None:
        """Watch these files from now on; their current state counts as seen."""
        self.paths = tuple(paths)
        self._seen = {path: self._signature(path) for path in self.paths}
        self._pending: set[Path] = set()
        self._last_change = 0.0

    def _signature(self, path: Path) -> Signature:
        try:
            stat = os.stat(path)
        except OSError:
            return None
        signature: tuple[Any, ...] = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
        if self.contents:
            try:
                signature += (hashlib.blake2b(path.read_bytes(), digest_size=16).digest(),)
            except OSError:
                return None
        return signature

    def still(self) -> bool:
        """Whether every file looks as it did at the last poll (a look only: a change stays for
        the next poll to report)."""
        return all(self._signature(path) == self._seen[path] for path in self.paths)

    def poll(self) -> tuple[Path, ...]:
        """The files that changed, once they have settled; () while nothing did or they still move."""
        now = self.clock()
        for path in self.paths:
            signature = self._signature(path)
            if signature != self._seen[path]:
                self._seen[path] = signature
                self._pending.add(path)
                self._last_change = now
        if self._pending and now - self._last_change >= self.debounce:
            changed = tuple(path for path in self.paths if path in self._pending)
            self._pending.clear()
            return changed
        return ()


class KeySource(Protocol):
    def read(self, timeout: float) -> str | None:
        """One key pressed within `timeout` seconds, or None (having waited that long)."""


def watch_events(
    watcher: FileWatcher,
    keys: KeySource,
    *,
    interval: float = POLL_INTERVAL,
    should_stop: Callable[[], bool] = lambda: False,
) -> Iterator[WatchEvent]:
    """Saved files and pressed keys, as they happen, until `should_stop()` or the consumer stops.

    Waiting for a key doubles as the pause between two polls, so a key is seen at once.
    """
    while not should_stop():
        key = keys.read(interval)
        if key:
            yield KeyPressed(key.lower())
        changed = watcher.poll()
        if changed:
            yield FilesChanged(changed)


# ---------------------------------------------------------------------------------------------
# Keys: single key presses on a terminal, whole lines when standard input is a pipe


class NoKeys:
    """Standard input is closed or absent: only file changes (and Ctrl+C) drive the watch."""

    def __init__(self, sleep: Callable[[float], None] = time.sleep) -> None:
        self.sleep = sleep

    def read(self, timeout: float) -> str | None:
        self.sleep(timeout)
        return None


class LineKeys:
    """Keys typed as lines (`q`, Enter), read by a thread: a pipe cannot be polled on every system."""

    def __init__(self, stream: Any) -> None:
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._closed = False
        threading.Thread(target=self._pump, args=(stream,), daemon=True).start()

    def _pump(self, stream: Any) -> None:
        try:
            for line in stream:
                self._lines.put(line.strip())
        except (OSError, ValueError):
            pass
        self._lines.put(None)

    def read(self, timeout: float) -> str | None:
        if self._closed:
            time.sleep(timeout)
            return None
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            return None
        if line is None:
            self._closed = True
            return None
        return line[:1] or None


class PosixKeys:
    """Single key presses on a POSIX terminal, without Enter (cbreak mode, restored on close)."""

    def __init__(self, fd: int) -> None:
        import termios
        import tty

        self.fd = fd
        self._saved = termios.tcgetattr(fd)
        tty.setcbreak(fd)

    def read(self, timeout: float) -> str | None:
        import select

        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return None
        data = os.read(self.fd, 1)
        return data.decode("utf-8", errors="ignore") or None

    def close(self) -> None:
        import termios

        termios.tcsetattr(self.fd, termios.TCSADRAIN, self._saved)

    def resume(self) -> None:
        import tty

        tty.setcbreak(self.fd)


class WindowsKeys:
    """Single key presses on a Windows console (msvcrt)."""

    def read(self, timeout: float) -> str | None:
        import msvcrt

        deadline = time.monotonic() + timeout
        while True:
            if msvcrt.kbhit():  # type: ignore[attr-defined,unused-ignore]
                key = msvcrt.getwch()  # type: ignore[attr-defined,unused-ignore]
                return str(key)
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.02)

    def close(self) -> None:
        pass


def open_keys(stream: Any = None) -> KeySource:
    """The right way to read keys from standard input: single keys on a terminal, lines otherwise."""
    stream = sys.stdin if stream is None else stream
    if stream is None or getattr(stream, "closed", False):
        return NoKeys()
    try:
        interactive = stream.isatty()
    except (AttributeError, ValueError):
        interactive = False
    if interactive and os.name == "nt":
        return WindowsKeys()
    if interactive:
        try:
            return PosixKeys(stream.fileno())
        except (ImportError, OSError, ValueError):
            pass
    return LineKeys(stream)


def close_keys(keys: KeySource) -> None:
    """Give the terminal back the way it was."""
    close = getattr(keys, "close", None)
    if close is not None:
        close()


@contextmanager
def keys_paused(keys: KeySource) -> Iterator[None]:
    """The terminal as it was before `watch`, for a program (the editor) that reads it itself."""
    close_keys(keys)
    try:
        yield
    finally:
        resume = getattr(keys, "resume", None)
        if resume is not None:
            resume()


# ---------------------------------------------------------------------------------------------
# The session: check on every settled save; keys move on, show a hint or the list, or quit


class WatchScreen(Protocol):
    """What the session shows; `watch_view.WatchScreen` draws it on the terminal."""

    def checking(
        self, checkpoint: Checkpoint, changed: tuple[Path, ...], keys_are_lines: bool
    ) -> AbstractContextManager[Any]:
        """A fresh screen that says what is checked, busy while the check runs."""

    def verdict(self, report: CheckReport, following: Checkpoint | None) -> None: ...

    def hints(self, reply: HintReply) -> None: ...

    def checkpoint_list(self, standing: Standing) -> None: ...

    def note(self, key: str, **params: Any) -> None: ...

    def problem(self, error: TinygradLearnError) -> None: ...


def run_session(
    course: Course,
    workspace: Workspace,
    checkpoint: Checkpoint,
    screen: WatchScreen,
    standing: Callable[[], Standing],
    *,
    poll_contents: bool = False,
) -> None:
    """Watch `checkpoint`'s files until the learner quits (`q`, Ctrl+C or the end of input)."""
    from .runner import warm_grading

    keys = open_keys()
    try:
        # Every check of the session is forked from one warm grading process: a save is answered
        # without starting Python, pytest and numpy again.
        with warm_grading(workspace.exercises, course.solutions) as warm:
            # Saves are reported as soon as they are seen; `run_check` waits out DEBOUNCE itself.
            watcher = FileWatcher(contents=poll_contents, debounce=0.0)
            _session(course, workspace, checkpoint, screen, standing, watcher, keys, warm)
    except KeyboardInterrupt:
        pass
    finally:
        close_keys(keys)
    screen.note("watch.stopped")


def _session(
    course: Course,
    workspace: Workspace,
    checkpoint: Checkpoint,
    screen: WatchScreen,
    standing: Callable[[], Standing],
    watcher: FileWatcher,
    keys: KeySource,
    warm: WarmGrader | None = None,
) -> None:
    from .checking import check, check_if_unchanged
    from .hints import reveal

    def following(current: Checkpoint) -> Checkpoint | None:
        position = course.checkpoints.index(current)
        return course.checkpoints[position + 1] if position + 1 < len(course.checkpoints) else None

    last: list[CheckReport] = []

    def run_check(changed: tuple[Path, ...] = ()) -> None:
        seen = time.monotonic()

        def settled() -> bool:
            time.sleep(max(0.0, DEBOUNCE - (time.monotonic() - seen)))
            return watcher.still()

        with screen.checking(checkpoint, changed, isinstance(keys, LineKeys)):
            if changed:
                report = check_if_unchanged(course, workspace, checkpoint, settled, warm)
                if report is None:  # it moved while graded: the next poll reports it, and it is graded again
                    return
            else:
                report = check(course, workspace, checkpoint, warm=warm)
        last[:] = [report]
        screen.verdict(report, following(checkpoint))

    def edit() -> None:
        from .editor import open_in_editor
        from .errors import TinygradLearnError
        from .places import failing_place, work_place

        failed = [report for report in last if not report.result.passed and report.checkpoint == checkpoint]
        place = failing_place(workspace, failed[0]) if failed else work_place(workspace, checkpoint)
        try:
            with keys_paused(keys):
                open_in_editor(place.path, place.line)
        except TinygradLearnError as error:
            screen.problem(error)
            return
        screen.note("watch.editor_closed")

    watcher.watch([workspace.exercises / name for name in checkpoint.files])
    run_check()
    for event in watch_events(watcher, keys):
        if isinstance(event, FilesChanged):
            run_check(event.paths)
        elif event.key == "q":
            return
        elif event.key == "n":
            upcoming = following(checkpoint)
            if upcoming is None:
                screen.note("watch.last", id=checkpoint.id)
                continue
            checkpoint = upcoming
            watcher.watch([workspace.exercises / name for name in checkpoint.files])
            run_check()
        elif event.key == "h":
            screen.hints(reveal(workspace, checkpoint))
        elif event.key == "l":
            screen.checkpoint_list(standing())
        elif event.key == "e":
            edit()
        else:
            screen.note("watch.unknown_key", pressed=event.key)
