"""What the hidden suites use to load the learner's code and to fail in the learner's terms.

Every failure a suite raises is a `CheckFailed` carrying a message key and plain parameters. The
grading plugin sends the key and parameters to the CLI, which renders them in the learner's
language; suites therefore never write prose of their own except through `Msg` (both languages).
"""

from __future__ import annotations

import importlib
import importlib.util
import math
import os
import sys
import types
import uuid
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from tinygrad_learn.grading import EXERCISES_ENV, SOLUTIONS_ENV

REPR_LIMIT = 200


class Msg:
    """A sentence in both languages, for messages no generic key covers."""

    def __init__(self, en: str, ko: str) -> None:
        self.en = en
        self.ko = ko

    def as_params(self) -> dict[str, str]:
        return {"en": self.en, "ko": self.ko}


class CheckFailed(AssertionError):
    """A check in a hidden suite did not hold; `key` names the message, `params` fill it in."""

    def __init__(self, key: str, **params: Any) -> None:
        self.key = key
        self.params = {name: _plain(value) for name, value in params.items()}
        super().__init__(f"{key}: {self.params}")


def _plain(value: Any) -> Any:
    """Turn a parameter into something JSON can carry without running learner code twice."""
    if isinstance(value, Msg):
        return value.as_params()
    if value is None or type(value) in (bool, int, str):
        return value
    if type(value) is float:
        return show(value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if type(value) in (list, tuple):
        return [_plain(v) for v in value]
    return show(value)


def show(value: Any) -> str:
    """A short repr that survives learner objects whose repr is broken or enormous."""
    if type(value) is float:
        if math.isfinite(value) and value == int(value) and abs(value) < 1e15:
            return repr(value)
        return f"{value:.10g}"
    try:
        text = repr(value)
    except Exception as error:  # learner __repr__ may raise anything
        text = f"<{type(value).__name__} whose repr raised {type(error).__name__}>"
    if not isinstance(text, str):
        text = f"<{type(value).__name__}>"
    if len(text) > REPR_LIMIT:
        text = text[: REPR_LIMIT - 3] + "..."
    return text


def fail(key: str, **params: Any) -> None:
    raise CheckFailed(key, **params)


def fail_with(message: Msg, **params: Any) -> None:
    """Fail with a sentence of the suite's own; `{name}` fields are filled from params."""
    raise CheckFailed("custom", message=message, **params)


# ---------------------------------------------------------------------------------------------
# Loading the learner's files


_package_names: dict[tuple[str, str], str] = {}


def _load_package(directory: Path, label: str, overrides: Mapping[str, types.ModuleType]) -> str:
    """Import `directory` as a package under a fresh name, so it never touches sys.path."""
    name = f"_tinygrad_learn_{label}_{uuid.uuid4().hex[:8]}"
    init = directory / "__init__.py"
    spec = importlib.util.spec_from_file_location(
        name,
        init if init.exists() else None,
        submodule_search_locations=[str(directory)],
    )
    if spec is None:
        raise ImportError(f"cannot load {directory}")
    package = importlib.util.module_from_spec(spec)
    sys.modules[name] = package
    for sub_name, module in overrides.items():
        sys.modules[f"{name}.{sub_name}"] = module
        setattr(package, sub_name, module)
    if spec.loader is not None:
        spec.loader.exec_module(package)
    return name


def _directory(env_name: str) -> Path:
    value = os.environ.get(env_name)
    if not value:
        raise RuntimeError(f"{env_name} is not set; run the suite through tinygrad-learn")
    return Path(value)


def learner(module: str) -> types.ModuleType:
    """The learner's `exercises/<module>.py`, imported once per run under a fresh package name.

    Inside the exercises the learner imports siblings relatively (`from .engine import Value`).
    """
    return _module_from(EXERCISES_ENV, "learner", module)


def reference(module: str) -> types.ModuleType:
    """The course's own `solutions/<module>.py`, for comparisons and for grading learner tests."""
    return _module_from(SOLUTIONS_ENV, "reference", module)


def _module_from(env_name: str, label: str, module: str) -> types.ModuleType:
    directory = _directory(env_name)
    key = (str(directory), label)
    if key not in _package_names:
        _package_names[key] = _load_package(directory, label, {})
    return importlib.import_module(f"{_package_names[key]}.{module}")


def learner_file_with(module: str, replacements: Mapping[str, types.ModuleType]) -> types.ModuleType:
    """Load a learner file afresh while its sibling imports resolve to `replacements`.

    Used to run the learner's own tests against the reference engine and against broken ones:
    `learner_file_with("test_my_engine", {"engine": broken_engine})`.
    """
    package = _load_package(_directory(EXERCISES_ENV), "variant", replacements)
    return importlib.import_module(f"{package}.{module}")


def module_from_source(source: str, name: str = "variant") -> types.ModuleType:
    """Build a module from source text (for example a deliberately broken reference engine)."""
    module = types.ModuleType(f"_tinygrad_learn_{name}_{uuid.uuid4().hex[:8]}")
    exec(compile(source, f"<{name}>", "exec"), module.__dict__)
    return module


def exercise_path(module: str) -> Path:
    return _directory(EXERCISES_ENV) / f"{module}.py"


def solution_path(module: str) -> Path:
    return _directory(SOLUTIONS_ENV) / f"{module}.py"


def need(module: types.ModuleType, name: str) -> Any:
    """`module.name`, or a failure that tells the learner what to define and where."""
    if not hasattr(module, name):
        fail("missing", what=name, file=_short_file(module))
    return getattr(module, name)


def need_attr(obj: Any, attr: str, what: str) -> Any:
    if not hasattr(obj, attr):
        fail("missing_attr", what=what, attr=attr)
    return getattr(obj, attr)


def _short_file(module: types.ModuleType) -> str:
    file = getattr(module, "__file__", None) or module.__name__
    return f"exercises/{Path(file).name}"


# ---------------------------------------------------------------------------------------------
# Checks


def expect_type(obj: Any, expected: type | tuple[type, ...], what: str) -> None:
    """Exact type: a subclass, or an object that pretends to be equal to everything, fails."""
    wanted = expected if isinstance(expected, tuple) else (expected,)
    if type(obj) not in wanted:
        fail(
            "wrong_type",
            what=what,
            expected=" or ".join(t.__name__ for t in wanted),
            got=type(obj).__name__,
            value=obj,
        )


def expect_number(value: Any, what: str) -> float:
    """A plain int or float (bool and subclasses refused); returned as a float."""
    if type(value) not in (int, float):
        fail("wrong_type", what=what, expected="float", got=type(value).__name__, value=value)
    return float(value)


def expect_close(
    actual: Any,
    expected: float,
    what: str,
    *,
    expr: str = "",
    given: Mapping[str, Any] | None = None,
    tol: float = 1e-9,
) -> None:
    """`actual` is a plain number within `tol` (relative or absolute) of `expected`."""
    got = expect_number(actual, what)
    if not _close(got, expected, tol):
        fail("wrong_value", what=what, expected=expected, got=actual, expr=expr, given=given or {})


def expect_equal(
    actual: Any, expected: Any, what: str, *, expr: str = "", given: Mapping[str, Any] | None = None
) -> None:
    """Exact equality for plain data; the comparison is made on `expected`'s type first."""
    if type(actual) is not type(expected) or actual != expected:
        fail("wrong_value", what=what, expected=expected, got=actual, expr=expr, given=given or {})


def expect_true(condition: bool, message: Msg, **params: Any) -> None:
    if condition is not True:
        fail_with(message, **params)


def _close(a: float, b: float, tol: float) -> bool:
    if not (math.isfinite(a) and math.isfinite(b)):
        # A relative tolerance scaled by an infinity would accept anything.
        return a == b
    return abs(a - b) <= tol * max(1.0, abs(a), abs(b))


def numeric_grad(f: Callable[..., float], point: Iterable[float], h: float = 1e-6) -> list[float]:
    """Central differences of a plain-number function at `point`, one per argument."""
    xs = list(point)
    grads = []
    for i in range(len(xs)):
        up = xs.copy()
        down = xs.copy()
        up[i] += h
        down[i] -= h
        grads.append((f(*up) - f(*down)) / (2 * h))
    return grads


def expect_grads(
    autograd: Mapping[str, Any],
    numeric: Mapping[str, float],
    *,
    expr: str,
    given: Mapping[str, Any],
    tol: float = 1e-5,
    ops: Iterable[str] = (),
    expected_from: str = "",
) -> None:
    """Compare autograd gradients with reference or numerical ones, input by input.

    On a mismatch the failure carries a row per input (autograd, expected, difference), which
    the CLI shows as a table. `ops` names the methods whose backward the expression uses
    (`["__mul__", "tanh"]`); the CLI then points at them in the learner's file. `expected_from`
    says how the expected values were obtained ("numerical", "reference" engine, "formula"),
    for the table's legend.
    """
    rows = []
    wrong = False
    for name, expected in numeric.items():
        got = autograd[name]
        if type(got) not in (int, float):
            fail("wrong_type", what=f"{name}.grad", expected="float", got=type(got).__name__, value=got)
        diff = float(got) - expected
        bad = not _close(float(got), expected, tol)
        wrong = wrong or bad
        rows.append({"name": f"{name}.grad", "autograd": got, "numeric": expected, "diff": diff, "wrong": bad})
    if wrong:
        op_names = [str(op) for op in ops]
        named: dict[str, Any] = {"ops": op_names} if op_names else {}
        if expected_from:
            named["expected_from"] = expected_from
        fail("grad_mismatch", expr=expr, given=given, rows=rows, **named)
