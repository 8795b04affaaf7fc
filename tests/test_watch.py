"""`watch`: file changes and keys as events, and the command that checks on every save."""

from __future__ import annotations

import io
import os
import shutil
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tinygrad_learn.paths import Workspace
from tinygrad_learn.progress import ProgressStore
from tinygrad_learn.watch import FilesChanged, FileWatcher, KeyPressed, LineKeys, NoKeys, watch_events

from .conftest import FIXTURE_COURSE, run_cli

SAFETY = 60.0
"""Seconds after which a helper thread gives up waiting, so a broken watch fails instead of hanging."""


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def touch(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


# -- the event loop -----------------------------------------------------------------------------


def test_a_change_is_reported_once_it_has_settled(tmp_path: Path) -> None:
    watched = tmp_path / "engine.py"
    touch(watched, "a = 1\n")
    clock = FakeClock()
    watcher = FileWatcher([watched], clock=clock, debounce=0.1)
    assert watcher.poll() == ()
    touch(watched, "a = 22\n")
    assert watcher.poll() == ()  # just seen: it may still be being written
    clock.now = 0.05
    touch(watched, "a = 333\n")  # the editor's second write
    assert watcher.poll() == ()
    clock.now = 0.12
    assert watcher.poll() == ()  # only 0.07 s of quiet so far
    clock.now = 0.2
    assert watcher.poll() == (watched,)
    clock.now = 5.0
    assert watcher.poll() == ()  # reported once


def test_a_deleted_and_recreated_file_counts_as_changed(tmp_path: Path) -> None:
    watched = tmp_path / "engine.py"
    touch(watched, "a = 1\n")
    clock = FakeClock()
    watcher = FileWatcher([watched], clock=clock, debounce=0.0)
    watched.unlink()
    assert watcher.poll() == (watched,)
    touch(watched, "a = 1\n")
    assert watcher.poll() == (watched,)


def test_contents_mode_sees_a_save_that_keeps_time_and_size(tmp_path: Path) -> None:
    watched = tmp_path / "engine.py"
    touch(watched, "a = 1\n")
    before = os.stat(watched)
    plain = FileWatcher([watched], debounce=0.0)
    contents = FileWatcher([watched], contents=True, debounce=0.0)
    # A coarse file system: same size, same timestamp, same inode, different bytes.
    with open(watched, "r+", encoding="utf-8") as handle:
        handle.write("a = 2\n")
    os.utime(watched, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert plain.poll() == ()
    assert contents.poll() == (watched,)


def until(condition: Callable[[], bool]) -> Callable[[], bool]:
    """A stop condition: stop once `condition` holds, or after SAFETY seconds."""
    deadline = time.monotonic() + SAFETY

    def should_stop() -> bool:
        return condition() or time.monotonic() > deadline

    return should_stop


@pytest.mark.parametrize("contents", [False, True], ids=["stat", "poll"])
def test_a_real_save_from_another_thread_is_an_event(tmp_path: Path, contents: bool) -> None:
    watched = tmp_path / "engine.py"
    touch(watched, "a = 1\n")
    other = tmp_path / "other.py"
    touch(other, "b = 1\n")
    watcher = FileWatcher([watched, other], contents=contents)
    seen: list[object] = []
    saver = threading.Timer(0.2, touch, args=(watched, "a = 2  # saved\n"))
    saver.start()
    for event in watch_events(watcher, NoKeys(), should_stop=until(lambda: bool(seen))):
        seen.append(event)
    saver.join()
    assert seen == [FilesChanged((watched,))]


def test_keys_arrive_as_events(tmp_path: Path) -> None:
    keys = LineKeys(io.StringIO("h\n\nQuit\n"))
    events: list[object] = []
    stop = until(lambda: len(events) == 2)
    stream: Iterator[object] = watch_events(FileWatcher([]), keys, should_stop=stop)
    for event in stream:
        events.append(event)
    assert events == [KeyPressed("h"), KeyPressed("q")]


# -- the command --------------------------------------------------------------------------------


def attempts(workspace: Workspace, checkpoint_id: str) -> int:
    return ProgressStore(workspace).read().entry(checkpoint_id).attempts


class Driver:
    """Plays the learner: waits for the watch to record checks, saves files and types keys."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        read_fd, self.write_fd = os.pipe()
        self.stdin = os.fdopen(read_fd, "rb")

    def wait_for(self, checkpoint_id: str, count: int) -> None:
        deadline = time.monotonic() + SAFETY
        while attempts(self.workspace, checkpoint_id) < count and time.monotonic() < deadline:
            time.sleep(0.05)

    def type(self, *keys: str) -> None:
        for key in keys:
            os.write(self.write_fd, f"{key}\n".encode())
            time.sleep(0.3)

    def quit(self) -> None:
        os.write(self.write_fd, b"q\n")
        os.close(self.write_fd)

    def run(self, script: Callable[[Driver], None]) -> threading.Thread:
        def play() -> None:
            try:
                script(self)
            finally:
                self.quit()

        thread = threading.Thread(target=play, daemon=True)
        thread.start()
        return thread


def save_solution(workspace: Workspace) -> None:
    shutil.copy(FIXTURE_COURSE / "solutions" / "mathy.py", workspace.exercises / "mathy.py")


@pytest.mark.parametrize("poll", [False, True], ids=["default", "poll"])
def test_watch_rechecks_on_save_and_waits_on_a_pass(cli: CliRunner, workspace: Workspace, poll: bool) -> None:
    driver = Driver(workspace)

    def learner(d: Driver) -> None:
        d.wait_for("alpha", 1)
        save_solution(workspace)
        d.wait_for("alpha", 2)

    thread = driver.run(learner)
    result = run_cli(cli, "watch", *(["--poll"] if poll else []), input=driver.stdin)
    thread.join()
    assert result.exit_code == 0, result.output
    output = result.output
    assert "Watching exercises/mathy.py for alpha · Doubling" in output
    assert "alpha: 2 of 2 checks failed" in output
    assert "Saved: exercises/mathy.py" in output
    assert "alpha passed" in output
    assert "alpha is done. Move on when you are ready: press n for beta" in output
    assert output.index("checks failed") < output.index("alpha passed")
    assert "Watching exercises/mathy.py for beta" not in output
    assert "Stopped watching." in output
    assert attempts(workspace, "beta") == 0


HALF_WRITTEN = "def double(x):\n    return x *"
"""The first of an editor's two writes: the file as it stands before the second one lands."""


def test_a_save_that_moves_while_it_is_graded_counts_only_in_its_last_state(
    cli: CliRunner, workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A save is graded as soon as it is seen. When the editor's second write lands while that
    run is under way, its verdict (a syntax error here) is neither shown nor stored: the file is
    graded again, and only that verdict counts."""
    from tinygrad_learn import checking

    real_graded = checking._graded
    writes_during_a_run = []

    def graded_while_the_editor_writes(*args: Any, **kwargs: Any) -> Any:
        result = real_graded(*args, **kwargs)
        mathy = workspace.exercises / "mathy.py"
        if mathy.read_text(encoding="utf-8") == HALF_WRITTEN:
            save_solution(workspace)  # the editor's second write, before this run's verdict counts
            writes_during_a_run.append(result[1].passed)
        return result

    monkeypatch.setattr(checking, "_graded", graded_while_the_editor_writes)
    driver = Driver(workspace)

    def learner(d: Driver) -> None:
        d.wait_for("alpha", 1)
        touch(workspace.exercises / "mathy.py", HALF_WRITTEN)
        d.wait_for("alpha", 2)

    thread = driver.run(learner)
    result = run_cli(cli, "watch", "alpha", input=driver.stdin)
    thread.join()
    assert result.exit_code == 0, result.output
    assert writes_during_a_run == [False]  # the half-written file was graded, and failed
    assert "alpha passed" in result.output
    assert "SyntaxError" not in result.output and "syntax" not in result.output.lower()
    assert result.output.count("checks failed") == 1  # the stubs' first check only
    entry = ProgressStore(workspace).read().entry("alpha")
    assert entry.attempts == 2 and entry.passed


def test_keys_hint_list_next_and_unknown(cli: CliRunner, workspace: Workspace) -> None:
    driver = Driver(workspace)

    def learner(d: Driver) -> None:
        d.wait_for("alpha", 1)
        d.type("h", "l", "z", "n")
        d.wait_for("beta", 1)
        d.type("n")

    thread = driver.run(learner)
    result = run_cli(cli, "watch", "alpha", input=driver.stdin)
    thread.join()
    assert result.exit_code == 0, result.output
    output = result.output
    assert "Hint 1 of 3 for alpha" in output and "Multiply." in output
    assert "Checkpoints" in output and "you are here" in output
    assert "'z' does nothing here" in output
    assert "Watching exercises/mathy.py for beta · Squaring" in output
    assert "beta is the last checkpoint: there is no next one" in output
    assert ProgressStore(workspace).read().entry("alpha").hints_used == (1,)


def fake_editor(folder: Path, name: str) -> tuple[Path, Path]:
    """An executable called `name` that writes the arguments it was given to a file, one a line."""
    record = folder / "editor-arguments.txt"
    script = folder / name
    script.write_text(
        f"#!{sys.executable}\nimport sys\nopen({str(record)!r}, 'w').write('\\n'.join(sys.argv[1:]))\n",
        encoding="utf-8",
    )
    script.chmod(0o755)
    return script, record


@pytest.mark.skipif(os.name != "posix", reason="the fake editor is a script with a #! line")
def test_e_opens_the_editor_at_the_failing_line(
    cli: CliRunner, workspace: Workspace, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    editor, record = fake_editor(tmp_path, "vim")
    monkeypatch.setenv("EDITOR", str(editor))
    driver = Driver(workspace)

    def learner(d: Driver) -> None:
        d.wait_for("alpha", 1)
        d.type("e")
        deadline = time.monotonic() + SAFETY
        while not record.exists() and time.monotonic() < deadline:
            time.sleep(0.05)

    thread = driver.run(learner)
    result = run_cli(cli, "watch", "alpha", input=driver.stdin)
    thread.join()
    assert result.exit_code == 0, result.output
    lines = (workspace.exercises / "mathy.py").read_text(encoding="utf-8").splitlines()
    raising = next(number for number, text in enumerate(lines, start=1) if "NotImplementedError" in text)
    assert record.read_text().splitlines() == [f"+{raising}", str(workspace.exercises / "mathy.py")]
    assert "Back from the editor" in result.output
    assert "Course: 0 of 2 checkpoints passed · next medal: Bronze (needs alpha)" in result.output


def test_e_without_an_editor_says_how_to_set_one(cli: CliRunner, workspace: Workspace) -> None:
    driver = Driver(workspace)

    def learner(d: Driver) -> None:
        d.wait_for("alpha", 1)
        d.type("e")

    thread = driver.run(learner)
    result = run_cli(cli, "watch", "alpha", input=driver.stdin)
    thread.join()
    assert result.exit_code == 0, result.output
    assert "No editor is set (neither VISUAL nor EDITOR)" in result.output
    assert "Stopped watching." in result.output


def test_korean(cli: CliRunner, workspace: Workspace) -> None:
    driver = Driver(workspace)

    def learner(d: Driver) -> None:
        d.wait_for("alpha", 1)
        save_solution(workspace)
        d.wait_for("alpha", 2)

    thread = driver.run(learner)
    result = run_cli(cli, "--lang", "ko", "watch", input=driver.stdin)
    thread.join()
    assert result.exit_code == 0, result.output
    assert "지켜보는 파일: exercises/mathy.py (alpha · 두 배)" in result.output
    assert "alpha 완료! 준비되면 넘어가세요: n을 누르면 beta" in result.output
    assert "지켜보기를 멈췄습니다." in result.output


def test_nothing_to_watch_when_everything_passed(cli: CliRunner, solved: Workspace) -> None:
    run_cli(cli, "check", "--all")
    result = run_cli(cli, "watch")
    assert result.exit_code == 0
    assert "nothing to watch" in result.output


def test_unknown_checkpoint(cli: CliRunner, workspace: Workspace) -> None:
    result = run_cli(cli, "watch", "gamma")
    assert result.exit_code == 2 and "There is no checkpoint called 'gamma'" in result.output


@pytest.mark.skipif(os.name != "posix", reason="pseudo-terminals are POSIX")
def test_single_keys_without_enter_on_a_terminal(workspace: Workspace) -> None:
    import pty
    import select
    import subprocess
    import sys

    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "tinygrad_learn", "watch", "alpha"],
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        cwd=workspace.root,
        start_new_session=True,
    )
    os.close(terminal)
    output = b""
    deadline = time.monotonic() + SAFETY
    pressed = False
    while process.poll() is None and time.monotonic() < deadline:
        if not pressed and attempts(workspace, "alpha") >= 1:
            time.sleep(0.3)
            os.write(controller, b"q")  # no Enter: the terminal is in cbreak mode
            pressed = True
        ready, _, _ = select.select([controller], [], [], 0.1)
        if ready:
            try:
                output += os.read(controller, 65536)
            except OSError:
                break
    if process.poll() is None:
        process.kill()
    process.wait()
    os.close(controller)
    text = output.decode("utf-8", errors="replace")
    assert process.returncode == 0, text
    assert "\x1b[2J" in text  # a real terminal gets a cleared screen for every verdict
    assert "Keys: e edit · n next checkpoint" in text and "Stopped watching." in text
