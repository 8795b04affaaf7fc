"""The expressions `graph` draws: parsed with `ast`, checked against a whitelist, never evaluated.

Allowed: variable names, numbers, + - * / **, a unary minus, and the activations tanh, exp,
relu, sigmoid and leaky_relu (with an optional number for its slope). The result is a small tree
of plain tuples, safe to send to the worker process, which rebuilds it with the learner's Value.
Anything else raises a `TinygradLearnError` that names what is not allowed.
"""

from __future__ import annotations

import ast
import math
import re
from typing import Any

from .errors import TinygradLearnError

FUNCTIONS = ("tanh", "exp", "relu", "sigmoid", "leaky_relu")
OPERATORS = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div", ast.Pow: "pow"}
MAX_LENGTH = 500

Expr = list[Any]
"""["var", name] | ["num", value] | [op, left, right] | ["pow", base, number] | ["neg", x]
| ["call", name, x] | ["call", "leaky_relu", x, slope]."""


def parse(text: str) -> Expr:
    if not text.strip():
        raise TinygradLearnError("graph.empty")
    if len(text) > MAX_LENGTH:
        raise TinygradLearnError("graph.too_long", limit=MAX_LENGTH)
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as error:
        raise TinygradLearnError("graph.syntax", expression=text, problem=error.msg) from None
    return _Walker(text.strip()).walk(tree.body)


class _Walker:
    def __init__(self, source: str) -> None:
        self.source = source

    def _refuse(self, node: ast.AST, kind: str) -> TinygradLearnError:
        code = ast.get_source_segment(self.source, node) or ast.unparse(node)
        return TinygradLearnError(f"graph.not_allowed_{kind}", code=code)

    def walk(self, node: ast.AST) -> Expr:
        if isinstance(node, ast.Name):
            if node.id in FUNCTIONS:
                raise self._refuse(node, "function_as_name")
            return ["var", node.id]
        if isinstance(node, ast.Constant):
            return ["num", self._number(node)]
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            inner = self.walk(node.operand)
            if isinstance(node.op, ast.UAdd):
                return inner
            if inner[0] == "num":
                return ["num", -inner[1]]
            return ["neg", inner]
        if isinstance(node, ast.BinOp) and type(node.op) in OPERATORS:
            op = OPERATORS[type(node.op)]
            left = self.walk(node.left)
            right = self.walk(node.right)
            if op == "pow" and right[0] != "num":
                raise self._refuse(node.right, "exponent")
            return [op, left, right]
        if isinstance(node, ast.Call):
            return self._call(node)
        raise self._refuse(node, _kind(node))

    def _number(self, node: ast.Constant) -> float:
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self._refuse(node, "string" if isinstance(value, (str, bytes)) else "other")
        if not math.isfinite(float(value)):
            raise self._refuse(node, "other")
        return float(value)

    def _call(self, node: ast.Call) -> Expr:
        if not isinstance(node.func, ast.Name):
            raise self._refuse(node.func, _kind(node.func))
        if node.func.id not in FUNCTIONS:
            raise self._refuse(node.func, "call")
        name = node.func.id
        most = 2 if name == "leaky_relu" else 1
        if node.keywords or not 1 <= len(node.args) <= most:
            raise TinygradLearnError(
                "graph.bad_arguments", code=ast.get_source_segment(self.source, node) or name, name=name
            )
        call = ["call", name, self.walk(node.args[0])]
        if len(node.args) == 2:
            slope = self.walk(node.args[1])
            if slope[0] != "num":
                raise self._refuse(node.args[1], "exponent")
            call.append(slope[1])
        return call


def _kind(node: ast.AST) -> str:
    if isinstance(node, ast.Attribute):
        return "attribute"
    if isinstance(node, (ast.Subscript, ast.Slice)):
        return "subscript"
    if isinstance(node, ast.Lambda):
        return "lambda"
    if isinstance(node, ast.JoinedStr):
        return "string"
    if isinstance(node, ast.BinOp):
        return "operator"
    return "other"


def variables(expr: Expr) -> tuple[str, ...]:
    """Every variable, in the order it first appears."""
    found: list[str] = []

    def visit(node: Any) -> None:
        if isinstance(node, list) and node:
            if node[0] == "var":
                if node[1] not in found:
                    found.append(node[1])
                return
            for part in node[1:]:
                visit(part)

    visit(expr)
    return tuple(found)


def parse_values(text: str | None) -> dict[str, float]:
    """`x=1,y=-2.5` as {"x": 1.0, "y": -2.5}."""
    values: dict[str, float] = {}
    if text is None or not text.strip():
        return values
    for part in text.split(","):
        name, sep, number = part.partition("=")
        name = name.strip()
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise TinygradLearnError("graph.bad_at", part=part.strip())
        try:
            value = float(number.strip())
        except ValueError:
            raise TinygradLearnError("graph.bad_number", name=name, value=number.strip()) from None
        if not math.isfinite(value):
            raise TinygradLearnError("graph.bad_number", name=name, value=number.strip())
        if name in values:
            raise TinygradLearnError("graph.duplicate", name=name)
        values[name] = value
    return values


def bind(expr: Expr, values: dict[str, float]) -> None:
    """Every variable has a value and every value a variable, or a clear error says which."""
    names = variables(expr)
    if not names:
        raise TinygradLearnError("graph.no_variables")
    missing = [name for name in names if name not in values]
    if missing:
        example = ",".join(f"{name}={values.get(name, 1.0):g}" for name in names)
        raise TinygradLearnError("graph.missing_values", names=", ".join(missing), example=example)
    extra = [name for name in values if name not in names]
    if extra:
        raise TinygradLearnError("graph.extra_values", names=", ".join(extra), known=", ".join(names))
