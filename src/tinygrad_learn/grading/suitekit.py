"""What several suites share, on top of testkit: every suite may use it.

The suites from step 2 to week 3 all grade the learner's own `Value`: they load it, walk the
graph it builds through `_prev`, run `backward()` and expect the output's grad to be 1, and turn
the guide's classic crashes (a reflected operator calling itself, a recursive topological sort,
an unhashable Value) into explanations instead of bare tracebacks. Those pieces live here, with
the sentences that several suites use word for word. Sentences only one suite uses stay in it.
The Week-4 suites grade the learner's numpy `Tensor` instead: their shared array checks (float64
entries, shapes, numerical gradients, the worst entries of a wrong gradient) are in the section
"Arrays (Week 4)" at the end. Everything here fails through testkit, in the learner's terms.
"""

from __future__ import annotations

import functools
import os
import random
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import numpy as np

from tinygrad_learn.grading.testkit import (
    Msg,
    expect_grads,
    expect_number,
    expect_true,
    fail,
    fail_with,
    learner,
    module_from_source,
    need,
    need_attr,
    solution_path,
)

# ---------------------------------------------------------------------------------------------
# The guide's troubleshooting cases. The step suites explain a case at length the first time the
# learner can meet it; the projects only remind, in a sentence or two.

UNHASHABLE = Msg(
    en=(
        "Python refused to put a Value in a set (TypeError: {error}). A class that defines __eq__ "
        "loses the default __hash__. Either remove __eq__, or add `def __hash__(self): return id(self)` "
        "so that every node stays a distinct object."
    ),
    ko=(
        "Value를 set에 넣을 수 없습니다 (TypeError: {error}). __eq__를 정의한 클래스는 기본 __hash__를 "
        "잃습니다. __eq__를 지우거나 `def __hash__(self): return id(self)`를 추가해 노드마다 서로 다른 "
        "객체로 남게 하세요."
    ),
)

UNHASHABLE_BRIEF = Msg(
    en=(
        "Python refused to put a Value in a set (TypeError: {error}). A class that defines __eq__ "
        "loses the default __hash__. Either remove __eq__, or add `def __hash__(self): return id(self)`."
    ),
    ko=(
        "Value를 set에 넣을 수 없습니다 (TypeError: {error}). __eq__를 정의한 클래스는 기본 __hash__를 "
        "잃습니다. __eq__를 지우거나 `def __hash__(self): return id(self)`를 추가하세요."
    ),
)

RECURSIVE_SORT_BRIEF = Msg(
    en=(
        "RecursionError in backward(): a recursive topological sort stops at about 1000 nested calls. "
        "Sort iteratively, with a list used as a stack."
    ),
    ko=(
        "backward()에서 RecursionError가 났습니다: 재귀 위상 정렬은 약 1000번 중첩에서 멈춥니다. "
        "list를 스택으로 써서 반복문으로 정렬하세요."
    ),
)

OUTPUT_GRAD_NOT_SET_BRIEF = Msg(
    en="After backward(), the output's own grad is {grad}, not 1.0: backward() must start with `self.grad = 1.0`.",
    ko=(
        "backward() 뒤에 출력 자신의 grad가 1.0이 아니라 {grad}입니다. backward()는 `self.grad = 1.0`으로 "
        "시작해야 합니다."
    ),
)


# ---------------------------------------------------------------------------------------------
# Crashes of learner code, explained


@dataclass(frozen=True)
class Explanation:
    """A classic crash of learner code, told apart by its exception, and the sentence that explains it.

    `recognise` returns the message's parameters when the error is this crash, None otherwise.
    """

    kind: type[BaseException]
    recognise: Callable[[BaseException], dict[str, Any] | None]
    message: Msg

    def explain(self, error: BaseException) -> None:
        """Fail with the sentence when `error` is this crash; otherwise return and let the caller go on."""
        if isinstance(error, self.kind):
            params = self.recognise(error)
            if params is not None:
                fail_with(self.message, **params)


