"""Week 1: subtraction, division and negation with plain numbers on either side, and a gradient checker.

The engine is compared with the course's reference engine on random graphs; the learner's
`numerical_grad` with derivatives worked out by hand; `gradient_check` with engines that carry a
planted bug (the reference source with one line changed), loaded in place of the learner's engine.
"""

from tinygrad_learn.grading import suitekit
from tinygrad_learn.grading.suitekit import reference_engine_with, value_class
from tinygrad_learn.grading.testkit import (
    Msg,
    expect_close,
    expect_grads,
    expect_number,
    expect_true,
    expect_type,
    fail_with,
    learner,
    learner_file_with,
    need,
    numeric_grad,
    reference,
)

# ---------------------------------------------------------------------------------------------
# Helpers


def away_from_zero(rng, low, high, margin=0.25):
    """A random number in [low, high], rounded to 1, 3 or 6 decimals, at least `margin` away from zero."""
    return suitekit.away_from_zero(rng, low, high, margin, digits=[1, 3, 6])


def a_constant(rng):
    """A plain number as a learner would write it: a small int or a short float, never zero."""
    if rng.random() < 0.4:
        return rng.choice([-3, -2, -1, 1, 2, 3, 4])
    return away_from_zero(rng, -4, 4, 0.5)


def backward_and_compare(out, leaves, expected, expr, given, Value):
    """Run backward() on `out` and compare each leaf's grad with the expected derivative."""
    expect_type(out, Value, expr.split(";")[-1].strip())
    out.backward()
    expect_grads({name: leaf.grad for name, leaf in leaves.items()}, expected, expr=expr, given=given, tol=1e-9,
                 expected_from="formula")


# ---------------------------------------------------------------------------------------------
# The operations one at a time


def test_negation(rng):
    Value = value_class()
    x, y = away_from_zero(rng, -5, 5), away_from_zero(rng, -5, 5)
    a = Value(x)
    b = -a
    expect_type(b, Value, "-a")
    expect_close(b.data, -x, "b.data", expr="b = -a", given={"a": x})
    expect_close(a.data, x, "a.data", expr="b = -a  (negating must not change a)", given={"a": x})
    b.backward()
    expect_grads({"a": a.grad}, {"a": -1.0}, expr="b = -a; b.backward()", given={"a": x}, tol=1e-9,
                 expected_from="formula")

    a, c = Value(x), Value(y)
    out = -(a * c) + a
    expr = "out = -(a * c) + a; out.backward()"
    expect_close(out.data, -(x * y) + x, "out.data", expr=expr, given={"a": x, "c": y})
    backward_and_compare(out, {"a": a, "c": c}, {"a": 1 - y, "c": -x}, expr, {"a": x, "c": y}, Value)


def test_subtraction_of_values(rng):
    Value = value_class()
    x, y = away_from_zero(rng, -5, 5), away_from_zero(rng, -5, 5)
    given = {"a": x, "b": y}

    a, b = Value(x), Value(y)
    c = a - b
    expect_type(c, Value, "a - b")
    expect_close(c.data, x - y, "c.data", expr="c = a - b", given=given)
    backward_and_compare(c, {"a": a, "b": b}, {"a": 1.0, "b": -1.0}, "c = a - b; c.backward()", given, Value)

    a = Value(x)
    c = a - a
    expect_close(c.data, 0.0, "c.data", expr="c = a - a", given={"a": x})
    backward_and_compare(c, {"a": a}, {"a": 0.0}, "c = a - a; c.backward()", {"a": x}, Value)

    a, b = Value(x), Value(y)
    out = (a - b) * b
    expr = "out = (a - b) * b; out.backward()"
    expect_close(out.data, (x - y) * y, "out.data", expr=expr, given=given)
    backward_and_compare(out, {"a": a, "b": b}, {"a": y, "b": x - 2 * y}, expr, given, Value)


