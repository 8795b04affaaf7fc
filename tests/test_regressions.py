"""No false alarms, and regressions noticed as the learner goes: the real course, step1 to week3."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tinygrad_learn.manifest import Course
from tinygrad_learn.paths import Workspace
from tinygrad_learn.workspace import init_workspace

from .conftest import REPO_ROOT, run_cli

SOLUTIONS = REPO_ROOT / "solutions"
ADD_BACKWARD = (
    "            self.grad += out.grad\n            other.grad += out.grad\n\n        out._backward = _backward\n"
)
# The classic half-right rule: `=` where `+=` belongs, so `a + a` loses half its gradient.
BROKEN_ADD_BACKWARD = ADD_BACKWARD.replace("other.grad += out.grad", "other.grad = out.grad")


@pytest.fixture
def course_workspace(real_course: Course, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    created = init_workspace(real_course, tmp_path / "ws")
    monkeypatch.chdir(created.root)
    return created


def paste_solution(workspace: Workspace, checkpoint_id: str, files: tuple[str, ...]) -> None:
    """The reference code of the checkpoint's files, with a note that makes each paste an edit."""
    for name in files:
        text = (SOLUTIONS / name).read_text(encoding="utf-8")
        (workspace.exercises / name).write_text(f"{text}\n# working on {checkpoint_id}\n", encoding="utf-8")


def standing(cli: CliRunner) -> dict[str, dict[str, object]]:
    result = run_cli(cli, "progress", "--json")
    assert result.exit_code == 0, result.output
    return {entry["id"]: entry for entry in json.loads(result.output)["checkpoints"]}


def assert_no_false_alarm(cli: CliRunner) -> None:
    assert not [name for name, entry in standing(cli).items() if entry["stale"] or entry["regressed"]]
    shown = run_cli(cli, "progress").output
    assert "changed since passed" not in shown and "passed before" not in shown.lower()


def check(cli: CliRunner, checkpoint_id: str) -> None:
    result = run_cli(cli, "check", checkpoint_id, "--json")
    assert result.exit_code == 0, result.output


@pytest.mark.long
def test_from_step1_to_week3_nothing_is_flagged_and_a_broken_add_shows_on_the_next_check(
    cli: CliRunner, course_workspace: Workspace, real_course: Course
) -> None:
    course = {checkpoint.id: checkpoint for checkpoint in real_course.checkpoints}
    for checkpoint_id in ("step1", "step2", "step3", "project1", "project2", "project3", "week1"):
        paste_solution(course_workspace, checkpoint_id, course[checkpoint_id].files)
        check(cli, checkpoint_id)
        assert_no_false_alarm(cli)

    # Working on week2, the learner breaks __add__'s backward and checks week2 (not verify).
    engine = course_workspace.exercises / "engine.py"
    text = engine.read_text(encoding="utf-8")
    assert ADD_BACKWARD in text
    engine.write_text(text.replace(ADD_BACKWARD, BROKEN_ADD_BACKWARD, 1), encoding="utf-8")
    broken = run_cli(cli, "check", "week2")
    assert broken.exit_code == 1
    assert "step2 passed before, but fails now" in broken.output
    after = standing(cli)
    assert after["step2"]["regressed"] and after["step2"]["status"] == "failed"
    assert "Passed before, failing now: step2" in " ".join(run_cli(cli, "progress").output.split())

    # Mended: the next check re-checks it, and nothing stays flagged through week3.
    paste_solution(course_workspace, "week2", course["week2"].files)
    mended = run_cli(cli, "check", "week2")
    assert mended.exit_code == 0, mended.output
    assert "step2 still passes" in mended.output
    assert_no_false_alarm(cli)
    paste_solution(course_workspace, "week3", course["week3"].files)
    check(cli, "week3")
    assert_no_false_alarm(cli)
    passed = [name for name, entry in standing(cli).items() if entry["status"] == "passed"]
    assert passed == list(course)[: list(course).index("week3") + 1]
