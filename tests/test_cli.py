"""The command line, driven end to end through Typer's CliRunner on the fixture course."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
import typer
from typer.testing import CliRunner

from tinygrad_learn.cli import _translate_help, app
from tinygrad_learn.i18n import Translator, catalogue
from tinygrad_learn.paths import Workspace
from tinygrad_learn.progress import ProgressStore

from .conftest import run_cli, says


def test_bare_command_says_where_the_learner_is(cli: CliRunner, workspace: Workspace) -> None:
    result = run_cli(cli)
    assert result.exit_code == 0
    assert "You are on alpha · Doubling (0 of 2 checkpoints passed)." in result.output
    assert "tinygrad-learn check alpha" in result.output


def test_bare_command_without_a_workspace_explains_init(cli: CliRunner, fixture_course: object) -> None:
    result = run_cli(cli)
    assert result.exit_code == 0
    assert "tinygrad-learn init\n" in result.output and "cd ~/tinygrad-learn" in result.output


def test_commands_outside_a_workspace_exit_2_with_advice(cli: CliRunner, fixture_course: object) -> None:
    for command in (["list"], ["check"], ["progress"], ["hint"], ["show"]):
        result = run_cli(cli, *command)
        assert result.exit_code == 2, command
        assert "tinygrad-learn init" in result.output
        assert "Traceback" not in result.output


def test_check_stub_fails_with_exit_1_and_says_what_to_do(cli: CliRunner, workspace: Workspace) -> None:
    result = run_cli(cli, "check", "alpha", "--seed", "7")
    assert result.exit_code == 1
    assert "alpha: 2 of 2 checks failed" in result.output
    assert "Not written yet: alpha: write double" in result.output
    assert "at exercises/mathy.py:3" in result.output
    assert "tinygrad-learn check alpha --seed 7" in result.output
    assert "tinygrad-learn hint alpha" in result.output
    assert ProgressStore(workspace).read().entry("alpha").status == "failed"


def test_wrong_value_is_a_sentence_about_the_values(cli: CliRunner, workspace: Workspace) -> None:
    (workspace.exercises / "mathy.py").write_text("def double(x):\n    return 0\n", encoding="utf-8")
    result = run_cli(cli, "check", "alpha")
    assert result.exit_code == 1
    assert "double(0.0)" not in result.output or "should be" in result.output
    assert "double(x) should be" in result.output and "got 0" in result.output
    assert "with x = " in result.output


def test_passing_records_progress_and_announces_the_medal(cli: CliRunner, solved: Workspace) -> None:
    result = run_cli(cli, "check")
    assert result.exit_code == 0, result.output
    assert "alpha passed" in result.output
    assert "New medal: Bronze!" in result.output
    assert "Next: tinygrad-learn show beta" in result.output
    entry = ProgressStore(solved).read().entry("alpha")
    assert entry.passed and entry.attempts == 1 and entry.first_passed and entry.files_hash and entry.suite_version
    again = run_cli(cli, "check", "alpha")
    assert "alpha still passes" in again.output and "New medal" not in again.output


def test_check_defaults_to_the_current_checkpoint(cli: CliRunner, solved: Workspace) -> None:
    assert "alpha passed" in run_cli(cli, "check").output
    assert "beta passed" in run_cli(cli, "check").output
    assert "Re-check them all" in run_cli(cli, "check").output


def test_check_all(cli: CliRunner, solved: Workspace) -> None:
    result = run_cli(cli, "check", "--all")
    assert result.exit_code == 0
    assert "2 of 2 checkpoints passed." in result.output
    progress = run_cli(cli, "progress")
    assert progress.output.count("earned") == 2


def test_check_all_fails_on_stubs(cli: CliRunner, workspace: Workspace) -> None:
    result = run_cli(cli, "check", "--all")
    assert result.exit_code == 1
    assert "0 of 2 checkpoints passed." in result.output


def test_regression_is_announced(cli: CliRunner, solved: Workspace) -> None:
    run_cli(cli, "check", "alpha")
    (solved.exercises / "mathy.py").write_text("def double(x):\n    return x\n", encoding="utf-8")
    result = run_cli(cli, "check", "alpha")
    assert result.exit_code == 1 and "passed before, but fails now" in result.output


def test_unknown_checkpoint_exits_2(cli: CliRunner, workspace: Workspace) -> None:
    result = run_cli(cli, "check", "gamma")
    assert result.exit_code == 2
    assert "There is no checkpoint called 'gamma'" in result.output


def test_accepted_spellings_on_the_command_line(cli: CliRunner, solved: Workspace) -> None:
    for spelling in ("ALPHA", "a-1", "A 1"):
        assert run_cli(cli, "check", spelling).exit_code == 0


def test_list_and_progress(cli: CliRunner, solved: Workspace) -> None:
    run_cli(cli, "check", "alpha")
    listing = run_cli(cli, "list")
    assert listing.exit_code == 0
    assert "✓ passed" in listing.output and "you are here" in listing.output
    progress = run_cli(cli, "progress")
    assert "needs beta" in progress.output and "1 of 2 checkpoints passed." in progress.output


def test_stale_entry_is_marked(cli: CliRunner, solved: Workspace) -> None:
    run_cli(cli, "check", "alpha")
    with open(solved.exercises / "mathy.py", "a", encoding="utf-8") as handle:
        handle.write("\n# an edit\n")
    assert "changed since passed" in run_cli(cli, "progress").output


def test_json_output_is_stable(cli: CliRunner, solved: Workspace) -> None:
    checked = json.loads(run_cli(cli, "check", "alpha", "--json", "--seed", "3").stdout)
    assert checked["format"] == 1
    assert checked["results"][0]["id"] == "alpha" and checked["results"][0]["passed"] is True
    assert checked["results"][0]["seed"] == 3
    listed = json.loads(run_cli(cli, "list", "--json").stdout)
    assert listed["current"] == "beta"
    assert [c["status"] for c in listed["checkpoints"]] == ["passed", "not_started"]
    progress = json.loads(run_cli(cli, "progress", "--json").stdout)
    assert progress["medals"][0] == {"id": "bronze", "name": "Bronze", "earned": True, "missing": []}


def test_show_renders_the_lesson(cli: CliRunner, workspace: Workspace) -> None:
    result = run_cli(cli, "show", "beta")
    assert result.exit_code == 0
    assert "beta lesson" in result.output and "Files: exercises/mathy.py" in result.output


def test_hints_advance_and_are_recorded(cli: CliRunner, workspace: Workspace) -> None:
    first = run_cli(cli, "hint")
    assert "Hint 1 of 3 for alpha" in first.output and "Multiply." in first.output
    second = run_cli(cli, "hint")
    assert "Hint 2 of 3" in second.output
    assert "Hint 3 of 3" in run_cli(cli, "hint", "alpha").output
    assert "That was the last hint" in run_cli(cli, "hint").output
    assert ProgressStore(workspace).read().entry("alpha").hints_used == (1, 2, 3)


def test_hint_level_and_all(cli: CliRunner, workspace: Workspace) -> None:
    assert "Hint 3 of 3" in run_cli(cli, "hint", "beta", "--level", "3").output
    everything = run_cli(cli, "hint", "beta", "--all")
    assert all(f"Hint {n} of 3" in everything.output for n in (1, 2, 3))
    bad = run_cli(cli, "hint", "beta", "--level", "9")
    assert bad.exit_code == 2 and "no level 9" in bad.output


def test_init_creates_and_never_overwrites(cli: CliRunner, fixture_course: object, tmp_path: Path) -> None:
    target = tmp_path / "new space"
    result = run_cli(cli, "init", str(target))
    assert result.exit_code == 0
    assert (target / "exercises" / "mathy.py").is_file()
    (target / "exercises" / "mathy.py").write_text("# my work\n", encoding="utf-8")
    again = run_cli(cli, "init", str(target))
    assert again.exit_code == 0 and says(again.output, "already your workspace")
    assert (target / "exercises" / "mathy.py").read_text(encoding="utf-8") == "# my work\n"
    # A folder with exercises/ that init did not make is never written over either.
    other = tmp_path / "other"
    (other / "exercises").mkdir(parents=True)
    refused = run_cli(cli, "init", str(other))
    assert refused.exit_code == 2 and "never overwrites" in refused.output


def test_korean_from_option_environment_and_locale(
    cli: CliRunner, workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = "지금 alpha · 두 배 단계입니다"
    assert expected in run_cli(cli, "--lang", "ko").output
    monkeypatch.setenv("TINYGRAD_LEARN_LANG", "ko")
    assert expected in run_cli(cli).output
    monkeypatch.delenv("TINYGRAD_LEARN_LANG")
    monkeypatch.setenv("LANG", "ko_KR.UTF-8")
    assert expected in run_cli(cli).output
    assert "You are on" in run_cli(cli, "--lang", "en").output


def test_korean_check_failure(cli: CliRunner, workspace: Workspace) -> None:
    result = run_cli(cli, "--lang", "ko", "check", "alpha")
    assert result.exit_code == 1
    assert "검사 2개 중 2개 실패" in result.output and "아직 작성하지 않았습니다" in result.output


def test_bad_language_is_a_usage_error(cli: CliRunner, workspace: Workspace) -> None:
    assert run_cli(cli, "--lang", "fr").exit_code == 2


def test_damaged_progress_is_moved_aside_with_advice(cli: CliRunner, workspace: Workspace) -> None:
    workspace.progress_file.write_text(": : : not yaml [", encoding="utf-8")
    result = run_cli(cli, "progress")
    assert result.exit_code == 0
    assert says(result.output, "was damaged", "tinygrad-learn check --all")
    assert list(workspace.state_dir.glob("progress.yaml.damaged-*"))


def test_newer_progress_file_exits_2(cli: CliRunner, workspace: Workspace) -> None:
    workspace.progress_file.write_text("schema_version: 7\n", encoding="utf-8")
    result = run_cli(cli, "progress")
    assert result.exit_code == 2 and "newer tinygrad-learn" in result.output


def test_broken_manifest_exits_2_naming_the_key(
    cli: CliRunner, workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    from .conftest import FIXTURE_COURSE

    course = tmp_path / "course"
    shutil.copytree(FIXTURE_COURSE, course)
    manifest = course / "checkpoints.yaml"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace("title:", "titel:", 1), encoding="utf-8")
    monkeypatch.setenv("TINYGRAD_LEARN_COURSE", str(course))
    result = run_cli(cli, "list")
    assert result.exit_code == 2
    assert "checkpoints[alpha].title" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("language", ["en", "ko"])
def test_every_command_and_parameter_has_help_text(language: str) -> None:
    root = typer.main.get_command(app)
    assert isinstance(root, click.Group)
    _translate_help(root, Translator(language), click.Context(root))
    for command in (root, *root.commands.values()):
        assert command.help and not command.help.startswith("help."), command.name
        for param in command.params:
            text = getattr(param, "help", None)
            assert text and not text.startswith("help."), (command.name, param.name)


def test_korean_help_is_korean(cli: CliRunner) -> None:
    result = run_cli(cli, "--lang", "ko", "check", "--help")
    assert result.exit_code == 0
    assert catalogue("ko")["help.check"].split(" (")[0] in result.output


def test_version(cli: CliRunner) -> None:
    from tinygrad_learn import __version__

    result = run_cli(cli, "--version")
    assert result.exit_code == 0 and __version__ in result.output


def test_a_verdict_that_cannot_be_saved_is_still_shown(cli: CliRunner, solved: Workspace) -> None:
    lock = solved.progress_file.with_name(solved.progress_file.name + ".lock")
    lock.unlink(missing_ok=True)
    lock.mkdir()
    result = run_cli(cli, "check", "alpha")
    assert "alpha passed" in result.output
    assert "Cannot save progress" in result.output
    assert result.exit_code == 2