def test_subtraction_with_numbers(rng):
    Value = value_class()
    x, k = away_from_zero(rng, -5, 5), a_constant(rng)
    given = {"a": x}
    kt = operand(k)

    a = Value(x)
    c = a - k
    expect_type(c, Value, f"a - {kt}")
    expect_close(c.data, x - k, "c.data", expr=f"c = a - {kt}", given=given)
    backward_and_compare(c, {"a": a}, {"a": 1.0}, f"c = a - {kt}; c.backward()", given, Value)

    a = Value(x)
    c = k - a
    expect_type(c, Value, f"{kt} - a  (Python calls a.__rsub__({k}))")
    expect_close(c.data, k - x, "c.data", expr=f"c = {kt} - a  (a.__rsub__)", given=given)
    backward_and_compare(c, {"a": a}, {"a": -1.0}, f"c = {kt} - a; c.backward()", given, Value)

    a = Value(x)
    out = (k - a) * a
    expr = f"out = ({kt} - a) * a; out.backward()"
    expect_close(out.data, (k - x) * x, "out.data", expr=expr, given=given)
    backward_and_compare(out, {"a": a}, {"a": k - 2 * x}, expr, given, Value)


def test_division_of_values(rng):
    Value = value_class()
    x, y = away_from_zero(rng, -5, 5), away_from_zero(rng, -5, 5, 0.5)
    given = {"a": x, "b": y}

    a, b = Value(x), Value(y)
    c = a / b
    expect_type(c, Value, "a / b")
    expect_close(c.data, x / y, "c.data", expr="c = a / b", given=given)
    backward_and_compare(c, {"a": a, "b": b}, {"a": 1 / y, "b": -x / y**2}, "c = a / b; c.backward()", given, Value)

    a = Value(x)
    c = a / a
    expect_close(c.data, 1.0, "c.data", expr="c = a / a", given={"a": x})
    backward_and_compare(c, {"a": a}, {"a": 0.0}, "c = a / a; c.backward()", {"a": x}, Value)

    a, b = Value(x), Value(y)
    out = (a + b) / (a * b)
    expr = "out = (a + b) / (a * b); out.backward()"
    expect_close(out.data, (x + y) / (x * y), "out.data", expr=expr, given=given)
    # (a + b) / (a * b) = 1/b + 1/a
    backward_and_compare(out, {"a": a, "b": b}, {"a": -1 / x**2, "b": -1 / y**2}, expr, given, Value)


def test_division_with_numbers(rng):
    Value = value_class()
    x, k = away_from_zero(rng, -5, 5, 0.5), a_constant(rng)
    given = {"a": x}
    kt = operand(k)

    a = Value(x)
    c = a / k
    expect_type(c, Value, f"a / {kt}")
    expect_close(c.data, x / k, "c.data", expr=f"c = a / {kt}", given=given)
    backward_and_compare(c, {"a": a}, {"a": 1 / k}, f"c = a / {kt}; c.backward()", given, Value)

    a = Value(x)
    c = k / a
    expect_type(c, Value, f"{kt} / a  (Python calls a.__rtruediv__({k}))")
    expect_close(c.data, k / x, "c.data", expr=f"c = {kt} / a  (a.__rtruediv__)", given=given)
    backward_and_compare(c, {"a": a}, {"a": -k / x**2}, f"c = {kt} / a; c.backward()", given, Value)

    a = Value(x)
    out = k / a - a / k
    expr = f"out = {kt} / a - a / {kt}; out.backward()"
    expect_close(out.data, k / x - x / k, "out.data", expr=expr, given=given)
    backward_and_compare(out, {"a": a}, {"a": -k / x**2 - 1 / k}, expr, given, Value)


# ---------------------------------------------------------------------------------------------
# Random graphs, compared with the reference engine


