"""`journal`: a daily page in the learner's language, only ever appended to."""

from __future__ import annotations

import sys
from datetime import date, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tinygrad_learn import journal
from tinygrad_learn.paths import Workspace

from .conftest import run_cli


def todays_page(workspace: Workspace) -> Path:
    return workspace.root / "journal" / f"{date.today().isoformat()}.md"


def test_first_entry_fills_in_the_current_checkpoint(cli: CliRunner, workspace: Workspace) -> None:
    result = run_cli(cli, "journal")
    assert result.exit_code == 0, result.output
    page = todays_page(workspace)
    assert f"Started today's journal page: journal/{page.name}" in result.output
    text = page.read_text(encoding="utf-8")
    assert text.startswith(f"# Learning journal · {date.today().isoformat()}\n")
    assert f"**Date**: {date.today().isoformat()}" in text
    assert "- [ ] Read the lesson of alpha · Doubling (`tinygrad-learn show alpha`)" in text
    assert "- [ ] `double`" in text and "- [ ] Pass `tinygrad-learn check alpha`" in text
    assert "### Key concepts" in text and "```python\n# The key code I learned today\n```" in text
    assert "### Questions and doubts" in text and "1. \n2. " in text
    assert "### Plan for tomorrow" in text


def test_running_again_keeps_the_page_and_adds_no_second_template(cli: CliRunner, workspace: Workspace) -> None:
    run_cli(cli, "journal")
    page = todays_page(workspace)
    with open(page, "a", encoding="utf-8") as handle:
        handle.write("My own note: grads add up.\n")
    written = page.read_text(encoding="utf-8")
    second = run_cli(cli, "journal")
    assert second.exit_code == 0
    assert f"Today's journal page is already there: journal/{page.name}" in second.output
    assert "tinygrad-learn journal --edit" in second.output
    assert page.read_text(encoding="utf-8") == written


def test_running_again_with_edit_opens_the_same_page(
    cli: CliRunner, workspace: Workspace, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    run_cli(cli, "journal")
    written = todays_page(workspace).read_text(encoding="utf-8")
    record = tmp_path / "opened.txt"
    editor = tmp_path / "editor.py"
    editor.write_text(f"import sys\nopen({str(record)!r}, 'w').write(sys.argv[-1])\n", encoding="utf-8")
    monkeypatch.setenv("EDITOR", f'"{sys.executable}" "{editor}"')
    assert run_cli(cli, "journal", "--edit").exit_code == 0
    assert Path(record.read_text()) == todays_page(workspace)
    assert todays_page(workspace).read_text(encoding="utf-8") == written


def test_korean_page(cli: CliRunner, workspace: Workspace) -> None:
    result = run_cli(cli, "--lang", "ko", "journal")
    assert result.exit_code == 0
    assert "오늘의 학습 일지를 시작했습니다" in result.output
    text = todays_page(workspace).read_text(encoding="utf-8")
    assert "# 학습 일지 · " in text and "### 오늘의 목표" in text and "alpha · 두 배 학습 내용 읽기" in text
    assert "### 질문과 의문점" in text and "### 내일 할 일" in text


def test_goals_when_everything_is_passed(workspace: Workspace) -> None:
    entry = journal.todays_page(workspace, None, "en", datetime(2024, 5, 6, 7, 8))
    assert entry.path.name == "2024-05-06.md" and entry.created
    text = entry.path.read_text(encoding="utf-8")
    assert "Every checkpoint is passed" in text and "## Entry · 07:08" in text


def test_edit_opens_the_editor_on_the_page(
    cli: CliRunner, workspace: Workspace, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    record = tmp_path / "opened.txt"
    editor = tmp_path / "editor.py"
    editor.write_text(f"import sys\nopen({str(record)!r}, 'w').write(sys.argv[-1])\n", encoding="utf-8")
    monkeypatch.setenv("EDITOR", f'"{sys.executable}" "{editor}"')
    result = run_cli(cli, "journal", "--edit")
    assert result.exit_code == 0, result.output
    assert Path(record.read_text()) == todays_page(workspace)


def test_visual_is_used_when_editor_is_not_set(
    cli: CliRunner, workspace: Workspace, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    record = tmp_path / "opened.txt"
    editor = tmp_path / "editor.py"
    editor.write_text(f"open({str(record)!r}, 'w').write('visual')\n", encoding="utf-8")
    monkeypatch.delenv("EDITOR", raising=False)
    monkeypatch.setenv("VISUAL", f'"{sys.executable}" "{editor}"')
    assert run_cli(cli, "journal", "--edit").exit_code == 0
    assert record.read_text() == "visual"


def test_edit_without_an_editor_says_how_to_set_one(
    cli: CliRunner, workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("EDITOR", raising=False)
    monkeypatch.delenv("VISUAL", raising=False)
    result = run_cli(cli, "journal", "--edit")
    assert result.exit_code == 2
    assert "No editor is set (neither VISUAL nor EDITOR)" in result.output and "export EDITOR=nano" in result.output
    # Said before anything is written: no page (no template) left behind by a failed --edit.
    assert not todays_page(workspace).exists()


def test_a_missing_editor_program_is_named(
    cli: CliRunner, workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EDITOR", "no-such-editor-here")
    result = run_cli(cli, "journal", "--edit")
    assert result.exit_code == 2
    assert "The editor `no-such-editor-here` (from EDITOR) was not found" in result.output
