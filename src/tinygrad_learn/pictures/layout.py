"""A layered (Sugiyama-style) layout of a directed acyclic graph, in pure Python.

Three classic steps: each node gets a layer by the longest path from a source, so every edge
points to a later layer; long edges are broken into dummy points so each edge joins neighbouring
layers; the order within each layer is improved by barycenter sweeps (a node moves towards the
average position of its neighbours), which removes most crossings; then each node is placed
across its layer at the average of its neighbours, kept apart by a minimum gap. Good enough for
the small graphs of `graph` (a few hundred nodes at most), with no system program needed.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass

SWEEPS = 8
PLACEMENT_ROUNDS = 12


@dataclass(frozen=True)
class Box:
    """A node to place: its id and size (width along the layers' axis, height across it)."""

    id: Hashable
    width: float
    height: float


@dataclass(frozen=True)
class Placed:
    id: Hashable
    x: float
    y: float
    """The centre of the node."""
    width: float
    height: float


@dataclass(frozen=True)
class Route:
    source: Hashable
    target: Hashable
    points: tuple[tuple[float, float], ...]
    """From the source's right edge, through the dummy points, to the target's left edge."""


@dataclass(frozen=True)
class Layout:
    nodes: dict[Hashable, Placed]
    routes: tuple[Route, ...]
    width: float
    height: float


def layers_by_longest_path(ids: Sequence[Hashable], edges: Sequence[tuple[Hashable, Hashable]]) -> dict[Hashable, int]:
    """Layer 0 for sources, else one more than the deepest predecessor (Kahn's order, no recursion)."""
    incoming: dict[Hashable, list[Hashable]] = {node: [] for node in ids}
    outgoing: dict[Hashable, list[Hashable]] = {node: [] for node in ids}
    for source, target in edges:
        incoming[target].append(source)
        outgoing[source].append(target)
    waiting = {node: len(incoming[node]) for node in ids}
    ready = [node for node in ids if waiting[node] == 0]
    layer = {node: 0 for node in ids}
    while ready:
        node = ready.pop()
        for target in outgoing[node]:
            layer[target] = max(layer[target], layer[node] + 1)
            waiting[target] -= 1
            if waiting[target] == 0:
                ready.append(target)
    if any(count > 0 for count in waiting.values()):
        raise ValueError("the graph has a cycle")
    return layer


def layout(
    boxes: Sequence[Box],
    edges: Sequence[tuple[Hashable, Hashable]],
    *,
    layer_gap: float = 60.0,
    node_gap: float = 24.0,
    margin: float = 20.0,
) -> Layout:
    """Place `boxes` left to right so every edge points rightwards."""
    ids = [box.id for box in boxes]
    size = {box.id: box for box in boxes}
    layer = layers_by_longest_path(ids, edges)
    # Long edges become chains through dummy points, one per layer crossed.
    chains: list[list[Hashable]] = []
    for number, (source, target) in enumerate(edges):
        chain = [source]
        for step in range(layer[source] + 1, layer[target]):
            dummy = ("dummy", number, step)
            layer[dummy] = step
            chain.append(dummy)
        chain.append(target)
        chains.append(chain)
    depth = max(layer.values(), default=-1) + 1
    rows: list[list[Hashable]] = [[] for _ in range(depth)]
    for node in [*ids, *(node for chain in chains for node in chain[1:-1])]:
        rows[layer[node]].append(node)
    before: dict[Hashable, list[Hashable]] = {node: [] for node in layer}
    after: dict[Hashable, list[Hashable]] = {node: [] for node in layer}
    for chain in chains:
        for left, right in zip(chain, chain[1:], strict=False):
            after[left].append(right)
            before[right].append(left)
    _reduce_crossings(rows, before, after)

    def extent(node: Hashable) -> float:
        return size[node].height if node in size else 0.0

    across = _place_across(rows, before, after, extent, node_gap)
    widths = [max((size[node].width for node in row if node in size), default=0.0) for row in rows]
    lefts: list[float] = []
    position = margin
    for width in widths:
        lefts.append(position)
        position += width + layer_gap
    low = min((across[node] - extent(node) / 2 for node in layer), default=0.0)
    high = max((across[node] + extent(node) / 2 for node in layer), default=0.0)
    shift = margin - low

    def centre(node: Hashable) -> tuple[float, float]:
        return lefts[layer[node]] + widths[layer[node]] / 2, across[node] + shift

    placed = {}
    for node in ids:
        x, y = centre(node)
        placed[node] = Placed(node, x, y, size[node].width, size[node].height)
    routes = []
    for chain in chains:
        source, target = chain[0], chain[-1]
        start = (placed[source].x + placed[source].width / 2, placed[source].y)
        end = (placed[target].x - placed[target].width / 2, placed[target].y)
        routes.append(Route(source, target, (start, *(centre(node) for node in chain[1:-1]), end)))
    total_width = max(position - layer_gap + margin, 2 * margin)
    return Layout(placed, tuple(routes), total_width, high - low + 2 * margin)


def _reduce_crossings(
    rows: list[list[Hashable]], before: dict[Hashable, list[Hashable]], after: dict[Hashable, list[Hashable]]
) -> None:
    """Barycenter sweeps, forwards against the previous layer and backwards against the next."""
    for sweep in range(SWEEPS):
        forward = sweep % 2 == 0
        indices = range(1, len(rows)) if forward else range(len(rows) - 2, -1, -1)
        for index in indices:
            neighbour_row = rows[index - 1] if forward else rows[index + 1]
            position = {node: place for place, node in enumerate(neighbour_row)}
            links = before if forward else after
            current = rows[index]

            keys = {}
            for place, node in enumerate(current):
                linked = [position[other] for other in links[node] if other in position]
                keys[node] = sum(linked) / len(linked) if linked else float(place)
            current.sort(key=lambda node: keys[node])


def _place_across(
    rows: list[list[Hashable]],
    before: dict[Hashable, list[Hashable]],
    after: dict[Hashable, list[Hashable]],
    size: Callable[[Hashable], float],
    gap: float,
) -> dict[Hashable, float]:
    """Stack each layer in its order, then pull nodes towards their neighbours without overlapping."""
    across: dict[Hashable, float] = {}
    for row in rows:
        position = 0.0
        for node in row:
            across[node] = position + size(node) / 2
            position += size(node) + gap
    for round_number in range(PLACEMENT_ROUNDS):
        links = before if round_number % 2 == 0 else after
        for row in rows:
            wanted = []
            for node in row:
                linked = [across[other] for other in links[node]]
                wanted.append(sum(linked) / len(linked) if linked else across[node])
            # Keep the order and the gaps: push down from the top, then up from the bottom, then average.
            down = list(wanted)
            for i in range(1, len(row)):
                least = down[i - 1] + (size(row[i - 1]) + size(row[i])) / 2 + gap
                down[i] = max(down[i], least)
            up = list(wanted)
            for i in range(len(row) - 2, -1, -1):
                most = up[i + 1] - (size(row[i + 1]) + size(row[i])) / 2 - gap
                up[i] = min(up[i], most)
            for i, node in enumerate(row):
                across[node] = (down[i] + up[i]) / 2
            for i in range(1, len(row)):
                least = across[row[i - 1]] + (size(row[i - 1]) + size(row[i])) / 2 + gap
                across[row[i]] = max(across[row[i]], least)
    return across