class Program:
    """A random graph of + - * / and negation, recorded as steps so it can be replayed.

    The steps are chosen with the reference engine: no division by anything near zero, no value
    that grows out of range. Operands are earlier nodes (often the same one twice, which makes
    diamonds) or plain numbers on either side.
    """

    def __init__(self, rng, Ref):
        self.leaves = {}
        for name in "abcd"[: rng.randint(2, 4)]:
            self.leaves[name] = away_from_zero(rng, -3, 3)
        self.steps = []  # (name, op, left, right); an operand is a node name or a plain number
        nodes = {name: Ref.Value(x) for name, x in self.leaves.items()}
        for i in range(rng.randint(4, 10)):
            name = f"n{i}"
            for _ in range(100):
                step = self._random_step(rng, name, list(nodes))
                node = apply_step(step, nodes)
                if node is not None:
                    nodes[name] = node
                    self.steps.append(step)
                    break

    @staticmethod
    def _random_step(rng, name, names):
        recent = names[-2:]
        left = rng.choice(recent if rng.random() < 0.6 else names)
        op = rng.choice("+-*/-")
        kind = rng.random()
        if kind < 0.12:
            return (name, "neg", left, None)
        if kind < 0.3:
            return (name, op, left, a_constant(rng))
        if kind < 0.48:
            return (name, op, a_constant(rng), left)
        return (name, op, left, rng.choice(names))

    def lines(self, upto):
        text = [f"{name} = Value({x!r})" for name, x in self.leaves.items()]
        for name, op, left, right in self.steps[:upto]:
            text.append(f"{name} = -{left}" if op == "neg" else f"{name} = {operand(left)} {op} {operand(right)}")
        return text

    def expr(self, upto):
        return "; ".join(self.lines(upto) + [f"{self.steps[upto - 1][0]}.backward()"])

    def run(self, Value, upto):
        """Replay the first `upto` steps with `Value`; returns the leaves and every node."""
        leaves = {name: Value(x) for name, x in self.leaves.items()}
        nodes = dict(leaves)
        for step in self.steps[:upto]:
            nodes[step[0]] = apply_step(step, nodes, check=False)
        return leaves, nodes


def operand(x):
    """How an operand reads in the program text: a name, or a number (in brackets if negative)."""
    return f"({x})" if not isinstance(x, str) and x < 0 else str(x)


def apply_step(step, nodes, check=True):
    """Build one step's node; with `check`, refuse it (None) when it is badly conditioned."""
    name, op, left, right = step
    lhs = nodes[left] if isinstance(left, str) else left
    rhs = nodes[right] if isinstance(right, str) else right
    if check:
        divisor = rhs.data if hasattr(rhs, "data") else rhs
        if op == "/" and abs(divisor) < 0.5:
            return None
    if op == "neg":
        out = -lhs
    elif op == "+":
        out = lhs + rhs
    elif op == "-":
        out = lhs - rhs
    elif op == "*":
        out = lhs * rhs
    else:
        out = lhs / rhs
    if check and not 1e-3 < abs(out.data) < 50:
        return None
    return out


def reference_run(program, Ref, upto):
    leaves, nodes = program.run(Ref.Value, upto)
    nodes[program.steps[upto - 1][0]].backward()
    return {name: leaf.grad for name, leaf in leaves.items()}, nodes


def grads_differ(program, Value, Ref, upto):
    leaves, nodes = program.run(Value, upto)
    nodes[program.steps[upto - 1][0]].backward()
    expected, _ = reference_run(program, Ref, upto)
    return any(
        type(leaves[name].grad) not in (int, float) or abs(leaves[name].grad - grad) > 1e-9 * max(1.0, abs(grad))
        for name, grad in expected.items()
    )


def test_random_graphs_match_the_reference(rng):
    Value = value_class()
    Ref = reference("engine")
    checked = 0
    while checked < 40:
        program = Program(rng, Ref)
        total = len(program.steps)
        expected, ref_nodes = reference_run(program, Ref, total)
        if not program.steps or max(abs(g) for g in expected.values()) > 1e4:
            continue
        checked += 1
        leaves, nodes = program.run(Value, total)
        for i, step in enumerate(program.steps, start=1):
            name = step[0]
            expect_type(nodes[name], Value, program.lines(i)[-1])
            expect_close(nodes[name].data, ref_nodes[name].data, f"{name}.data",
                         expr="; ".join(program.lines(i)), given=program.leaves)
        nodes[program.steps[-1][0]].backward()
        got = {name: leaf.grad for name, leaf in leaves.items()}
        for name, grad in got.items():
            expect_number(grad, f"{name}.grad")
        if any(abs(got[name] - grad) > 1e-9 * max(1.0, abs(grad)) for name, grad in expected.items()):
            # Show the shortest beginning of the program that already goes wrong.
            upto = next(k for k in range(1, total + 1) if grads_differ(program, Value, Ref, k))
            leaves, nodes = program.run(Value, upto)
            nodes[program.steps[upto - 1][0]].backward()
            expected, _ = reference_run(program, Ref, upto)
            expect_grads({name: leaf.grad for name, leaf in leaves.items()}, expected,
                         expr=program.expr(upto), given=program.leaves, tol=1e-9, expected_from="reference")


