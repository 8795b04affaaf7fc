"""`train`: runs the learner's own training loop and reports every step as it happens.

Which loops a course has, and which checkpoint unlocks each, is in its manifest (`trains:`). The
loops themselves never print: they call a callback. Here that callback sends one record per step
from a worker process (`runner.run_worker`, since the learner's code may hang or crash) to the
CLI, which draws a progress bar and the loss curve.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import TinygradLearnError
from .manifest import Course
from .paths import Workspace

TIME_LIMIT = 120.0
IDLE_LIMIT = 30.0


@dataclass(frozen=True)
class Task:
    name: str
    checkpoint: str
    target: str
    default_steps: int


# Which worker drives each loop the manifest may name (manifest.TRAINING_RECIPES).
RECIPE_WORKERS = {
    "xor": "tinygrad_learn.training:xor_worker",
    "framework": "tinygrad_learn.training:framework_worker",
}


@dataclass(frozen=True)
class Boundary:
    """The trained xor model's output over a square grid of the plane, and the four points it learned."""

    axis: tuple[float, ...]
    """The grid's coordinates, the same along x and y."""
    outputs: tuple[tuple[float, ...], ...]
    """Row by row: y outer, x inner."""
    points: tuple[tuple[float, float, float], ...]
    """(x, y, target) of each training point."""


@dataclass(frozen=True)
class TrainingRun:
    task: Task
    total: int
    losses: tuple[float, ...]
    accuracy: float | None
    error: dict[str, Any] | None
    problem: str | None
    """None, timeout or idle_timeout (the learner's loop stopped reporting)."""
    duration: float
    boundary: Boundary | None = None
    """For xor with `boundary=True`, when the model gave a finite number everywhere on the grid."""

    @property
    def finished(self) -> bool:
        return self.error is None and self.problem is None and self.accuracy is not None


def find_task(course: Course, name: str) -> Task:
    """The loop `train <name>` runs, as the course's manifest declares it."""
    wanted = name.strip().lower()
    for training in course.trainings:
        if training.name == wanted:
            return Task(training.name, training.checkpoint, RECIPE_WORKERS[training.recipe], training.steps)
    raise TinygradLearnError("train.unknown", name=name, known=", ".join(t.name for t in course.trainings))


def run_training(
    course: Course,
    workspace: Workspace,
    task: Task,
    *,
    steps: int | None,
    seed: int,
    on_record: Callable[[dict[str, Any]], None],
    boundary: bool = False,
) -> TrainingRun:
    from .runner import run_worker

    total = steps or task.default_steps
    losses: list[float] = []

    def arrived(record: dict[str, Any]) -> None:
        if record.get("kind") == "step" and isinstance(record.get("loss"), (int, float)):
            losses.append(float(record["loss"]))
        on_record(record)

    result = run_worker(
        task.target,
        {"steps": total, "seed": seed, "boundary": boundary},
        exercises=workspace.exercises,
        solutions=course.solutions,
        policy=course.allowed_imports,
        time_limit=TIME_LIMIT,
        idle_limit=IDLE_LIMIT,
        on_record=arrived,
    )
    error = next((r for r in result.records if r.get("kind") == "error"), None)
    outcome = next((r for r in result.records if r.get("kind") == "result"), None)
    accuracy = outcome.get("accuracy") if outcome else None
    grid = next((read_boundary(r) for r in result.records if r.get("kind") == "boundary"), None)
    return TrainingRun(
        task=task,
        total=total,
        losses=tuple(losses),
        accuracy=float(accuracy) if isinstance(accuracy, (int, float)) else None,
        error=error,
        problem=result.problem,
        duration=result.duration,
        boundary=grid,
    )


def read_boundary(record: dict[str, Any]) -> Boundary | None:
    """The worker's `boundary` record, checked field by field (the child runs learner code and may
    send anything); None when it is malformed or the model's output is not a finite number."""

    def numbers(values: Any, length: int | None = None) -> tuple[float, ...]:
        if not isinstance(values, list) or (length is not None and len(values) != length):
            raise ValueError
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in values):
            raise ValueError
        return tuple(float(v) for v in values)

    try:
        axis = numbers(record.get("axis"))
        rows = record.get("outputs")
        inputs, targets = record.get("inputs"), record.get("targets")
        if not axis or not isinstance(rows, list) or len(rows) != len(axis):
            return None
        if not isinstance(inputs, list) or not isinstance(targets, list) or len(inputs) != len(targets):
            return None
        outputs = tuple(numbers(row, len(axis)) for row in rows)
        pairs = [numbers(point, 2) for point in inputs]
        points = tuple((x, y, target) for (x, y), target in zip(pairs, numbers(targets), strict=True))
    except ValueError:
        return None
    return Boundary(axis, outputs, points)


