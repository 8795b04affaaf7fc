"""Project 1: multiplication and powers, then f1(x) = x^2 + 2x + 1 differentiated by backward().

Only the operations learned so far are used: +, number + Value, *, number * Value, ** with a
plain-number exponent, and backward(). Gradients of polynomials are exact, so they are compared
to 1e-12: a derivative estimated by finite differences is not that precise.
"""

from tinygrad_learn.grading.suitekit import (
    RECURSIVE_SORT_BRIEF,
    UNHASHABLE_BRIEF,
    backward_counting_nodes,
    close,
    count_operations,
    endless_reflection,
    expect_operations_of_the_engine,
    explaining,
    graph_of,
    holds,
    inputs_of,
    recursive_sort,
    type_error_mentioning,
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
)

TOL = 1e-12

REFLECTED_RECURSION = Msg(
    en=(
        "RecursionError inside {method}: it calls itself forever. For `2 * v` Python calls v.{method}(2); "
        "writing `return other * self` (or `other + self`) there asks the number again, which sends Python "
        "straight back. Return `self * other` (or `self + other`) instead: self is a Value."
    ),
    ko=(
        "{method} 안에서 RecursionError가 났습니다: 자기 자신을 끝없이 부릅니다. `2 * v`에서 파이썬은 "
        "v.{method}(2)를 부릅니다. 거기서 `return other * self` (또는 `other + self`)라고 쓰면 다시 숫자에게 "
        "묻게 되어 곧바로 되돌아옵니다. 대신 `self * other` (또는 `self + other`)를 돌려주세요. self는 "
        "Value입니다."
    ),
)

GRADS_STILL_ZERO = Msg(
    en=(
        "After backward(), the inputs still have grad 0. Check in the new operation ({op}) that the closure is "
        "attached (`out._backward = _backward` before `return out`), that it adds with `+=`, and that it "
        "multiplies by out.grad."
    ),
    ko=(
        "backward() 뒤에도 입력들의 grad가 0입니다. 새 연산 ({op})에서 클로저를 붙였는지 (`return out` 전에 "
        "`out._backward = _backward`), `+=`로 더하는지, out.grad를 곱하는지 확인하세요."
    ),
)

SWAPPED = Msg(
    en=(
        "Each input of a * b received its own value as gradient. d(a*b)/da is b, not a: in __mul__'s "
        "_backward, self gets `other.data * out.grad` and other gets `self.data * out.grad`."
    ),
    ko=(
        "a * b의 각 입력이 자기 자신의 값을 그래디언트로 받았습니다. d(a*b)/da는 a가 아니라 b입니다. "
        "__mul__의 _backward에서 self는 `other.data * out.grad`를, other는 `self.data * out.grad`를 받습니다."
    ),
)

NOT_ATTACHED = Msg(
    en=(
        "After out._backward(), the inputs' grads did not change. In {op}, attach the closure to the result with "
        "`out._backward = _backward` before `return out`."
    ),
    ko=(
        "out._backward() 뒤에도 입력들의 grad가 바뀌지 않았습니다. {op}에서 `return out` 전에 "
        "`out._backward = _backward`로 결과에 클로저를 붙이세요."
    ),
)

MISSING_OUT_GRAD = Msg(
    en=(
        "After out._backward(), the inputs received the local derivative alone, {local}, instead of it times "
        "out.grad = {g}. The chain rule multiplies: add `local derivative * out.grad`."
    ),
    ko=(
        "out._backward() 뒤에 입력이 out.grad = {g:를} 곱하지 않은 국소 미분값 {local}만 받았습니다. "
        "연쇄 법칙은 곱입니다: `국소 미분 * out.grad`를 더하세요."
    ),
)

OVERWRITES = Msg(
    en=(
        "{name}.grad lost the {start} it already held. Gradients add up: use `+=` in _backward, "
        "never `=`."
    ),
    ko=(
        "{name}.grad에 이미 있던 {start:가} 사라졌습니다. 그래디언트는 누적됩니다: _backward에서 "
        "`=`가 아니라 `+=`를 쓰세요."
    ),
)


MISSING_REFLECTED = Msg(
    en="TypeError: {error}. When a plain number is on the left, Python asks the Value on "
    "the right through the reflected method: __radd__ for +, __rmul__ for *.",
    ko="TypeError: {error}. 왼쪽이 숫자이면 파이썬은 오른쪽 Value의 반사 메서드를 부릅니다: "
    "+ 는 __radd__, * 는 __rmul__입니다.",
)

