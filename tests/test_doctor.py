"""`doctor`, and the output conventions every command shares (NO_COLOR, completion)."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tinygrad_learn.doctor import examine
from tinygrad_learn.paths import Workspace

from .conftest import run_cli, says

COLOUR = re.compile(r"\x1b\[[0-9;]*(3[0-7]|9[0-7]|38;[0-9;]+)m")


def flat(text: str) -> str:
    """The output with line wrapping undone: long temporary paths wrap at any width."""
    return " ".join(text.split())


def test_a_healthy_workspace(cli: CliRunner, workspace: Workspace) -> None:
    result = run_cli(cli, "doctor")
    assert result.exit_code == 0, result.output
    packages = ("typer ", "rich ", "pytest ", "pyyaml ", "numpy ")
    for expected in ("Python 3.", *packages, "is installed"):
        assert expected in result.output, expected
    assert f"Workspace: {workspace.root}" in flat(result.output)
    assert "all 1 graded files are present" in result.output
    assert "Everything tinygrad-learn needs is in place." in result.output


def test_graphviz_is_optional(
    cli: CliRunner, workspace: Workspace, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
    result = run_cli(cli, "doctor")
    assert result.exit_code == 0
    assert "dot is not on PATH" in result.output and "(optional)" in result.output
    assert "https://graphviz.org/download/" in result.output


def test_a_missing_graded_file_fails_with_a_fix(cli: CliRunner, workspace: Workspace) -> None:
    (workspace.exercises / "mathy.py").unlink()
    result = run_cli(cli, "doctor")
    assert result.exit_code == 2
    assert "missing: exercises/mathy.py" in result.output
    assert "tinygrad-learn init fresh-copy" in result.output
    assert "1 required check(s) failed" in result.output


def test_a_damaged_progress_file_is_reported_and_left_alone(cli: CliRunner, workspace: Workspace) -> None:
    workspace.progress_file.write_text("checkpoints: [not, a, mapping", encoding="utf-8")
    result = run_cli(cli, "doctor")
    assert result.exit_code == 2
    assert says(result.output, "progress.yaml is damaged", "tinygrad-learn check --all")
    assert workspace.progress_file.read_text(encoding="utf-8") == "checkpoints: [not, a, mapping"
    assert not list(workspace.state_dir.glob("progress.yaml.damaged-*"))


def test_a_newer_progress_file(cli: CliRunner, workspace: Workspace) -> None:
    workspace.progress_file.write_text("schema_version: 99\n", encoding="utf-8")
    result = run_cli(cli, "doctor")
    assert result.exit_code == 2 and "pip install --upgrade tinygrad-learn" in result.output


def test_no_workspace(cli: CliRunner, fixture_course: object) -> None:
    result = run_cli(cli, "doctor")
    assert result.exit_code == 2
    assert "tinygrad-learn init" in result.output and "~/tinygrad-learn" in result.output
    assert "Python 3." in result.output


def test_terminal_encoding_is_optional(workspace: Workspace) -> None:
    ascii_out = io.TextIOWrapper(io.BytesIO(), encoding="ascii")
    report = examine(None, stdout=ascii_out)
    encoding = next(finding for finding in report.findings if finding.name == "encoding")
    assert not encoding.ok and not encoding.required and encoding.fix == "encoding"
    assert report.healthy
    utf8 = examine(None, stdout=io.TextIOWrapper(io.BytesIO(), encoding="utf-8"))
    assert next(finding for finding in utf8.findings if finding.name == "encoding").ok


def test_korean(cli: CliRunner, workspace: Workspace) -> None:
    result = run_cli(cli, "--lang", "ko", "doctor")
    assert result.exit_code == 0
    assert "파이썬 3." in result.output and "필요한 것이 모두 준비되었습니다" in result.output


# -- conventions shared by every command ---------------------------------------------------------


def test_no_color_removes_colour_even_when_colour_is_forced(
    cli: CliRunner, workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert COLOUR.search(run_cli(cli, "doctor").output)
    monkeypatch.setenv("NO_COLOR", "1")
    for command in (["doctor"], ["list"], ["check", "alpha"], ["journal"], ["solution", "alpha", "--peek"]):
        output = run_cli(cli, *command).output
        assert not COLOUR.search(output), command


def test_shell_completion_is_offered(cli: CliRunner) -> None:
    result = run_cli(cli, "--help")
    assert "--install-completion" in result.output and "--show-completion" in result.output