def _frames_named(error: BaseException, name: str) -> int:
    """How many frames of the error's traceback run a function called `name`."""
    return sum(1 for frame in traceback.extract_tb(error.__traceback__) if frame.name == name)


def endless_reflection(method: str, message: Msg, *, names_method: bool = True) -> Explanation:
    """A reflected operator that calls itself (`return other + self` in __radd__): a RecursionError
    with more than 20 frames of `method`. With `names_method` the message's {method} is filled in."""

    def recognise(error: BaseException) -> dict[str, Any] | None:
        if _frames_named(error, method) > 20:
            return {"method": method} if names_method else {}
        return None

    return Explanation(RecursionError, recognise, message)


def recursive_sort(message: Msg) -> Explanation:
    """A RecursionError with backward() on the stack: a topological sort that recurses once per level."""
    return Explanation(RecursionError, lambda error: {} if _frames_named(error, "backward") > 0 else None, message)


def unhashable_value(message: Msg) -> Explanation:
    """A TypeError from putting a Value in a set after __eq__ took __hash__ away; {error} is its text."""
    return type_error_mentioning(message, "unhashable")


def type_error_mentioning(message: Msg, *fragments: str) -> Explanation:
    """A TypeError whose text contains every one of `fragments`; {error} is its text."""

    def recognise(error: BaseException) -> dict[str, Any] | None:
        text = str(error)
        return {"error": text} if all(fragment in text for fragment in fragments) else None

    return Explanation(TypeError, recognise, message)


Test = TypeVar("Test", bound=Callable[..., Any])


def explaining(*explanations: Explanation) -> Callable[[Test], Test]:
    """A decorator for tests: a crash one of `explanations` recognises (tried in order) fails with its
    sentence; any other exception goes on unchanged. Use it as `explained = explaining(...)` once
    per suite, then `@explained` on each test."""
    kinds = tuple(dict.fromkeys(explanation.kind for explanation in explanations))

    def decorate(test: Test) -> Test:
        @functools.wraps(test)
        def run(*args: Any, **kwargs: Any) -> Any:
            try:
                return test(*args, **kwargs)
            except kinds as error:
                for explanation in explanations:
                    explanation.explain(error)
                raise

        return cast(Test, run)

    return decorate


# ---------------------------------------------------------------------------------------------
# The learner's Value and the graph it builds


def value_class() -> Any:
    """The learner's `Value` class from exercises/engine.py."""
    return need(learner("engine"), "Value")


def inputs_of(node: Any, what: str) -> list[Any]:
    """The nodes in `node._prev`, whatever container the learner chose."""
    return list(need_attr(node, "_prev", what))


def holds(items: Iterable[Any], node: Any) -> bool:
    """Is `node` itself (not an equal copy) among `items`?"""
    return any(item is node for item in items)


def graph_of(out: Any) -> list[Any]:
    """Every node reachable from `out` through _prev, by identity, without recursion."""
    seen: dict[int, Any] = {}
    stack = [out]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen[id(node)] = node
        stack.extend(inputs_of(node, "node"))
    return list(seen.values())


def count_operations(nodes: Iterable[Any]) -> int:
    """How many of `nodes` were made by an operation (have inputs)."""
    return sum(1 for node in nodes if inputs_of(node, "node"))


