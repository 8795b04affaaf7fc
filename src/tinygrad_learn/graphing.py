"""`graph`: build an expression with the learner's own Value, run backward, and describe the graph.

The expression (already checked by `expression.py`) is rebuilt from plain tuples inside a worker
process (`runner.run_worker`), so the learner's code can neither hang nor crash the tool. The
worker walks the finished graph through `_prev`, `_op`, `data` and `grad` and sends it back as
data; here it becomes a tree to draw in the terminal and a Graphviz DOT file (and, when `dot` is
installed, an SVG or PNG).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .errors import TinygradLearnError
from .expression import Expr, bind, parse, parse_values
from .manifest import Course
from .paths import Workspace

WORKER = "tinygrad_learn.graphing:worker"
TIME_LIMIT = 15.0
MAX_NODES = 400
FORMATS = ("svg", "png")
DEFAULT_DOT = "graph.dot"


@dataclass(frozen=True)
class Node:
    id: int
    op: str
    data: Any
    grad: Any
    label: str
    """The variable's name for an input, "" for anything else."""
    children: tuple[int, ...]


@dataclass(frozen=True)
class Graph:
    root: int
    nodes: dict[int, Node]
    truncated: bool = False


@dataclass(frozen=True)
class TreeItem:
    """One line of the terminal drawing; `repeat` marks a node already drawn above."""

    node: Node
    children: tuple[TreeItem, ...]
    repeat: bool = False


@dataclass(frozen=True)
class GraphReport:
    expression: str
    values: dict[str, float]
    graph: Graph | None
    error: dict[str, Any] | None
    """The learner's exception while building or running backward: type, message, where."""
    problem: str | None
    """A worker problem: timeout, killed, crashed, no_results."""
    dot_path: Path | None = None
    image_path: Path | None = None
    image_note: str | None = None
    """Why no image was made: no_dot, or dot_failed."""
    image_detail: str = ""

    @property
    def ok(self) -> bool:
        return self.graph is not None


def draw_graph(
    course: Course,
    workspace: Workspace,
    text: str,
    at: str | None,
    *,
    dot_path: Path | None = None,
    image_format: str | None = None,
) -> GraphReport:
    expr = parse(text)
    values = parse_values(at)
    bind(expr, values)
    if image_format is not None and image_format not in FORMATS:
        raise TinygradLearnError("graph.bad_format", value=image_format, formats=", ".join(FORMATS))
    if course.engine is None or not (workspace.exercises / course.engine.file).is_file():
        raise TinygradLearnError("graph.no_engine")
    from .runner import run_worker

    result = run_worker(
        WORKER,
        {"expr": expr, "values": values, "module": course.engine.module, "value": course.engine.value},
        exercises=workspace.exercises,
        solutions=course.solutions,
        policy=course.allowed_imports,
        time_limit=TIME_LIMIT,
    )
    for record in result.records:
        if record.get("kind") == "error":
            return GraphReport(text, values, None, record, None)
    found = next((record for record in result.records if record.get("kind") == "graph"), None)
    if found is None:
        return GraphReport(text, values, None, None, result.problem or "no_results")
    graph = graph_from(found)
    target = (dot_path or workspace.root / DEFAULT_DOT).expanduser().resolve()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(to_dot(graph, text), encoding="utf-8")
    except OSError as error:
        raise TinygradLearnError("graph.unwritable", path=str(target), problem=str(error)) from None
    report = GraphReport(text, values, graph, None, None, dot_path=target)
    if image_format is None:
        return report
    return _render_image(report, target, image_format)


def _render_image(report: GraphReport, dot_file: Path, image_format: str) -> GraphReport:
    from .runner import run_program

    program = shutil.which("dot")
    if program is None:
        from .pictures.graph_image import draw_without_graphviz

        return draw_without_graphviz(report, dot_file.with_suffix(f".{image_format}"))
    image = dot_file.with_suffix(f".{image_format}")
    result = run_program([program, f"-T{image_format}", "-o", str(image), str(dot_file)], time_limit=30)
    if result.problem is not None or result.exit_code != 0 or not image.is_file():
        detail = result.output.strip() or (result.problem or f"exit code {result.exit_code}")
        return replace(report, image_note="dot_failed", image_detail=detail[-300:])
    return replace(report, image_path=image)


def graph_from(record: dict[str, Any]) -> Graph:
    nodes = {
        int(item["id"]): Node(
            int(item["id"]),
            str(item.get("op", "")),
            item.get("data"),
            item.get("grad"),
            str(item.get("label", "")),
            tuple(int(child) for child in item.get("children", [])),
        )
        for item in record["nodes"]
    }
    return Graph(int(record["root"]), nodes, bool(record.get("truncated")))