explained = explaining(
    endless_reflection("__rmul__", REFLECTED_RECURSION),
    endless_reflection("__radd__", REFLECTED_RECURSION),
    recursive_sort(RECURSIVE_SORT_BRIEF),
    unhashable_value(UNHASHABLE_BRIEF),
    type_error_mentioning(MISSING_REFLECTED, "unsupported operand", "'Value'"),
)


def f1_function():
    return need(learner("projects"), "f1")


def number(rng, low=-5.0, high=5.0):
    return rng.uniform(low, high)


def run_backward(out, expr, inputs, op):
    # Why counting and not a precision test: f1 and its parts are smooth polynomials, where finite
    # differences at enough digits (Decimal, Fraction) match the true gradient to the last bit. What
    # no re-evaluation of the formula can imitate is backpropagation itself: every operation node's
    # _backward called exactly once. The manual _backward tests below check each rule on its own.
    backward_counting_nodes(out, expr)
    grads = [expect_number(node.grad, "grad") for node in inputs]
    if grads and all(g == 0 for g in grads):
        fail_with(GRADS_STILL_ZERO, expr=expr, op=op)


def check_manual_backward(out, inputs, names, locals_, expr, given, op):
    """out.grad was set by hand and the inputs may already hold grads: call _backward() twice."""
    starts = [node.grad for node in inputs]
    g = out.grad
    out._backward()
    got = [expect_number(node.grad, f"{name}.grad") for node, name in zip(inputs, names, strict=True)]
    if all(value == start for value, start in zip(got, starts, strict=True)):
        fail_with(NOT_ATTACHED, expr=expr, op=op, given=given)
    if g != 1 and all(
        close(value, start + local, TOL) for value, start, local in zip(got, starts, locals_, strict=True)
    ):
        fail_with(MISSING_OUT_GRAD, expr=expr, local=locals_[0], g=g, given=given)
    for value, start, local, name in zip(got, starts, locals_, names, strict=True):
        if start != 0 and close(value, g * local, TOL):
            fail_with(OVERWRITES, expr=expr, name=name, start=start, given=given)
        expect_close(value, start + g * local, f"{name}.grad", expr=expr, given=given, tol=TOL)
    out._backward()
    for node, start, local, name in zip(inputs, starts, locals_, names, strict=True):
        if local and close(node.grad, start + g * local, TOL):
            fail_with(OVERWRITES, expr=expr + "; out._backward()", name=name, start=start + g * local, given=given)
        expect_close(node.grad, start + 2 * g * local, f"{name}.grad", expr=expr + "; out._backward()",
                     given=given, tol=TOL)


@explained
def test_mul_two_values(rng):
    Value = value_class()
    for _ in range(5):
        x, y = number(rng), number(rng)
        a, b = Value(x), Value(y)
        c = a * b
        given = {"a": x, "b": y}
        expect_type(c, Value, "a * b")
        expect_close(c.data, x * y, "c.data", expr="c = a * b", given=given, tol=TOL)
        prev = inputs_of(c, "c")
        expect_true(
            holds(prev, a) and holds(prev, b),
            Msg(en="c = a * b: c._prev should hold a and b themselves; it holds {prev}",
                ko="c = a * b: c._prev 에는 a와 b 자신이 있어야 합니다. 지금 값: {prev}"),
            prev=prev,
            given=given,
        )
        run_backward(c, "c = a * b; c.backward()", [a, b], "*")
        if a.grad == x and b.grad == y and x != y:
            fail_with(SWAPPED, expr="c = a * b; c.backward()", given=given)
        expect_grads({"a": a.grad, "b": b.grad}, {"a": y, "b": x}, expr="c = a * b; c.backward()", given=given, tol=TOL,
                     ops=["__mul__"], expected_from="formula")


@explained
def test_mul_backward_uses_out_grad_and_accumulates(rng):
    Value = value_class()
    for start in (0.0, round(number(rng), 2) or 1.5):
        x, y = number(rng), number(rng)
        a, b = Value(x), Value(y)
        a.grad = start
        b.grad = -start
        out = a * b
        g = rng.choice([2.0, -3.0, 0.5])
        out.grad = g
        expr = f"a.grad = {start!r}; b.grad = {-start!r}; out = a * b; out.grad = {g!r}; out._backward()"
        check_manual_backward(out, [a, b], ["a", "b"], [y, x], expr, {"a": x, "b": y}, "*")


