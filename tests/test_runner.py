"""The runner: verdicts come from the plugin's channel, and every failure mode ends in a result."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from tinygrad_learn.checking import run_checkpoint
from tinygrad_learn.grading.allowlist import DEFAULT_MODULES, ImportPolicy
from tinygrad_learn.manifest import Course
from tinygrad_learn.paths import Workspace
from tinygrad_learn.runner import expected_tests
from tinygrad_learn.sandbox_warm import WarmGrader


def write_mathy(workspace: Workspace, source: str) -> None:
    (workspace.exercises / "mathy.py").write_text(source, encoding="utf-8")


def alpha(course: Course, workspace: Workspace, seed: int | None = 1):  # type: ignore[no-untyped-def]
    return run_checkpoint(course, workspace, course.get("alpha"), seed)


def allowing(course: Course, *modules: str) -> Course:
    """The course with more modules allowed, so that the run itself meets the code that uses them."""
    return replace(course, allowed_imports=ImportPolicy.of([*DEFAULT_MODULES, *modules]))


def test_correct_code_passes(fixture_course: Course, solved: Workspace) -> None:
    result = alpha(fixture_course, solved)
    assert result.passed
    assert [test.name for test in result.tests] == ["test_double", "test_double_zero"]
    assert all(test.outcome == "passed" for test in result.tests)
    assert result.problem is None and not result.timed_out


def test_stub_fails_with_the_learners_file_and_line(fixture_course: Course, workspace: Workspace) -> None:
    result = alpha(fixture_course, workspace)
    assert not result.passed
    failure = result.tests[0].failure
    assert failure is not None and failure["key"] == "exception"
    assert failure["params"]["type"] == "NotImplementedError"
    assert failure["params"]["where"]["file"] == "exercises/mathy.py"
    assert failure["params"]["where"]["line"] == 3


def test_wrong_value_reports_the_values_used(fixture_course: Course, workspace: Workspace) -> None:
    write_mathy(workspace, "def double(x):\n    return x * 3\n")
    result = alpha(fixture_course, workspace)
    assert not result.passed
    failure = result.tests[0].failure
    assert failure is not None and failure["key"] == "wrong_value"
    assert "x" in failure["params"]["given"]


def test_same_seed_same_values(fixture_course: Course, workspace: Workspace) -> None:
    write_mathy(workspace, "def double(x):\n    return x * 3\n")
    first = alpha(fixture_course, workspace, seed=42).tests[0].failure
    second = alpha(fixture_course, workspace, seed=42).tests[0].failure
    other = alpha(fixture_course, workspace, seed=43).tests[0].failure
    assert first == second
    assert first != other


def test_endless_loop_is_stopped_at_the_time_limit(fixture_course: Course, workspace: Workspace) -> None:
    write_mathy(workspace, "def double(x):\n    while True:\n        pass\n")
    from dataclasses import replace

    from tinygrad_learn.runner import run_suite

    checkpoint = replace(fixture_course.get("alpha"), time_limit=1.0)
    result = run_suite(checkpoint.suite_path, workspace.exercises, fixture_course.solutions, seed=1, time_limit=1.0)
    assert result.timed_out and result.problem == "timeout" and not result.passed
    assert result.problem_detail["clock"] == "cpu"


def test_endless_loop_at_import_is_stopped(fixture_course: Course, workspace: Workspace) -> None:
    from tinygrad_learn.runner import run_suite

    write_mathy(workspace, "while True:\n    pass\n")
    suite = fixture_course.get("alpha").suite_path
    result = run_suite(suite, workspace.exercises, fixture_course.solutions, seed=1, time_limit=1.0)
    assert result.problem == "timeout" and not result.passed


def test_conftest_in_the_workspace_is_ignored(fixture_course: Course, workspace: Workspace) -> None:
    hack = "import pytest\n@pytest.hookimpl(tryfirst=True)\ndef pytest_runtest_call(item):\n    return True\n"
    for folder in (workspace.root, workspace.exercises):
        (folder / "conftest.py").write_text(hack, encoding="utf-8")
        (folder / "pytest.ini").write_text("[pytest]\naddopts = -p no:tinygrad_learn\n", encoding="utf-8")
    result = alpha(fixture_course, workspace)
    assert not result.passed
    assert all(test.outcome == "failed" for test in result.tests)


def test_os_exit_zero_is_not_a_pass(fixture_course: Course, workspace: Workspace) -> None:
    write_mathy(workspace, "import os\ndef double(x):\n    os._exit(0)\n")
    result = alpha(allowing(fixture_course, "os"), workspace)
    assert not result.passed
    assert result.exit_code == 0
    assert result.problem == "interrupted"


def test_sys_exit_zero_is_not_a_pass(fixture_course: Course, workspace: Workspace) -> None:
    write_mathy(workspace, "import sys\ndef double(x):\n    sys.exit(0)\n")
    assert not alpha(fixture_course, workspace).passed


def test_a_skip_counts_as_a_failure(fixture_course: Course, workspace: Workspace) -> None:
    write_mathy(workspace, "import pytest\ndef double(x):\n    pytest.skip('later')\n")
    result = alpha(allowing(fixture_course, "pytest"), workspace)
    assert not result.passed
    assert {test.outcome for test in result.tests} == {"skipped"}


def test_printed_pass_lines_are_not_believed(fixture_course: Course, workspace: Workspace) -> None:
    fake = (
        "import sys\n"
        "print('2 passed in 0.01s')\n"
        'sys.__stdout__.write(\'{"kind": "finish", "exitstatus": 0}\\n\')\n'
        "def double(x):\n    return 0\n"
    )
    write_mathy(workspace, fake)
    assert not alpha(fixture_course, workspace).passed


def test_learner_code_is_not_on_sys_path_and_writes_no_bytecode(fixture_course: Course, solved: Workspace) -> None:
    assert alpha(fixture_course, solved).passed
    assert not (solved.exercises / "__pycache__").exists()


def test_expected_tests_are_read_from_the_suite_source(tmp_path: Path) -> None:
    suite = tmp_path / "test_x.py"
    suite.write_text("def test_a():\n    pass\n\ndef helper():\n    pass\n\nasync def test_b():\n    pass\n")
    assert expected_tests(suite) == ("test_a", "test_b")


CYCLIC_ENGINE = '''
import gc


class Value:
    """micrograd's style: the backward closure refers to its own node, so every node is a cycle."""

    def __init__(self, payload):
        self.payload = payload
        self._backward = lambda: self.payload