def tree(graph: Graph) -> TreeItem:
    """The graph as a tree from the output down; a node reached again is drawn once, then referred to."""
    drawn: set[int] = set()

    def build(node_id: int) -> TreeItem:
        node = graph.nodes[node_id]
        if node_id in drawn and node.children:
            return TreeItem(node, (), repeat=True)
        drawn.add(node_id)
        children = tuple(build(child) for child in node.children if child in graph.nodes)
        return TreeItem(node, children)

    # Graphs from `graph` are small (MAX_NODES), so recursion depth is bounded.
    return build(graph.root)


def number(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    return f"{value:.4g}"


def to_dot(graph: Graph, title: str = "") -> str:
    """Graphviz DOT: each value a record (name | data | grad), each operation an ellipse feeding it."""
    lines = ["digraph autograd {", "  rankdir=LR;", f'  label="{_escape(title)}";']
    lines.append('  node [fontname="Helvetica"];')
    for node in sorted(graph.nodes.values(), key=lambda n: n.id):
        parts = [_escape(node.label)] if node.label else []
        parts += [f"data {_escape(number(node.data))}", f"grad {_escape(number(node.grad))}"]
        lines.append(f'  v{node.id} [shape=record, label="{{ {" | ".join(parts)} }}"];')
        if node.op:
            lines.append(f'  v{node.id}_op [label="{_escape(node.op)}", shape=ellipse];')
            lines.append(f"  v{node.id}_op -> v{node.id};")
            for child in node.children:
                if child in graph.nodes:
                    lines.append(f"  v{child} -> v{node.id}_op;")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _escape(text: str) -> str:
    """Characters that mean something inside a DOT record label."""
    for special in ("\\", '"', "{", "}", "|", "<", ">"):
        text = text.replace(special, "\\" + special)
    return text


# ---------------------------------------------------------------------------------------------
# The worker side: runs inside the child process started by `runner.run_worker`.

_UNARY = ("tanh", "exp", "relu", "sigmoid")


def build(expr: Expr, leaves: dict[str, Any]) -> Any:
    """Rebuild a checked expression with real objects; only the whitelisted operations exist here."""
    kind = expr[0]
    if kind == "var":
        return leaves[expr[1]]
    if kind == "num":
        return expr[1]
    if kind == "neg":
        return -build(expr[1], leaves)
    if kind == "call":
        operand = build(expr[2], leaves)
        if expr[1] == "leaky_relu":
            return operand.leaky_relu(*expr[3:])
        if expr[1] in _UNARY:
            return getattr(operand, expr[1])()
        raise ValueError(f"unknown function {expr[1]!r}")
    left, right = build(expr[1], leaves), build(expr[2], leaves)
    operations: dict[str, Callable[[Any, Any], Any]] = {
        "add": lambda a, b: a + b,
        "sub": lambda a, b: a - b,
        "mul": lambda a, b: a * b,
        "div": lambda a, b: a / b,
        "pow": lambda a, b: a**b,
    }
    return operations[kind](left, right)


def describe(root: Any, names: dict[int, str]) -> dict[str, Any]:
    """The graph below `root` as plain data, walked without recursion, numbered in visiting order."""
    numbers = {id(root): 0}
    order = [root]
    nodes = []
    index = 0
    truncated = False
    while index < len(order):
        node = order[index]
        index += 1
        children = []
        for child in getattr(node, "_prev", ()) or ():
            if id(child) not in numbers:
                if len(order) >= MAX_NODES:
                    truncated = True
                    continue
                numbers[id(child)] = len(order)
                order.append(child)
            children.append(numbers[id(child)])
        nodes.append(
            {
                "id": numbers[id(node)],
                "op": str(getattr(node, "_op", "") or ""),
                "data": _plain(getattr(node, "data", None)),
                "grad": _plain(getattr(node, "grad", None)),
                "label": names.get(id(node), ""),
                "children": children,
            }
        )
    return {"kind": "graph", "root": 0, "nodes": nodes, "truncated": truncated}


def _plain(value: Any) -> Any:
    if type(value) in (int, float):
        return value
    from .grading.testkit import show

    return show(value)


def worker(payload: dict[str, Any], send: Callable[[dict[str, Any]], None]) -> None:
    from .grading import testkit

    engine = testkit.learner(payload["module"])
    value_type = getattr(engine, payload["value"], None)
    if value_type is None:
        send({"kind": "error", "type": "no_value", "message": "", "where": None})
        return
    leaves = {name: value_type(float(value)) for name, value in payload["values"].items()}
    out = build(payload["expr"], leaves)
    if not hasattr(out, "backward"):
        send({"kind": "error", "type": "not_a_value", "message": type(out).__name__, "where": None})
        return
    out.backward()
    send(describe(out, {id(leaf): name for name, leaf in leaves.items()}))
