"""The import check: what learner code may use, read from its source before any of it runs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from tinygrad_learn.grading.allowlist import ImportPolicy, screen, screen_source
from tinygrad_learn.manifest import load_course, parse_course
from tinygrad_learn.paths import Workspace, course_root
from tinygrad_learn.workspace import init_workspace

from .conftest import FIXTURE_COURSE, run_cli

MICROGRAD_STYLE = Path(__file__).parent / "fixtures" / "micrograd_style"
POLICY = load_course(course_root()).allowed_imports


def refused(source: str, file: str = "exercises/engine.py") -> tuple[str, str] | None:
    refusal = screen_source(source.encode(), file, POLICY)
    return None if refusal is None else (refusal.name, refusal.reason)


@pytest.mark.parametrize(
    ("source", "name", "reason"),
    [
        ("import gc", "gc", "module"),
        ("import sys", "sys", "module"),
        ("import os.path", "os.path", "module"),
        ("from importlib import util", "importlib", "module"),
        ("import importlib.util", "importlib.util", "module"),
        ("import ctypes", "ctypes", "module"),
        ("import inspect", "inspect", "module"),
        ("from numpy import ctypeslib", "numpy.ctypeslib", "module"),
        ("import pytest", "pytest", "module"),
        ("x = __import__('o' + 's')", "__import__", "name"),
        ("x = getattr(f, '__clo' + 'sure__')", "getattr", "computed_attribute"),
        ("setattr(f, name, value)", "setattr", "computed_attribute"),
        ("look = getattr", "getattr", "computed_attribute"),
        ("x = f.__closure__", "__closure__", "attribute"),
        ("x = getattr(f, '__globals__')", "__globals__", "attribute"),
        ("x = type(v).__subclasses__()", "__subclasses__", "attribute"),
        ("x = vars(__builtins__)", "__builtins__", "name"),
        ("x = vars()", "vars", "name"),
        ("eval('1 + 1')", "eval", "name"),
        ("exec('x = 1')", "exec", "name"),
        ("g = globals()", "globals", "name"),
        ("f.__code__ = g.__code__", "__code__", "attribute"),
        ("x = \uff45\uff56\uff41\uff4c('1')", "eval", "name"),
        (
            "def f():\n    if x:\n        try:\n            import gc\n        except Exception:\n            pass",
            "gc",
            "module",
        ),
    ],
)
def test_the_machinery_is_refused(source: str, name: str, reason: str) -> None:
    assert refused(source) == (name, reason)


@pytest.mark.parametrize(
    "source",
    [
        "import math\nimport random\nimport numpy as np\nfrom numpy.lib.stride_tricks import sliding_window_view",
        "from . import engine\nfrom .engine import Value",
        "from contextlib import contextmanager\nfrom functools import reduce\nfrom collections import deque",
        "class V:\n    __slots__ = ('data',)\n    def __repr__(self):\n        return f'{self.__class__.__name__}()'",
        "def named(self):\n    return vars(self).items()",
        "x = getattr(self, 'weight', None)\nhasattr(v, '_prev')",
        "from math import *",
    ],
)
def test_what_an_engine_uses_is_accepted(source: str) -> None:
    assert refused(source) is None


@pytest.mark.parametrize(
    ("source", "name"),
    [
        ("import math; import os", "os"),
        ("import math, \\\n    os", "os"),
        ("from math import (\n    sqrt,\n)\nfrom os import (\n    path,\n)", "os"),
        ("if True: import os", "os"),
        ("import math\rimport os", "os"),
        ("import math # fine\rimport os", "os"),
        ("# -*- coding: utf-7 -*-\n+AGk-mport os", "os"),
        ("import\tmath,\tos as path", "os"),
    ],
)
def test_imports_that_a_line_by_line_reading_would_miss_are_refused(source: str, name: str) -> None:
    """Plain one-line imports are settled without the syntax tree (grading/allowlist.py); every
    other spelling of an import statement must reach the tree and be refused all the same."""
    assert refused(source) == (name, "module")


def test_the_line_by_line_reading_agrees_with_the_syntax_tree_on_every_file_here() -> None:
    """Over every Python file of the course, its tests and its exploit corpus: the shortcut and the
    syntax tree alone give the same verdict, under the course's list and under a list of nothing."""
    from tinygrad_learn.grading import allowlist

    root = course_root()
    files = [path for folder in ("solutions", "exercises", "tests") for path in (root / folder).rglob("*.py")]
    assert len(files) > 100
    strict = ImportPolicy.of([])
    for path in files:
        source = path.read_bytes()
        for policy in (POLICY, strict):
            with pytest.MonkeyPatch.context() as patch:
                patch.setattr(allowlist, "_imports_plainly_allowed", lambda *_: False)
                by_tree = screen_source(source, path.name, policy)
            assert screen_source(source, path.name, policy) == by_tree, path


