"""Gradient mismatches point at the backward code of the operations involved, found with ast."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tinygrad_learn import runner
from tinygrad_learn.checking import locate_backward
from tinygrad_learn.manifest import Course
from tinygrad_learn.paths import Workspace
from tinygrad_learn.sourcemap import (
    backward_locations,
    definitions,
    find,
    ops_in_expression,
)

from .conftest import run_cli
from .engine_course import REFERENCE_ENGINE, engine_workspace

# A checkpoint whose suite compares gradients through testkit.expect_grads(..., ops=[...]).
GAMMA = """
  - id: gamma
    stage: {en: "Step", ko: "단계"}
    title: {en: "Products", ko: "곱"}
    lesson: lessons/alpha
    files: [engine.py]
    tasks: [Value.__mul__, Value.tanh]
    suite: test_gamma.py
    time_limit: 10
    hints:
      - {en: "One.", ko: "하나."}
      - {en: "Two.", ko: "둘."}
      - {en: "Three.", ko: "셋."}
"""

GAMMA_SUITE = """
from tinygrad_learn.grading.testkit import expect_grads, learner, need


def test_product_gradients(rng):
    Value = need(learner("engine"), "Value")
    x, y = rng.uniform(0.5, 2), rng.uniform(0.5, 2)
    a, b = Value(x), Value(y)
    (a * b).tanh().backward()
    import math
    d = 1 - math.tanh(x * y) ** 2
    expect_grads({"a": a.grad, "b": b.grad}, {"a": d * y, "b": d * x}, expr="tanh(a * b)",
                 given={"a": x, "b": y}, ops=["__mul__", "tanh"])
