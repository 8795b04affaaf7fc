"""Progress that survives: concurrent writers, kills mid-write, damage, old and new schemas, full disks.

The figures: 16 writer processes x 25 updates at once; 50 SIGKILLs of a writer at random moments
plus 10 inside the write itself (between the temporary file and the rename). After every kill the
file must parse, hold a consistent state and never go backwards.
"""

from __future__ import annotations

import errno
import json
import os
import random
import signal
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from tinygrad_learn import progress
from tinygrad_learn.errors import TinygradLearnError
from tinygrad_learn.paths import STATE_DIR_NAME, Workspace
from tinygrad_learn.progress import Entry, ProgressStore

from .conftest import run_cli, says

WRITERS = 16
UPDATES = 25
RANDOM_KILLS = 50
MID_WRITE_KILLS = 10

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the torture tests fork writers")


def bump(key: str) -> Callable[[dict[str, Entry]], dict[str, Entry]]:
    def change(entries: dict[str, Entry]) -> dict[str, Entry]:
        old = entries.get(key, Entry())
        entries[key] = replace(old, attempts=old.attempts + 1)
        return entries

    return change


def in_child(work: Callable[[], None]) -> int:
    """Fork; the child runs `work` and leaves without running anything of the parent's (pytest)."""
    pid = os.fork()
    if pid == 0:
        status = 1
        try:
            work()
            status = 0
        finally:
            os._exit(status)
    return pid


def wait_for(pid: int) -> int:
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def test_many_concurrent_writers_lose_no_update(workspace: Workspace) -> None:
    start_read, start_write = os.pipe()

    def writer(number: int) -> Callable[[], None]:
        def work() -> None:
            os.close(start_write)
            os.read(start_read, 1)  # every writer starts at the same moment
            store = ProgressStore(workspace)
            for _ in range(UPDATES):
                store.update(bump(f"own{number % 4}"))
                if number % 2:
                    store.update(bump("shared"))

        return work

    pids = [in_child(writer(number)) for number in range(WRITERS)]
    os.close(start_read)
    os.write(start_write, b"x" * WRITERS)
    os.close(start_write)
    assert [wait_for(pid) for pid in pids] == [0] * WRITERS
    entries = ProgressStore(workspace).read().entries
    assert sum(entries[f"own{k}"].attempts for k in range(4)) == WRITERS * UPDATES
    assert entries["shared"].attempts == WRITERS // 2 * UPDATES
    assert not list(workspace.state_dir.glob(".progress-*.tmp"))


def endless_writer(workspace: Workspace, started: int | None = None) -> Callable[[], None]:
    """Keeps two entries in step: a file where they differ was half-written. Writes a byte to the
    descriptor `started` once its first update is on disk."""

    def work() -> None:
        nonlocal started
        store = ProgressStore(workspace)
        while True:

            def change(entries: dict[str, Entry]) -> dict[str, Entry]:
                step = entries.get("left", Entry()).attempts + 1
                entries["left"] = Entry(status="passed", attempts=step, hints_used=(1, 2), files_hash="a" * 16)
                entries["right"] = Entry(status="failed", attempts=step, suite_version="b" * 12)
                return entries

            store.update(change)
            if started is not None:
                os.write(started, b"!")
                os.close(started)
                started = None

    return work


def assert_consistent(workspace: Workspace, at_least: int) -> int:
    snapshot = ProgressStore(workspace).read()
    assert snapshot.moved_aside is None, "a kill left a damaged file"
    left, right = snapshot.entry("left").attempts, snapshot.entry("right").attempts
    assert left == right >= at_least
    return left


def test_a_writer_killed_at_random_moments_leaves_a_readable_consistent_file(workspace: Workspace) -> None:
    chance = random.Random(20240611)
    reached = 0
    for _ in range(RANDOM_KILLS):
        started_read, started_write = os.pipe()
        pid = in_child(endless_writer(workspace, started_write))
        os.close(started_write)
        # Killed a random moment after its first write, however long a busy machine took to get there.
        assert os.read(started_read, 1) == b"!"
        os.close(started_read)
        time.sleep(chance.uniform(0, 0.02))
        os.kill(pid, signal.SIGKILL)
        assert wait_for(pid) == -signal.SIGKILL
        reached = assert_consistent(workspace, reached)
    assert reached > 0
    ProgressStore(workspace).update(bump("after"))
    assert not list(workspace.state_dir.glob(".progress-*.tmp")), "leftovers of killed writers are cleaned up"
    assert_consistent(workspace, reached)


