"""The warm grader of `watch`, `check --all` and `grade`: a run forked from the warm process gives
the verdict a cold run gives, under the same guards, and nothing of one run reaches the next."""

from __future__ import annotations

import os
import re
import shutil
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tinygrad_learn import checking, sandbox
from tinygrad_learn.grading.allowlist import DEFAULT_MODULES, ImportPolicy
from tinygrad_learn.manifest import Course
from tinygrad_learn.paths import Workspace
from tinygrad_learn.runner import WARM_PAYS_OFF_AT, RunResult, run_suite, warm_graders
from tinygrad_learn.sandbox_warm import WarmGrader

from .test_exploits import CASES, exploit_course, exploit_workspace  # noqa: F401  (fixtures)
from .test_exploits import test_exploit_is_a_plain_failure as exploit_is_a_plain_failure

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the warm grader needs fork")


@pytest.fixture
def warm(real_course: Course) -> Iterator[WarmGrader]:
    grader = sandbox.start_warm(real_course.exercises, real_course.solutions)
    assert grader is not None
    yield grader
    grader.close()


def verdict_of(result: RunResult) -> tuple[Any, ...]:
    tests = tuple((test.name, test.outcome, (test.failure or {}).get("key")) for test in result.tests)
    return result.passed, result.problem, tests


@pytest.mark.parametrize("checkpoint_id", ["step2", "week2"])
def test_warm_and_cold_runs_give_the_same_verdicts(real_course: Course, warm: WarmGrader, checkpoint_id: str) -> None:
    checkpoint = real_course.get(checkpoint_id)
    for exercises in (real_course.solutions, real_course.exercises):
        runs = [
            run_suite(checkpoint.suite_path, exercises, real_course.solutions, seed=7, time_limit=30, warm=chosen)
            for chosen in (warm, None)
        ]
        assert verdict_of(runs[0]) == verdict_of(runs[1])
        assert runs[0].passed is (exercises == real_course.solutions)
    assert warm.forked == 2 and warm.alive


STATEFUL = (
    "import json.decoder\n"
    "# What a run leaves behind in a module the warm process shares (one the guard does not watch).\n"
    "LEFT_BEFORE = hasattr(json.decoder, 'left_by_learner')\n"
    "json.decoder.left_by_learner = True\n"
    "def double(x):\n    return x * (3 if LEFT_BEFORE else 2)\n"
)


def test_module_level_state_does_not_survive_from_one_run_to_the_next(
    fixture_course: Course, workspace: Workspace
) -> None:
    (workspace.exercises / "mathy.py").write_text(STATEFUL, encoding="utf-8")
    suite = fixture_course.get("alpha").suite_path
    grader = sandbox.start_warm(workspace.exercises, fixture_course.solutions)
    assert grader is not None
    try:
        # json is not in the course's list; allowed here so the state is really left behind.
        policy = ImportPolicy.of([*DEFAULT_MODULES, "json"])
        results = [
            run_suite(
                suite, workspace.exercises, fixture_course.solutions, seed=1, time_limit=10, warm=grader, policy=policy
            )
            for _ in range(3)
        ]
    finally:
        grader.close()
    assert [result.passed for result in results] == [True, True, True], results
    assert grader.forked == 3


def test_an_endless_loop_in_a_forked_run_meets_the_cpu_limit(fixture_course: Course, workspace: Workspace) -> None:
    (workspace.exercises / "mathy.py").write_text("def double(x):\n    while True:\n        pass\n", "utf-8")
    suite = fixture_course.get("alpha").suite_path
    grader = sandbox.start_warm(workspace.exercises, fixture_course.solutions)
    assert grader is not None
    try:
        result = run_suite(suite, workspace.exercises, fixture_course.solutions, seed=1, time_limit=1.0, warm=grader)
        shutil.copy(fixture_course.solutions / "mathy.py", workspace.exercises / "mathy.py")
        after = run_suite(suite, workspace.exercises, fixture_course.solutions, seed=1, time_limit=1.0, warm=grader)
    finally:
        grader.close()
    assert result.problem == "timeout" and result.problem_detail["clock"] == "cpu" and result.cpu_seconds >= 1.0
    assert after.passed and grader.forked == 2


