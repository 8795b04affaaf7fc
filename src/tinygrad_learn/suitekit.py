"""What several scalar-engine suites share, on top of testkit.

The suites from step 2 to week 3 all grade the learner's own `Value`: they load it, walk the
graph it builds through `_prev`, run `backward()` and expect the output's grad to be 1, and turn
the guide's classic crashes (a reflected operator calling itself, a recursive topological sort,
an unhashable Value) into explanations instead of bare tracebacks. Those pieces live here, with
the sentences that several suites use word for word. Sentences only one suite uses stay in it.
Everything here fails through testkit, in the learner's terms.
"""

from __future__ import annotations

import functools
import random
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from tinygrad_learn.testkit import (
    Msg,
    expect_number,
    expect_true,
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
        "Value 를 set 에 넣을 수 없습니다 (TypeError: {error}). __eq__ 를 정의한 클래스는 기본 __hash__ 를 "
        "잃습니다. __eq__ 를 지우거나 `def __hash__(self): return id(self)` 를 추가해 노드마다 서로 다른 "
        "객체로 남게 하세요."
    ),
)

UNHASHABLE_BRIEF = Msg(
    en=(
        "Python refused to put a Value in a set (TypeError: {error}). A class that defines __eq__ "
        "loses the default __hash__. Either remove __eq__, or add `def __hash__(self): return id(self)`."
    ),
    ko=(
        "Value 를 set 에 넣을 수 없습니다 (TypeError: {error}). __eq__ 를 정의한 클래스는 기본 __hash__ 를 "
        "잃습니다. __eq__ 를 지우거나 `def __hash__(self): return id(self)` 를 추가하세요."
    ),
)

RECURSIVE_SORT_BRIEF = Msg(
    en=(
        "RecursionError in backward(): a recursive topological sort stops at about 1000 nested calls. "
        "Sort iteratively, with a list used as a stack."
    ),
    ko=(
        "backward() 에서 RecursionError 가 났습니다: 재귀 위상 정렬은 약 1000 번 중첩에서 멈춥니다. "
        "list 를 스택으로 써서 반복문으로 정렬하세요."
    ),
)

OUTPUT_GRAD_NOT_SET_BRIEF = Msg(
    en="After backward(), the output's own grad is {grad}, not 1.0: backward() must start with `self.grad = 1.0`.",
    ko=(
        "backward() 뒤에 출력 자신의 grad 가 1.0 이 아니라 {grad} 입니다. backward() 는 `self.grad = 1.0` 으로 "
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
            ko=f"{name}(x, y) 는 x 와 y 에 Value 연산 ({operations.ko}) 을 써서 만들어야 backward() 가 _prev 를 "
            "따라 둘 다에 닿습니다. 돌려준 Value 는 연산 {count} 개로 만들어졌고 닿는 입력은 {reaches} 입니다.",
        ),
        count=count,
        reaches=", ".join(reaches) or "none",
        given=given,
    )
    expect_true(
        x.grad == 0 and y.grad == 0,
        Msg(
            en=f"{name}(x, y) changed the gradients before backward() was called (x.grad = {{gx}}, "
            f"y.grad = {{gy}}): {name} only builds the formula; backward() computes the gradients.",
            ko=f"backward() 를 부르기 전에 {name}(x, y) 가 그래디언트를 바꿨습니다 (x.grad = {{gx}}, "
            f"y.grad = {{gy}}). {name} 는 식만 만들고, 그래디언트는 backward() 가 계산합니다.",
        ),
        gx=x.grad,
        gy=y.grad,
        given=given,
    )


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