def write_then_pause_in_fsync(
    workspace: Workspace, step: int, signal_write: int, monkeypatch: pytest.MonkeyPatch
) -> Callable[[], None]:
    """A good write of `step`, then a second write that stops inside fsync and tells the parent."""

    def pause_in_fsync(fd: int) -> None:
        os.write(signal_write, b"!")
        time.sleep(30)

    def work() -> None:
        store = ProgressStore(workspace)
        store.update(lambda entries: {**entries, "left": Entry(attempts=step), "right": Entry(attempts=step)})
        monkeypatch.setattr(progress.os, "fsync", pause_in_fsync)
        store.update(lambda entries: {**entries, "left": Entry(attempts=10**6), "right": Entry(attempts=-1)})

    return work


def test_a_writer_killed_inside_the_write_leaves_the_previous_file(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed after the temporary file was written and before the rename, every time."""
    reached = 0
    for _ in range(MID_WRITE_KILLS):
        signal_read, signal_write = os.pipe()
        pid = in_child(write_then_pause_in_fsync(workspace, reached + 1, signal_write, monkeypatch))
        os.close(signal_write)
        assert os.read(signal_read, 1) == b"!"
        os.close(signal_read)
        os.kill(pid, signal.SIGKILL)
        wait_for(pid)
        assert list(workspace.state_dir.glob(".progress-*.tmp")), "the kill landed inside the write"
        reached = assert_consistent(workspace, reached + 1)
    assert reached == MID_WRITE_KILLS


# ---------------------------------------------------------------------------------------------
# Damage, schemas, and what the learner is told.


def test_a_damaged_file_is_moved_aside_and_the_learner_told_how_to_rebuild(cli: CliRunner, solved: Workspace) -> None:
    damage = b"schema_version: 1\ncheckpoints: {alpha: {status: passed, first_passed: 2024-99-99}}\n"
    solved.progress_file.write_bytes(damage)
    result = run_cli(cli, "progress")
    assert result.exit_code == 0 and "Traceback" not in result.output
    assert says(result.output, "moved to", "tinygrad-learn check --all")
    (aside,) = solved.state_dir.glob("progress.yaml.damaged-*")
    assert aside.read_bytes() == damage
    rebuilt = run_cli(cli, "check", "--all")
    assert rebuilt.exit_code == 0, rebuilt.output
    assert ProgressStore(solved).read().entry("beta").passed


def test_hostile_file_contents_never_raise_anything_but_a_clear_error(workspace: Workspace) -> None:
    chance = random.Random(7)
    pieces = [
        *(b"schema_version: ", b"1", b"2", b"-1", b"0", b"checkpoints:", b" {", b"}", b"[", b"]", b"\n", b"  alpha: "),
        *(b"status: passed", b"attempts: ", b"1e400", b"2024-99-99", b"&a ", b"*a", b"!!python/object:os.system"),
        *(b"\xff", b"\x00", b"'", b'"', b"? ", b": ", b"- ", b"hints_used: [1, x]", b"~", b".inf"),
    ]
    for _ in range(300):
        text = b"".join(chance.choice(pieces) for _ in range(chance.randint(0, 14)))
        workspace.progress_file.write_bytes(text)
        try:
            snapshot = ProgressStore(workspace).read()
        except TinygradLearnError as error:
            assert error.key == "progress.too_new"
            continue
        assert all(isinstance(entry, Entry) for entry in snapshot.entries.values())
        if snapshot.moved_aside is not None:
            assert snapshot.moved_aside.read_bytes() == text


def test_an_older_schema_is_migrated_and_kept(cli: CliRunner, solved: Workspace) -> None:
    solved.progress_file.write_text("alpha:\n  status: passed\n  attempts: 3\n", encoding="utf-8")
    result = run_cli(cli, "progress", "--json")
    assert result.exit_code == 0
    assert [c["status"] for c in json.loads(result.output)["checkpoints"]] == ["passed", "not_started"]
    assert run_cli(cli, "hint", "beta").exit_code == 0  # any write brings the file forward
    data = yaml.safe_load(solved.progress_file.read_text(encoding="utf-8"))
    assert data["schema_version"] == progress.SCHEMA_VERSION
    assert data["checkpoints"]["alpha"]["attempts"] == 3


def test_a_newer_schema_is_refused_and_left_exactly_as_it_was(cli: CliRunner, solved: Workspace) -> None:
    newer = b"schema_version: 99\ncheckpoints: {alpha: {status: passed, shiny: true}}\n"
    solved.progress_file.write_bytes(newer)
    for command in (["progress"], ["check", "alpha"], ["hint"], ["verify"]):
        result = run_cli(cli, *command)
        assert result.exit_code == 2, (command, result.output)
        assert "newer tinygrad-learn" in result.output and "Traceback" not in result.output
    assert solved.progress_file.read_bytes() == newer


# ---------------------------------------------------------------------------------------------
# A state folder that cannot be written, a full disk, and init.


def test_a_file_where_the_state_folder_should_be_gives_a_clear_message(cli: CliRunner, solved: Workspace) -> None:
    import shutil

    shutil.rmtree(solved.state_dir)
    solved.state_dir.write_text("not a folder", encoding="utf-8")
    result = run_cli(cli, "--workspace", str(solved.root), "check", "alpha")
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "Cannot save progress" in result.output
    assert solved.state_dir.read_text(encoding="utf-8") == "not a folder"


@pytest.mark.parametrize("failing", ["fsync", "replace"])
def test_a_full_disk_gives_a_clear_message_and_keeps_the_old_file(
    cli: CliRunner, solved: Workspace, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    assert run_cli(cli, "check", "alpha").exit_code == 0
    before = solved.progress_file.read_bytes()

    def no_space(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(progress.os, failing, no_space)
    result = run_cli(cli, "check", "beta")
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "Cannot save progress" in result.output and os.strerror(errno.ENOSPC) in result.output
    assert solved.progress_file.read_bytes() == before
    assert not list(solved.state_dir.glob(".progress-*.tmp"))


def test_init_never_overwrites_and_leaves_nothing_half_made(
    cli: CliRunner, fixture_course: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "학습 폴더"
    assert run_cli(cli, "init", str(target)).exit_code == 0
    mine = target / "exercises" / "mathy.py"
    mine.write_text("my work\n", encoding="utf-8")
    result = run_cli(cli, "init", str(target))
    assert result.exit_code == 0 and "already your workspace" in " ".join(result.output.split())
    assert mine.read_text(encoding="utf-8") == "my work\n"

    # A copy that fails half-way leaves no exercises/ and no state behind, so init can simply be run again.
    real_write = Path.write_bytes
    calls = []

    def write_then_fill_the_disk(path: Path, data: bytes) -> int:
        calls.append(path)
        if len(calls) > 1:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(path, data)

    fresh = tmp_path / "second"
    monkeypatch.setattr(Path, "write_bytes", write_then_fill_the_disk)
    result = run_cli(cli, "init", str(fresh))
    assert result.exit_code == 2 and os.strerror(errno.ENOSPC) in " ".join(result.output.split())
    assert len(calls) > 1
    assert sorted(path.name for path in fresh.iterdir()) == []
    monkeypatch.setattr(Path, "write_bytes", real_write)
    assert run_cli(cli, "init", str(fresh)).exit_code == 0
    assert (fresh / STATE_DIR_NAME / "progress.yaml").is_file()


def test_a_read_only_place_for_init_is_a_clear_message(cli: CliRunner, fixture_course: object, tmp_path: Path) -> None:
    blocker = tmp_path / "a file"
    blocker.write_text("x", encoding="utf-8")
    for target in (blocker, blocker / "inside"):
        result = run_cli(cli, "init", str(target))
        assert result.exit_code == 2 and "Traceback" not in result.output and str(blocker) in result.output
    assert blocker.read_text(encoding="utf-8") == "x"
