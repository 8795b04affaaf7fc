"""Where the workspace lives: never in the course, by default at ~/tinygrad-learn, and made only
from the pristine stubs, even out of a clone whose exercises a learner edited."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tinygrad_learn.manifest import load_course
from tinygrad_learn.paths import default_workspace
from tinygrad_learn.stubs import LOCK_NAME, lock_text, read_lock

from .conftest import FIXTURE_COURSE, REPO_ROOT, run_cli

GIT = shutil.which("git")


def said(result: object) -> str:
    """The output as one line: the terminal wraps long messages."""
    return " ".join(str(getattr(result, "output", "")).split())


def test_the_lock_records_the_courses_stubs_as_they_are() -> None:
    lock = (REPO_ROOT / LOCK_NAME).read_text(encoding="utf-8")
    assert lock == lock_text(REPO_ROOT), "a stub changed: run `python tools/lock_stubs.py`"


def test_init_without_a_folder_creates_then_opens_the_default_workspace(
    cli: CliRunner, fixture_course: object, tmp_path: Path
) -> None:
    first = run_cli(cli, "init")
    assert first.exit_code == 0, first.output
    assert default_workspace() == tmp_path / "home" / "tinygrad-learn"
    assert (default_workspace() / "exercises" / "mathy.py").is_file()
    (default_workspace() / "exercises" / "mathy.py").write_text("# mine\n", encoding="utf-8")
    again = run_cli(cli, "init")
    assert again.exit_code == 0 and "already your workspace" in said(again)
    assert (default_workspace() / "exercises" / "mathy.py").read_text(encoding="utf-8") == "# mine\n"
    # From an unrelated folder, commands find the default workspace.
    assert run_cli(cli, "list", "--json").exit_code == 0


def test_commands_inside_the_course_say_it_is_the_course(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    course = tmp_path / "clone"
    shutil.copytree(FIXTURE_COURSE, course)
    (course / ".tinygrad-learn").mkdir()  # a clone once used as a workspace
    monkeypatch.setenv("TINYGRAD_LEARN_COURSE", str(course))
    monkeypatch.chdir(course / "exercises")
    for args in (["check", "alpha"], ["list"], ["reset", "alpha", "--yes"]):
        result = run_cli(cli, *args)
        assert result.exit_code == 2, result.output
        assert "is the course itself" in said(result) and "init --from" in said(result)
    refused = run_cli(cli, "init", str(course))
    assert refused.exit_code == 2 and "is the course itself" in said(refused)
    explicit = run_cli(cli, "--workspace", str(course), "list")
    assert explicit.exit_code == 2 and "is the course itself" in said(explicit)
    # Once the workspace exists, commands run in the course use it.
    assert run_cli(cli, "init").exit_code == 0
    assert run_cli(cli, "check", "alpha", "--json").exit_code == 1
    assert json.loads(run_cli(cli, "list", "--json").stdout)


def test_init_from_carries_every_file_and_the_progress_over(
    cli: CliRunner, fixture_course: object, tmp_path: Path
) -> None:
    old = tmp_path / "old"
    assert run_cli(cli, "init", str(old)).exit_code == 0
    (old / "exercises" / "mathy.py").write_text("def double(x):\n    return x * 2  # mine\n", encoding="utf-8")
    (old / "exercises" / "notes.txt").write_text("what I learned\n", encoding="utf-8")
    assert run_cli(cli, "--workspace", str(old), "check", "alpha").exit_code == 0
    new = tmp_path / "new"
    result = run_cli(cli, "init", str(new), "--from", str(old))
    assert result.exit_code == 0, result.output
    for name in ("mathy.py", "notes.txt", "__init__.py"):
        assert (new / "exercises" / name).read_bytes() == (old / "exercises" / name).read_bytes()
    assert (new / ".tinygrad-learn" / "progress.yaml").read_bytes() == (
        old / ".tinygrad-learn" / "progress.yaml"
    ).read_bytes()
    missing = run_cli(cli, "init", str(tmp_path / "other"), "--from", str(tmp_path / "nowhere"))
    assert missing.exit_code == 2 and "no exercises/ folder" in said(missing)


def test_a_stub_edited_outside_git_is_refused_by_name(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    course = tmp_path / "course"
    shutil.copytree(FIXTURE_COURSE, course)
    (course / LOCK_NAME).write_text(lock_text(course), encoding="utf-8")
    (course / "exercises" / "mathy.py").write_text("def double(x):\n    return x * 2\n", encoding="utf-8")
    monkeypatch.setenv("TINYGRAD_LEARN_COURSE", str(course))
    result = run_cli(cli, "init", str(tmp_path / "ws"))
    assert result.exit_code == 2
    assert "mathy.py" in said(result) and "pristine" in said(result)
    assert not (tmp_path / "ws" / "exercises").exists()


def _git(*args: str, cwd: Path) -> str:
    assert GIT is not None
    return subprocess.run([GIT, *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


@pytest.mark.long
@pytest.mark.skipif(GIT is None or not (REPO_ROOT / ".git").exists(), reason="needs git and a git checkout")
def test_a_clone_stays_clean_and_pristine_while_the_course_is_solved_from_it(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clone = tmp_path / "clone"
    _git("clone", "--quiet", str(REPO_ROOT), str(clone), cwd=tmp_path)
    monkeypatch.setenv("TINYGRAD_LEARN_COURSE", str(clone))
    course = load_course(clone)
    locked = read_lock(clone)
    assert locked
    # A learner worked in the clone before workspaces were separate: its stubs are their answers.
    for name in locked:
        shutil.copyfile(clone / "solutions" / name, clone / "exercises" / name)
    monkeypatch.chdir(clone)

    workspace = tmp_path / "ws"
    made = run_cli(cli, "init", str(workspace))
    assert made.exit_code == 0, made.output
    for name, digest in locked.items():
        assert hashlib.sha256((workspace / "exercises" / name).read_bytes()).hexdigest() == digest, name

    shutil.copytree(clone / "solutions", workspace / "exercises", dirs_exist_ok=True)
    monkeypatch.chdir(workspace)
    result = run_cli(cli, "check", "--all", "--json")
    reports = json.loads(result.stdout)["results"]
    failing = {r["id"]: r for r in reports if not r["passed"]}
    assert failing == {}
    assert result.exit_code == 0
    assert len(reports) == len(course.checkpoints)

    for checkpoint in course.checkpoints:
        assert run_cli(cli, "reset", checkpoint.id, "--yes").exit_code == 0
    for name, digest in locked.items():
        assert hashlib.sha256((workspace / "exercises" / name).read_bytes()).hexdigest() == digest, name

    # Put the learner's old edits back as git has them: nothing else in the clone was touched.
    _git("checkout", "--", "exercises", cwd=clone)
    assert _git("status", "--porcelain", "--ignored", cwd=clone) == ""