def churn(rounds, collector=True):
    """Build and drop graphs holding 20 MB each: 2 GB in all unless cycles are collected."""
    if not collector:
        gc.disable()
    for _ in range(rounds):
        nodes = [Value(bytes(10_000)) for _ in range(2_000)]
    return len(nodes)
'''

CHURN_SUITE = """
from tinygrad_learn.grading.testkit import learner


def test_churn():
    assert learner("mathy").churn(100, collector=COLLECTOR) == 2_000
"""


def churn_with(tmp_path: Path, fixture_course: Course, workspace: Workspace, collector: bool):  # type: ignore[no-untyped-def]
    from tinygrad_learn.runner import run_suite

    write_mathy(workspace, CYCLIC_ENGINE)
    suite = tmp_path / "test_churn.py"
    suite.write_text(CHURN_SUITE.replace("COLLECTOR", str(collector)), encoding="utf-8")
    return run_suite(
        suite,
        workspace.exercises,
        fixture_course.solutions,
        seed=1,
        time_limit=60,
        memory_limit=768 * 1024**2,
        policy=allowing(fixture_course, "gc").allowed_imports,  # the engine turns the collector off
    )


def test_cyclic_garbage_is_still_collected_while_a_test_runs(
    tmp_path: Path, fixture_course: Course, workspace: Workspace
) -> None:
    """The grader makes collections rarer during a test, never absent: a micrograd-style engine
    that leaves 2 GB of cyclic garbage behind, 20 MB at a time, stays under a 768 MB cap."""
    result = churn_with(tmp_path, fixture_course, workspace, collector=True)
    assert result.passed, (result.problem, result.tests)


def test_garbage_never_collected_still_hits_the_memory_cap(
    tmp_path: Path, fixture_course: Course, workspace: Workspace
) -> None:
    result = churn_with(tmp_path, fixture_course, workspace, collector=False)
    assert not result.passed and result.problem == "memory", (result.problem, result.tests)


@pytest.mark.parametrize("copies", [1, 2], ids=["cold", "warm"])
def test_ctrl_c_during_check_all_stops_every_run_under_way(
    copies: int,
    fixture_course: Course,
    workspace: Workspace,
    monkeypatch: pytest.MonkeyPatch,
    warm_processes: list[WarmGrader | None],
) -> None:
    """`check --all` grades side by side in threads, and Ctrl+C reaches only the main one: the
    runs under way in the others must stop too, not compute on to their time limits. With enough
    runs for each thread (each checkpoint twice here), they are forked from warm processes, which
    are stopped too."""
    import os
    import signal
    import threading

    from tinygrad_learn import checking

    write_mathy(workspace, "def double(x):\n    while True:\n        pass\n")
    course = replace(fixture_course, checkpoints=tuple(replace(c, time_limit=60) for c in fixture_course.checkpoints))
    graded = [c for c in course.checkpoints if c.suite_path.is_file()]
    assert len(graded) >= 2
    ended: list[str] = []
    started = threading.Semaphore(0)
    real_graded = checking._graded

    def watched(*args: object, **kwargs: object) -> object:
        started.release()
        try:
            result = real_graded(*args, **kwargs)  # type: ignore[arg-type]
        except KeyboardInterrupt:
            ended.append("stopped")
            raise
        ended.append("ran to its end")
        return result

    monkeypatch.setattr(checking, "_graded", watched)
    # Ctrl+C once two runs are under way: a real SIGINT, which any thread of the process may receive.
    def press_ctrl_c() -> None:
        started.acquire()
        started.acquire()
        os.kill(os.getpid(), signal.SIGINT)

    interrupt = threading.Thread(target=press_ctrl_c)
    interrupt.start()
    with pytest.raises(KeyboardInterrupt):
        checking.check_many(course, workspace, graded * copies, seed=1)
    interrupt.join()
    assert ended and set(ended) == {"stopped"}, ended
    assert len(warm_processes) == (0 if copies == 1 else min(2 * len(graded), checking.available_cores()))
    assert not any(grader.alive or grader.process.returncode is None for grader in warm_processes if grader)
