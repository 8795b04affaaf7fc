"""Suite versions change when what a suite checks changes, and only then."""

from __future__ import annotations

import shutil
from pathlib import Path

from tinygrad_learn.paths import SUITES_DIR
from tinygrad_learn.versioning import GRADING_DIR, suite_version


def grading_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "grading"
    shutil.copytree(GRADING_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def versions(grading: Path) -> dict[str, str]:
    return {suite.name: suite_version(suite, grading) for suite in sorted(SUITES_DIR.glob("test_*.py"))}


def test_a_suitekit_helper_step1_does_not_use_changes_only_the_suites_that_use_it(tmp_path: Path) -> None:
    grading = grading_copy(tmp_path)
    before = versions(grading)
    edit(grading / "suitekit.py", "g.permutation(count) * 0.1", "g.permutation(count) * 0.2")
    after = versions(grading)
    assert after["test_step1.py"] == before["test_step1.py"]
    assert after["test_week4_tensor.py"] != before["test_week4_tensor.py"]  # it uses distinct_values
    assert after["test_week4_rnn.py"] == before["test_week4_rnn.py"]  # it does not


def test_a_new_shared_helper_changes_no_version(tmp_path: Path) -> None:
    grading = grading_copy(tmp_path)
    before = versions(grading)
    with open(grading / "suitekit.py", "a", encoding="utf-8") as handle:
        handle.write("\n\ndef brand_new_helper(x):\n    return x\n")
    with open(grading / "testkit.py", "a", encoding="utf-8") as handle:
        handle.write("\n\nNEW_CONSTANT = 3\n")
    assert versions(grading) == before


def test_a_testkit_function_step1_uses_changes_its_version(tmp_path: Path) -> None:
    grading = grading_copy(tmp_path)
    before = versions(grading)
    edit(grading / "testkit.py", "def expect_close(", "def expect_close(  # tolerance checked here\n")
    after = versions(grading)
    assert after["test_step1.py"] != before["test_step1.py"]


def write_kit(grading: Path, helper_b: str = "1", helper_c: str = "2", module_code: str = "") -> None:
    grading.mkdir(exist_ok=True)
    (grading / "kit.py").write_text(
        '"""A small kit."""\n\nfrom tinygrad_learn.grading.base import LIMIT\n\n'
        f"{module_code}\n\n"
        "@staticmethod\ndef a():\n    return b() + LIMIT\n\n\n"
        f"def b():\n    return {helper_b}\n\n\n"
        f"def c():\n    return {helper_c}\n",
        encoding="utf-8",
    )
    (grading / "base.py").write_text("LIMIT = 5\nOTHER = 6\n", encoding="utf-8")


def test_references_are_followed_transitively_and_across_modules(tmp_path: Path) -> None:
    grading = tmp_path / "grading"
    suite = tmp_path / "test_one.py"
    suite.write_text("from tinygrad_learn.grading.kit import (\n    a,  # the entry point\n)\n", encoding="utf-8")
    other_suite = tmp_path / "test_two.py"
    other_suite.write_text("from tinygrad_learn.grading import kit\n\nkit.c()\n", encoding="utf-8")
    write_kit(grading)
    first, second = suite_version(suite, grading), suite_version(other_suite, grading)

    write_kit(grading, helper_c="3")  # only c changes: used by the second suite alone
    assert suite_version(suite, grading) == first
    assert suite_version(other_suite, grading) != second

    write_kit(grading, helper_b="4")  # a calls b
    assert suite_version(suite, grading) != first
    write_kit(grading)
    (grading / "base.py").write_text("LIMIT = 7\nOTHER = 6\n", encoding="utf-8")  # a reads LIMIT
    assert suite_version(suite, grading) != first
    (grading / "base.py").write_text("LIMIT = 5\nOTHER = 9\n", encoding="utf-8")  # nothing reads OTHER
    assert suite_version(suite, grading) == first

    write_kit(grading, module_code="print('imported')")  # runs on every import: covers every user
    assert suite_version(suite, grading) != first
    assert suite_version(other_suite, grading) != second


def test_the_suite_itself_always_counts(tmp_path: Path) -> None:
    suite = tmp_path / "test_one.py"
    suite.write_text("def test_x():\n    assert 1\n", encoding="utf-8")
    before = suite_version(suite, GRADING_DIR)
    suite.write_text("def test_x():\n    assert 2\n", encoding="utf-8")
    assert suite_version(suite, GRADING_DIR) != before
