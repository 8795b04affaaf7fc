"""Project 2: f2(x, y) = x*y + x, whose partial derivatives are df/dx = y + 1 and df/dy = x.

x appears twice in the formula, so its gradient only comes out right when both uses are added
up. Only +, * (with their reflected forms), ** and backward() are used.
"""

import functools
import traceback

from tinygrad_learn.testkit import (
    Msg,
    expect_close,
    expect_grads,
    expect_number,
    expect_true,
    expect_type,
    fail_with,
    learner,
    need,
    need_attr,
)

TOL = 1e-12

UNHASHABLE = Msg(
    en=(
        "Python refused to put a Value in a set (TypeError: {error}). A class that defines __eq__ "
        "loses the default __hash__. Either remove __eq__, or add `def __hash__(self): return id(self)`."
    ),
    ko=(
        "Value 를 set 에 넣을 수 없습니다 (TypeError: {error}). __eq__ 를 정의한 클래스는 기본 __hash__ 를 "
        "잃습니다. __eq__ 를 지우거나 `def __hash__(self): return id(self)` 를 추가하세요."
    ),
)

DEEP_RECURSION = Msg(
    en=(
        "RecursionError in backward(): a recursive topological sort stops at about 1000 nested calls. "
        "Sort iteratively, with a list used as a stack."
    ),
    ko=(
        "backward() 에서 RecursionError 가 났습니다: 재귀 위상 정렬은 약 1000 번 중첩에서 멈춥니다. "
        "list 를 스택으로 써서 반복문으로 정렬하세요."
    ),
)

OUTPUT_GRAD_NOT_SET = Msg(
    en="After {expr}, the output's own grad is {grad}, not 1.0: backward() must start with `self.grad = 1.0`.",
    ko="{expr} 뒤에 출력 자신의 grad 가 1.0 이 아니라 {grad} 입니다. backward() 는 `self.grad = 1.0` 으로 시작해야 합니다.",
)

GRADS_STILL_ZERO = Msg(
    en=(
        "After {expr}, x.grad and y.grad are both still 0. f2 must return the Value built from x and y by "
        "your operations (not a new Value made from plain numbers), and each operation must attach its "
        "_backward closure, add with `+=` and multiply by out.grad."
    ),
    ko=(
        "{expr} 뒤에도 x.grad 와 y.grad 가 모두 0 입니다. f2 는 x 와 y 에 연산을 적용해 만든 Value 를 "
        "돌려줘야 하고 (숫자로 새로 만든 Value 가 아니라), 각 연산은 _backward 클로저를 붙이고 `+=` 로 "
        "더하며 out.grad 를 곱해야 합니다."
    ),
)

X_USED_ONCE = Msg(
    en=(
        "{expr}: x.grad is {got}, which is only y = {y}, the part that comes through x*y. x is used twice "
        "in x*y + x, so its gradient is the sum of both uses: y + 1 = {want}. Check that your gradients "
        "accumulate with `+=` and that f2 really adds x at the end."
    ),
    ko=(
        "{expr}: x.grad 가 {got} 인데, 이는 x*y 를 거쳐 오는 몫 y = {y} 뿐입니다. x*y + x 에서 x 는 두 번 "
        "쓰이므로 그래디언트는 두 몫의 합 y + 1 = {want} 입니다. 그래디언트를 `+=` 로 누적하는지, f2 가 "
        "마지막에 x 를 정말 더하는지 확인하세요."
    ),
)


def _frames_named(error, name):
    return sum(1 for frame in traceback.extract_tb(error.__traceback__) if frame.name == name)


def explained(test):
    """Turn the guide's classic crashes into an explanation instead of a bare traceback."""

    @functools.wraps(test)
    def run(*args, **kwargs):
        try:
            return test(*args, **kwargs)
        except RecursionError as error:
            if _frames_named(error, "backward") > 0:
                fail_with(DEEP_RECURSION)
            raise
        except TypeError as error:
            if "unhashable" in str(error):
                fail_with(UNHASHABLE, error=str(error))
            raise

    return run


def value_class():
    return need(learner("engine"), "Value")


def f2_function():
    return need(learner("projects"), "f2")


def inputs_of(node, what):
    return list(need_attr(node, "_prev", what))


def graph_of(out):
    """Every node reachable from `out` through _prev, by identity, without recursion."""
    seen = {}
    stack = [out]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen[id(node)] = node
        stack.extend(inputs_of(node, "node"))
    return list(seen.values())