# ---------------------------------------------------------------------------------------------
# numerical_grad


def numerical_grad_function():
    return need(learner("gradcheck"), "numerical_grad")


def expect_list_of_numbers(result, length, what):
    expect_true(
        type(result) is list and len(result) == length,
        Msg(
            en="{what} should return a list with one number per input ({length}), got {got}.",
            ko="{what:는} 입력마다 숫자 하나씩, 길이 {length} 인 list를 돌려줘야 합니다. 받은 값: {got}",
        ),
        what=what,
        length=length,
        got=result,
    )
    return [expect_number(x, f"{what}[{i}]") for i, x in enumerate(result)]


def test_numerical_grad_matches_derivatives(rng):
    numerical_grad = numerical_grad_function()

    def f(x, y, z):
        return x * y * z + x**2 - y / z + 3 * x

    for _ in range(5):
        xs = [away_from_zero(rng, -3, 3), away_from_zero(rng, -3, 3), away_from_zero(rng, -3, 3, 0.5)]
        x, y, z = xs
        before = list(xs)
        result = numerical_grad(f, xs)
        grads = expect_list_of_numbers(result, 3, "numerical_grad(f, [x, y, z])")
        expect_true(
            xs == before,
            Msg(
                en="numerical_grad changed the list it was given: {before} became {after}. Move each "
                "input on a copy of the list.",
                ko="numerical_grad가 받은 list를 바꿨습니다: {before:가} {after:가} 되었습니다. 입력을 "
                "움직일 때는 list의 복사본을 쓰세요.",
            ),
            before=before,
            after=xs,
        )
        exact = {"df/dx": y * z + 2 * x + 3, "df/dy": x * z - 1 / z, "df/dz": x * y + y / z**2}
        for (name, derivative), estimate in zip(exact.items(), grads, strict=True):
            expect_close(estimate, derivative, f"numerical_grad(f, [x, y, z]) for {name}",
                         expr="f(x, y, z) = x*y*z + x**2 - y/z + 3*x", given={"x": x, "y": y, "z": z}, tol=1e-7)


CENTRAL = Msg(
    en=(
        "numerical_grad(f, [{x}], h={h}) for f(x) = x**3 gave {got}. The central difference "
        "(f(x+h) - f(x-h)) / (2h) of x**3 is exactly 3x² + h² = {expected}: its error shrinks like h². "
        "{diagnosis}"
    ),
    ko=(
        "f(x) = x**3에 대해 numerical_grad(f, [{x}], h={h})가 {got:를} 돌려줬습니다. x**3의 중앙 "
        "차분 (f(x+h) - f(x-h)) / (2h)은 정확히 3x² + h² = {expected}이고, 오차가 h² 처럼 줄어듭니다. "
        "{diagnosis}"
    ),
)

ONE_SIDED = (
    "Yours is what a one-sided difference (f(x+h) - f(x)) / h gives; its error shrinks only like h.",
    "받은 값은 한쪽 차분 (f(x+h) - f(x)) / h의 결과입니다. 그 오차는 h 만큼밖에 줄지 않습니다.",
)
NOT_H = (
    "Use the h you are given, step to both sides of x and divide by 2 * h.",
    "주어진 h를 쓰고, x의 양쪽으로 움직인 뒤 2 * h로 나누세요.",
)


def test_numerical_grad_is_a_central_difference(rng):
    numerical_grad = numerical_grad_function()

    def cube(x):
        return x**3

    x = round(rng.uniform(1, 2), 3)
    for h in (0.1, 0.01):
        grads = expect_list_of_numbers(numerical_grad(cube, [x], h=h), 1, f"numerical_grad(f, [x], h={h})")
        expected = 3 * x**2 + h**2
        if abs(grads[0] - expected) > 1e-9 * expected:
            one_sided = min(abs(grads[0] - (3 * x**2 + s * 3 * x * h + h**2)) for s in (1, -1))
            en, ko = ONE_SIDED if one_sided < 1e-6 else NOT_H
            fail_with(Msg(en=CENTRAL.en.replace("{diagnosis}", en), ko=CENTRAL.ko.replace("{diagnosis}", ko)),
                      x=x, h=h, got=grads[0], expected=expected)
    # With the default h = 1e-5, the error must be of the order of h² (plus rounding).
    grads = expect_list_of_numbers(numerical_grad(cube, [x]), 1, "numerical_grad(f, [x])")
    expect_close(grads[0], 3 * x**2, "numerical_grad(f, [x]) with the default h = 1e-5",
                 expr="f(x) = x**3, f'(x) = 3x²", given={"x": x}, tol=1e-8)


