"""Landlock: a child that restricts itself reaches only what it was given, and its children too;
where Landlock is missing (or turned off for a test) `doctor` says which guards remain."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tinygrad_learn.grading import landlock
from tinygrad_learn.paths import Workspace

from .conftest import run_cli

AVAILABLE = landlock.status().available
needs_landlock = pytest.mark.skipif(not AVAILABLE, reason=f"Landlock is not available: {landlock.status().reason}")

CHILD = textwrap.dedent(
    """
    import os, socket, subprocess, sys
    from tinygrad_learn.grading import landlock
    scratch, outside = sys.argv[1], sys.argv[2]
    status = landlock.restrict(landlock.python_paths(), [scratch])

    def attempt(action):
        try:
            action()
            return "allowed"
        except OSError:
            return "refused"

    def write(path):
        with open(path, "w") as handle:
            handle.write("x")

    print("abi", status.abi)
    print("scratch", attempt(lambda: write(os.path.join(scratch, "file"))))
    print("outside", attempt(lambda: write(os.path.join(outside, "file"))))
    print("read-outside", attempt(lambda: os.listdir(outside)))
    print("parent-cwd", attempt(lambda: os.listdir(f"/proc/{os.getppid()}/cwd")))
    child = [sys.executable, "-c", f"open({os.path.join(outside, 'child')!r}, 'w')"]
    print("child", "refused" if subprocess.run(child, capture_output=True).returncode else "allowed")
    if status.abi >= 4:
        print("network", attempt(lambda: socket.create_connection(("127.0.0.1", 9), timeout=1)))
    """
)


def run_child(tmp_path: Path) -> dict[str, str]:
    scratch, outside = tmp_path / "scratch", tmp_path / "outside"
    scratch.mkdir()
    outside.mkdir()
    done = subprocess.run([sys.executable, "-c", CHILD, str(scratch), str(outside)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return dict(line.split(" ", 1) for line in done.stdout.splitlines())


@needs_landlock
def test_a_restricted_child_writes_only_its_scratch_folder(tmp_path: Path) -> None:
    seen = run_child(tmp_path)
    assert seen["scratch"] == "allowed"
    assert seen["outside"] == "refused"
    assert seen["read-outside"] == "refused"
    assert seen["parent-cwd"] == "refused"
    assert seen["child"] == "refused"
    assert not (tmp_path / "outside" / "file").exists() and not (tmp_path / "outside" / "child").exists()
    if int(seen["abi"]) >= 4:
        assert seen["network"] == "refused"


def test_turned_off_it_restricts_nothing_and_says_why(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(landlock.DISABLE_ENV, "1")
    assert not landlock.status().available
    assert landlock.DISABLE_ENV in landlock.status().reason
    seen = run_child(tmp_path)
    assert seen["abi"] == "0" and seen["outside"] == "allowed"


@needs_landlock
def test_doctor_names_the_active_guards(cli: CliRunner, workspace: Workspace) -> None:
    result = run_cli(cli, "doctor")
    assert f"Landlock (ABI {landlock.status().abi}) confines" in " ".join(result.output.split())


def test_doctor_says_when_landlock_is_missing(
    cli: CliRunner, workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(landlock.DISABLE_ENV, "1")
    result = run_cli(cli, "doctor")
    assert result.exit_code == 0, result.output
    assert "Landlock is not available" in " ".join(result.output.split())
    assert "the import check and the audit hook only" in " ".join(result.output.split())
