"""The progress store: atomic, locked, tolerant of damage, strict about newer files."""

from __future__ import annotations

import multiprocessing
import os
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from tinygrad_learn.errors import TinygradLearnError
from tinygrad_learn.paths import Workspace
from tinygrad_learn.progress import Entry, ProgressStore


def bump(workspace_root: str, key: str, times: int) -> None:
    store = ProgressStore(Workspace(Path(workspace_root)))
    for _ in range(times):
        store.update(
            lambda entries: {
                **entries,
                key: replace(entries.get(key, Entry()), attempts=entries.get(key, Entry()).attempts + 1),
            }
        )


def test_a_new_workspace_has_an_empty_readable_file(workspace: Workspace) -> None:
    assert workspace.progress_file.is_file()
    assert ProgressStore(workspace).read().entries == {}
    text = workspace.progress_file.read_text(encoding="utf-8")
    assert "don't edit" in text
    assert yaml.safe_load(text)["schema_version"] == 1


def test_round_trip(workspace: Workspace) -> None:
    store = ProgressStore(workspace)
    entry = Entry(status="passed", first_passed="t", attempts=3, hints_used=(1, 2), files_hash="h", suite_version="v")
    store.update(lambda entries: {**entries, "alpha": entry})
    assert store.read().entry("alpha") == entry


@pytest.mark.parametrize(
    "damage",
    [
        b"{{{ not yaml",
        b"\xff\xfe\x00garbage",
        b"- just\n- a list\n",
        b"checkpoints: 7\nschema_version: 1\n",
        b"schema_version: 1\ncheckpoints:\n  alpha: {status: maybe}\n",
        b"schema_version: one\n",
    ],
)
def test_a_damaged_file_is_moved_aside_and_never_deleted(workspace: Workspace, damage: bytes) -> None:
    workspace.progress_file.write_bytes(damage)
    snapshot = ProgressStore(workspace).read()
    assert snapshot.entries == {}
    assert snapshot.moved_aside is not None and snapshot.moved_aside.read_bytes() == damage
    assert not workspace.progress_file.exists() or ProgressStore(workspace).read().moved_aside is None


def test_a_newer_file_is_refused_and_left_alone(workspace: Workspace) -> None:
    workspace.progress_file.write_text("schema_version: 99\ncheckpoints: {}\n", encoding="utf-8")
    with pytest.raises(TinygradLearnError) as raised:
        ProgressStore(workspace).read()
    assert raised.value.key == "progress.too_new"
    assert "99" in workspace.progress_file.read_text(encoding="utf-8")


def test_an_unversioned_draft_is_migrated(workspace: Workspace) -> None:
    workspace.progress_file.write_text("alpha:\n  status: passed\n  attempts: 2\n", encoding="utf-8")
    snapshot = ProgressStore(workspace).read()
    assert snapshot.entry("alpha").passed and snapshot.entry("alpha").attempts == 2


def test_concurrent_writers_lose_no_update(workspace: Workspace) -> None:
    writers, times = 8, 15
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=bump, args=(str(workspace.root), f"key{i % 2}", times)) for i in range(writers)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(60)
    assert all(process.exitcode == 0 for process in processes)
    entries = ProgressStore(workspace).read().entries
    assert entries["key0"].attempts + entries["key1"].attempts == writers * times


def test_no_temporary_files_are_left_behind(workspace: Workspace) -> None:
    bump(str(workspace.root), "alpha", 5)
    leftovers = [name for name in os.listdir(workspace.state_dir) if name.endswith(".tmp")]
    assert leftovers == []


def test_an_unwritable_state_folder_gives_a_clear_error(workspace: Workspace) -> None:
    import shutil

    shutil.rmtree(workspace.state_dir)
    workspace.state_dir.write_text("a file where the folder should be", encoding="utf-8")
    with pytest.raises(TinygradLearnError) as raised:
        bump(str(workspace.root), "alpha", 1)
    assert raised.value.key == "progress.unwritable"
    assert workspace.state_dir.read_text(encoding="utf-8") == "a file where the folder should be"


def _hold_lock(path: str, ready: object, release: object) -> None:
    from tinygrad_learn.filelocking import locked

    with locked(Path(path), timeout=5):
        ready.set()  # type: ignore[attr-defined]
        release.wait(30)  # type: ignore[attr-defined]


def test_a_writer_waits_for_the_lock_says_so_when_it_is_held_too_long_and_takes_it_once_the_holder_dies(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tinygrad_learn.progress as progress

    store = ProgressStore(workspace)
    store.path.parent.mkdir(parents=True, exist_ok=True)
    context = multiprocessing.get_context("spawn")
    ready, release = context.Event(), context.Event()
    holder = context.Process(target=_hold_lock, args=(str(store.lock_path), ready, release))
    holder.start()
    try:
        assert ready.wait(30)
        monkeypatch.setattr(progress, "LOCK_TIMEOUT", 0.3)
        with pytest.raises(TinygradLearnError) as refused:
            store.update(lambda entries: {**entries, "step1": Entry(status="passed")})
        assert refused.value.key == "progress.locked"
        assert store.read().entries == {}
    finally:
        holder.kill()  # never released: the operating system drops the lock of a dead process
        holder.join()
    store.update(lambda entries: {**entries, "step1": Entry(status="passed")})
    assert store.read().entries["step1"].status == "passed"