"""


@pytest.fixture
def gamma(tmp_path, monkeypatch) -> Workspace:  # type: ignore[no-untyped-def]
    return engine_workspace(tmp_path, monkeypatch, GAMMA, {"suites/test_gamma.py": GAMMA_SUITE})


def line_of(source: str, text: str) -> int:
    return source.splitlines().index(text) + 1


def test_definitions_and_lookup() -> None:
    source = REFERENCE_ENGINE.read_text(encoding="utf-8")
    defs = definitions(source)
    assert defs is not None
    mul = find(defs, "__mul__")
    assert mul is not None and mul.qualname == "Value.__mul__"
    assert mul.start == line_of(source, "    def __mul__(self, other):")
    assert find(defs, "Value.__slots__") is not None
    assert find(defs, "SimpleValue.__init__") is not None and find(defs, "Nope.__init__") is None
    assert definitions("def broken(:\n") is None


def test_an_unparseable_file_gives_no_location(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "engine.py").write_text("class Value:\n    def __mul__(self, other:\n", encoding="utf-8")
    assert backward_locations(tmp_path, ("engine.py",), ["__mul__"]) == []
    assert backward_locations(tmp_path, ("missing.py",), ["__mul__"]) == []


def test_a_wrong_backward_is_pointed_at(cli: CliRunner, gamma: Workspace) -> None:
    source = REFERENCE_ENGINE.read_text(encoding="utf-8").replace(
        "self.grad += other.data * out.grad", "self.grad += other.data"
    )
    (gamma.exercises / "engine.py").write_text(source, encoding="utf-8")
    result = run_cli(cli, "check", "gamma")
    assert result.exit_code == 1, result.output
    assert "do not match the numerical estimates" in result.output
    assert "Check the backward of:" in result.output
    mul_line = line_of(source, "    def __mul__(self, other):")
    tanh_line = line_of(source, "    def tanh(self):")
    assert f"exercises/engine.py:{mul_line} Value.__mul__" in result.output
    assert f"exercises/engine.py:{tanh_line} Value.tanh" in result.output
    report = json.loads(run_cli(cli, "check", "gamma", "--json").stdout)
    params = report["results"][0]["tests"][0]["failure"]["params"]
    assert params["ops"] == ["__mul__", "tanh"]
    expected = {"file": "exercises/engine.py", "line": mul_line, "name": "Value.__mul__"}
    assert params["backward_at"][0] == expected


def test_korean_heading(cli: CliRunner, gamma: Workspace) -> None:
    source = REFERENCE_ENGINE.read_text(encoding="utf-8")
    source = source.replace("(1 - t * t) * out.grad", "(1 - t) * out.grad")
    (gamma.exercises / "engine.py").write_text(source, encoding="utf-8")
    result = run_cli(cli, "--lang", "ko", "check", "gamma")
    assert result.exit_code == 1
    assert "다음 backward를 확인하세요:" in result.output and "Value.tanh" in result.output


def test_a_correct_engine_passes(cli: CliRunner, gamma: Workspace) -> None:
    (gamma.exercises / "engine.py").write_text(REFERENCE_ENGINE.read_text(encoding="utf-8"), encoding="utf-8")
    result = run_cli(cli, "check", "gamma")
    assert result.exit_code == 0, result.output


def test_operations_are_read_from_the_expression_text() -> None:
    assert ops_in_expression("c = a * b; c.backward()") == ["__mul__"]
    assert ops_in_expression("tanh(a * b) * (a + b)") == ["__mul__", "tanh", "__add__"]
    in_order = ["__rmul__", "__mul__", "__pow__", "__sub__", "exp"]
    assert ops_in_expression("d = 2 * a - b ** 2; e = d.exp()") == in_order
    assert ops_in_expression("b = -a") == ["__neg__"]
    assert ops_in_expression("b = a * -2.0") == ["__mul__"]
    assert ops_in_expression("not python (") == []


def test_suites_that_name_no_operations_still_get_locations(fixture_course: Course, tmp_path: Path) -> None:
    (tmp_path / "engine.py").write_text(REFERENCE_ENGINE.read_text(encoding="utf-8"), encoding="utf-8")
    failure = {"key": "grad_mismatch", "params": {"expr": "c = a * b; c.backward()", "rows": []}}
    other = {"key": "wrong_value", "params": {"expr": "c = a * b"}}
    tests = (
        runner.TestOutcome("test_grads", "failed", failure),
        runner.TestOutcome("test_x", "failed", other),
    )
    result = runner.RunResult(False, tests, 1, 0.1)
    checkpoint = replace(fixture_course.get("alpha"), files=("engine.py",))
    located = locate_backward(result, checkpoint, tmp_path)
    first, second = located.tests
    assert first.failure is not None
    assert [place["name"] for place in first.failure["params"]["backward_at"]] == ["Value.__mul__"]
    assert second == result.tests[1]
    passing = replace(result, tests=(runner.TestOutcome("test_x", "passed"),))
    assert locate_backward(passing, checkpoint, tmp_path) is passing


def test_check_and_verify_serialise_the_same_report(cli: CliRunner, gamma: Workspace) -> None:
    """Both take the report as `check` finished it: locations included, one JSON object."""
    engine = gamma.exercises / "engine.py"
    engine.write_text(REFERENCE_ENGINE.read_text(encoding="utf-8"), encoding="utf-8")
    assert run_cli(cli, "check", "gamma").exit_code == 0
    progress = gamma.progress_file.read_bytes()
    engine.write_text(engine.read_text(encoding="utf-8").replace("other.data * out.grad", "other.data"), "utf-8")

    checked = json.loads(run_cli(cli, "check", "gamma", "--json", "--seed", "7").stdout)["results"]
    gamma.progress_file.write_bytes(progress)  # passed again, so that verify re-checks it
    verified = json.loads(run_cli(cli, "verify", "--json", "--seed", "7").stdout)["results"]

    assert [report["id"] for report in verified] == ["gamma"]
    for report in (checked[0], verified[0]):
        assert report.pop("duration") >= 0
    assert verified[0] == checked[0]
    assert checked[0]["outcome"] == "regressed"
    assert checked[0]["tests"][0]["failure"]["params"]["backward_at"][0]["name"] == "Value.__mul__"
