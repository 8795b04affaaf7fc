"""Paths a learner could get stuck on, each reproduced, each now ending in a clear message."""

from __future__ import annotations

import errno
import os
import re
import sys
import tempfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tinygrad_learn.manifest import Course
from tinygrad_learn.paths import Workspace
from tinygrad_learn.progress import ProgressStore
from tinygrad_learn.workspace import init_workspace

from .conftest import FIXTURE_COURSE, run_cli


def flat(text: str) -> str:
    return " ".join(text.split())


def test_importing_exercises_by_name_is_explained(cli: CliRunner, workspace: Workspace) -> None:
    (workspace.exercises / "mathy.py").write_text(
        "from exercises.helpers import twice\n\n\ndef double(x):\n    return twice(x)\n", encoding="utf-8"
    )
    result = run_cli(cli, "check", "alpha")
    assert result.exit_code == 1
    output = flat(result.output)
    assert "imports the package `exercises` by name" in output
    assert "`from .engine import Value`, not `from exercises.engine import Value`" in output


def test_a_relative_import_inside_the_exercises_works(cli: CliRunner, workspace: Workspace) -> None:
    """What the lessons and the message above tell the learner to write instead."""
    (workspace.exercises / "helpers.py").write_text("def twice(x):\n    return 2 * x\n", encoding="utf-8")
    solution = (FIXTURE_COURSE / "solutions" / "mathy.py").read_text(encoding="utf-8")
    (workspace.exercises / "mathy.py").write_text("from .helpers import twice  # noqa\n\n" + solution, encoding="utf-8")
    assert run_cli(cli, "check", "alpha").exit_code == 0


def test_lessons_say_where_their_snippets_run() -> None:
    lessons = Path(__file__).resolve().parents[1] / "lessons"
    for lesson in lessons.glob("*.md"):
        text = lesson.read_text(encoding="utf-8")
        if "from exercises." in text:
            assert "from .engine import Value" in text, lesson.name


def test_show_reads_a_lesson_before_init_and_never_wraps_its_code(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TINYGRAD_LEARN_WIDTH", "80")
    result = run_cli(cli, "show", "step2")
    assert result.exit_code == 0, result.output
    lesson = (Path(__file__).resolve().parents[1] / "lessons" / "step2.en.md").read_text(encoding="utf-8")
    snippets = [line.strip() for line in lesson.splitlines() if line.strip().startswith("python -c")]
    assert snippets and all(len(snippet) > 80 for snippet in snippets)
    shown = result.output.splitlines()
    for snippet in snippets:
        # Whole on one line, from its first column: pasted, it runs as written.
        assert snippet in shown, snippet
        compile(re.match(r'python -c "(.*)"$', snippet).group(1), "<pasted>", "exec")  # type: ignore[union-attr]


def test_a_missing_exercise_file_says_how_to_restore_it(cli: CliRunner, workspace: Workspace) -> None:
    (workspace.exercises / "mathy.py").unlink()
    result = run_cli(cli, "check", "alpha")
    assert result.exit_code == 2
    assert "exercises/mathy.py is missing" in flat(result.output)
    assert "tinygrad-learn reset alpha" in flat(result.output)
    restored = run_cli(cli, "reset", "alpha", "--yes")
    assert restored.exit_code == 0 and (workspace.exercises / "mathy.py").is_file()


@pytest.mark.parametrize(("typed", "meant"), [("alpah", "alpha"), ("bta", "beta")])
def test_a_mistyped_checkpoint_gets_a_suggestion(cli: CliRunner, workspace: Workspace, typed: str, meant: str) -> None:
    result = run_cli(cli, "check", typed)
    assert result.exit_code == 2
    assert f"There is no checkpoint called '{typed}'. Did you mean {meant}?" in flat(result.output)


def test_a_mistyped_checkpoint_of_the_course_in_korean(cli: CliRunner) -> None:
    result = run_cli(cli, "--lang", "ko", "show", "stpe2")
    assert result.exit_code == 2
    assert "'stpe2'라는 체크포인트는 없습니다. step2를 찾으셨나요?" in flat(result.output)


def test_nothing_like_a_checkpoint_gets_no_suggestion(cli: CliRunner, workspace: Workspace) -> None:
    result = run_cli(cli, "check", "zzzzzz")
    assert result.exit_code == 2 and "Did you mean" not in result.output


def test_a_long_argument_is_cut(cli: CliRunner, workspace: Workspace) -> None:
    for command in (["check"], ["show"], ["graph"], ["hint", "--level"], ["--workspace"]):
        result = run_cli(cli, *command, "x" * 100_000)
        assert result.exit_code == 2
        assert "x" * 100 not in result.output and "100000 characters" in result.output
        assert len(result.output) < 1000


@pytest.fixture
def read_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """The progress file cannot be written, as on a read-only file system."""

    def refuse(*args: object, **kwargs: object) -> object:
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)


def test_a_read_only_workspace_says_so_first_and_still_shows_the_verdict(
    cli: CliRunner, solved: Workspace, read_only: None
) -> None:
    result = run_cli(cli, "check", "alpha")
    assert result.exit_code == 2
    output = flat(result.output)
    assert output.index("Cannot save progress") < output.index("Nothing is saved") < output.index("alpha passed")
    assert "course is complete" not in output and "Next:" not in output
    assert ProgressStore(solved).read().entries == {}


