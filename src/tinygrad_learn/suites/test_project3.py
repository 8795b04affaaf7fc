"""Project 3: Value.tanh with its own backward, then f3(x, y) = tanh(x*y) * (x + y).

The expected gradients are worked out by hand here:
    t = tanh(x*y),  df/dx = (1 - t^2) * y * (x + y) + t,  df/dy = (1 - t^2) * x * (x + y) + t.
tanh must stay finite for any input: at x = 1000 the exact answer is 1.0 with slope 0.0.
"""

import math

from tinygrad_learn.grading.suitekit import (
    RECURSIVE_SORT_BRIEF,
    UNHASHABLE_BRIEF,
    close,
    expect_formula_of_x_and_y,
    expect_output_grad_one,
    explaining,
    holds,
    inputs_of,
    recursive_sort,
    unhashable_value,
    value_class,
)
from tinygrad_learn.grading.testkit import (
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

TOL = 1e-11

OVERFLOW = Msg(
    en=(
        "OverflowError: {error}. A formula built on exp(2x) "
        "(or on cosh) needs e**2000 at x = 1000, far beyond the largest float (about 1.8e308, already "
        "passed near x = 355). math.tanh(x) is computed stably for every x and returns exactly 1.0 there; "
        "use it for the value, and 1 - t*t, with t the tanh you already have, for the derivative."
    ),
    ko=(
        "OverflowError가 났습니다: {error}. exp(2x) (또는 cosh)로 "
        "만든 식은 x = 1000에서 e**2000이 필요한데, 이는 가장 큰 float (약 1.8e308, x가 355 근처일 때 "
        "이미 넘음)보다 훨씬 큽니다. math.tanh(x)는 모든 x에서 안정적으로 계산되고 거기서 정확히 1.0을 "
        "돌려줍니다. 값에는 그것을, 미분에는 이미 구한 tanh 값 t로 1 - t*t를 쓰세요."
    ),
)

NOT_A_NUMBER = Msg(
    en=(
        "{what} came out as nan. A formula like (e**2x - 1) / (e**2x + 1) turns into "
        "inf / inf = nan for large x. math.tanh(x) is stable for every x: use it for the value, and "
        "1 - t*t for the derivative."
    ),
    ko=(
        "{what:가} nan입니다. (e**2x - 1) / (e**2x + 1) 같은 식은 x가 크면 "
        "inf / inf = nan이 됩니다. math.tanh(x)는 모든 x에서 안정적입니다: 값에는 그것을, 미분에는 "
        "1 - t*t를 쓰세요."
    ),
)

GRADS_STILL_ZERO = Msg(
    en=(
        "After backward(), every input still has grad 0. The operations must return a Value built from their "
        "inputs (with _prev), attach their _backward closure before returning it, add with `+=` and "
        "multiply by out.grad."
    ),
    ko=(
        "backward() 뒤에도 모든 입력의 grad가 0입니다. 연산은 입력으로 만든 Value (_prev 포함)를 돌려줘야 하고, "
        "돌려주기 전에 _backward 클로저를 붙이며, `+=`로 더하고 out.grad를 곱해야 합니다."
    ),
)

NOT_ATTACHED = Msg(
    en=(
        "After t._backward(), x.grad did not change. In tanh, attach the closure with "
        "`out._backward = _backward` before `return out`."
    ),
    ko=(
        "t._backward() 뒤에도 x.grad가 바뀌지 않았습니다. tanh에서 `return out` 전에 "
        "`out._backward = _backward`로 클로저를 붙이세요."
    ),
)

MISSING_OUT_GRAD = Msg(
    en=(
        "After t._backward(), x received the local derivative 1 - t*t = {local} alone, instead of it times "
        "the output's grad ({g} here). The chain rule multiplies: add `(1 - t*t) * out.grad`."
    ),
    ko=(
        "t._backward() 뒤에 x가 출력의 grad (여기서는 {g})를 곱하지 않은 국소 미분값 1 - t*t = {local}만 "
        "받았습니다. 연쇄 법칙은 곱입니다: `(1 - t*t) * out.grad`를 더하세요."
    ),
)

OVERWRITES = Msg(
    en="x.grad lost the {start} it already held. Gradients add up: use `+=` in _backward, never `=`.",
    ko="x.grad에 이미 있던 {start:가} 사라졌습니다. 그래디언트는 누적됩니다: `=`가 아니라 `+=`를 쓰세요.",
)


explained = explaining(recursive_sort(RECURSIVE_SORT_BRIEF), unhashable_value(UNHASHABLE_BRIEF))


def f3_function():
    return need(learner("projects"), "f3")


def guarded(compute, expr, given):
    """Run learner code that may overflow; explain OverflowError in the learner's terms."""
    try:
        return compute()
    except OverflowError as error:
        fail_with(OVERFLOW, expr=expr, error=str(error), given=given)


def expect_finite(value, what, expr, given):
    number = expect_number(value, what)
    if math.isnan(number):
        fail_with(NOT_A_NUMBER, expr=expr, what=what, given=given)
    return number


def differentiate(out, expr, leaves, given):
    need_attr(out, "backward", "out")
    guarded(out.backward, expr, given)
    expect_output_grad_one(out, expr)
    for index, leaf in enumerate(leaves):
        expect_finite(leaf.grad, f"input {index + 1} grad", expr, given)


def f3_grads(x, y):
    t = math.tanh(x * y)
    slope = 1 - t * t
    return t * (x + y), slope * y * (x + y) + t, slope * x * (x + y) + t


@explained
def test_tanh_value_and_derivative(rng):
    Value = value_class()
    for _ in range(10):
        x = rng.uniform(-3, 3)
        given = {"x": x}
        v = Value(x)
        out = guarded(v.tanh, "x.tanh()", given)
        expect_type(out, Value, "x.tanh()")
        expect_close(out.data, math.tanh(x), "x.tanh().data", expr="t = x.tanh()", given=given, tol=TOL)
        expect_true(
            holds(inputs_of(out, "t"), v),
            Msg(en="t = x.tanh(): t._prev should hold x", ko="t = x.tanh(): t._prev에 x가 있어야 합니다"),
            given=given,
        )
        expr = "t = x.tanh(); t.backward()"
        differentiate(out, expr, [v], given)
        if v.grad == 0:
            fail_with(GRADS_STILL_ZERO, expr=expr, given=given)
        expect_close(v.grad, 1 - math.tanh(x) ** 2, "x.grad", expr=expr + "  # 1 - tanh(x)**2", given=given, tol=TOL)


@explained
def test_tanh_backward_uses_out_grad_and_accumulates(rng):
    Value = value_class()
    for start in (0.0, round(rng.uniform(-3, 3), 2) or 0.75):
        x = rng.uniform(-2, 2)
        given = {"x": x}
        v = Value(x)
        v.grad = start
        out = v.tanh()
        g = rng.choice([2.0, -3.0, 0.5])
        out.grad = g
        local = 1 - math.tanh(x) ** 2
        expr = f"x.grad = {start!r}; t = x.tanh(); t.grad = {g!r}; t._backward()"
        out._backward()
        got = expect_number(v.grad, "x.grad")
        if got == start:
            fail_with(NOT_ATTACHED, expr=expr, given=given)
        if close(got, start + local, TOL):
            fail_with(MISSING_OUT_GRAD, expr=expr, local=local, g=g, given=given)
        if start and close(got, g * local, TOL):
            fail_with(OVERWRITES, expr=expr, start=start, given=given)
        expect_close(got, start + g * local, "x.grad", expr=expr, given=given, tol=TOL)
        out._backward()
        expr += "; t._backward()"
        if close(v.grad, start + g * local, TOL):
            fail_with(OVERWRITES, expr=expr, start=start + g * local, given=given)
        expect_close(v.grad, start + 2 * g * local, "x.grad", expr=expr, given=given, tol=TOL)


@explained
def test_tanh_in_reused_nodes(rng):
    Value = value_class()
    x = rng.uniform(-2, 2)
    t, slope = math.tanh(x), 1 - math.tanh(x) ** 2
    given = {"x": x}
    v = Value(x)
    th = v.tanh()
    out = th * th + th
    expr = "t = x.tanh(); out = t * t + t; out.backward()"
    differentiate(out, expr, [v], given)
    expect_close(v.grad, (2 * t + 1) * slope, "x.grad", expr=expr, given=given, tol=TOL)
    v = Value(x)
    out = v.tanh() * v
    expr = "out = x.tanh() * x; out.backward()"
    differentiate(out, expr, [v], given)
    expect_close(v.grad, slope * x + t, "x.grad", expr=expr, given=given, tol=TOL)


@explained
def test_tanh_of_huge_inputs(rng):
    Value = value_class()
    magnitudes = [1000.0, rng.uniform(360, 900), rng.uniform(20, 40), 1e6]
    for magnitude in magnitudes:
        for sign in (1, -1):
            x = sign * magnitude
            given = {"x": x}
            v = Value(x)
            out = guarded(v.tanh, "x.tanh()", given)
            expect_type(out, Value, "x.tanh()")
            expect_finite(out.data, "x.tanh().data", "x.tanh()", given)
            expect_close(out.data, float(sign), "x.tanh().data", expr="t = x.tanh()", given=given, tol=TOL)
            expr = "t = x.tanh(); t.backward()"
            differentiate(out, expr, [v], given)
            expect_close(v.grad, 0.0, "x.grad", expr=expr + "  # 1 - tanh(x)**2 is 0 this far out", given=given,
                         tol=TOL)


def build_f3(Value, f3, x, y):
    """f3 on fresh leaves, checked to be a real graph over both inputs, with no gradient yet."""
    given = {"x": x, "y": y}
    vx, vy = Value(x), Value(y)
    out = guarded(lambda: f3(vx, vy), "f3(x, y)", given)
    expect_type(out, Value, "f3(x, y)")
    operations = Msg(en="x * y, .tanh(), x + y and a final *", ko="x * y, .tanh(), x + y, 마지막 *")
    expect_formula_of_x_and_y(out, vx, vy, "f3", operations=operations, at_least=4, given=given)
    return vx, vy, out


def check_point(Value, f3, x, y):
    vx, vy, out = build_f3(Value, f3, x, y)
    given = {"x": x, "y": y}
    value, dx, dy = f3_grads(x, y)
    expect_finite(out.data, "out.data", "f3(x, y)", given)
    expect_close(out.data, value, "out.data", expr="out = f3(x, y)", given=given, tol=TOL)
    expr = "out = f3(x, y); out.backward()"
    differentiate(out, expr, [vx, vy], given)
    if (dx or dy) and vx.grad == 0 and vy.grad == 0:
        fail_with(GRADS_STILL_ZERO, expr=expr, given=given)
    expect_grads(
        {"x": vx.grad, "y": vy.grad},
        {"x": dx, "y": dy},
        expr=expr + "  # t = tanh(xy): df/dx = (1 - t^2) y (x + y) + t, df/dy = (1 - t^2) x (x + y) + t",
        given=given,
        tol=TOL,
        ops=["tanh", "__mul__", "__add__", "f3"],
        expected_from="formula",
    )


@explained
def test_f3_at_random_points(rng):
    Value, f3 = value_class(), f3_function()
    for _ in range(20):
        check_point(Value, f3, rng.uniform(-2, 2), rng.uniform(-2, 2))


@explained
def test_f3_at_simple_points(rng):
    Value, f3 = value_class(), f3_function()
    check_point(Value, f3, 1.0, 2.0)
    check_point(Value, f3, 0.0, rng.uniform(-2, 2))
    x = rng.uniform(-2, 2)
    check_point(Value, f3, x, -x)


@explained
def test_f3_with_huge_products(rng):
    Value, f3 = value_class(), f3_function()
    points = [
        (1000.0, 1000.0),
        (-1000.0, 1000.0),
        (1000.0, rng.uniform(0.4, 0.9)),
        (rng.uniform(-0.9, -0.4), 1000.0),
        (rng.uniform(25, 40), -rng.uniform(25, 40)),
    ]
    for x, y in points:
        check_point(Value, f3, x, y)


@explained
def test_f3_same_value_for_both_arguments(rng):
    # f3(x, x) = tanh(x^2) * 2x, so d/dx = (1 - tanh(x^2)^2) * 2x * 2x + 2 tanh(x^2).
    Value, f3 = value_class(), f3_function()
    x = rng.uniform(-1.5, 1.5)
    build_f3(Value, f3, x, x)
    given = {"x": x}
    v = Value(x)
    out = guarded(lambda: f3(v, v), "f3(x, x)", given)
    expr = "out = f3(x, x); out.backward()  # tanh(x*x) * 2x"
    t = math.tanh(x * x)
    expect_close(out.data, t * 2 * x, "out.data", expr=expr, given=given, tol=TOL)
    differentiate(out, expr, [v], given)
    expect_close(v.grad, (1 - t * t) * 4 * x * x + 2 * t, "x.grad", expr=expr, given=given, tol=TOL)