# The worker side: runs inside the child process started by `runner.run_worker`.


def _plain(loss: Any) -> float:
    """The loss as a float, whether the learner passed a number or the Value/Tensor itself."""
    data = getattr(loss, "data", loss)
    return float(getattr(data, "item", lambda: data)())


def xor_worker(payload: dict[str, Any], send: Callable[[dict[str, Any]], None]) -> None:
    from .grading.testkit import learner

    train = learner("train")
    steps = int(payload["steps"])
    send({"kind": "start", "total": steps})
    model, _ = train.train_xor(
        steps=steps,
        seed=int(payload["seed"]),
        callback=lambda step, loss: send({"kind": "step", "step": int(step) + 1, "loss": _plain(loss)}),
    )
    pairs = list(zip(train.XOR_INPUTS, train.XOR_TARGETS, strict=True))
    correct = sum((_plain(model(x)) > 0) == (y > 0) for x, y in pairs)
    send({"kind": "result", "accuracy": correct / len(pairs)})
    if payload.get("boundary"):
        send(_xor_boundary(model, train.XOR_INPUTS, train.XOR_TARGETS))


BOUNDARY_POINTS = 21
"""Grid points per side: enough to see the boundary, cheap enough for a scalar engine."""


def _xor_boundary(model: Any, inputs: list[list[float]], targets: list[float]) -> dict[str, Any]:
    """The model's output over the square around the four XOR points, row by row (y outer, x inner)."""
    low, high = -0.5, 1.5
    axis = [low + (high - low) * i / (BOUNDARY_POINTS - 1) for i in range(BOUNDARY_POINTS)]
    outputs = [[_plain(model([x, y])) for x in axis] for y in axis]
    return {"kind": "boundary", "axis": axis, "outputs": outputs, "inputs": inputs, "targets": targets}


def spiral(points_per_class: int, classes: int, seed: int) -> tuple[Any, Any]:
    """Interleaved spiral arms, a classic data set no straight line can separate."""
    import numpy as np

    rng = np.random.default_rng(seed)
    radius = np.tile(np.linspace(0.05, 1.0, points_per_class), classes)
    labels = np.repeat(np.arange(classes), points_per_class)
    angle = labels * (2 * np.pi / classes) + radius * 4 + rng.normal(0, 0.15, radius.size)
    inputs = np.stack([radius * np.sin(angle), radius * np.cos(angle)], axis=1)
    order = rng.permutation(radius.size)
    return inputs[order], labels[order]


def framework_worker(payload: dict[str, Any], send: Callable[[dict[str, Any]], None]) -> None:
    import numpy as np

    from .grading.testkit import learner

    framework = learner("framework")
    tensor = learner("tensor")
    epochs, seed = int(payload["steps"]), int(payload["seed"])
    inputs, labels = spiral(100, 3, seed)
    batches = [(tensor.Tensor(inputs[i : i + 50]), labels[i : i + 50]) for i in range(0, len(labels), 50)]
    model = framework.Sequential(
        framework.Linear(2, 32, seed=seed), framework.Tanh(), framework.Linear(32, 3, seed=seed + 1)
    )
    optimizer = framework.Adam(model.parameters(), lr=0.02)
    send({"kind": "start", "total": epochs * len(batches)})

    def report(epoch: int, step: int, loss: Any) -> None:
        send({"kind": "step", "step": int(epoch) * len(batches) + int(step) + 1, "loss": _plain(loss)})

    framework.fit(model, batches, tensor.cross_entropy, optimizer, epochs, callback=report)
    with tensor.no_grad():
        predictions = np.argmax(model(tensor.Tensor(inputs)).data, axis=1)
    send({"kind": "result", "accuracy": float(np.mean(predictions == labels))})