def build_f2(Value, f2, x, y):
    """f2 on fresh leaves, checked to be a real graph over both inputs, with no gradient yet."""
    vx, vy = Value(x), Value(y)
    out = f2(vx, vy)
    expect_type(out, Value, "f2(x, y)")
    nodes = graph_of(out)
    operations = sum(1 for node in nodes if inputs_of(node, "node"))
    reaches = [name for name, leaf in (("x", vx), ("y", vy)) if any(node is leaf for node in nodes)]
    expect_true(
        len(reaches) == 2 and operations >= 2,
        Msg(
            en="f2(x, y) should be built from x and y with Value operations (x * y, then + x), so that "
            "backward() can reach both through _prev. The Value it returned is made by {count} "
            "operation(s) and reaches {reaches}.",
            ko="f2(x, y) 는 x 와 y 에 Value 연산 (x * y, 그리고 + x) 을 써서 만들어야 backward() 가 _prev 를 "
            "따라 둘 다에 닿습니다. 돌려준 Value 는 연산 {count} 개로 만들어졌고 닿는 입력은 {reaches} 입니다.",
        ),
        count=operations,
        reaches=", ".join(reaches) or "none",
        given={"x": x, "y": y},
    )
    expect_true(
        vx.grad == 0 and vy.grad == 0,
        Msg(
            en="f2(x, y) changed the gradients before backward() was called (x.grad = {gx}, y.grad = {gy}): "
            "f2 only builds the formula; backward() computes the gradients.",
            ko="backward() 를 부르기 전에 f2(x, y) 가 그래디언트를 바꿨습니다 (x.grad = {gx}, y.grad = {gy}). "
            "f2 는 식만 만들고, 그래디언트는 backward() 가 계산합니다.",
        ),
        gx=vx.grad,
        gy=vy.grad,
        given={"x": x, "y": y},
    )
    return vx, vy, out


def differentiate(out, expr, leaves):
    need_attr(out, "backward", "out")
    out.backward()
    grad = expect_number(out.grad, "out.grad")
    if grad != 1:
        fail_with(OUTPUT_GRAD_NOT_SET, expr=expr, grad=grad)
    if all(expect_number(leaf.grad, "grad") == 0 for leaf in leaves):
        fail_with(GRADS_STILL_ZERO, expr=expr)


def check_point(Value, f2, x, y):
    vx, vy, out = build_f2(Value, f2, x, y)
    given = {"x": x, "y": y}
    expr = "out = f2(x, y); out.backward()"
    expect_close(out.data, x * y + x, "out.data", expr="out = f2(x, y)", given=given, tol=TOL)
    differentiate(out, expr, [vx, vy])
    if y + 1 != y and vx.grad == y:
        fail_with(X_USED_ONCE, expr=expr, got=vx.grad, y=y, want=y + 1, given=given)
    expect_grads({"x": vx.grad, "y": vy.grad}, {"x": y + 1, "y": x}, expr=expr + "  # df/dx = y + 1, df/dy = x",
                 given=given, tol=TOL)


@explained
def test_f2_at_random_points(rng):
    Value, f2 = value_class(), f2_function()
    for _ in range(20):
        check_point(Value, f2, rng.uniform(-10, 10), rng.uniform(-10, 10))


@explained
def test_f2_at_simple_points(rng):
    Value, f2 = value_class(), f2_function()
    check_point(Value, f2, 2.0, 3.0)
    check_point(Value, f2, float(rng.randint(-9, 9)), float(rng.randint(-9, 9)))
    check_point(Value, f2, 0.0, rng.uniform(-5, 5))
    check_point(Value, f2, rng.uniform(-5, 5), -1.0)


@explained
def test_f2_with_integer_data(rng):
    Value, f2 = value_class(), f2_function()
    x, y = rng.randint(-9, 9), rng.randint(-9, 9)
    vx, vy = Value(x), Value(y)
    out = f2(vx, vy)
    expr = f"out = f2(Value({x}), Value({y})); out.backward()"
    expect_close(out.data, x * y + x, "out.data", expr=expr, tol=0)
    out.backward()
    expect_grads({"x": vx.grad, "y": vy.grad}, {"x": y + 1, "y": x}, expr=expr, given={"x": x, "y": y}, tol=TOL)


@explained
def test_f2_same_value_for_both_arguments(rng):
    # f2(x, x) = x*x + x, so the single input collects 2x + 1.
    Value, f2 = value_class(), f2_function()
    x = rng.uniform(-10, 10)
    v = Value(x)
    out = f2(v, v)
    expr = "out = f2(x, x); out.backward()  # x*x + x"
    expect_close(out.data, x * x + x, "out.data", expr=expr, given={"x": x}, tol=TOL)
    differentiate(out, expr, [v])
    expect_close(v.grad, 2 * x + 1, "x.grad", expr=expr, given={"x": x}, tol=TOL)


@explained
def test_f2_inside_a_bigger_graph(rng):
    Value, f2 = value_class(), f2_function()
    xa, xb, xc = (rng.uniform(-5, 5) for _ in range(3))
    a, b, c = Value(xa), Value(xb), Value(xc)
    x = a + b
    y = a * c
    out = f2(x, y)
    expr = "x = a + b; y = a * c; out = f2(x, y); out.backward()"
    given = {"a": xa, "b": xb, "c": xc}
    sx, sy = xa + xb, xa * xc
    expect_close(out.data, sx * sy + sx, "out.data", expr=expr, given=given, tol=TOL)
    differentiate(out, expr, [a, b, c])
    expect_grads(
        {"a": a.grad, "b": b.grad, "c": c.grad},
        {"a": (sy + 1) + sx * xc, "b": sy + 1, "c": sx * xa},
        expr=expr,
        given=given,
        tol=TOL,
    )
