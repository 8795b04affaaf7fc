"""Week 2: draw a computation graph as Graphviz DOT text.

Nothing to install: DOT is plain text. Save what to_dot returns in a file and render it with
Graphviz (`dot -Tsvg graph.dot -o graph.svg`) or any DOT viewer.
"""


def to_dot(root):
    """Return Graphviz DOT text (a digraph) for the graph that ends at `root`.

    One node per Value, labelled with its data and grad to 4 significant digits; one node per
    operation, labelled with the Value's _op; edges run input -> operation -> output. A Value used
    several times is drawn once.
    """
    # TODO(week2): walk the graph from root through _prev with a stack and a set of the ids
    # already seen; for each Value write a node line, and for each Value made by an operation an
    # op node, an edge op -> value, and an edge child -> op for each input. Wrap the lines in
    # "digraph {" ... "}" and return them joined by newlines.
    raise NotImplementedError("week2: write to_dot")
