"""What the Week-4 training suites share: a check that the training really happened.

A Week-4 training function is watched while it runs (every backward() of a loss computed after
the model was called is one training step, with the model's parameters before it and their
gradients after it), then replayed: each step's update must be an optimizer's rule applied to
that step's gradients, the returned parameters where the last update left them, and sampled
steps' losses and gradients those of the model on its data. Everything here fails through
testkit, in the learner's terms.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, cast

import numpy as np

from tinygrad_learn.grading.arraykit import entry_label
from tinygrad_learn.grading.testkit import Msg, fail_with

# An update's distance from the best-fitting rule, relative to the update itself. SGD-style rules
# are linear, so rounding alone leaves ~1e-12; Adam's epsilon and betas are the learner's own.
SGD_RULE_TOL = 1e-6
ADAM_RULE_TOL = 1e-3
ADAM_BETAS = ((0.9, 0.999), (0.9, 0.99))
ADAM_EPSILON = 1e-8
ROUNDING = 1e-12
SAMPLED_STEPS = 3


class TrainingStep:
    """One backward() of a training run: the call that produced the loss, and the parameters."""

    def __init__(self, model: Any, inputs: np.ndarray, output: np.ndarray, loss: float) -> None:
        self.model = model
        self.inputs = inputs
        self.output = output
        self.loss = loss
        self.params: list[np.ndarray] = []
        self.grads: list[np.ndarray] = []


def _snapshot(values: Any) -> np.ndarray:
    """A float64 copy of a Tensor's or an array's numbers (an empty array for anything else)."""
    try:
        return np.array(getattr(values, "data", values), dtype=np.float64, copy=True)
    except (TypeError, ValueError):
        return np.zeros(0)


def model_parameters(model: Any) -> list[Any]:
    return list(model.parameters())


class TrainingWatch:
    """While active, the learner's `Tensor.backward` and the model class's `entries` (those of its
    methods that compute the loss's input: `__call__` and `forward`, or `loss`) are wrapped: a
    backward() of a one-number Tensor after a call of an entry is recorded as a step of that call's
    model. All are put back on exit."""

    def __init__(self, tensor: type, model_class: type, *entries: str) -> None:
        self.tensor, self.model_class, self.entries = tensor, model_class, entries
        self.steps: list[TrainingStep] = []
        self.pending: TrainingStep | None = None
        self.saved: list[tuple[type, str, Any]] = []

    def _wrap(self, owner: type, name: str, make: Callable[[Any], Any]) -> None:
        own = vars(owner).get(name)
        self.saved.append((owner, name, own))
        setattr(owner, name, make(getattr(owner, name)))

    def __enter__(self) -> TrainingWatch:
        watch = self

        def entry(original: Any) -> Any:
            def watched(model: Any, *args: Any, **kwargs: Any) -> Any:
                out = original(model, *args, **kwargs)
                given = args[0] if args else next(iter(kwargs.values()), None)
                watch.pending = TrainingStep(model, _snapshot(given), _snapshot(out), float("nan"))
                return out

            return watched

        def backward(original: Any) -> Any:
            def watched(loss: Any, *args: Any, **kwargs: Any) -> Any:
                step, watch.pending = watch.pending, None
                data = getattr(loss, "data", None)
                if step is None or data is None or np.size(data) != 1:
                    return original(loss, *args, **kwargs)
                step.loss = float(np.asarray(loss.data, dtype=np.float64).reshape(()))
                params = model_parameters(step.model)
                step.params = [_snapshot(p) for p in params]
                result = original(loss, *args, **kwargs)
                step.grads = [
                    _snapshot(p.grad) if isinstance(p.grad, np.ndarray) else np.zeros_like(step.params[i])
                    for i, p in enumerate(params)
                ]
                watch.steps.append(step)
                return result

            return watched

        for name in self.entries:
            if callable(getattr(self.model_class, name, None)):
                self._wrap(self.model_class, name, entry)
        self._wrap(self.tensor, "backward", backward)
        return self

    def __exit__(self, *exc: object) -> None:
        for owner, name, own in reversed(self.saved):
            if own is None:
                delattr(owner, name)
            else:
                setattr(owner, name, own)
        self.saved.clear()


def not_trained(trainer: str, message: Msg, **params: Any) -> None:
    """Fail saying what was found that shows the model's weights did not come from its training
    (in the words week3's replay of train_xor uses)."""
    fail_with(
        Msg(
            en=trainer + "'s model did not come from its training: " + message.en,
            ko=trainer + "의 모델이 학습에서 나온 것이 아닙니다. " + message.ko,
        ),
        **params,
    )


def _flat(arrays: Sequence[np.ndarray]) -> np.ndarray:
    return np.concatenate([np.ravel(a) for a in arrays]) if arrays else np.zeros(0)


def _residual(delta: np.ndarray, columns: list[np.ndarray]) -> np.ndarray:
    """What of `delta` the best combination of `columns` leaves unexplained."""
    used = [c for c in columns if np.any(c)]
    if not used:
        return delta
    matrix = np.stack(used, axis=1)
    coefficients = np.linalg.lstsq(matrix, delta, rcond=None)[0]
    return cast(np.ndarray, delta - matrix @ coefficients)


def _adam_directions(grads: list[np.ndarray], beta1: float, beta2: float) -> list[list[np.ndarray]]:
    """For each step, m/(sqrt(v)+eps) with and without bias correction."""
    m, v = np.zeros_like(grads[0]), np.zeros_like(grads[0])
    directions = []
    for t, g in enumerate(grads, start=1):
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        corrected = (m / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + ADAM_EPSILON)
        directions.append([corrected, m / (np.sqrt(v) + ADAM_EPSILON)])
    return directions


def parameter_label(params: Sequence[np.ndarray], flat_index: int) -> str:
    """`model.parameters()[i][j, k]` for an index into the parameters laid end to end."""
    for i, p in enumerate(params):
        if flat_index < p.size:
            index = np.unravel_index(flat_index, p.shape) if p.shape else ()
            return entry_label(f"model.parameters()[{i}]", tuple(int(j) for j in index), bare_if_0d=False)
        flat_index -= p.size
    return "model.parameters()"


def expect_updates_follow_a_rule(trainer: str, steps: Sequence[TrainingStep], final: Sequence[np.ndarray]) -> None:
    """Every change of the parameters, from one step to the next and from the last step to the
    returned model, is an optimizer's update with the gradients of the steps so far."""
    shapes = [p.shape for p in steps[0].params]
    for k, step in enumerate(steps):
        if [p.shape for p in step.params] != shapes or [g.shape for g in step.grads] != shapes:
            not_trained(
                trainer,
                Msg(
                    en="the model's parameters changed shape at training step {step}",
                    ko="학습 스텝 {step}에서 모델 파라미터의 모양이 바뀌었습니다",
                ),
                step=k,
            )
    if [np.shape(p) for p in final] != shapes:
        not_trained(
            trainer,
            Msg(
                en="the returned model's parameters have shapes {got}, the trained ones {expected}",
                ko="돌려준 모델의 파라미터 모양은 {got}, 학습한 파라미터의 모양은 {expected}입니다",
            ),
            got=[list(np.shape(p)) for p in final],
            expected=[list(s) for s in shapes],
        )
    points = [_flat(step.params) for step in steps] + [_flat(final)]
    grads = [_flat(step.grads) for step in steps]
    adam = {betas: _adam_directions(grads, *betas) for betas in ADAM_BETAS}
    zero = np.zeros_like(points[0])
    for k in range(len(steps)):
        delta = points[k + 1] - points[k]
        previous = points[k] - points[k - 1] if k else zero
        size = float(np.max(np.abs(delta), initial=0.0))
        # p.data += update rounds each parameter to its own precision, whatever the update's size.
        rounding = ROUNDING * max(1.0, float(np.max(np.abs(points[k]), initial=0.0)))
        sgd = _residual(delta, [grads[k], previous, grads[k - 1] if k else zero, points[k]])
        if np.max(np.abs(sgd), initial=0.0) <= SGD_RULE_TOL * size + rounding:
            continue
        if any(
            np.max(np.abs(_residual(delta, [direction])), initial=0.0) <= ADAM_RULE_TOL * size + rounding
            for directions in adam.values()
            for direction in directions[k]
        ):
            continue
        worst = int(np.argmax(np.abs(sgd)))
        params = dict(
            name=parameter_label(steps[0].params, worst),
            before=float(points[k][worst]),
            after=float(points[k + 1][worst]),
            grad=float(grads[k][worst]),
        )
        if k == len(steps) - 1:
            not_trained(
                trainer,
                Msg(
                    en="the returned parameters are not where the last training step left them: no update "
                    "(SGD, with or without momentum, Nesterov or weight decay, or Adam) with that step's "
                    "gradients takes {name} from {before} to {after} (its gradient was {grad})",
                    ko="돌려준 파라미터가 마지막 학습 스텝이 남긴 값이 아닙니다. 그 스텝의 그래디언트로 하는 어떤 "
                    "업데이트(모멘텀, 네스테로프, 가중치 감쇠가 있든 없든 SGD나 Adam)로도 {name:이} {before}에서 "
                    "{after:로} 가지 않습니다 (그래디언트는 {grad})",
                ),
                **params,
            )
        not_trained(
            trainer,
            Msg(
                en="between training steps {step} and {next} the parameters moved in a way no update (SGD, with "
                "or without momentum, Nesterov or weight decay, or Adam) with the gradients explains: {name} went "
                "from {before} to {after} (its gradient was {grad})",
                ko="학습 스텝 {step:과} {next} 사이에 파라미터가 그래디언트로 하는 어떤 업데이트(모멘텀, 네스테로프, "
                "가중치 감쇠가 있든 없든 SGD나 Adam)로도 설명되지 않게 움직였습니다. {name:이} {before}에서 {after:로} "
                "갔습니다 (그래디언트는 {grad})",
            ),
            step=k,
            next=k + 1,
            **params,
        )


def sampled_steps(count: int, rng: Any) -> list[int]:
    """The first and the last step and a few random ones between them."""
    between = list(range(1, count - 1))
    picked = rng.choice(between, size=min(SAMPLED_STEPS, len(between)), replace=False) if between else []
    return sorted({0, count - 1, *(int(k) for k in picked)})


class ParametersSetTo:
    """The model's parameters hold `values` (and zero gradients) inside the block, and get their
    own data back afterwards."""

    def __init__(self, model: Any, values: Sequence[np.ndarray]) -> None:
        self.params = model_parameters(model)
        self.values = values

    def __enter__(self) -> list[Any]:
        self.saved = [(p.data, p.grad) for p in self.params]
        for p, value in zip(self.params, self.values, strict=True):
            p.data = np.array(value, copy=True)
            p.grad = np.zeros_like(p.data)
        return self.params

    def __exit__(self, *exc: object) -> None:
        for p, (data, grad) in zip(self.params, self.saved, strict=True):
            p.data, p.grad = data, grad


def expect_step_loss(trainer: str, k: int, got: float, expected: float, what: Msg) -> None:
    """Step k's recorded loss is `what`, recomputed at that step's parameters: `expected`."""
    if not abs(got - expected) <= 1e-9 * max(1.0, abs(expected)):
        not_trained(
            trainer,
            Msg(
                en="the loss of training step {step} was {loss}, but the model's parameters at that step give "
                "{expected} (" + what.en + ")",
                ko="학습 스텝 {step}의 손실은 {loss}였는데, 그 스텝의 모델 파라미터로 계산하면 {expected}입니다 ("
                + what.ko
                + ")",
            ),
            step=k,
            loss=got,
            expected=expected,
        )


def expect_step_grads(trainer: str, k: int, step: TrainingStep, grads: Sequence[Any]) -> None:
    """The gradients recorded after step k's backward() are those of the loss recomputed at step k."""
    expected = _flat([_snapshot(g) for g in grads])
    got = _flat(step.grads)
    scale = max(1e-12, float(np.max(np.abs(expected), initial=0.0)))
    wrong = np.abs(got - expected) > 1e-7 * scale
    if got.shape != expected.shape or wrong.any():
        worst = int(np.argmax(np.abs(got - expected))) if got.shape == expected.shape else 0
        not_trained(
            trainer,
            Msg(
                en="after the backward() of training step {step}, {name}.grad was {got}, but the gradient of that "
                "step's loss is {want}",
                ko="학습 스텝 {step}의 backward() 뒤 {name}.grad는 {got}였는데, 그 스텝의 손실로 구한 "
                "그래디언트는 {want}입니다",
            ),
            step=k,
            name=parameter_label(step.params, worst),
            got=float(got[worst]) if got.size else None,
            want=float(expected[worst]) if expected.size else None,
        )