def test_a_read_only_workspace_still_shows_hints(cli: CliRunner, workspace: Workspace, read_only: None) -> None:
    result = run_cli(cli, "hint", "alpha")
    assert result.exit_code == 0, result.output
    assert "Cannot save progress" in flat(result.output) and "Multiply." in result.output


def test_doctor_outside_a_workspace_is_a_setup_error(cli: CliRunner, fixture_course: object) -> None:
    assert run_cli(cli, "doctor").exit_code == 2


MARKDOWN_BLOCK_START = re.compile(r"^\s*([-+*]|\d+[.)]|#{1,6})(\s|$)")


def test_no_hint_starts_like_a_markdown_list_or_heading(real_course: Course) -> None:
    """A hint drawn as Markdown would lose such a start (`+ ...` became a bullet)."""
    for checkpoint in real_course.checkpoints:
        for level, hint in enumerate(checkpoint.hints, start=1):
            for language in ("en", "ko"):
                text = hint.get(language)
                assert not MARKDOWN_BLOCK_START.match(text), f"{checkpoint.id} hint {level} ({language}): {text[:30]}"


def test_the_marker_check_sees_a_bullet() -> None:
    assert MARKDOWN_BLOCK_START.match("+ 로 만든 Value는")
    assert MARKDOWN_BLOCK_START.match("## Heading") and MARKDOWN_BLOCK_START.match("1. first")
    assert not MARKDOWN_BLOCK_START.match("`+`로 만든 Value는")


def test_an_unknown_language_warns_once_and_names_the_languages(
    cli: CliRunner, workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TINYGRAD_LEARN_LANG", "xx")
    result = run_cli(cli, "list")
    assert result.exit_code == 0
    warning = "TINYGRAD_LEARN_LANG=xx is not a language tinygrad-learn speaks, so it uses en."
    assert flat(result.output).count(warning) == 1 and "The languages there are: en, ko." in flat(result.output)
    assert "Checkpoints" in result.output
    # --lang settles the question: nothing to warn about.
    assert "TINYGRAD_LEARN_LANG" not in run_cli(cli, "--lang", "ko", "list").output


def test_a_known_language_or_a_locale_warns_nothing(
    cli: CliRunner, workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LANG", "xx_YY.UTF-8")
    monkeypatch.setenv("TINYGRAD_LEARN_LANG", "ko_KR")
    assert "TINYGRAD_LEARN_LANG" not in run_cli(cli, "list").output


@pytest.mark.parametrize("width", ["60", "80"])
def test_the_korean_progress_table_cuts_no_title(
    cli: CliRunner, real_course: Course, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, width: str
) -> None:
    monkeypatch.chdir(init_workspace(real_course, tmp_path / "ws").root)
    monkeypatch.setenv("TINYGRAD_LEARN_WIDTH", width)
    result = run_cli(cli, "--lang", "ko", "progress")
    assert result.exit_code == 0
    assert "…" not in result.output
    assert "그래디언트" in result.output  # week1's "사칙연산과 그래디언트 검사", cut before


def test_a_file_reference_is_a_link_on_a_terminal(
    cli: CliRunner, workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")
    result = run_cli(cli, "check", "alpha")
    uri = (workspace.exercises / "mathy.py").resolve().as_uri()
    assert "\x1b]8;id=" in result.output and f";{uri}\x1b\\" in result.output
    # Captured output (no terminal) has no escape codes at all.
    monkeypatch.delenv("FORCE_COLOR")
    assert "\x1b" not in run_cli(cli, "check", "alpha").output


@pytest.mark.skipif(os.name != "posix", reason="the fake editor is a script with a #! line")
def test_check_open_opens_the_failing_line_in_the_editors_own_form(
    cli: CliRunner, workspace: Workspace, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    record = tmp_path / "arguments.txt"
    editor = tmp_path / "code"
    editor.write_text(
        f"#!{sys.executable}\nimport sys\nopen({str(record)!r}, 'w').write('\\n'.join(sys.argv[1:]))\n",
        encoding="utf-8",
    )
    editor.chmod(0o755)
    monkeypatch.setenv("VISUAL", f"{editor} --wait")
    monkeypatch.setenv("EDITOR", "vim")  # VISUAL comes first
    result = run_cli(cli, "check", "alpha", "--open")
    assert result.exit_code == 1
    mathy = workspace.exercises / "mathy.py"
    lines = mathy.read_text(encoding="utf-8").splitlines()
    raising = lines.index('    raise NotImplementedError("alpha: write double")')
    assert record.read_text().splitlines() == ["--wait", "-g", f"{mathy}:{raising + 1}"]


def test_each_editor_gets_the_line_in_its_own_form() -> None:
    from tinygrad_learn.editor import at_line

    file = Path("/w/exercises/engine.py")
    assert at_line("/usr/bin/nvim", file, 12) == ["+12", str(file)]
    assert at_line("micro", file, 12) == [str(file), "+12"]
    assert at_line("codium", file, 12) == ["-g", f"{file}:12"]
    assert at_line("subl", file, 12) == [f"{file}:12"]
    assert at_line("kate", file, 12) == ["--line", "12", str(file)]
    assert at_line("notepad.exe", file, 12) == [str(file)]
    assert at_line("vim", file, None) == [str(file)]
