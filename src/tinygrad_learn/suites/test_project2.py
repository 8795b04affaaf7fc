"""Project 2: f2(x, y) = x*y + x, whose partial derivatives are df/dx = y + 1 and df/dy = x.

x appears twice in the formula, so its gradient only comes out right when both uses are added
up. Only +, * (with their reflected forms), ** and backward() are used.
"""

from tinygrad_learn.grading.suitekit import (
    RECURSIVE_SORT_BRIEF,
    UNHASHABLE_BRIEF,
    backward_from,
    expect_formula_of_x_and_y,
    explaining,
    recursive_sort,
    unhashable_value,
    value_class,
)
from tinygrad_learn.grading.testkit import (
    Msg,
    expect_close,
    expect_grads,
    expect_number,
    expect_type,
    fail_with,
    learner,
    need,
)

TOL = 1e-12

GRADS_STILL_ZERO = Msg(
    en=(
        "After backward(), x.grad and y.grad are both still 0. f2 must return the Value built from x and y by "
        "your operations (not a new Value made from plain numbers), and each operation must attach its "
        "_backward closure, add with `+=` and multiply by out.grad."
    ),
    ko=(
        "backward() 뒤에도 x.grad와 y.grad가 모두 0입니다. f2는 x와 y에 연산을 적용해 만든 Value를 "
        "돌려줘야 하고 (숫자로 새로 만든 Value가 아니라), 각 연산은 _backward 클로저를 붙이고 `+=`로 "
        "더하며 out.grad를 곱해야 합니다."
    ),
)

X_USED_ONCE = Msg(
    en=(
        "x.grad is {got}, which is only y = {y}, the part that comes through x*y. x is used twice "
        "in x*y + x, so its gradient is the sum of both uses: y + 1 = {want}. Check that your gradients "
        "accumulate with `+=` and that f2 really adds x at the end."
    ),
    ko=(
        "x.grad가 {got} 인데, 이는 x*y를 거쳐 오는 몫 y = {y} 뿐입니다. x*y + x에서 x는 두 번 "
        "쓰이므로 그래디언트는 두 몫의 합 y + 1 = {want}입니다. 그래디언트를 `+=`로 누적하는지, f2가 "
        "마지막에 x를 정말 더하는지 확인하세요."
    ),
)


explained = explaining(recursive_sort(RECURSIVE_SORT_BRIEF), unhashable_value(UNHASHABLE_BRIEF))


def f2_function():
    return need(learner("projects"), "f2")


def build_f2(Value, f2, x, y):
    """f2 on fresh leaves, checked to be a real graph over both inputs, with no gradient yet."""
    vx, vy = Value(x), Value(y)
    out = f2(vx, vy)
    expect_type(out, Value, "f2(x, y)")
    operations = Msg(en="x * y, then + x", ko="x * y, 그리고 + x")
    expect_formula_of_x_and_y(out, vx, vy, "f2", operations=operations, at_least=2, given={"x": x, "y": y})
    return vx, vy, out


def differentiate(out, expr, leaves, expected=None):
    """backward(), then the "nothing reached the inputs" diagnosis, unless every true gradient is 0."""
    backward_from(out, expr)
    if expected is not None and not any(expected):
        return
    if all(expect_number(leaf.grad, "grad") == 0 for leaf in leaves):
        fail_with(GRADS_STILL_ZERO, expr=expr)


def check_point(Value, f2, x, y):
    vx, vy, out = build_f2(Value, f2, x, y)
    given = {"x": x, "y": y}
    expr = "out = f2(x, y); out.backward()"
    expect_close(out.data, x * y + x, "out.data", expr="out = f2(x, y)", given=given, tol=TOL)
    # At x = 0, y = -1 both true gradients are 0: a correct engine must not be told otherwise.
    differentiate(out, expr, [vx, vy], expected=(y + 1, x))
    if y + 1 != y and vx.grad == y:
        fail_with(X_USED_ONCE, expr=expr, got=vx.grad, y=y, want=y + 1, given=given)
    expect_grads({"x": vx.grad, "y": vy.grad}, {"x": y + 1, "y": x}, expr=expr + "  # df/dx = y + 1, df/dy = x",
                 given=given, tol=TOL, ops=["f2", "__mul__", "__add__"], expected_from="formula")


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
    expect_grads({"x": vx.grad, "y": vy.grad}, {"x": y + 1, "y": x}, expr=expr, given={"x": x, "y": y}, tol=TOL,
                 ops=["f2", "__mul__", "__add__"], expected_from="formula")


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
        ops=["f2", "__mul__", "__add__"],
        expected_from="formula",
    )
