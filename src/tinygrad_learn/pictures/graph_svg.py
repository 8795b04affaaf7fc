"""The learner's graph as SVG, drawn like the DOT file: each value a box (name, data, grad), each
operation an ellipse feeding the value it made, inputs on the left and the output on the right.

Used by `graph --format svg` when Graphviz's `dot` is not installed, and inline in notebooks.
Every value is a `<g class="node value">` and every operation a `<g class="node op">`, each edge a
`<g class="edge">`, so tests and tools can read the picture back with an XML parser.
"""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from ..graphing import Graph, number
from .layout import Box, Layout, layout

CHAR_WIDTH = 7.2
LINE_HEIGHT = 16.0
PADDING = 8.0
OP_SIZE = (44.0, 30.0)


def _value_lines(graph: Graph, node_id: int) -> list[str]:
    node = graph.nodes[node_id]
    lines = [node.label] if node.label else []
    return [*lines, f"data {number(node.data)}", f"grad {number(node.grad)}"]


def graph_layout(graph: Graph) -> tuple[Layout, dict[str, list[str]]]:
    """The placed boxes (`v<id>` for values, `v<id>_op` for operations) and each value's text lines."""
    boxes: list[Box] = []
    edges: list[tuple[str, str]] = []
    lines_of: dict[str, list[str]] = {}
    for node in sorted(graph.nodes.values(), key=lambda n: n.id):
        lines = _value_lines(graph, node.id)
        lines_of[f"v{node.id}"] = lines
        width = max(len(line) for line in lines) * CHAR_WIDTH + 2 * PADDING
        boxes.append(Box(f"v{node.id}", width, len(lines) * LINE_HEIGHT + PADDING))
        if node.op:
            op_width = max(OP_SIZE[0], len(node.op) * CHAR_WIDTH + 2 * PADDING)
            boxes.append(Box(f"v{node.id}_op", op_width, OP_SIZE[1]))
            edges.append((f"v{node.id}_op", f"v{node.id}"))
            for child in dict.fromkeys(node.children):
                if child in graph.nodes:
                    edges.append((f"v{child}", f"v{node.id}_op"))
    return layout(boxes, edges), lines_of


def graph_svg(graph: Graph, title: str = "") -> str:
    placed, lines_of = graph_layout(graph)
    top = LINE_HEIGHT * 2 if title else 0.0
    width, height = placed.width, placed.height + top
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.1f} {height:.1f}" font-family="Helvetica, Arial, sans-serif" font-size="12">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>',
        '<rect width="100%" height="100%" fill="white"/>',
    ]
    if title:
        out.append(
            f'<text class="title" x="{width / 2:.1f}" y="{LINE_HEIGHT * 1.3:.1f}" '
            f'text-anchor="middle" font-size="14">{escape(title)}</text>'
        )
    for route in placed.routes:
        points = " ".join(f"{x:.1f},{y + top:.1f}" for x, y in route.points)
        out.append(
            f'<g class="edge" data-from={quoteattr(str(route.source))} data-to={quoteattr(str(route.target))}>'
            f'<polyline points="{points}" fill="none" stroke="#555" marker-end="url(#arrow)"/></g>'
        )
    for key, box in placed.nodes.items():
        name = str(key)
        x, y = box.x, box.y + top
        if name.endswith("_op"):
            op = graph.nodes[int(name[1:-3])].op
            out.append(
                f'<g class="node op" id="{name}"><ellipse cx="{x:.1f}" cy="{y:.1f}" rx="{box.width / 2:.1f}" '
                f'ry="{box.height / 2:.1f}" fill="#eef3fb" stroke="#4a6fa5"/>'
                f'<text x="{x:.1f}" y="{y + 4:.1f}" text-anchor="middle">{escape(op)}</text></g>'
            )
            continue
        lines = lines_of[name]
        left, upper = x - box.width / 2, y - box.height / 2
        parts = [
            f'<g class="node value" id="{name}"><rect x="{left:.1f}" y="{upper:.1f}" width="{box.width:.1f}" '
            f'height="{box.height:.1f}" rx="4" fill="#fffbea" stroke="#8a6d1d"/>'
        ]
        for row, line in enumerate(lines):
            weight = ' font-weight="bold"' if row == 0 and len(lines) == 3 else ""
            baseline = upper + PADDING / 2 + LINE_HEIGHT * (row + 0.75)
            parts.append(f'<text x="{x:.1f}" y="{baseline:.1f}" text-anchor="middle"{weight}>{escape(line)}</text>')
        out.append("".join(parts) + "</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"
