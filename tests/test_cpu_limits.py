"""Time limits count the work, not the clock: a grading run is stopped once it has used its CPU
limit (threads and child processes included), and only code that sleeps or blocks meets the
wall-clock guard, which is several times larger. A correct engine that is slow on the wall clock
(a busy machine, a pause) still passes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tinygrad_learn.checking_view import problem_text
from tinygrad_learn.grading.allowlist import DEFAULT_MODULES, ImportPolicy
from tinygrad_learn.grading.protocol import Problem
from tinygrad_learn.manifest import Course, load_course
from tinygrad_learn.paths import Workspace
from tinygrad_learn.runner import RunResult, run_suite
from tinygrad_learn.sandbox import run_sandboxed
from tinygrad_learn.sandbox_limits import wall_guard
from tinygrad_learn.terminal import Terminal
from tinygrad_learn.verdict import XCPU_SIGNAL, verdict
from tinygrad_learn.workspace import init_workspace

from .conftest import run_cli

# Four times what grading the fixture's alpha with a correct engine takes (about 0.25 s of CPU,
# the child's start included), so the endless loops below burn little.
LIMIT = 1.0


# What these runs use to spend or hide their time; the course itself allows none of it, and the
# import check would stop them before the limit they are here to meet.
POLICY = ImportPolicy.of([*DEFAULT_MODULES, "threading", "signal", "time"])


def grade(course: Course, workspace: Workspace, source: str, limit: float = LIMIT) -> RunResult:
    (workspace.exercises / "mathy.py").write_text(source, encoding="utf-8")
    suite = course.get("alpha").suite_path
    return run_suite(suite, workspace.exercises, course.solutions, seed=1, time_limit=limit, policy=POLICY)


def stopped_by_cpu(result: RunResult) -> bool:
    detail = result.problem_detail
    return (
        not result.passed
        and result.problem == Problem.TIMEOUT.value
        and detail.get("clock") == "cpu"
        and detail.get("limit") == LIMIT
        and result.cpu_seconds >= LIMIT
    )


def test_an_endless_loop_is_stopped_by_the_cpu_limit(fixture_course: Course, workspace: Workspace) -> None:
    result = grade(fixture_course, workspace, "def double(x):\n    while True:\n        pass\n")
    assert stopped_by_cpu(result), result


def test_an_endless_loop_in_a_thread_counts(fixture_course: Course, workspace: Workspace) -> None:
    source = (
        "import threading\n"
        "def spin():\n    while True:\n        pass\n"
        "def double(x):\n"
        "    worker = threading.Thread(target=spin)\n    worker.start()\n    worker.join()\n"
    )
    assert stopped_by_cpu(grade(fixture_course, workspace, source))


def test_a_busy_child_process_counts(fixture_course: Course, workspace: Workspace) -> None:
    """The run's own process only sleeps: all the work is done by the process it started. Learner
    code can no longer start one (the audit hook refuses it), so the sandbox runs such a program
    directly: its CPU limit must still count every process of the run."""
    busy = (
        "import subprocess, sys, time\n"
        "subprocess.Popen([sys.executable, '-c', 'while True: pass'])\n"
        "time.sleep(10_000)\n"
    )
    run = run_sandboxed(
        lambda scratch: ["-c", busy],
        exercises=workspace.exercises,
        solutions=fixture_course.solutions,
        stdin=b"",
        time_limit=wall_guard(LIMIT),
        cpu_limit=LIMIT,
    )
    assert run.stopped is Problem.TIMEOUT and run.clock == "cpu" and run.cpu_seconds >= LIMIT, run


def test_catching_sigxcpu_does_not_escape_the_limit(fixture_course: Course, workspace: Workspace) -> None:
    source = (
        "import signal\n"
        "signal.signal(signal.SIGXCPU, signal.SIG_IGN)\n"
        "def double(x):\n    while True:\n        pass\n"
    )
    assert stopped_by_cpu(grade(fixture_course, workspace, source))


def test_code_that_sleeps_forever_meets_the_wall_guard(fixture_course: Course, workspace: Workspace) -> None:
    result = grade(fixture_course, workspace, "import time\ndef double(x):\n    time.sleep(10_000)\n", limit=0.5)
    assert not result.passed and result.problem == Problem.TIMEOUT.value
    assert result.problem_detail["clock"] == "wall"
    assert result.problem_detail["limit"] == wall_guard(0.5)
    assert result.cpu_seconds < 0.5


def test_slow_on_the_clock_but_light_on_the_cpu_passes(fixture_course: Course, workspace: Workspace) -> None:
    # Waiting twice as long as the CPU limit, as a correct engine does on a busy machine.
    source = "import time\ndef double(x):\n    time.sleep(2.0)\n    return x * 2\n"
    result = grade(fixture_course, workspace, source)
    assert result.passed, result
    assert result.duration > LIMIT > result.cpu_seconds


def test_a_correct_engine_that_computes_a_while_passes(fixture_course: Course, workspace: Workspace) -> None:
    # About a fifth of a second of real work per call, well under the limit.
    source = "def double(x):\n    total = 0\n    for i in range(2_000_000):\n        total += i\n    return x * 2\n"
    result = grade(fixture_course, workspace, source, limit=5.0)
    assert result.passed, result
    assert 0 < result.cpu_seconds < 5.0


def test_the_run_reports_its_cpu_time(fixture_course: Course, solved: Workspace) -> None:
    suite = fixture_course.get("alpha").suite_path
    result = run_suite(suite, solved.exercises, fixture_course.solutions, seed=1, time_limit=10)
    assert result.passed and 0 < result.cpu_seconds < 10


def test_a_process_the_system_stopped_for_cpu_is_a_cpu_timeout() -> None:
    records = [{"kind": "test", "name": "test_a", "when": "call", "outcome": "passed"}]
    result = verdict(("test_a",), records, 1, 3.0, -XCPU_SIGNAL, False, 2.0, "", 2**30, cpu_seconds=2.4)
    assert result.problem == "timeout" and result.problem_detail["clock"] == "cpu" and not result.passed


def test_the_message_names_the_limit_that_was_hit(
    fixture_course: Course, tmp_path: Path, cli, monkeypatch: pytest.MonkeyPatch  # type: ignore[no-untyped-def]
) -> None:
    course = tmp_path / "course"
    shutil.copytree(fixture_course.root, course)
    manifest = course / "checkpoints.yaml"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace("time_limit: 10", "time_limit: 1", 1), "utf-8")
    monkeypatch.setenv("TINYGRAD_LEARN_COURSE", str(course))
    workspace = init_workspace(load_course(course), tmp_path / "mine")
    monkeypatch.chdir(workspace.root)
    (workspace.exercises / "mathy.py").write_text("def double(x):\n    while True:\n        pass\n", encoding="utf-8")
    english = run_cli(cli, "check", "alpha")
    assert english.exit_code == 1
    assert "computed for more than 1 s of CPU time" in english.output
    korean = run_cli(cli, "--lang", "ko", "check", "alpha")
    assert "CPU 시간으로 1초 넘게 계산해서" in korean.output


def test_the_wall_guard_has_its_own_message() -> None:
    detail = {"limit": 14.0, "clock": "wall", "cpu_limit": 1.0, "wall_limit": 14.0}
    result = RunResult(False, (), 1, 14.0, timed_out=True, problem="timeout", problem_detail=detail)
    assert "waited or slept for more than 14 s" in problem_text(Terminal("en"), result)
    assert "14초 넘게 기다리거나 잠들어 있어서" in problem_text(Terminal("ko"), result)