# ---------------------------------------------------------------------------------------------
# gradient_check, fed engines with planted bugs

BUGS = {
    "mul_swapped": (
        "            self.grad += other.data * out.grad\n            other.grad += self.data * out.grad",
        "            self.grad += self.data * out.grad\n            other.grad += other.data * out.grad",
    ),
    "add_overwrites": (
        "            self.grad += out.grad\n            other.grad += out.grad",
        "            self.grad = out.grad\n            other.grad = out.grad",
    ),
    "pow_no_minus_one": (
        "self.grad += exponent * self.data ** (exponent - 1) * out.grad",
        "self.grad += exponent * self.data ** exponent * out.grad",
    ),
    # Multiplication's first input receives OFFSET too much: a bug as small as the suite likes.
    "mul_offset": (
        "            self.grad += other.data * out.grad\n",
        "            self.grad += other.data * out.grad + OFFSET\n",
    ),
}


def engine_with(bug=None, offset=0.0):
    """The reference engine, with one planted bug (a key of BUGS) or none."""
    module = reference_engine_with(*BUGS[bug]) if bug is not None else reference_engine_with()
    module.OFFSET = offset
    return module


def gradient_check_with(engine):
    """The learner's gradient_check, with `from .engine import Value` giving `engine`'s Value."""
    return need(learner_file_with("gradcheck", {"engine": engine}), "gradient_check")


def unpack_check(result, n, call):
    expect_true(
        type(result) in (tuple, list) and len(result) == 3,
        Msg(
            en="{call} should return a tuple (ok, autograd_grads, numeric_grads), got {got}.",
            ko="{call:는} (ok, autograd_grads, numeric_grads) 튜플을 돌려줘야 합니다. 받은 값: {got}",
        ),
        call=call,
        got=result,
    )
    ok, autograd, numeric = result
    expect_type(ok, bool, f"ok, the first item {call} returns")
    autograd = expect_list_of_numbers(list(autograd) if type(autograd) is tuple else autograd, n,
                                      f"autograd_grads from {call}")
    numeric = expect_list_of_numbers(list(numeric) if type(numeric) is tuple else numeric, n,
                                     f"numeric_grads from {call}")
    return ok, autograd, numeric


def grads_of(engine, f, xs):
    values = [engine.Value(x) for x in xs]
    f(*values).backward()
    return [v.grad for v in values]


def expect_lists_close(got, expected, what, call, tol):
    for i, (g, e) in enumerate(zip(got, expected, strict=True)):
        expect_close(g, e, f"{what}[{i}]", expr=call, tol=tol)


def check_and_compare(gradient_check, engine, f, xs, call, **kwargs):
    """Call gradient_check and verify the two lists it returns; returns ok."""
    ok, autograd, numeric = unpack_check(gradient_check(f, list(xs), **kwargs), len(xs), call)
    expect_lists_close(autograd, grads_of(engine, f, xs), "autograd_grads (the grads backward() gave)", call, 1e-12)
    expect_lists_close(numeric, numeric_grad(f, xs, h=1e-5), "numeric_grads", call, 1e-6)
    return ok


def test_gradient_check_passes_a_correct_engine(rng):
    engine = engine_with()
    gradient_check = gradient_check_with(engine)
    cases = [
        (lambda x, y: x * y + x / y - 3 / x, "f(x, y) = x*y + x/y - 3/x", 2),
        (lambda x, y, z: (x - y) * (y + z) ** 2 - z, "f(x, y, z) = (x - y) * (y + z)**2 - z", 3),
        (lambda x: -(x**3) + 2 * x - 1 / (x * x), "f(x) = -(x**3) + 2*x - 1/(x*x)", 1),
    ]
    for f, text, n in cases:
        xs = [round(rng.uniform(0.5, 2), 3) * rng.choice([1, -1]) for _ in range(n)]
        call = f"gradient_check(f, {xs}) for {text}"
        ok = check_and_compare(gradient_check, engine, f, xs, call)
        expect_true(
            ok is True,
            Msg(
                en="{call} returned ok = {ok} for a correct engine. Compare each pair of gradients with "
                "abs(a - n) <= tol * max(1, abs(a), abs(n)); ok is True when every pair passes.",
                ko="올바른 엔진인데 {call:가} ok = {ok:를} 돌려줬습니다. 그래디언트 쌍마다 "
                "abs(a - n) <= tol * max(1, abs(a), abs(n))으로 비교하고, 모든 쌍이 통과할 때 ok가 True입니다.",
            ),
            call=call,
            ok=ok,
        )


