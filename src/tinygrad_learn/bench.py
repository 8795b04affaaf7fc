"""`bench`: how the learner's engine scales, measured side by side with the course's reference engine.

Two graphs of n additions each, forward plus backward: a linear one (x = x + 1, n times: a chain
n deep) and a binary tree (n leaves summed pairwise, level by level: log2(n) deep). Each engine
and graph shape runs in its own worker process (see `runner.run_worker`): the learner's code may
hang or crash, so a size that takes longer than the limit is stopped, and a crash loses nothing
measured before it. The growth exponent is fitted on a log-log scale; memory per node comes from
tracemalloc. The core returns values; `bench_view.py` draws them.
"""

from __future__ import annotations

import gc
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import TinygradLearnError
from .manifest import Course
from .paths import Workspace

SIZES = (100, 1_000, 10_000, 100_000)
SIZE_LIMIT = 5.0
"""Seconds one measurement may take; the sizes after a slower one are skipped."""
MEMORY_STEPS = 20_000
REPEAT_BUDGET = 0.3
WORST_GROWTH = 1.3
"""A fitted exponent above this is clearly worse than linear."""
REFERENCE_MARGIN = 0.15
ENGINES = ("yours", "reference")
# This thread's CPU time, as week2's growth check counts it: on a busy machine, a pause of the
# process would otherwise read as growth and raise a false alarm. Windows counts thread time in
# 15.6 ms ticks, too coarse for the small graphs, so there it is the wall clock.
_CLOCK = time.perf_counter if sys.platform == "win32" else time.thread_time
SHAPES = ("linear", "tree")
WORKER = "tinygrad_learn.bench:worker"


@dataclass(frozen=True)
class Failure:
    """Why a measurement has no figure: an exception in the engine, a time limit, a crash."""

    kind: str
    """error, too_slow, crashed."""
    type: str = ""
    message: str = ""
    where: dict[str, Any] | None = None


@dataclass(frozen=True)
class Timing:
    n: int
    seconds: float | None
    failure: Failure | None = None


@dataclass(frozen=True)
class ShapeRun:
    engine: str
    shape: str
    timings: tuple[Timing, ...]
    exponent: float | None
    """The fitted growth exponent (time ~ n**exponent), when two sizes or more were measured."""


@dataclass(frozen=True)
class MemoryRun:
    engine: str
    bytes_per_node: float | None
    nodes: int
    failure: Failure | None = None


@dataclass(frozen=True)
class BenchReport:
    sizes: tuple[int, ...]
    size_limit: float
    runs: tuple[ShapeRun, ...]
    memory: tuple[MemoryRun, ...]

    def run(self, engine: str, shape: str) -> ShapeRun:
        return next(run for run in self.runs if run.engine == engine and run.shape == shape)

    def memory_of(self, engine: str) -> MemoryRun:
        return next(run for run in self.memory if run.engine == engine)

    @property
    def failures(self) -> tuple[Failure, ...]:
        """Every failure of the learner's engine, in the order met."""
        found = [t.failure for run in self.runs if run.engine == "yours" for t in run.timings if t.failure]
        memory = [run.failure for run in self.memory if run.engine == "yours" and run.failure]
        return tuple(found + memory)

    @property
    def recursion_error(self) -> bool:
        return any(f.type == "RecursionError" or f.kind == "crashed" for f in self.failures)

    @property
    def not_ready(self) -> Failure | None:
        """The engine could not even run the smallest graph: an exception at the first size."""
        for run in self.runs:
            if run.engine == "yours" and _unusable(run.timings):
                return run.timings[0].failure
        return None

    def slow_shapes(self) -> tuple[ShapeRun, ...]:
        """Shapes where the learner's engine grows clearly faster than linearly, and than the reference.

        Caches make even a linear engine look a little superlinear on some machines; the margin over
        the reference, measured on the same machine in the same run, keeps that from raising an alarm.
        """
        slow = []
        for run in self.runs:
            if run.engine != "yours" or run.exponent is None or run.exponent <= WORST_GROWTH:
                continue
            same = [r.exponent for r in self.runs if r.engine == "reference" and r.shape == run.shape]
            reference = same[0] if same else None
            if reference is None or run.exponent > reference + REFERENCE_MARGIN:
                slow.append(run)
        return tuple(slow)


