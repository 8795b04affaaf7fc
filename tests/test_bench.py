"""`bench`: the learner's engine timed beside the course's, in worker processes that may fail."""

from __future__ import annotations

import shutil
import sys
import time

import pytest
from typer.testing import CliRunner

from tinygrad_learn import bench
from tinygrad_learn.bench import growth_exponent
from tinygrad_learn.paths import Workspace

from .conftest import run_cli
from .engine_course import REFERENCE_ENGINE, engine_workspace, replace_backward

RECURSIVE_BACKWARD = """    def backward(self):
        topo = []
        visited = set()

        def build(v):
            if v not in visited:
                visited.add(v)
                for child in v._prev:
                    build(child)
                topo.append(v)

        build(self)
        self.grad = 1.0
        for node in reversed(topo):
            node._backward()
"""

QUADRATIC_BACKWARD = """    def backward(self):
        topo = []
        stack = [(self, False)]
        while stack:
            node, done = stack.pop()
            if done:
                if node not in topo:
                    topo.append(node)
                continue
            stack.append((node, True))
            for child in node._prev:
                if child not in topo:
                    stack.append((child, False))
        self.grad = 1.0
        for node in reversed(topo):
            node._backward()
"""

ENDLESS_BACKWARD = """    def backward(self):
        while True:
            pass
"""


@pytest.fixture
def engine(tmp_path, monkeypatch) -> Workspace:  # type: ignore[no-untyped-def]
    return engine_workspace(tmp_path, monkeypatch)


def test_growth_exponent_is_the_log_log_slope() -> None:
    assert growth_exponent([(1_000, 1e-3), (10_000, 1e-2), (100_000, 1e-1)]) == pytest.approx(1.0)
    assert growth_exponent([(1_000, 1e-3), (10_000, 1e-1)]) == pytest.approx(2.0)
    # Sizes below 1,000 are left out once two larger ones exist: fixed costs dominate them.
    assert growth_exponent([(100, 5e-4), (1_000, 1e-3), (10_000, 1e-2)]) == pytest.approx(1.0)
    assert growth_exponent([(100, 1e-4), (1_000, 1e-2)]) == pytest.approx(2.0)
    assert growth_exponent([(1_000, 1e-3)]) is None


def test_reference_engine_side_by_side(cli: CliRunner, engine: Workspace) -> None:
    shutil.copy(REFERENCE_ENGINE, engine.exercises / "engine.py")
    result = run_cli(cli, "bench", "--up-to", "1000")
    assert result.exit_code == 0, result.output
    assert "Your engine" in result.output and "Course's engine" in result.output
    assert "linear" in result.output and "binary tree" in result.output and "1,000" in result.output
    assert "10,000" not in result.output
    assert result.output.count(" ms") >= 8
    assert "Memory per node" in result.output and "bytes" in result.output
    assert "No problem found" in result.output


@pytest.mark.skipif(sys.platform == "win32", reason="Windows times the engine on the wall clock")
def test_time_the_engine_waits_for_a_core_does_not_count() -> None:
    # What a busy machine does to a measurement: the process waits while others compute. Counted,
    # such a wait during the larger graph would read as growth of a correct engine.
    began = bench._CLOCK()
    time.sleep(0.2)
    assert bench._CLOCK() - began < 0.05


def test_stub_engine_is_not_ready(cli: CliRunner, engine: Workspace) -> None:
    result = run_cli(cli, "bench", "--up-to", "1000")
    assert result.exit_code == 1
    assert "cannot run the benchmark yet" in result.output
    assert "Not written yet: step2: write Value.__init__" in result.output
    assert "at exercises/engine.py:" in result.output
    assert "Course's engine" not in result.output


def test_recursive_topological_sort_is_explained(cli: CliRunner, engine: Workspace) -> None:
    replace_backward(engine, RECURSIVE_BACKWARD)
    result = run_cli(cli, "bench", "--up-to", "1000")
    assert result.exit_code == 0, result.output
    assert "RecursionError" in result.output
    assert "explicit stack" in result.output


def test_quadratic_growth_is_warned_about(cli: CliRunner, engine: Workspace) -> None:
    replace_backward(engine, QUADRATIC_BACKWARD)
    result = run_cli(cli, "bench", "--up-to", "1000")
    assert result.exit_code == 0, result.output
    assert "clearly worse than linear" in result.output
    assert "Keep the visited nodes in a set" in result.output


def test_a_hanging_engine_is_stopped(cli: CliRunner, engine: Workspace) -> None:
    replace_backward(engine, ENDLESS_BACKWARD)
    result = run_cli(cli, "bench", "--up-to", "1000", "--limit", "0.5")
    assert result.exit_code == 0, result.output
    assert "> 0.5 s" in result.output
    assert "skipped" in result.output


def test_korean(cli: CliRunner, engine: Workspace) -> None:
    shutil.copy(REFERENCE_ENGINE, engine.exercises / "engine.py")
    result = run_cli(cli, "--lang", "ko", "bench", "--up-to", "100")
    assert result.exit_code == 0, result.output
    assert "내 엔진" in result.output and "기준 엔진" in result.output and "노드당 메모리" in result.output


def test_missing_engine_file_is_a_setup_error(cli: CliRunner, engine: Workspace) -> None:
    (engine.exercises / "engine.py").unlink()
    result = run_cli(cli, "bench")
    assert result.exit_code == 2
    assert "exercises/engine.py is missing" in result.output