NOT_DETECTED = Msg(
    en=(
        "{call} returned ok = {ok}, but the engine it ran on has a planted bug ({bug}): its gradients "
        "{autograd} are far from the numerical ones {numeric}. ok must be False when any pair differs by "
        "more than tol * max(1, abs(a), abs(n))."
    ),
    ko=(
        "{call:가} ok = {ok:를} 돌려줬지만, 이 엔진에는 일부러 심은 버그가 있습니다 ({bug}). 그래디언트 "
        "{autograd:는} 수치 미분 {numeric:과} 크게 다릅니다. 어느 한 쌍이라도 tol * max(1, abs(a), abs(n))"
        "보다 더 차이 나면 ok는 False여야 합니다."
    ),
)


def test_gradient_check_catches_wrong_gradients(rng):
    cases = [
        ("mul_swapped", lambda x, y: x * y + y, "f(x, y) = x*y + y", "a * b sends a its own data"),
        ("add_overwrites", lambda x, y: (x + x) * y, "f(x, y) = (x + x) * y", "+ uses = instead of +="),
        ("pow_no_minus_one", lambda x, y: x / y + x, "f(x, y) = x/y + x", "x**n has gradient n * x**n"),
    ]
    for bug, f, text, description in cases:
        engine = engine_with(bug)
        gradient_check = gradient_check_with(engine)
        x = round(rng.uniform(1, 1.5), 3)
        xs = [x, round(x + rng.uniform(0.5, 1.5), 3)]
        call = f"gradient_check(f, {xs}) for {text}"
        ok = check_and_compare(gradient_check, engine, f, xs, call)
        expect_true(ok is False, NOT_DETECTED, call=call, ok=ok, bug=description,
                    autograd=grads_of(engine, f, xs), numeric=numeric_grad(f, xs, h=1e-5))


TOLERANCE = Msg(
    en=(
        "{call} returned ok = {ok}. Here autograd is off by exactly {error} (the gradients are smaller "
        "than 1), so with tol = {tol} ok should be {expected}: compare with "
        "abs(a - n) <= tol * max(1, abs(a), abs(n)), using the tol you are given."
    ),
    ko=(
        "{call:가} ok = {ok:를} 돌려줬습니다. 여기서 자동 미분은 정확히 {error} 만큼 틀리고 (그래디언트는 1보다 "
        "작습니다), tol = {tol}이면 ok는 {expected} 여야 합니다. 주어진 tol을 써서 "
        "abs(a - n) <= tol * max(1, abs(a), abs(n))으로 비교하세요."
    ),
)


def test_gradient_check_uses_its_tolerance(rng):
    # f = x * y: x.grad comes out `error` too large, while both gradients stay below 1 in size.
    def f(x, y):
        return x * y

    xs = [round(rng.uniform(0.2, 0.8), 3), round(rng.uniform(0.2, 0.8), 3)]
    for tol, error, expected, pass_tol in [
        (None, 1e-5, False, False),
        (None, 1e-7, True, False),
        (1e-4, 0.5e-4, True, True),
        (1e-4, 1.5e-4, False, True),
        (1e-2, 1e-3, True, True),
    ]:
        engine = engine_with("mul_offset", offset=error)
        gradient_check = gradient_check_with(engine)
        call = f"gradient_check(f, {xs}, tol={tol})" if pass_tol else f"gradient_check(f, {xs})"
        kwargs = {"tol": tol} if pass_tol else {}
        ok = check_and_compare(gradient_check, engine, f, xs, call + " for f(x, y) = x*y", **kwargs)
        expect_true(ok is expected, TOLERANCE, call=call, ok=ok, error=error,
                    tol=tol if pass_tol else 1e-6, expected=expected)
