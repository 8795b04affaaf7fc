"""`dev check` and `dev new`: the author's kit, on copies of the fixture course."""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tinygrad_learn.dev import PLACEHOLDER
from tinygrad_learn.dev.check import Problem, check_course
from tinygrad_learn.i18n import Translator

from .conftest import FIXTURE_COURSE, run_cli, says


@pytest.fixture
def course(tmp_path: Path) -> Path:
    target = tmp_path / "course"
    shutil.copytree(FIXTURE_COURSE, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def dev_check(cli: CliRunner, course: Path, *extra: str):  # type: ignore[no-untyped-def]
    return run_cli(cli, *extra, "dev", "check", "--course", str(course), "--seed", "3")


def static_check(cli: CliRunner, course: Path, *extra: str):  # type: ignore[no-untyped-def]
    """`dev check --no-grading`: every check but grading the suites."""
    return run_cli(cli, *extra, "dev", "check", "--course", str(course), "--no-grading")


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, (path, old)
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_the_fixture_course_is_clean_and_left_untouched(cli: CliRunner, course: Path) -> None:
    def snapshot() -> dict[str, str]:
        return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in course.rglob("*") if p.is_file()}

    before = snapshot()
    result = dev_check(cli, course)
    assert result.exit_code == 0, result.output
    assert "2 checkpoints pass every check" in result.output
    assert snapshot() == before  # graded on temporary copies: not even a __pycache__ appears


def fill_demo(course: Path) -> None:
    """What an author does after `dev new demo`: write every file the scaffold left to fill."""
    (course / "solutions" / "demo.py").write_text("def demo(x):\n    return x + 1\n", encoding="utf-8")
    (course / "suites" / "test_demo.py").write_text(
        '"""demo: adds one."""\n\n'
        "from tinygrad_learn.grading.testkit import expect_close, learner, need\n\n\n"
        "def test_demo_adds_one(rng):\n"
        '    demo = need(learner("demo"), "demo")\n'
        "    x = rng.uniform(-10, 10)\n"
        '    expect_close(demo(x), x + 1, "demo(x)", given={"x": x})\n',
        encoding="utf-8",
    )
    (course / "lessons" / "demo.en.md").write_text("# Adding one\n\nWrite `demo(x)`: x + 1.\n", encoding="utf-8")
    (course / "lessons" / "demo.ko.md").write_text("# 1 더하기\n\n`demo(x)`를 쓰세요: x + 1.\n", encoding="utf-8")
    manifest = course / "checkpoints.yaml"
    text = manifest.read_text(encoding="utf-8")
    manifest.write_text(re.sub(re.escape(PLACEHOLDER) + r": ", "", text), encoding="utf-8")


@pytest.mark.long
def test_dev_new_then_filled_passes_dev_check(cli: CliRunner, course: Path) -> None:
    result = run_cli(cli, "dev", "new", "demo", "--course", str(course))
    assert result.exit_code == 0, result.output
    stub = (course / "exercises" / "demo.py").read_text(encoding="utf-8")
    assert "# TODO(demo)" in stub and 'NotImplementedError("demo: write demo")' in stub

    unfilled = dev_check(cli, course)
    assert unfilled.exit_code == 1
    for where in ("title.en", "hints[3].ko", "lessons/demo.ko.md", "solutions/demo.py", "test_demo.py"):
        assert f"{where} still holds the text '{PLACEHOLDER}'" in unfilled.output, where
    assert "[demo] test_demo.py: the reference solution fails its suite" in unfilled.output

    fill_demo(course)
    filled = dev_check(cli, course)
    assert filled.exit_code == 0, filled.output
    assert "3 checkpoints pass every check" in filled.output


def test_dev_new_refuses_what_it_cannot_scaffold(cli: CliRunner, course: Path) -> None:
    for checkpoint_id, message in [("Demo!", "cannot be a checkpoint id"), ("a1", "already has a checkpoint")]:
        result = run_cli(cli, "dev", "new", checkpoint_id, "--course", str(course))
        assert result.exit_code == 2 and message in result.output
    result = run_cli(cli, "dev", "new", "gamma", "--course", str(course), "--file", "../escape.py")
    assert result.exit_code == 2 and "cannot be an exercise file" in result.output
    assert not (course.parent / "escape.py").exists()


def test_a_folder_without_a_course_is_a_usage_error(cli: CliRunner, tmp_path: Path) -> None:
    for command in ("check", "new gamma"):
        result = run_cli(cli, "dev", *command.split(), "--course", str(tmp_path))
        assert result.exit_code == 2 and "holds no course" in result.output, result.output


def test_a_missing_korean_lesson(cli: CliRunner, course: Path) -> None:
    (course / "lessons" / "beta.ko.md").unlink()
    result = static_check(cli, course)  # a problem found without grading
    assert result.exit_code == 1
    assert says(result.output, f"Checked the course in {course} without grading its suites: 2 checkpoints.")
    assert "[beta] lessons/beta.ko.md: the lesson in language 'ko' is missing or empty" in result.output
    assert "1 problem(s) found" in result.output
    korean = static_check(cli, course, "--lang", "ko")
    assert "'ko' 언어의 레슨이 없거나 비어 있습니다" in korean.output
    assert "테스트 모음 채점 없이 검사했습니다" in korean.output


