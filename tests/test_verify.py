"""`verify`: re-check everything passed, show regressions and lost medals, refresh hashes and versions."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tinygrad_learn.manifest import load_course
from tinygrad_learn.paths import Workspace
from tinygrad_learn.progress import ProgressStore, files_hash
from tinygrad_learn.versioning import suite_version
from tinygrad_learn.workspace import init_workspace

from .conftest import FIXTURE_COURSE, run_cli

BROKEN_DOUBLE = "def double(x):\n    return x * 3\n\n\ndef square(x):\n    return x * x\n"


def progress_json(cli: CliRunner) -> dict:  # type: ignore[type-arg]
    result = run_cli(cli, "progress", "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def passed_by_check_all(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A solved workspace of the fixture course after `check --all` passed both checkpoints: graded
    once for the module, and copied for each test (the progress file names no path of its own)."""
    folder = tmp_path_factory.mktemp("all-passed")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TINYGRAD_LEARN_COURSE", str(FIXTURE_COURSE))
        patch.setenv("HOME", str(folder))
        workspace = init_workspace(load_course(FIXTURE_COURSE), folder / "ws")
        shutil.copyfile(FIXTURE_COURSE / "solutions" / "mathy.py", workspace.exercises / "mathy.py")
        patch.chdir(workspace.root)
        result = run_cli(CliRunner(), "check", "--all")
    assert result.exit_code == 0, result.output
    return workspace.root


@pytest.fixture
def all_passed(passed_by_check_all: Path, solved: Workspace) -> Workspace:
    shutil.copytree(passed_by_check_all, solved.root, dirs_exist_ok=True)
    assert {entry.status for entry in ProgressStore(solved).read().entries.values()} == {"passed"}
    return solved


def test_nothing_passed_means_nothing_to_verify(cli: CliRunner, workspace: Workspace) -> None:
    result = run_cli(cli, "verify")
    assert result.exit_code == 0
    assert "nothing to verify" in result.output
    assert ProgressStore(workspace).read().entries == {}


def test_everything_still_passing_exits_0(cli: CliRunner, all_passed: Workspace) -> None:
    result = run_cli(cli, "verify")
    assert result.exit_code == 0, result.output
    assert "alpha still passes" in result.output and "beta still passes" in result.output
    assert "All 2 checkpoints you passed still pass." in result.output


def test_a_later_edit_that_breaks_an_earlier_checkpoint_is_a_regression(cli: CliRunner, all_passed: Workspace) -> None:
    assert [medal["earned"] for medal in progress_json(cli)["medals"]] == [True, True]
    (all_passed.exercises / "mathy.py").write_text(BROKEN_DOUBLE, encoding="utf-8")
    # An edit alone is ordinary progress: nothing is flagged until a check says it broke something.
    assert [c["stale"] for c in progress_json(cli)["checkpoints"]] == [False, False]

    result = run_cli(cli, "verify")
    assert result.exit_code == 1
    assert "alpha passed before, but fails now" in result.output
    assert "beta still passes" in result.output
    assert "Medal lost: Bronze. It comes back once alpha pass again." in result.output
    assert "Medal lost: Silver" in result.output
    assert "1 of 2 passed checkpoints still pass." in result.output
    after = progress_json(cli)
    assert [c["status"] for c in after["checkpoints"]] == ["failed", "passed"]
    assert [c["regressed"] for c in after["checkpoints"]] == [True, False]
    assert [medal["earned"] for medal in after["medals"]] == [False, False]
    assert after["current"] == "alpha"


def test_a_medal_comes_back_when_the_checkpoint_passes_again(cli: CliRunner, all_passed: Workspace) -> None:
    mathy = all_passed.exercises / "mathy.py"
    good = mathy.read_text(encoding="utf-8")
    mathy.write_text(BROKEN_DOUBLE, encoding="utf-8")
    assert run_cli(cli, "verify").exit_code == 1
    mathy.write_text(good, encoding="utf-8")
    result = run_cli(cli, "check", "alpha")
    assert result.exit_code == 0 and "New medal: Bronze" in result.output and "New medal: Silver" in result.output


def test_verify_refreshes_the_stored_hash(cli: CliRunner, all_passed: Workspace) -> None:
    mathy = all_passed.exercises / "mathy.py"
    mathy.write_text(mathy.read_text(encoding="utf-8") + "# tidied up\n", encoding="utf-8")
    assert ProgressStore(all_passed).read().entry("alpha").files_hash != files_hash(all_passed.exercises, ("mathy.py",))
    assert run_cli(cli, "verify").exit_code == 0
    assert not any(c["stale"] for c in progress_json(cli)["checkpoints"])
    entry = ProgressStore(all_passed).read().entry("alpha")
    assert entry.files_hash == files_hash(all_passed.exercises, ("mathy.py",))


def test_a_changed_suite_marks_the_entry_stale_until_verified(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    course_root = tmp_path / "course"
    shutil.copytree(FIXTURE_COURSE, course_root, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setenv("TINYGRAD_LEARN_COURSE", str(course_root))
    workspace = init_workspace(load_course(course_root), tmp_path / "ws")
    shutil.copyfile(course_root / "solutions" / "mathy.py", workspace.exercises / "mathy.py")
    monkeypatch.chdir(workspace.root)
    assert run_cli(cli, "check", "alpha").exit_code == 0
    assert not progress_json(cli)["checkpoints"][0]["stale"]

    suite = course_root / "suites" / "test_alpha.py"
    suite.write_text(suite.read_text(encoding="utf-8") + "\n\ndef test_double_one():\n    pass\n", encoding="utf-8")
    assert progress_json(cli)["checkpoints"][0]["stale"]
    assert "checks changed since you passed alpha" in run_cli(cli, "progress").output

    assert run_cli(cli, "verify").exit_code == 0
    assert not progress_json(cli)["checkpoints"][0]["stale"]
    assert ProgressStore(workspace).read().entry("alpha").suite_version == suite_version(suite)


def test_an_entry_from_before_suite_versions_is_not_stale(cli: CliRunner, all_passed: Workspace) -> None:
    store = ProgressStore(all_passed)
    from dataclasses import replace

    store.update(lambda entries: {**entries, "alpha": replace(entries["alpha"], suite_version=None)})
    assert not progress_json(cli)["checkpoints"][0]["stale"]


def test_verify_json(cli: CliRunner, all_passed: Workspace) -> None:
    (all_passed.exercises / "mathy.py").write_text(BROKEN_DOUBLE, encoding="utf-8")
    result = run_cli(cli, "verify", "--json", "--seed", "5")
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert data["format"] == 1
    assert [(item["id"], item["passed"], item["outcome"]) for item in data["results"]] == [
        ("alpha", False, "regressed"),
        ("beta", True, "passed_again"),
    ]
    assert all(item["seed"] == 5 for item in data["results"])
    assert data["lost_medals"] == ["bronze", "silver"]


def test_verify_speaks_korean(cli: CliRunner, all_passed: Workspace) -> None:
    (all_passed.exercises / "mathy.py").write_text(BROKEN_DOUBLE, encoding="utf-8")
    result = run_cli(cli, "--lang", "ko", "verify")
    assert result.exit_code == 1
    assert "전에 통과했지만 지금은 실패합니다" in result.output and "메달을 잃었습니다: 브론즈" in result.output


def test_verify_outside_a_workspace_is_a_usage_error(cli: CliRunner, fixture_course: object) -> None:
    result = run_cli(cli, "verify")
    assert result.exit_code == 2 and "tinygrad-learn init" in result.output