def test_a_dead_warm_process_falls_back_to_a_cold_run(fixture_course: Course, solved: Workspace) -> None:
    suite = fixture_course.get("alpha").suite_path
    grader = sandbox.start_warm(solved.exercises, fixture_course.solutions)
    assert grader is not None
    try:
        first = run_suite(suite, solved.exercises, fixture_course.solutions, seed=1, time_limit=10, warm=grader)
        os.killpg(grader.process.pid, signal.SIGKILL)
        second = run_suite(suite, solved.exercises, fixture_course.solutions, seed=1, time_limit=10, warm=grader)
    finally:
        grader.close()
    assert first.passed and second.passed
    assert grader.forked == 1 and not grader.alive


def test_too_few_runs_for_each_thread_start_no_warm_process(
    fixture_course: Course, workspace: Workspace, warm_processes: list[WarmGrader | None]
) -> None:
    for runs, threads in ((1, 1), (WARM_PAYS_OFF_AT - 1, 1), (2 * WARM_PAYS_OFF_AT - 1, 2)):
        with warm_graders(workspace.exercises, fixture_course.solutions, runs, threads) as warm:
            assert warm() is None
    assert warm_processes == []


def test_many_checks_fork_from_one_warm_process_per_thread_with_the_cold_verdicts(
    fixture_course: Course, solved: Workspace, warm_processes: list[WarmGrader | None]
) -> None:
    """`check --all` and `verify` (`check_many`) grade side by side in threads: each thread forks
    its runs from a warm process of its own, stopped at the end, and every verdict is the one a
    cold run gives."""
    (solved.exercises / "mathy.py").write_text(  # alpha passes, beta fails
        "def double(x):\n    return x * 2\n\n\ndef square(x):\n    return x + x\n", encoding="utf-8"
    )
    alpha, beta = fixture_course.get("alpha"), fixture_course.get("beta")
    targets = [alpha, beta] * 3
    reports = checking.check_many(fixture_course, solved, targets, seed=3)
    cold = {
        c.id: run_suite(c.suite_path, solved.exercises, fixture_course.solutions, seed=3, time_limit=10)
        for c in (alpha, beta)
    }
    assert [verdict_of(report.result) for report in reports] == [verdict_of(cold[c.id]) for c in targets]
    assert [report.result.passed for report in reports[:2]] == [True, False]
    graders = [grader for grader in warm_processes if grader is not None]
    assert len(graders) == len(warm_processes) == min(len(targets), checking.available_cores())
    assert sum(grader.forked for grader in graders) == len(targets)
    assert not any(grader.alive or grader.process.returncode is None for grader in graders)