def expect_formula_of_x_and_y(
    out: Any, x: Any, y: Any, name: str, *, operations: Msg, at_least: int, given: Mapping[str, Any]
) -> None:
    """`out = name(x, y)` must be a graph of at least `at_least` Value operations that reaches both
    leaves and has not touched their grads yet. `operations` names the operations to use."""
    nodes = graph_of(out)
    count = count_operations(nodes)
    reaches = [leaf_name for leaf_name, leaf in (("x", x), ("y", y)) if holds(nodes, leaf)]
    expect_true(
        len(reaches) == 2 and count >= at_least,
        Msg(
            en=f"{name}(x, y) should be built from x and y with Value operations ({operations.en}), so that "
            "backward() can reach both through _prev. The Value it returned is made by {count} "
            "operation(s) and reaches {reaches}.",
            ko=f"{name}(x, y)는 x와 y에 Value 연산 ({operations.ko})을 써서 만들어야 backward()가 _prev를 "
            "따라 둘 다에 닿습니다. 돌려준 Value는 연산 {count} 개로 만들어졌고 닿는 입력은 {reaches}입니다.",
        ),
        count=count,
        reaches=", ".join(reaches) or "none",
        given=given,
    )
    expect_operations_of_the_engine(out, name, given)
    expect_true(
        x.grad == 0 and y.grad == 0,
        Msg(
            en=f"{name}(x, y) changed the gradients before backward() was called (x.grad = {{gx}}, "
            f"y.grad = {{gy}}): {name} only builds the formula; backward() computes the gradients.",
            ko=f"backward()를 부르기 전에 {name}(x, y)가 그래디언트를 바꿨습니다 (x.grad = {{gx}}, "
            f"y.grad = {{gy}}). {name} 함수는 식만 만들고, 그래디언트는 backward()가 계산합니다.",
        ),
        gx=x.grad,
        gy=y.grad,
        given=given,
    )


def _defined_in(function: Any) -> str | None:
    """The file a node's `_backward` was written in (closure, method or partial alike)."""
    while isinstance(function, functools.partial):
        function = function.func
    function = getattr(function, "__func__", function)
    code = getattr(function, "__code__", None)
    return os.path.realpath(code.co_filename) if code is not None else None


HAND_MADE_NODE = Msg(
    en="{name} returned a graph with {count} node(s) that no operation of your engine made: the _backward "
    "of such a node comes from {where}, so its derivative was worked out by hand. Write {name} with Value "
    "operations only (+, *, ** and the engine's methods), so that backward() derives it.",
    ko="{name} 함수가 돌려준 그래프에 엔진의 연산이 만들지 않은 노드가 {count}개 있습니다. 그 노드의 "
    "_backward는 {where}에서 왔으니, 도함수를 손으로 구한 셈입니다. {name} 함수는 Value 연산 (+, *, **와 엔진의 "
    "메서드)만으로 써서 backward()가 미분하게 하세요.",
)


def expect_operations_of_the_engine(out: Any, name: str, given: Mapping[str, Any]) -> None:
    """Every operation node of `out` got its `_backward` from the learner's engine.py: a project
    function made of the engine's own operations, not one node carrying a hand-derived rule."""
    engine = learner("engine")
    engine_file = os.path.realpath(engine.__file__ or "")
    foreign = []
    for node in graph_of(out):
        if inputs_of(node, "node"):
            where = _defined_in(getattr(node, "_backward", None))
            if where != engine_file:
                foreign.append(where)
    if foreign:
        where = foreign[0]
        fail_with(
            HAND_MADE_NODE,
            name=name,
            count=len(foreign),
            where=os.path.basename(where) if where else type(getattr(out, "_backward", None)).__name__,
            given=given,
        )


BACKWARD_SKIPS_NODES = Msg(
    en="{expr}: backward() ran the _backward of {wrong} of the {total} operation nodes other than once "
    "({never} never, {again} more than once). Backpropagation calls each node's _backward exactly once, "
    "from the output back to the inputs; re-evaluating the formula (finite differences, at any "
    "precision) is not backpropagation.",
    ko="{expr}: backward()가 연산 노드 {total}개 중 {wrong}개의 _backward를 한 번이 아닌 횟수로 불렀습니다 "
    "(안 부름 {never}개, 두 번 이상 {again}개). 역전파는 출력에서 입력 쪽으로 노드마다 _backward를 정확히 "
    "한 번 부릅니다. 식을 다시 계산하는 것 (어떤 정밀도의 유한 차분이든)은 역전파가 아닙니다.",
)


