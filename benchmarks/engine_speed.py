"""Engine speed: the reference `Value` against a plain recursive micrograd-style `Value`.

Times forward plus backward on two graphs of n additions, side by side in one run:

- linear: x = Value(1.0), then n times x = x + 1, then backward (a chain n deep);
- tree: n leaves Value(1.0) summed pairwise level by level, an odd one carried up, then backward
  on the root (log2(n) deep).

Also measures memory per node of a 100,000-step chain (tracemalloc) and runs a 1,000,000-deep
chain on the reference. Bars: the reference is at least 1.5x faster at n = 100,000, uses less
memory per node, and completes the 1,000,000-deep chain. Figures only, no assertions.

    python benchmarks/engine_speed.py [--repeats 5] [--deep 1000000]
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import statistics
import sys
import threading
import time
import tracemalloc
import types
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

ROOT = Path(__file__).resolve().parent.parent
REFERENCE_ENGINE = ROOT / "solutions" / "engine.py"

SIZES = (1_000, 10_000, 100_000)
BAR_SIZE = 100_000
BAR_SPEEDUP = 1.5
MEMORY_CHAIN = 100_000
# The recursive engine runs in a thread with this much stack, so deep recursion cannot crash us.
BIG_STACK = 512 * 1024 * 1024


def load_reference() -> types.ModuleType:
    """solutions/engine.py under a fresh module name, outside any package."""
    spec = importlib.util.spec_from_file_location("_engine_speed_reference", REFERENCE_ENGINE)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {REFERENCE_ENGINE}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class RecursiveValue:
    """The textbook engine: instance dicts, `_prev` a set, a lambda per node, recursive sort."""

    def __init__(self, data: float, _children: tuple[RecursiveValue, ...] = (), _op: str = "") -> None:
        self.data = data
        self.grad = 0.0
        self._backward: Callable[[], None] = lambda: None
        self._prev = set(_children)
        self._op = _op

    def __add__(self, other: Any) -> RecursiveValue:
        other = other if isinstance(other, RecursiveValue) else RecursiveValue(other)
        out = RecursiveValue(self.data + other.data, (self, other), "+")

        def _backward() -> None:
            self.grad += out.grad
            other.grad += out.grad

        out._backward = _backward
        return out

    def backward(self) -> None:
        topo: list[RecursiveValue] = []
        visited: set[RecursiveValue] = set()

        def build(node: RecursiveValue) -> None:
            if node not in visited:
                visited.add(node)
                for child in node._prev:
                    build(child)
                topo.append(node)

        build(self)
        self.grad = 1.0
        for node in reversed(topo):
            node._backward()


# ---------------------------------------------------------------------------------------------
# The graphs: each returns the root and one leaf, whose gradient must come out as 1


def linear_graph(value: Callable[[float], Any], n: int) -> tuple[Any, Any]:
    leaf = x = value(1.0)
    for _ in range(n):
        x = x + 1
    return x, leaf


def tree_graph(value: Callable[[float], Any], n: int) -> tuple[Any, Any]:
    level = [value(1.0) for _ in range(n)]
    leaf = level[0]
    while len(level) > 1:
        summed = [level[i] + level[i + 1] for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            summed.append(level[-1])
        level = summed
    return level[0], leaf


GRAPHS: dict[str, Callable[[Callable[[float], Any], int], tuple[Any, Any]]] = {
    "linear": linear_graph,
    "tree": tree_graph,
}


def time_once(value: Callable[[float], Any], graph: str, n: int) -> float:
    gc.collect()
    start = time.perf_counter()
    root, leaf = GRAPHS[graph](value, n)
    root.backward()
    elapsed = time.perf_counter() - start
    if leaf.grad != 1:
        raise RuntimeError(f"{graph} graph, n = {n}: leaf gradient {leaf.grad}, expected 1")
    del root, leaf
    gc.collect()
    return elapsed


def median_time(value: Callable[[float], Any], graph: str, n: int, repeats: int) -> float:
    return statistics.median(time_once(value, graph, n) for _ in range(repeats))


def with_big_stack(work: Callable[[], T], depth: int) -> T | str:
    """Run `work` in a thread with a large stack and a recursion limit above `depth`.

    Returns its result, or "RecursionError" when the recursion still does not fit.
    """
    outcome: list[T | str] = []

    def run() -> None:
        try:
            outcome.append(work())
        except RecursionError:
            outcome.append("RecursionError")

    old_limit = sys.getrecursionlimit()
    old_stack = threading.stack_size(BIG_STACK)
    sys.setrecursionlimit(max(old_limit, 2 * depth + 10_000))
    try:
        thread = threading.Thread(target=run)
        thread.start()
        thread.join()
    finally:
        sys.setrecursionlimit(old_limit)
        threading.stack_size(old_stack)
    gc.collect()
    return outcome[0] if outcome else "crashed"


def first_failure_at_default_limit() -> int | None:
    """The smallest size in SIZES whose linear graph the recursive engine cannot sort unaided."""
    for n in SIZES:
        root, _ = linear_graph(RecursiveValue, n)
        try:
            root.backward()
        except RecursionError:
            return n
        finally:
            del root
            gc.collect()
    return None


def bytes_per_node(value: Callable[[float], Any], n: int) -> float:
    """Bytes per Value held by an n-step chain once built (tracemalloc).

    An n-step chain x = x + 1 holds 2n + 1 Values: each step makes the sum and wraps the 1.
    Only the built graph is measured: tracemalloc walks the whole Python stack on every
    allocation, which makes a deep recursive backward under it take minutes.
    """
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        root, leaf = linear_graph(value, n)
        built = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    del root, leaf
    gc.collect()
    return built / (2 * n + 1)


def deep_chain(value: Callable[[float], Any], depth: int) -> tuple[float, bool]:
    """Forward and backward of a `depth`-step chain: seconds, and whether the leaf grad is 1."""
    gc.collect()
    start = time.perf_counter()
    root, leaf = linear_graph(value, depth)
    root.backward()
    elapsed = time.perf_counter() - start
    correct = leaf.grad == 1
    del root, leaf
    gc.collect()
    return elapsed, correct


# ---------------------------------------------------------------------------------------------


def seconds(value: float | str) -> str:
    return f"{value * 1000:10.1f} ms" if isinstance(value, float) else f"{value:>13}"


def bar(met: bool, text: str) -> None:
    print(f"  [{'met' if met else 'MISSED'}] {text}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Reference Value against a recursive micrograd-style Value.")
    parser.add_argument("--repeats", type=int, default=5, help="runs per figure; the median is shown")
    parser.add_argument("--deep", type=int, default=1_000_000, help="length of the long chain")
    args = parser.parse_args(argv)

    reference = load_reference().Value
    print(f"Python {sys.version.split()[0]}, median of {args.repeats} runs, forward + backward\n")
    print(f"{'n':>9}  {'graph':<6}  {'reference':>13}  {'recursive':>13}  {'ratio':>6}")
    ratios: dict[str, float | None] = {}
    for n in SIZES:
        for graph in GRAPHS:
            ours = median_time(reference, graph, n, args.repeats)
            theirs = with_big_stack(partial(median_time, RecursiveValue, graph, n, args.repeats), n)
            ratio = theirs / ours if isinstance(theirs, float) else None
            if n == BAR_SIZE:
                ratios[graph] = ratio
            shown = f"{ratio:5.2f}x" if ratio is not None else f"{'-':>6}"
            print(f"{n:>9,}  {graph:<6}  {seconds(ours)}  {seconds(theirs)}  {shown}")

    failing = first_failure_at_default_limit()
    limit = f"recursive engine at Python's default recursion limit ({sys.getrecursionlimit():,}):"
    if failing is None:
        print(f"\n{limit} every linear graph fits")
    else:
        print(f"\n{limit} RecursionError on the linear graph from n = {failing:,}")

    print(f"\nmemory of a {MEMORY_CHAIN:,}-step chain ({2 * MEMORY_CHAIN + 1:,} Values), bytes per Value:")
    ours_built = bytes_per_node(reference, MEMORY_CHAIN)
    theirs_built = bytes_per_node(RecursiveValue, MEMORY_CHAIN)
    print(f"  reference {ours_built:6.0f}")
    print(f"  recursive {theirs_built:6.0f}")

    print(f"\n{args.deep:,}-deep chain on the reference:", end=" ", flush=True)
    try:
        deep_seconds, completed = deep_chain(reference, args.deep)
        print(f"{deep_seconds:.2f} s, leaf gradient {'correct' if completed else 'WRONG'}")
    except RecursionError:
        completed = False
        print("RecursionError")

    # Where the recursive engine cannot finish at all, the reference is counted as faster.
    speed_met = all(ratio is None or ratio >= BAR_SPEEDUP for ratio in ratios.values())
    speeds = ", ".join(
        f"{graph} {ratio:.2f}x" if ratio is not None else f"{graph}: recursive failed"
        for graph, ratio in ratios.items()
    )
    print("\nsummary")
    bar(speed_met, f"reference at least {BAR_SPEEDUP}x faster at n = {BAR_SIZE:,}: {speeds}")
    bar(
        ours_built < theirs_built,
        f"less memory per node: {ours_built:.0f} against {theirs_built:.0f} bytes per Value",
    )
    bar(completed, f"completes the {args.deep:,}-deep chain")
    return 0


if __name__ == "__main__":
    sys.exit(main())