def growth_exponent(points: list[tuple[int, float]]) -> float | None:
    """The slope of log(time) against log(n), by least squares.

    Tiny sizes are dominated by fixed costs, so sizes from 1,000 up are used when there are two
    of them. None with fewer than two usable points.
    """
    usable = [(n, t) for n, t in points if n > 0 and t > 0]
    large = [(n, t) for n, t in usable if n >= 1_000]
    if len(large) >= 2:
        usable = large
    if len(usable) < 2:
        return None
    xs = [math.log(n) for n, _ in usable]
    ys = [math.log(t) for _, t in usable]
    mean_x = sum(xs) / len(xs)
    mean_y = sum(ys) / len(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    if spread == 0:
        return None
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread


def run_bench(
    course: Course,
    workspace: Workspace,
    *,
    sizes: tuple[int, ...] = SIZES,
    size_limit: float = SIZE_LIMIT,
    on_step: Callable[[str, int], None] = lambda label, advance: None,
) -> BenchReport:
    """Measure both engines. `on_step(label, advance)` reports progress in steps of `total_steps`.

    When the learner's engine cannot run the smallest graph, nothing else is measured.
    """
    if course.engine is None or not (workspace.exercises / course.engine.file).is_file():
        raise TinygradLearnError("bench.no_engine")
    if not (course.solutions / course.engine.file).is_file():
        raise TinygradLearnError("bench.no_reference")
    runs: list[ShapeRun] = []
    memory: list[MemoryRun] = []
    for engine in ENGINES:
        for shape in SHAPES:
            on_step(f"{engine}:{shape}", 0)
            timings = _measure_shape(course, workspace, engine, shape, sizes, size_limit, on_step)
            points = [(t.n, t.seconds) for t in timings if t.seconds is not None]
            runs.append(ShapeRun(engine, shape, timings, growth_exponent(points)))
            if engine == "yours" and _unusable(timings):
                return BenchReport(tuple(sizes), size_limit, tuple(runs), ())
        on_step(f"{engine}:memory", 0)
        memory.append(_measure_memory(course, workspace, engine, size_limit))
        on_step(f"{engine}:memory", 1)
    return BenchReport(tuple(sizes), size_limit, tuple(runs), tuple(memory))


def _unusable(timings: tuple[Timing, ...]) -> bool:
    """An exception at the smallest size: the engine is not written yet (or is broken at the root)."""
    first = timings[0] if timings else None
    return first is not None and first.failure is not None and first.failure.kind == "error"


def total_steps(sizes: tuple[int, ...]) -> int:
    return len(ENGINES) * (len(SHAPES) * len(sizes) + 1)


def _failure(record: dict[str, Any]) -> Failure:
    return Failure("error", str(record.get("type", "")), str(record.get("message", "")), record.get("where"))


def _measure_shape(
    course: Course,
    workspace: Workspace,
    engine: str,
    shape: str,
    sizes: tuple[int, ...],
    size_limit: float,
    on_step: Callable[[str, int], None],
) -> tuple[Timing, ...]:
    from .runner import run_worker

    label = f"{engine}:{shape}"
    timings: list[Timing] = []
    started: list[int] = []

    def arrived(record: dict[str, Any]) -> None:
        if record.get("kind") == "start":
            started.append(int(record["n"]))
        elif record.get("kind") == "size":
            timings.append(Timing(int(record["n"]), float(record["seconds"])))
            on_step(label, 1)

    result = run_worker(
        WORKER,
        {"engine": engine, "shape": shape, "sizes": list(sizes), "size_limit": size_limit, **_engine_names(course)},
        exercises=workspace.exercises,
        solutions=course.solutions,
        policy=course.allowed_imports,
        time_limit=size_limit * (len(sizes) + 1) + 10,
        idle_limit=size_limit + 1,
        on_record=arrived,
    )
    errors = [record for record in result.records if record.get("kind") == "error"]
    if len(started) > len(timings):
        unfinished: int | None = started[len(timings)]
    else:
        # Before the first size, the engine was being loaded: a failure there counts for the first size.
        unfinished = sizes[0] if not started and (errors or result.problem) else None
    if unfinished is not None:
        if errors:
            failure = _failure(errors[0])
        elif result.problem in ("timeout", "idle_timeout"):
            failure = Failure("too_slow")
        else:
            failure = Failure("crashed", message=str(result.exit_code))
        timings.append(Timing(unfinished, None, failure))
    on_step(label, len(sizes) - sum(t.seconds is not None for t in timings))
    return tuple(timings)


def _engine_names(course: Course) -> dict[str, str]:
    """Where the worker finds the value class: the course's manifest says (`engine:`)."""
    if course.engine is None:
        raise TinygradLearnError("bench.no_engine")
    return {"module": course.engine.module, "value": course.engine.value}


def _measure_memory(course: Course, workspace: Workspace, engine: str, size_limit: float) -> MemoryRun:
    from .runner import run_worker

    result = run_worker(
        WORKER,
        {"engine": engine, "shape": "memory", "steps": MEMORY_STEPS, **_engine_names(course)},
        exercises=workspace.exercises,
        solutions=course.solutions,
        policy=course.allowed_imports,
        time_limit=size_limit * 4,
    )
    for record in result.records:
        if record.get("kind") == "memory":
            return MemoryRun(engine, float(record["bytes_per_node"]), int(record["nodes"]))
        if record.get("kind") == "error":
            return MemoryRun(engine, None, 0, _failure(record))
    kind = "too_slow" if result.problem == "timeout" else "crashed"
    return MemoryRun(engine, None, 0, Failure(kind, message=str(result.exit_code)))


# ---------------------------------------------------------------------------------------------
# The worker side: runs inside the child process started by `runner.run_worker`.


def linear_graph(value_type: Any, n: int) -> Any:
    x = value_type(1.0)
    for _ in range(n):
        x = x + 1
    return x


def tree_graph(value_type: Any, n: int) -> Any:
    level = [value_type(1.0) for _ in range(n)]
    while len(level) > 1:
        paired = [level[i] + level[i + 1] for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


def count_nodes(root: Any) -> int | None:
    """How many nodes `_prev` reaches from `root`, walked without recursion; None without `_prev`."""
    seen = {id(root)}
    stack = [root]
    while stack:
        node = stack.pop()
        children = getattr(node, "_prev", None)
        if children is None:
            return None
        for child in children:
            if id(child) not in seen:
                seen.add(id(child))
                stack.append(child)
    return len(seen)


def worker(payload: dict[str, Any], send: Callable[[dict[str, Any]], None]) -> None:
    from .grading import testkit

    module = payload["module"]
    engine = testkit.learner(module) if payload["engine"] == "yours" else testkit.reference(module)
    value_type = getattr(engine, payload["value"])
    if payload["shape"] == "memory":
        _memory_worker(value_type, int(payload["steps"]), send)
        return
    build = linear_graph if payload["shape"] == "linear" else tree_graph
    for n in payload["sizes"]:
        send({"kind": "start", "n": n})
        best = math.inf
        spent = 0.0
        # The best of up to three runs smooths out noise on small graphs, within a small budget.
        # The cycle collector is paused while timing: its passes over a growing heap would make
        # even a linear engine look superlinear, and the growth of the engine itself is the point.
        for _ in range(3):
            gc.disable()
            try:
                began = _CLOCK()
                build(value_type, n).backward()
                elapsed = _CLOCK() - began
            finally:
                gc.enable()
            gc.collect()
            best = min(best, elapsed)
            spent += elapsed
            if spent > REPEAT_BUDGET:
                break
        send({"kind": "size", "n": n, "seconds": best})
        if best > float(payload["size_limit"]) / 10:
            # The next size is ten times larger: it would not finish within the limit.
            return


def _memory_worker(value_type: Any, steps: int, send: Callable[[dict[str, Any]], None]) -> None:
    import tracemalloc

    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    root = linear_graph(value_type, steps)
    used = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    nodes = count_nodes(root) or 2 * steps + 1
    send({"kind": "memory", "bytes_per_node": used / nodes, "nodes": nodes})