def backward_counting_nodes(out: Any, expr: str) -> None:
    """`backward_from(out)`, counting the calls of every operation node's `_backward`.

    This is the suites' answer to finite differences at any precision: such an engine may get
    every gradient right to the last digit, but it never runs the nodes' own rules. Each node's
    `_backward` is wrapped for the call (on the node, or on the class when it is a method the
    node has no slot for) and put back afterwards.
    """
    nodes = [node for node in graph_of(out) if inputs_of(node, "node")]
    calls = {id(node): 0 for node in nodes}
    on_nodes: list[tuple[Any, Any]] = []
    on_class: list[tuple[type, Any]] = []

    def counting(node: Any, original: Any) -> Callable[..., Any]:
        def counted(*args: Any, **kwargs: Any) -> Any:
            calls[id(node)] += 1
            return original(*args, **kwargs)

        return counted

    try:
        for node in nodes:
            original = need_attr(node, "_backward", "node")
            try:
                node._backward = counting(node, original)
                on_nodes.append((node, original))
            except (AttributeError, TypeError):
                cls = type(node)
                if all(wrapped is not cls for wrapped, _ in on_class):
                    method = cls.__dict__.get("_backward")

                    def counted_method(self: Any, *args: Any, _method: Any = cls._backward) -> Any:
                        if id(self) in calls:
                            calls[id(self)] += 1
                        return _method(self, *args)

                    on_class.append((cls, method))
                    cls._backward = counted_method
        backward_from(out, expr)
    finally:
        for node, original in on_nodes:
            node._backward = original
        for cls, method in on_class:
            if method is None:
                del cls._backward
            else:
                cls._backward = method
    never = sum(1 for count in calls.values() if count == 0)
    again = sum(1 for count in calls.values() if count > 1)
    if never or again:
        fail_with(BACKWARD_SKIPS_NODES, expr=expr, wrong=never + again, total=len(nodes), never=never, again=again)


# ---------------------------------------------------------------------------------------------
# backward()


def expect_output_grad_one(out: Any, expr: str, not_set: Msg = OUTPUT_GRAD_NOT_SET_BRIEF) -> None:
    """After backward(), the output's own grad is d(out)/d(out) = 1; `not_set` ({grad}) says otherwise."""
    grad = expect_number(out.grad, "out.grad")
    if grad != 1:
        fail_with(not_set, expr=expr, grad=grad)


def backward_from(out: Any, expr: str) -> None:
    """Call out.backward() (failing in words if there is none), then expect out.grad to be 1."""
    need_attr(out, "backward", "out")
    out.backward()
    expect_output_grad_one(out, expr)


def close(a: float, b: float, tol: float) -> bool:
    """Within `tol`, relative to the larger of 1 and the two sizes."""
    return abs(a - b) <= tol * max(1.0, abs(a), abs(b))


# ---------------------------------------------------------------------------------------------
# Inputs and engines


def away_from_zero(rng: random.Random, low: float, high: float, margin: float, digits: Sequence[int]) -> float:
    """A random number in [low, high], rounded to one of `digits` decimals, at least `margin` from zero."""
    while True:
        x = round(rng.uniform(low, high), rng.choice(digits))
        if abs(x) >= margin:
            return x


def reference_engine_with(old: str | None = None, new: str = "") -> Any:
    """The course's reference engine built afresh from its source, with the one place `old` replaced
    by `new` (a planted bug), or unchanged."""
    source = solution_path("engine").read_text(encoding="utf-8")
    if old is not None:
        if source.count(old) != 1:
            raise RuntimeError(f"the reference engine no longer contains {old!r} exactly once")
        source = source.replace(old, new)
    return module_from_source(source, "engine")


# =============================================================================================
# Arrays (Week 4)
#
# The Week-4 suites grade the learner's numpy `Tensor`: they compare arrays entry by entry in
# float64, check gradients against central differences, and show the worst entries when a
# gradient is off. The tensor suite is strict (float64 only, a gradient's shape measured against
# its tensor, with the broadcasting hint); the cnn and rnn suites, which build on a tensor that has
# already passed it, accept any ndarray and word shape mistakes briefly (`strict=False`).

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
        expect_grads(autograd, numeric, expr=expr, given=given, tol=tol, ops=ops)