def test_pytest_is_allowed_in_the_learners_own_tests_only() -> None:
    assert refused("import pytest", "exercises/test_my_engine.py") is None
    assert refused("import pytest", "exercises/engine.py") == ("pytest", "module")


def test_the_reference_solutions_and_a_micrograd_engine_pass_unchanged() -> None:
    course = load_course(course_root())
    assert screen(course.solutions, POLICY) is None
    assert screen(course.root / "exercises", POLICY) is None
    assert screen(MICROGRAD_STYLE, POLICY) is None


def test_source_too_deep_to_read_is_left_to_the_grading_run_not_raised() -> None:
    """Python cannot compile it either, so nothing of it can run: the grading run reports the
    error in the learner's terms (tests/exploits/cases/source_deep_expression)."""
    source = ("x = " + "-" * 200_000 + "1").encode()
    with pytest.raises((RecursionError, MemoryError, SyntaxError)):
        compile(source, "engine.py", "exec", dont_inherit=True)
    assert screen_source(source, "exercises/engine.py", POLICY) is None


def test_a_course_can_allow_more(tmp_path: Path) -> None:
    data = yaml.safe_load((FIXTURE_COURSE / "checkpoints.yaml").read_text(encoding="utf-8"))
    data["allowed_imports"] = {"modules": ["math", "sympy"]}
    policy = parse_course(data, FIXTURE_COURSE).allowed_imports
    assert policy.allows("sympy.core", in_test_file=False)
    assert not policy.allows("random", in_test_file=False)
    assert policy.allows("pytest", in_test_file=True)
    assert ImportPolicy.from_text(policy.as_text()) == policy


@pytest.mark.parametrize("bad", [["os", 3], "math", {"modules": ["a b"]}, {"other": []}])
def test_a_malformed_list_is_a_manifest_error(bad: object) -> None:
    data = yaml.safe_load((FIXTURE_COURSE / "checkpoints.yaml").read_text(encoding="utf-8"))
    data["allowed_imports"] = bad if isinstance(bad, dict) else {"modules": bad}
    with pytest.raises(Exception, match="allowed_imports"):
        parse_course(data, FIXTURE_COURSE)


def test_a_refusal_costs_no_run_and_names_file_line_and_name(
    cli: CliRunner, workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    (workspace.exercises / "mathy.py").write_text("import gc\n\n\ndef double(x):\n    return 2 * x\n", encoding="utf-8")
    result = run_cli(cli, "check", "alpha")
    assert result.exit_code == 1, result.output
    assert "exercises/mathy.py, line 1, uses `gc`" in result.output
    report = json.loads(run_cli(cli, "check", "alpha", "--json").stdout)["results"][0]
    assert report["problem"] == "forbidden" and report["tests"] == []
    korean = run_cli(cli, "--lang", "ko", "check", "alpha")
    expected = "exercises/mathy.py, 1번째 줄: 이 과정의 코드에서는 `gc` 사용이 허용되지 않습니다"
    assert expected in " ".join(korean.output.split())


def test_a_micrograd_engine_is_graded_not_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    course = load_course(course_root())
    workspace = init_workspace(course, tmp_path / "learner")
    shutil.copyfile(MICROGRAD_STYLE / "engine.py", workspace.exercises / "engine.py")
    monkeypatch.chdir(workspace.root)
    result = run_cli(CliRunner(), "check", "step2", "--json")
    assert json.loads(result.stdout)["results"][0]["problem"] is None, result.output
