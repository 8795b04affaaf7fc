"""Where things are defined in a course file, found with `ast` (the file is never imported or run).

Used to point a gradient mismatch at the learner's backward code (`exercises/engine.py:48
Value.__mul__`), and to cut a reference solution down to the parts a checkpoint asks for.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import TinygradLearnError
from .learnerfiles import read_learner_file


@dataclass(frozen=True)
class Definition:
    """A function, method, class or class attribute: `qualname` is `Value.__mul__` or `f1`."""

    qualname: str
    start: int
    end: int
    """First and last line, counted from 1, decorators included."""


def definitions(source: str) -> tuple[Definition, ...] | None:
    """Top-level functions and classes, methods and class attributes; None if the source does not parse."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):  # nested too deeply to parse
        return None
    found: list[Definition] = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found.append(_definition(node.name, node))
        if isinstance(node, ast.ClassDef):
            for member in node.body:
                for name in _member_names(member):
                    found.append(_definition(f"{node.name}.{name}", member))
    return tuple(found)


def _member_names(member: ast.stmt) -> list[str]:
    if isinstance(member, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [member.name]
    if isinstance(member, ast.Assign):
        return [target.id for target in member.targets if isinstance(target, ast.Name)]
    if isinstance(member, ast.AnnAssign) and isinstance(member.target, ast.Name):
        return [member.target.id]
    return []


def _definition(qualname: str, node: ast.stmt) -> Definition:
    decorators = getattr(node, "decorator_list", [])
    start = min([node.lineno, *(d.lineno for d in decorators)])
    return Definition(qualname, start, node.end_lineno or node.lineno)


def find(defs: tuple[Definition, ...], name: str) -> Definition | None:
    """`Value.__mul__` exactly; a bare `__mul__` as a method of any class (Value first) or a function."""
    exact = [d for d in defs if d.qualname == name]
    if exact or "." in name:
        return exact[0] if exact else None
    methods = [d for d in defs if d.qualname.endswith(f".{name}")]
    methods.sort(key=lambda d: not d.qualname.startswith("Value."))
    return methods[0] if methods else None


# ---------------------------------------------------------------------------------------------
# Gradient mismatches: where the backward code of the operations involved lives


def backward_locations(exercises: Path, files: tuple[str, ...], ops: list[Any]) -> list[dict[str, Any]]:
    """For each operation a suite named, the first graded file and line that defines it."""
    parsed: list[tuple[str, tuple[Definition, ...]]] = []
    for name in files:
        if not name.endswith(".py"):
            continue
        try:
            # Through learnerfiles: a pipe or a huge file in its place must never stall the tool.
            data = read_learner_file(exercises / name, exercises.parent)
            defs = None if data is None else definitions(data.decode("utf-8"))
        except (TinygradLearnError, UnicodeDecodeError):
            continue
        if defs is not None:
            parsed.append((name, defs))
    locations = []
    for op in ops:
        for name, defs in parsed:
            found = find(defs, str(op))
            if found is not None:
                locations.append({"file": f"exercises/{name}", "line": found.start, "name": found.qualname})
                break
    return locations


_BINARY = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "truediv", ast.Pow: "pow"}
_METHODS = ("tanh", "exp", "log", "relu", "sigmoid", "leaky_relu")


def ops_in_expression(expression: str) -> list[str]:
    """The operations a suite's expression text uses (`c = 2 * a; d = c.tanh()`), as method names.

    Parsed, never run; an expression that does not parse names nothing.
    """
    try:
        tree = ast.parse(expression)
    except (SyntaxError, ValueError):
        return []
    used: list[tuple[tuple[int, int], list[str]]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            op = _BINARY[type(node.op)]
            reflected = isinstance(node.left, ast.Constant) and op != "pow"
            used.append((_position(node), [f"__r{op}__", f"__{op}__"] if reflected else [f"__{op}__"]))
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            if not isinstance(node.operand, ast.Constant):  # -2.0 is a number, not a negation
                used.append((_position(node), ["__neg__"]))
        elif isinstance(node, ast.Call):
            called = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if called in _METHODS:
                used.append((_position(node), [called]))
    found: list[str] = []
    for _, names in sorted(used):
        found += [name for name in names if name not in found]
    return found


def _position(node: ast.expr) -> tuple[int, int]:
    """Where an operation ends: sorting by it lists operations in the order Python runs them."""
    return node.end_lineno or node.lineno, node.end_col_offset or node.col_offset


def with_backward_at(failure: dict[str, Any] | None, exercises: Path, files: tuple[str, ...]) -> dict[str, Any] | None:
    """A gradient mismatch, pointed at the code of the operations involved (`params.backward_at`);
    any other failure, unchanged and the very same object.

    The operations are those the suite named (`expect_grads(..., ops=[...])`), else those its
    expression text uses.
    """
    params = (failure or {}).get("params")
    if failure is None or failure.get("key") != "grad_mismatch" or not isinstance(params, dict):
        return failure
    ops = params.get("ops")
    if not (isinstance(ops, list) and ops):
        ops = ops_in_expression(str(params.get("expr", "")))
    if not ops:
        return failure
    return {**failure, "params": {**params, "backward_at": backward_locations(exercises, files, ops)}}
