"""The whole course: every checkpoint passes with solutions/ and fails with the untouched stubs.

Run through the real CLI on a workspace made by `init`, exactly as a learner would.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tinygrad_learn.manifest import Course
from tinygrad_learn.workspace import init_workspace

from .conftest import run_cli


@pytest.fixture
def course_workspace(real_course: Course, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    workspace = init_workspace(real_course, tmp_path / "learner")
    monkeypatch.chdir(workspace.root)
    return workspace.root


def test_exercises_and_solutions_mirror_each_other(real_course: Course) -> None:
    def files(folder: Path) -> set[str]:
        return {str(p.relative_to(folder)) for p in folder.rglob("*.py") if "__pycache__" not in p.parts}

    assert files(real_course.exercises) == files(real_course.solutions)
    for checkpoint in real_course.checkpoints:
        for name in checkpoint.files:
            assert (real_course.exercises / name).is_file(), (checkpoint.id, name)


def test_every_checkpoint_fails_on_the_stubs_saying_what_to_do(
    real_course: Course, course_workspace: Path, cli: CliRunner
) -> None:
    result = run_cli(cli, "check", "--all", "--json", "--seed", "11")
    assert result.exit_code == 1
    reports = {item["id"]: item for item in json.loads(result.stdout)["results"]}
    assert list(reports) == [c.id for c in real_course.checkpoints]
    for checkpoint_id, report in reports.items():
        assert report["passed"] is False, checkpoint_id
        assert report["problem"] is None, (checkpoint_id, report["problem"])
        messages = [
            test["failure"]["params"].get("message", "")
            for test in report["tests"]
            if test["failure"]
            and test["failure"]["key"] == "exception"
            and test["failure"]["params"]["type"] == "NotImplementedError"
        ]
        assert messages, f"{checkpoint_id}: no failure points at a stub to write"
        assert all(": write " in message for message in messages), checkpoint_id


def test_every_checkpoint_passes_with_the_solutions_and_every_medal_is_earned(
    real_course: Course, course_workspace: Path, cli: CliRunner
) -> None:
    shutil.copytree(real_course.solutions, course_workspace / "exercises", dirs_exist_ok=True)
    result = run_cli(cli, "check", "--all", "--json")
    reports = json.loads(result.stdout)["results"]
    failing = {r["id"]: [t for t in r["tests"] if t["outcome"] != "passed"] for r in reports if not r["passed"]}
    assert failing == {}
    assert result.exit_code == 0
    progress = json.loads(run_cli(cli, "progress", "--json").stdout)
    assert all(medal["earned"] for medal in progress["medals"])
    assert [medal["id"] for medal in progress["medals"]] == [medal.id for medal in real_course.medals]


# Seeds once seen to refuse a correct engine, each kept so the refusal can never come back.
REFUSED_BEFORE = [("project2", 222)]  # f2 at x = 0, y = -1: both true gradients are 0


@pytest.mark.parametrize(("checkpoint_id", "seed"), REFUSED_BEFORE)
def test_seeds_that_once_refused_a_correct_engine(real_course: Course, checkpoint_id: str, seed: int) -> None:
    from tinygrad_learn.runner import run_suite

    checkpoint = real_course.get(checkpoint_id)
    result = run_suite(checkpoint.suite_path, real_course.solutions, real_course.solutions, seed=seed, time_limit=60)
    assert result.passed, [(test.name, test.failure) for test in result.failed_tests]


def test_the_course_passes_dev_check(real_course: Course, cli: CliRunner) -> None:
    """Everything `dev check` demands of a course (see tinygrad_learn.dev.check), on the course itself."""
    result = run_cli(cli, "dev", "check", "--seed", "11")
    assert f"Checked the course in {real_course.root}: {len(real_course.checkpoints)} checkpoints" in result.output
    assert result.exit_code == 0, result.output