def test_a_stub_that_passes_its_suite(cli: CliRunner, course: Path) -> None:
    shutil.copy(course / "solutions" / "mathy.py", course / "exercises" / "mathy.py")
    result = dev_check(cli, course)
    assert result.exit_code == 1
    assert "[alpha] test_alpha.py: the untouched stub passes its suite" in result.output
    assert "[beta] test_beta.py: the untouched stub passes its suite" in result.output
    # Only grading finds it: without grading the course looks clean, and the report says why.
    ungraded = static_check(cli, course)
    assert ungraded.exit_code == 0, ungraded.output
    assert "untouched stub" not in ungraded.output
    assert says(ungraded.output, "the suites were not graded: run tinygrad-learn dev check without --no-grading")


def test_a_solution_that_fails_its_suite(cli: CliRunner, course: Path) -> None:
    edit(course / "solutions" / "mathy.py", "x * 2", "x * 3")
    result = dev_check(cli, course)
    assert result.exit_code == 1
    assert "[alpha] test_alpha.py: the reference solution fails its suite (failed tests: test_double" in result.output
    assert "[beta]" not in result.output


def test_a_missing_hint_level(cli: CliRunner, course: Path) -> None:
    edit(course / "checkpoints.yaml", '      - {en: "return x * x", ko: "return x * x"}\n', "")
    result = dev_check(cli, course)
    assert result.exit_code == 1
    assert "checkpoints[beta].hints" in result.output and "needs at least 3 levels" in result.output


def test_a_hint_level_without_its_korean(cli: CliRunner, course: Path) -> None:
    edit(course / "checkpoints.yaml", '{en: "Multiply again.", ko: "다시 곱하세요."}', '{en: "Multiply again."}')
    result = dev_check(cli, course)
    assert result.exit_code == 1 and "checkpoints[beta].hints[0].ko" in result.output


def test_a_time_limit_without_five_times_head_room(course: Path) -> None:
    # The measured time is given, so no machine's speed decides: 2.5s against alpha's 10s limit is
    # 4x, and 1.9s against beta's 10s is 5.3x.
    seconds = {"test_alpha.py": 2.5, "test_beta.py": 1.9}

    report = check_course(course, seed=3, measure=lambda run: _timed(run, seconds))
    assert [(f.problem, f.checkpoint) for f in report.findings] == [(Problem.TIME_HEADROOM, "alpha")]
    finding = report.findings[0]
    text = Translator("en")(finding.key, **finding.params)
    assert text == (
        "time_limit 10s leaves less than 5x head-room over the solution's 2.50s: "
        "raise it to at least 12.5s, or make the suite faster"
    )


def _timed(run, seconds: dict[str, float]):  # type: ignore[no-untyped-def]
    result = run()
    suite = "test_alpha.py" if {t.name for t in result.tests} & {"test_double"} else "test_beta.py"
    return result, seconds[suite]


def test_duplicate_test_names_across_suites(cli: CliRunner, course: Path) -> None:
    with open(course / "suites" / "test_beta.py", "a", encoding="utf-8") as suite:
        suite.write("\n\ndef test_double():\n    pass\n")
    result = static_check(cli, course)
    assert "[beta] test_beta.py: the test test_double is also in the suite of alpha" in result.output


def test_dev_new_appends_to_an_existing_exercise_file(cli: CliRunner, course: Path) -> None:
    stub_before = (course / "exercises" / "mathy.py").read_text(encoding="utf-8")
    result = run_cli(cli, "dev", "new", "gamma", "--course", str(course), "--file", "mathy.py", "--function", "cube")
    assert result.exit_code == 0, result.output
    stub = (course / "exercises" / "mathy.py").read_text(encoding="utf-8")
    assert stub.startswith(stub_before.rstrip()) and stub.endswith(
        '\n\n\ndef cube(x):\n    # TODO(gamma)\n    raise NotImplementedError("gamma: write cube")\n'
    )
    assert "def cube(x):" in (course / "solutions" / "mathy.py").read_text(encoding="utf-8")
    manifest = (course / "checkpoints.yaml").read_text(encoding="utf-8")
    assert "  - id: gamma\n" in manifest
    assert "    files: [mathy.py]\n    tasks: [cube]\n    requires: [beta]\n" in manifest
    assert manifest.index("id: gamma") < manifest.index("\nmedals:")


def test_a_time_limit_without_head_room_through_the_command(
    cli: CliRunner, course: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tinygrad_learn.dev.check as dev_check_module

    # The grading runs for real; only the clock reading is given: 3.5s against a 10s limit.
    monkeypatch.setattr(dev_check_module, "default_measure", lambda: (lambda run: (run(), 3.5), "cpu"))
    result = dev_check(cli, course)
    assert result.exit_code == 1
    assert "[alpha] checkpoints.yaml: time_limit 10s leaves less than 5x head-room over the solution's 3.50s" in (
        result.output
    )
    assert "[beta] checkpoints.yaml: time_limit 10s" in result.output


def test_a_stub_lock_that_no_longer_matches_the_stubs(cli: CliRunner, course: Path) -> None:
    from tinygrad_learn.stubs import LOCK_NAME, lock_text

    (course / LOCK_NAME).write_text(lock_text(course), encoding="utf-8")
    assert static_check(cli, course).exit_code == 0
    stub = course / "exercises" / "mathy.py"
    stub.write_text(stub.read_text(encoding="utf-8") + "\n# Changed after locking.\n", encoding="utf-8")
    result = static_check(cli, course)
    assert result.exit_code == 1
    assert "stubs.lock does not match the stubs" in result.output