@explained
def test_mul_reuses_nodes(rng):
    Value = value_class()
    x, y = number(rng), number(rng)
    a = Value(x)
    square = a * a
    expect_close(square.data, x * x, "c.data", expr="c = a * a", given={"a": x}, tol=TOL)
    run_backward(square, "c = a * a; c.backward()", [a], "*")
    expect_close(a.grad, 2 * x, "a.grad", expr="c = a * a; c.backward()", given={"a": x}, tol=TOL)

    a, b = Value(x), Value(y)
    out = (a * b) * a + b
    expr = "out = (a * b) * a + b; out.backward()"
    run_backward(out, expr, [a, b], "*")
    expect_grads({"a": a.grad, "b": b.grad}, {"a": 2 * x * y, "b": x * x + 1}, expr=expr, given={"a": x, "b": y},
                 tol=TOL, ops=["__mul__", "__add__"], expected_from="formula")


@explained
def test_mul_with_plain_numbers(rng):
    Value = value_class()
    for k in (rng.randint(2, 9), round(number(rng), 3) or 0.5):
        x = number(rng)
        for number_on_left in (False, True):
            v = Value(x)
            c = k * v if number_on_left else v * k
            expr = f"c = {k!r} * x" if number_on_left else f"c = x * {k!r}"
            expect_type(c, Value, expr[4:])
            expect_close(c.data, x * k, "c.data", expr=expr, given={"x": x}, tol=TOL)
            expect_true(
                holds(inputs_of(c, "c"), v),
                Msg(en="c._prev should hold x", ko="c._prev에 x가 있어야 합니다"),
                expr=expr,
            )
            run_backward(c, expr + "; c.backward()", [v], "*")
            expect_close(v.grad, k, "x.grad", expr=expr + "; c.backward()", given={"x": x}, tol=TOL)


def exponents(rng):
    return [2, 3, rng.randint(4, 6), -1, -2, 0, 1, 0.5, rng.choice([1.5, 2.5, -0.5])]


@explained
def test_pow(rng):
    Value = value_class()
    for n in exponents(rng):
        x = number(rng, 0.2, 3.0) if type(n) is float else rng.choice([-1, 1]) * number(rng, 0.2, 3.0)
        v = Value(x)
        y = v**n
        expr = f"y = x ** {n!r}"
        given = {"x": x}
        expect_type(y, Value, f"x ** {n!r}")
        expect_close(y.data, x**n, "y.data", expr=expr, given=given, tol=TOL)
        expect_true(
            holds(inputs_of(y, "y"), v),
            Msg(en="y._prev should hold x", ko="y._prev에 x가 있어야 합니다"),
            expr=expr,
        )
        run_backward(y, expr + "; y.backward()", [v] if n != 0 else [], "**")
        expect_close(v.grad, n * x ** (n - 1), "x.grad", expr=expr + "; y.backward()", given=given, tol=TOL)


@explained
def test_pow_backward_uses_out_grad_and_accumulates(rng):
    Value = value_class()
    for start in (0.0, round(number(rng), 2) or -1.25):
        x = number(rng, 0.5, 2.0)
        n = rng.choice([2, 3, 4])
        v = Value(x)
        v.grad = start
        out = v**n
        g = rng.choice([2.0, -3.0, 0.5])
        out.grad = g
        expr = f"x.grad = {start!r}; out = x ** {n}; out.grad = {g!r}; out._backward()"
        check_manual_backward(out, [v], ["x"], [n * x ** (n - 1)], expr, {"x": x}, "**")


@explained
def test_pow_reuses_nodes(rng):
    Value = value_class()
    x = number(rng, -2.0, 2.0)
    v = Value(x)
    out = v**3 + v**2
    expr = "out = x**3 + x**2; out.backward()"
    run_backward(out, expr, [v], "**")
    expect_close(v.grad, 3 * x**2 + 2 * x, "x.grad", expr=expr, given={"x": x}, tol=TOL)
    v = Value(x)
    out = (v**2) ** 3
    expr = "out = (x**2)**3; out.backward()"
    run_backward(out, expr, [v], "**")
    expect_close(v.grad, 6 * x**5, "x.grad", expr=expr, given={"x": x}, tol=TOL)
    v = Value(x)
    out = v**2 * v
    expr = "out = x**2 * x; out.backward()"
    run_backward(out, expr, [v], "**")
    expect_close(v.grad, 3 * x**2, "x.grad", expr=expr, given={"x": x}, tol=TOL)


