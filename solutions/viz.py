"""Week 2: draw a computation graph as Graphviz DOT text."""


def to_dot(root):
    """Return Graphviz DOT text (a digraph) for the graph that ends at `root`.

    One node per Value, labelled with its data and grad to 4 significant digits; one node per
    operation, labelled with the Value's _op; edges run input -> operation -> output. A Value used
    several times is drawn once. Render the text with `dot -Tsvg graph.dot -o graph.svg`.
    """
    lines = ["digraph {", "  rankdir=LR;"]
    seen = set()
    stack = [root]
    # A loop with a stack, like backward(): deep graphs do not overflow Python's call stack.
    while stack:
        v = stack.pop()
        # id() names a node: two Values with equal data are still different nodes.
        if id(v) in seen:
            continue
        seen.add(id(v))
        lines.append(f'  v{id(v)} [shape=record, label="data {v.data:.4g} | grad {v.grad:.4g}"];')
        if v._prev:
            lines.append(f'  op{id(v)} [label="{v._op}"];')
            lines.append(f"  op{id(v)} -> v{id(v)};")
            for child in v._prev:
                lines.append(f"  v{id(child)} -> op{id(v)};")
                stack.append(child)
    lines.append("}")
    return "\n".join(lines)
