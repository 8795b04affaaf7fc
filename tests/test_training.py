"""`train`: the learner's own loop, run in a worker, reported step by step."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tinygrad_learn.manifest import Course
from tinygrad_learn.training_view import sparkline
from tinygrad_learn.workspace import init_workspace

from .conftest import run_cli


@pytest.fixture
def course_workspace(real_course: Course, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    workspace = init_workspace(real_course, tmp_path / "learner")
    monkeypatch.chdir(workspace.root)
    return workspace.root


def test_xor_with_the_reference_code_reaches_full_accuracy(
    real_course: Course, course_workspace: Path, cli: CliRunner
) -> None:
    shutil.copytree(real_course.solutions, course_workspace / "exercises", dirs_exist_ok=True)
    result = run_cli(cli, "train", "xor", "--steps", "150")
    assert result.exit_code == 0, result.output
    assert "Loss curve:" in result.output and "150 steps" in result.output
    assert "Accuracy 100%" in result.output


def test_framework_training_in_korean(real_course: Course, course_workspace: Path, cli: CliRunner) -> None:
    shutil.copytree(real_course.solutions, course_workspace / "exercises", dirs_exist_ok=True)
    result = run_cli(cli, "--lang", "ko", "train", "framework", "--steps", "5")
    assert result.exit_code == 0, result.output
    assert "손실 곡선:" in result.output and "정확도" in result.output


def test_stubs_point_at_the_code_to_write(course_workspace: Path, cli: CliRunner) -> None:
    result = run_cli(cli, "train")
    assert result.exit_code == 1
    assert "stopped with an error in your code" in result.output
    assert "Not written yet" in result.output and "exercises/" in result.output
    assert "tinygrad-learn check week3" in result.output


def test_unknown_task_is_a_usage_error(course_workspace: Path, cli: CliRunner) -> None:
    result = run_cli(cli, "train", "mnist")
    assert result.exit_code == 2 and "xor, framework" in result.output


def test_sparkline_follows_the_loss_down() -> None:
    line = sparkline((8.0, 4.0, 2.0, 1.0, 0.5, 0.25))
    assert len(line) == 6
    assert list(line) == sorted(line, reverse=True)
    assert line[0] != line[-1]