def check_f1_graph(Value, f1, x):
    v = Value(x)
    y = f1(v)
    expect_type(y, Value, "f1(x)")
    nodes = graph_of(y)
    operations = count_operations(nodes)
    expect_true(
        holds(nodes, v) and operations >= 2,
        Msg(
            en="f1(x) should be built from x with Value operations (for example x**2, 2*x and +), so that "
            "backward() can find x through _prev. The Value it returned is made by {count} operation(s) "
            "and {reaches} x.",
            ko="f1(x)는 x에 Value 연산 (예: x**2, 2*x, +)을 써서 만들어야 backward()가 _prev를 따라 x를 "
            "찾을 수 있습니다. 돌려준 Value는 연산 {count} 개로 만들어졌고 x에 {reaches}.",
        ),
        count=operations,
        reaches="reaches" if holds(nodes, v) else "does not reach",
        given={"x": x},
    )
    expect_operations_of_the_engine(y, "f1", given={"x": x})
    expect_true(
        v.grad == 0,
        Msg(
            en="f1(x) changed x.grad to {grad} before backward() was called: f1 only builds the formula; "
            "backward() computes the gradient.",
            ko="backward()를 부르기 전에 f1(x)가 x.grad를 {grad:로} 바꿨습니다. f1은 식만 만들고, "
            "그래디언트는 backward()가 계산합니다.",
        ),
        grad=v.grad,
        given={"x": x},
    )
    return v, y


@explained
def test_f1_value_and_derivative(rng):
    Value, f1 = value_class(), f1_function()
    for _ in range(20):
        x = number(rng, -10.0, 10.0)
        v, y = check_f1_graph(Value, f1, x)
        expect_close(y.data, (x + 1) ** 2, "f1(x).data", expr="y = f1(x)", given={"x": x}, tol=TOL)
        run_backward(y, "y = f1(x); y.backward()", [v], "* or **")
        expect_close(v.grad, 2 * x + 2, "x.grad", expr="y = f1(x); y.backward()  # f'(x) = 2x + 2",
                     given={"x": x}, tol=TOL)


@explained
def test_f1_at_three(rng):
    Value, f1 = value_class(), f1_function()
    v, y = check_f1_graph(Value, f1, 3.0)
    expect_close(y.data, 16.0, "f1(3).data", expr="y = f1(Value(3.0))", tol=TOL)
    run_backward(y, "y = f1(Value(3.0)); y.backward()", [v], "* or **")
    expect_close(v.grad, 8.0, "x.grad", expr="y = f1(Value(3.0)); y.backward()  # f'(3) = 8", tol=TOL)
    k = rng.randint(-9, 9)
    v, y = check_f1_graph(Value, f1, k)
    expect_close(y.data, (k + 1) ** 2, "f1(x).data", expr=f"y = f1(Value({k}))", tol=TOL)


@explained
def test_f1_inside_a_bigger_graph(rng):
    Value, f1 = value_class(), f1_function()
    xa, xb = number(rng), number(rng)
    check_f1_graph(Value, f1, xa)
    a, b = Value(xa), Value(xb)
    s = a + b
    out = f1(s) + s * b
    expr = "s = a + b; out = f1(s) + s * b; out.backward()"
    expect_type(out, Value, "f1(s) + s * b")
    sv = xa + xb
    expect_close(out.data, (sv + 1) ** 2 + sv * xb, "out.data", expr=expr, given={"a": xa, "b": xb}, tol=TOL)
    run_backward(out, expr, [a, b], "* or **")
    expect_grads(
        {"a": a.grad, "b": b.grad},
        {"a": 2 * sv + 2 + xb, "b": 2 * sv + 2 + sv + xb},
        expr=expr,
        given={"a": xa, "b": xb},
        tol=TOL,
        ops=["f1", "__pow__", "__mul__", "__add__"],
        expected_from="formula",
    )
