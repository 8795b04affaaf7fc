"""What the Week-4 suites share, on top of testkit: checks of the learner's numpy `Tensor`.

They compare arrays entry by entry in float64, check gradients against central differences, and
show the worst entries when a gradient is off. The tensor suite is strict (float64 only, a
gradient's shape measured against its tensor, with the broadcasting hint); the cnn and rnn suites,
which build on a tensor that has already passed it, accept any ndarray and word shape mistakes
briefly (`strict=False`). Everything here fails through testkit, in the learner's terms.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast

import numpy as np

from tinygrad_learn.grading.testkit import Msg, expect_grads, fail, fail_with, learner, need

NUMERIC_STEP = 1e-6
ARRAY_VALUE_TOL = 1e-9
ARRAY_GRAD_TOL = 1e-5
WORST_ENTRIES = 6

ARRAY_SHAPE = Msg(
    en="{what} has shape {got}, but it should have shape {expected} ({expr})",
    ko="{what}의 모양이 {got}입니다. {expected} 이어야 합니다 ({expr})",
)

ARRAY_DTYPE = Msg(
    en="{what} should hold float64 numbers, but its dtype is {dtype} ({expr})",
    ko="{what:는} float64 숫자를 담아야 하는데 dtype이 {dtype}입니다 ({expr})",
)

GRAD_SHAPE = Msg(
    en="{name}.grad has shape {got}, but {name} has shape {expected}: a gradient has the shape "
    "of its tensor, so sum it over the dimensions that broadcasting stretched ({expr})",
    ko="{name}.grad의 모양은 {got} 인데 {name}의 모양은 {expected}입니다. 그래디언트는 텐서와 "
    "같은 모양이어야 하니, 브로드캐스팅으로 늘어난 차원을 따라 합해 주세요 ({expr})",
)

GRAD_SHAPE_BRIEF = Msg(
    en="{name}.grad has shape {got}, but {name} has shape {expected} ({expr})",
    ko="{name}.grad의 모양은 {got} 인데 {name}의 모양은 {expected}입니다 ({expr})",
)


def tensor_class() -> Any:
    """The learner's `Tensor` class from exercises/tensor.py."""
    return need(learner("tensor"), "Tensor")


def numeric_grads(f: Callable[..., float], arrays: Sequence[Any]) -> list[np.ndarray]:
    """Central differences of the plain-numpy scalar function f(*arrays), one array per input."""
    copies = [np.array(a, dtype=np.float64) for a in arrays]
    grads = []
    for a in copies:
        grad = np.zeros_like(a)
        for index in np.ndindex(a.shape):
            old = a[index]
            a[index] = old + NUMERIC_STEP
            up = f(*copies)
            a[index] = old - NUMERIC_STEP
            down = f(*copies)
            a[index] = old
            grad[index] = (up - down) / (2 * NUMERIC_STEP)
        grads.append(grad)
    return grads


def distinct_values(g: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Values at least 0.01 apart, so max() has one clear winner and differences stay clean."""
    count = int(np.prod(shape))
    return (g.permutation(count) * 0.1 + g.uniform(-0.04, 0.04, count) - count * 0.05).reshape(shape)


def is_array(value: Any, shape: tuple[int, ...]) -> bool:
    """Is `value` a numpy array? numpy turns some 0-d results into float64 scalars, which are still
    right for a tensor of shape ()."""
    if type(value) is np.ndarray:
        return True
    return type(value) is np.float64 and tuple(shape) == ()


def misses(actual: Any, expected: np.ndarray, tol: float, scale: Any = None) -> np.ndarray:
    """Where `actual` and `expected` differ by more than `tol` times `scale`, by default the larger of
    1 and the two sizes."""
    if scale is None:
        scale = np.maximum(1.0, np.maximum(np.abs(actual), np.abs(expected)))
    return cast(np.ndarray, ~(np.abs(actual - expected) <= tol * scale))


def entry_label(what: str, index: tuple[int, ...], *, bare_if_0d: bool = True) -> str:
    """`what[i, j]`; just `what` for the one entry of a 0-d array, unless `bare_if_0d` is off."""
    if index or not bare_if_0d:
        return f"{what}[{', '.join(str(int(i)) for i in index)}]"
    return what


def expect_array(
    actual: Any,
    expected: Any,
    what: str,
    *,
    expr: str,
    given: Mapping[str, Any] | None = None,
    tol: float = ARRAY_VALUE_TOL,
    strict: bool = True,
) -> None:
    """`actual` is a numpy array of `expected`'s shape, equal to it entry by entry within `tol`.
    `strict`: float64 only, and a float64 scalar stands for a 0-d array; otherwise any ndarray,
    and a 0-d mismatch is labelled `what[]`."""
    expected = np.asarray(expected, dtype=np.float64)
    if not (is_array(actual, expected.shape) if strict else type(actual) is np.ndarray):
        fail("wrong_type", what=what, expected="numpy.ndarray", got=type(actual).__name__, value=actual)
    if strict and actual.dtype != np.float64:
        fail_with(ARRAY_DTYPE, what=what, dtype=str(actual.dtype), expr=expr)
    if actual.shape != expected.shape:
        fail_with(ARRAY_SHAPE, what=what, got=str(actual.shape), expected=str(expected.shape), expr=expr)
    wrong = misses(actual, expected, tol)
    if wrong.any():
        index = tuple(int(i) for i in np.argwhere(wrong)[0])
        fail(
            "wrong_value",
            what=entry_label(what, index, bare_if_0d=strict),
            expected=float(expected[index]),
            got=float(actual[index]),
            expr=expr,
            given=given or {},
        )


def expect_grad(
    tensor: Any,
    expected: np.ndarray,
    name: str,
    *,
    expr: str,
    given: Mapping[str, Any],
    tol: float = ARRAY_GRAD_TOL,
    ops: Sequence[str] = (),
    strict: bool = True,
    expected_from: str = "",
) -> None:
    """`tensor.grad` is an array of the tensor's own shape, matching `expected` entry by entry; when it
    does not, the worst entries are shown side by side with the numerical ones. `strict`: as in
    `expect_array`, with the shape measured against the tensor's data and the broadcasting hint;
    otherwise measured against `expected` and stated briefly."""
    grad = tensor.grad
    shape = np.shape(tensor.data) if strict else expected.shape
    if not (is_array(grad, shape) if strict else type(grad) is np.ndarray):
        fail("wrong_type", what=f"{name}.grad", expected="numpy.ndarray", got=type(grad).__name__, value=grad)
    if grad.shape != shape:
        message = GRAD_SHAPE if strict else GRAD_SHAPE_BRIEF
        fail_with(message, name=name, got=str(grad.shape), expected=str(shape), expr=expr)
    wrong = misses(grad, expected, tol)
    if wrong.any():
        order = np.argsort(-np.where(wrong, np.abs(grad - expected), -1.0), axis=None)[:WORST_ENTRIES]
        autograd, numeric = {}, {}
        for flat in order:
            index = tuple(int(i) for i in np.unravel_index(flat, shape)) if shape else ()
            label = entry_label(name, index, bare_if_0d=strict)
            autograd[label] = float(grad[index])
            numeric[label] = float(expected[index])
        expect_grads(autograd, numeric, expr=expr, given=given, tol=tol, ops=ops, expected_from=expected_from)
