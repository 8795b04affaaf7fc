"""`reset` (pristine files back, the learner's saved first) and `solution` (after passing, or peeked)."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from typer.testing import CliRunner

from tinygrad_learn.hints import solution_parts
from tinygrad_learn.manifest import Course
from tinygrad_learn.paths import Workspace
from tinygrad_learn.progress import ProgressStore
from tinygrad_learn.terminal import Terminal

from .conftest import FIXTURE_COURSE, run_cli

MY_WORK = "def double(x):\n    return x + x  # my work\n"


@pytest.fixture
def interactive(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Terminal, "interactive", property(lambda self: True))


# -- reset --------------------------------------------------------------------------------------


def test_reset_with_yes_backs_up_then_restores(cli: CliRunner, workspace: Workspace) -> None:
    mine = workspace.exercises / "mathy.py"
    mine.write_text(MY_WORK, encoding="utf-8")
    result = run_cli(cli, "reset", "alpha", "--yes")
    assert result.exit_code == 0, result.output
    pristine = (FIXTURE_COURSE / "exercises" / "mathy.py").read_text(encoding="utf-8")
    assert mine.read_text(encoding="utf-8") == pristine
    backups = list(workspace.backups_dir.glob("*/exercises/mathy.py"))
    assert len(backups) == 1 and backups[0].read_text(encoding="utf-8") == MY_WORK
    shown = backups[0].relative_to(workspace.root).as_posix()
    assert "Restored exercises/mathy.py" in result.output and shown in result.output


def test_two_resets_keep_both_backups(cli: CliRunner, workspace: Workspace) -> None:
    (workspace.exercises / "mathy.py").write_text(MY_WORK, encoding="utf-8")
    run_cli(cli, "reset", "alpha", "--yes")
    (workspace.exercises / "mathy.py").write_text("# second try\n", encoding="utf-8")
    run_cli(cli, "reset", "alpha", "--yes")
    backups = workspace.backups_dir.glob("*/exercises/mathy.py")
    saved = sorted(path.read_text(encoding="utf-8") for path in backups)
    assert saved == sorted([MY_WORK, "# second try\n"])


def test_without_a_terminal_reset_needs_yes(cli: CliRunner, workspace: Workspace) -> None:
    (workspace.exercises / "mathy.py").write_text(MY_WORK, encoding="utf-8")
    result = run_cli(cli, "reset", "alpha")
    assert result.exit_code == 2
    assert "tinygrad-learn reset alpha --yes" in result.output
    assert (workspace.exercises / "mathy.py").read_text(encoding="utf-8") == MY_WORK
    assert not workspace.backups_dir.exists()


def test_confirmation_names_the_other_checkpoints_of_the_file(
    cli: CliRunner, workspace: Workspace, interactive: None
) -> None:
    (workspace.exercises / "mathy.py").write_text(MY_WORK, encoding="utf-8")
    declined = run_cli(cli, "reset", "alpha", input="n\n")
    assert declined.exit_code == 0
    assert "This puts back the original exercises/mathy.py of alpha." in declined.output
    assert "also graded by beta" in declined.output
    assert "Nothing was changed." in declined.output
    assert (workspace.exercises / "mathy.py").read_text(encoding="utf-8") == MY_WORK
    accepted = run_cli(cli, "reset", "alpha", input="y\n")
    assert accepted.exit_code == 0 and "Restored exercises/mathy.py" in accepted.output
    assert "# my work" not in (workspace.exercises / "mathy.py").read_text(encoding="utf-8")


def test_reset_in_korean(cli: CliRunner, workspace: Workspace, interactive: None) -> None:
    result = run_cli(cli, "--lang", "ko", "reset", "beta", input="y\n")
    assert result.exit_code == 0
    assert "alpha에서도 채점합니다" in result.output and "되돌렸습니다" in result.output


# -- solution -----------------------------------------------------------------------------------


def test_solution_is_locked_until_passed(cli: CliRunner, workspace: Workspace) -> None:
    result = run_cli(cli, "solution", "alpha")
    assert result.exit_code == 2
    assert "opens once you pass it" in result.output
    assert "tinygrad-learn solution alpha --peek" in result.output
    assert not ProgressStore(workspace).read().entry("alpha").peeked


def test_peeking_shows_only_the_task_and_is_recorded(cli: CliRunner, workspace: Workspace) -> None:
    result = run_cli(cli, "solution", "alpha", "--peek")
    assert result.exit_code == 0, result.output
    assert "solutions/mathy.py:1 · double" in result.output
    assert "return x * 2" in result.output and "def square" not in result.output
    assert "You looked before passing alpha" in result.output
    assert ProgressStore(workspace).read().entry("alpha").peeked
    assert "(peeked at the solution)" in run_cli(cli, "progress").output
    listed = json.loads(run_cli(cli, "list", "--json").stdout)
    assert [c["peeked"] for c in listed["checkpoints"]] == [True, False]


def test_after_passing_no_peek_is_needed_or_recorded(cli: CliRunner, solved: Workspace) -> None:
    assert run_cli(cli, "check", "alpha").exit_code == 0
    result = run_cli(cli, "solution", "alpha")
    assert result.exit_code == 0
    assert "Reference solution of alpha · Doubling" in result.output and "return x * 2" in result.output
    assert "You looked before" not in result.output
    assert not ProgressStore(solved).read().entry("alpha").peeked


def test_whole_file_when_no_task_is_found(fixture_course: Course) -> None:
    checkpoint = replace(fixture_course.get("alpha"), tasks=("nothing_like_this",))
    (part,) = solution_parts(fixture_course, checkpoint)
    assert part.name == "" and "def double" in part.code and "def square" in part.code


def test_solution_in_korean(cli: CliRunner, workspace: Workspace) -> None:
    locked = run_cli(cli, "--lang", "ko", "solution", "beta")
    assert locked.exit_code == 2 and "통과하면 열립니다" in locked.output
    peeked = run_cli(cli, "--lang", "ko", "solution", "beta", "--peek")
    assert peeked.exit_code == 0 and "beta · 제곱의 모범 답안" in peeked.output
    assert "(답안을 미리 봄)" in run_cli(cli, "--lang", "ko", "progress").output
