"""`graph`: the learner's graph as a tree with data and gradients, and the files written."""

from __future__ import annotations

from rich.console import Group
from rich.padding import Padding
from rich.text import Text

from .checking_view import where_lines
from .graphing import TIME_LIMIT, GraphReport, TreeItem, number, tree
from .terminal import Terminal, display_path, visible


def show(term: Terminal, report: GraphReport) -> None:
    from rich.tree import Tree

    if report.error is not None:
        _error(term, report)
        return
    if report.graph is None:
        term.failure(f"graph.problem_{report.problem}", limit=TIME_LIMIT)
        return
    values = ", ".join(f"{visible(name)} = {value:g}" for name, value in report.values.items())
    term.say("graph.title", "bold", expression=visible(report.expression), values=values)
    term.line()
    item = tree(report.graph)
    root = Tree(_label(term, item))
    pending = [(root, item)]
    while pending:
        branch, current = pending.pop()
        for child in current.children:
            pending.append((branch.add(_label(term, child)), child))
    term.out.print(root)
    if report.graph.truncated:
        term.note("graph.truncated", count=len(report.graph.nodes))
    term.line()
    inputs = [node for node in report.graph.nodes.values() if node.label]
    grads = ", ".join(f"d/d{visible(node.label)} = {number(node.grad)}" for node in inputs)
    term.say("graph.result", data=number(report.graph.nodes[report.graph.root].data), grads=grads)
    term.line()
    if report.dot_path is not None:
        term.path_line(term.t("graph.dot_written", path=display_path(report.dot_path)), "cyan")
    if report.image_path is not None:
        term.path_line(term.t("graph.image_written", path=display_path(report.image_path)), "cyan")
    elif report.image_note == "no_dot":
        term.note("graph.no_dot")
    elif report.image_note == "dot_failed":
        term.note("graph.dot_failed", detail=visible(report.image_detail))


def _label(term: Terminal, item: TreeItem) -> Text:
    node = item.node
    text = Text()
    if node.label:
        text.append(visible(node.label), style="bold cyan")
    elif node.op:
        text.append(visible(node.op), style="bold")
    else:
        text.append(term.t("graph.constant"), style="dim")
    text.append(f"  data={visible(number(node.data))}  grad={visible(number(node.grad))}")
    if item.repeat:
        text.append(f"  {term.t('graph.repeat')}", style="dim")
    return text


def _error(term: Terminal, report: GraphReport) -> None:
    error = report.error or {}
    kind, message = visible(error.get("type", "")), visible(error.get("message", ""))
    expression = visible(report.expression)
    if kind == "no_value":
        term.failure("graph.no_value")
    elif kind == "not_a_value":
        term.failure("graph.not_a_value", expression=expression, type=message)
    elif kind == "NotImplementedError":
        term.failure("graph.not_ready", problem=term.t("failure.not_implemented", message=message))
    else:
        term.failure("graph.raised", expression=expression, type=kind, message=message)
    lines = where_lines(term, error.get("where"))
    if lines:
        term.err.print(Padding(Group(*lines), (0, 0, 0, 2), expand=False))