def test_when_the_warm_process_dies_the_next_runs_start_cold_with_their_verdicts(
    fixture_course: Course,
    solved: Workspace,
    warm_processes: list[WarmGrader | None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    alpha = fixture_course.get("alpha")
    real_graded = checking._graded

    def killing_the_warm_process_after_a_run(*args: Any, **kwargs: Any) -> Any:
        result = real_graded(*args, **kwargs)
        for grader in warm_processes:
            if grader is not None and grader.process.returncode is None:
                os.killpg(grader.process.pid, signal.SIGKILL)
        return result

    monkeypatch.setattr(checking, "_graded", killing_the_warm_process_after_a_run)
    monkeypatch.setattr(checking, "available_cores", lambda: 1)
    reports = checking.check_many(fixture_course, solved, [alpha] * 3, seed=5)
    assert [report.result.passed for report in reports] == [True, True, True]
    (grader,) = warm_processes
    assert grader is not None and grader.forked == 1 and not grader.alive


PLAIN_ASSERT_SUITE = """from tinygrad_learn.grading.testkit import learner, need


def test_double_of_two():
    assert need(learner("mathy"), "double")(2) == {expected}
"""


def failure_texts(result: RunResult) -> list[str]:
    """What each failure says, memory addresses left out (each process has its own)."""
    return [re.sub(r"0x[0-9a-f]+", "0x", str((test.failure or {}).get("params"))) for test in result.failed_tests]


def test_a_suite_rewritten_once_by_the_warm_process_fails_and_passes_as_a_cold_run(
    fixture_course: Course, solved: Workspace, tmp_path: Path
) -> None:
    """The warm process rewrites a suite's asserts once and hands the code to every run forked
    after it: the runs must report what a cold run reports (pytest's explanation of a failed
    assert included), and a suite whose bytes changed must never run the remembered code."""
    suite = tmp_path / "test_plain.py"
    grader = sandbox.start_warm(solved.exercises, fixture_course.solutions)
    assert grader is not None

    def run(expected: int, warm: WarmGrader | None) -> RunResult:
        suite.write_text(PLAIN_ASSERT_SUITE.format(expected=expected), encoding="utf-8")
        return run_suite(suite, solved.exercises, fixture_course.solutions, seed=1, time_limit=10, warm=warm)

    try:
        failing = [run(5, grader) for _ in range(2)]
        passing = [run(4, grader) for _ in range(2)]
        failing_again = run(5, grader)
    finally:
        grader.close()
    cold_failing, cold_passing = run(5, None), run(4, None)
    assert grader.forked == 5
    assert not cold_failing.passed and cold_passing.passed
    for result in (*failing, failing_again):
        assert verdict_of(result) == verdict_of(cold_failing)
        assert failure_texts(result) == failure_texts(cold_failing)
    assert "4 == 5" in failure_texts(cold_failing)[0], failure_texts(cold_failing)
    # The traceback quotes the suite's line: the code knows the file it runs from in this run.
    assert all("assert need(" in result.output for result in (*failing, failing_again, cold_failing))
    for result in passing:
        assert verdict_of(result) == verdict_of(cold_passing)


WARM_CASES = [case for case in CASES if case.split("_")[0] in {"process", "exit", "tamper", "output"}]


class SharedGrader:
    """One warm process serving case after case, as `watch` serves save after save: hostile runs
    must leave it able to serve the next, and one that kills it is replaced."""

    def __init__(self) -> None:
        self.grader: WarmGrader | None = None

    def get(self, exercises: Path, solutions: Path) -> WarmGrader:
        if self.grader is None or not self.grader.alive:
            self.grader = sandbox.start_warm(exercises, solutions)
            assert self.grader is not None
        return self.grader


@pytest.fixture(scope="module")
def shared_grader() -> Iterator[SharedGrader]:
    shared = SharedGrader()
    yield shared
    if shared.grader is not None:
        shared.grader.close()


@pytest.mark.parametrize("case", WARM_CASES)
def test_the_exploit_corpus_fails_the_same_through_the_warm_grader(
    case: str,
    shared_grader: SharedGrader,
    exploit_workspace: Callable[[str], Workspace],  # noqa: F811
    exploit_course: Path,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    cli: CliRunner,
) -> None:
    used: list[tuple[WarmGrader, int]] = []
    cold_check = checking.check

    def warm_check(course: Course, workspace: Workspace, checkpoint: Any, seed: int | None = None, **_: Any) -> Any:
        grader = shared_grader.get(workspace.exercises, course.solutions)
        used.append((grader, grader.forked))
        return cold_check(course, workspace, checkpoint, seed, warm=grader)

    monkeypatch.setattr(checking, "check", warm_check)
    exploit_is_a_plain_failure(case, "landlock", exploit_workspace, exploit_course, tmp_path, monkeypatch, cli)
    assert [grader.forked - before for grader, before in used] == [1]  # forked, not started cold
