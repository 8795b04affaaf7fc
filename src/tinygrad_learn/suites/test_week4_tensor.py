"""Week 4, tensors: autograd on numpy arrays, checked against central differences in float64.

Every operation is run on random shapes (size-1 dimensions and broadcasting included), then
`out.backward(g)` with a random upstream gradient `g`, and each input's grad is compared with the
numerical gradient of sum(op(...) * g) computed in plain numpy.
"""

import contextlib
import gc
import types

import numpy as np

from tinygrad_learn.grading.arraykit import (
    distinct_values,
    expect_array,
    expect_grad,
    is_array,
    numeric_grads,
    tensor_class,
)
from tinygrad_learn.grading.testkit import Msg, expect_type, fail, fail_with, learner, need, need_attr

MATMUL = ("__matmul__", "__rmatmul__")

BROADCAST_PAIRS = [
    ((3, 1), (1, 4)),
    ((2, 3, 4), (4,)),
    ((), (2, 3)),
    ((5, 1, 3), (1, 4, 1)),
    ((2, 1), (2, 1)),
    ((1,), (3, 2)),
    ((1, 1), (3,)),
]


def describe(shape):
    return f"shape {tuple(shape)}"


def random_pair(g):
    """Two random shapes that broadcast together: size-1 dimensions and missing leading ones."""
    ndim = int(g.integers(1, 4))
    full = [int(n) for n in g.integers(2, 5, ndim)]

    def variant():
        shape = [1 if g.random() < 0.4 else n for n in full]
        return tuple(shape[int(g.integers(0, ndim)) :])

    return variant(), variant()


def check_op(Tensor, g, expr, tensor_fn, numpy_fn, arrays, names=("x", "y", "z"), ops=(), given=None):
    """Run tensor_fn on fresh Tensors, compare its data with numpy_fn, then every input's grad."""
    arrays = [np.array(a, dtype=np.float64) for a in arrays]
    tensors = [Tensor(a.copy()) for a in arrays]
    given = {**{name: describe(a.shape) for name, a in zip(names, arrays, strict=False)}, **(given or {})}
    out = tensor_fn(*tensors)
    if type(out) is np.ndarray:
        fail_with(
            Msg(
                en="{expr} gave a numpy array instead of a Tensor: numpy ran the operation itself. "
                "Put __array_ufunc__ = None in the Tensor class so numpy hands it to your reflected method",
                ko="{expr}의 결과가 Tensor가 아니라 numpy 배열입니다. numpy가 연산을 직접 처리했기 "
                "때문입니다. Tensor 클래스에 __array_ufunc__ = None을 두면 numpy가 반사 메서드에 넘깁니다",
            ),
            expr=expr,
        )
    expect_type(out, Tensor, expr)
    expected = numpy_fn(*arrays)
    expect_array(out.data, expected, "out.data", expr=expr, given=given)
    upstream = g.normal(size=np.shape(expected))
    given["g"] = describe(np.shape(expected))
    out.backward(upstream.copy())
    numeric = numeric_grads(lambda *xs: float(np.sum(numpy_fn(*xs) * upstream)), arrays)
    where = f"{expr}; out.backward(g)"
    for tensor, array, grad, name in zip(tensors, arrays, numeric, names, strict=False):
        expect_array(tensor.data, array, f"{name}.data", expr=f"{where} (an input must not change)", tol=0)
        expect_grad(tensor, grad, name, expr=where, given=given, ops=ops, expected_from="numerical")
    return out


def positive(g, shape):
    return g.uniform(0.5, 2.0, shape)


def away_from_zero(g, shape):
    return g.choice([-1.0, 1.0], shape) * g.uniform(0.3, 2.0, shape)


# ---------------------------------------------------------------------------------------------


def test_tensor_holds_float64_arrays(seed):
    Tensor = tensor_class()
    g = np.random.default_rng(seed)
    numbers = [int(n) for n in g.integers(-9, 10, 4)]
    t = Tensor(numbers)
    expect_array(t.data, np.array(numbers, dtype=np.float64), "t.data", expr=f"t = Tensor({numbers})")
    for shape in [(3, 1), (2, 3, 4), ()]:
        array = g.normal(size=shape)
        t = Tensor(array)
        expr = f"t = Tensor(an array of {describe(shape)})"
        expect_array(t.data, array, "t.data", expr=expr)
        expect_array(t.grad, np.zeros(shape), "t.grad", expr=expr + " (before any backward)")
        if tuple(need_attr(t, "shape", "Tensor")) != shape:
            fail("wrong_value", what="t.shape", expected=str(shape), got=str(t.shape), expr=expr, given={})
        text = repr(t)
        if type(text) is not str or "Tensor" not in text:
            fail(
                "wrong_value",
                what="repr(t)",
                expected="a text such as Tensor(shape=(3, 1), op='')",
                got=text,
                expr=expr,
                given={},
            )


def test_add_and_sub_with_broadcasting(seed):
    Tensor = tensor_class()
    g = np.random.default_rng(seed)
    pairs = BROADCAST_PAIRS + [random_pair(g) for _ in range(3)]
    for x_shape, y_shape in pairs:
        x, y = g.normal(size=x_shape), g.normal(size=y_shape)
        check_op(Tensor, g, "out = x + y", lambda a, b: a + b, lambda a, b: a + b, [x, y])
        check_op(Tensor, g, "out = x - y", lambda a, b: a - b, lambda a, b: a - b, [x, y])
        check_op(Tensor, g, "out = y - x", lambda a, b: b - a, lambda a, b: b - a, [x, y])


def test_mul_and_div_with_broadcasting(seed):
    Tensor = tensor_class()
    g = np.random.default_rng(seed)
    pairs = BROADCAST_PAIRS + [random_pair(g) for _ in range(3)]
    for x_shape, y_shape in pairs:
        x, y = g.normal(size=x_shape), away_from_zero(g, y_shape)
        check_op(Tensor, g, "out = x * y", lambda a, b: a * b, lambda a, b: a * b, [x, y])
        check_op(Tensor, g, "out = x / y", lambda a, b: a / b, lambda a, b: a / b, [x, y])
        check_op(Tensor, g, "out = y / (x * x + 1)", lambda a, b: b / (a * a + 1), lambda a, b: b / (a * a + 1), [x, y])


def test_numbers_and_arrays_on_either_side(seed):
    Tensor = tensor_class()
    g = np.random.default_rng(seed)
    c = float(np.round(g.uniform(0.5, 3.0), 3))
    k = int(g.integers(2, 6))
    x = away_from_zero(g, (2, 3))
    a = away_from_zero(g, (3,))
    cases = [
        (f"out = x + {c}", lambda t: t + c, lambda v: v + c),
        (f"out = {c} + x", lambda t: c + t, lambda v: c + v),
        (f"out = x - {c}", lambda t: t - c, lambda v: v - c),
        (f"out = {c} - x", lambda t: c - t, lambda v: c - v),
        (f"out = {k} * x", lambda t: k * t, lambda v: k * v),
        (f"out = x * {c}", lambda t: t * c, lambda v: v * c),
        (f"out = x / {c}", lambda t: t / c, lambda v: v / c),
        (f"out = {c} / x", lambda t: c / t, lambda v: c / v),
        ("out = -x", lambda t: -t, lambda v: -v),
        (f"out = np.float64({c}) * x", lambda t: np.float64(c) * t, lambda v: c * v),
        ("out = x + a", lambda t: t + a, lambda v: v + a),
        ("out = a + x", lambda t: a + t, lambda v: a + v),
        ("out = a - x", lambda t: a - t, lambda v: a - v),
        ("out = x - a", lambda t: t - a, lambda v: v - a),
        ("out = a * x", lambda t: a * t, lambda v: a * v),
        ("out = a / x", lambda t: a / t, lambda v: a / v),
        ("out = x / a", lambda t: t / a, lambda v: v / a),
    ]
    for expr, tensor_fn, numpy_fn in cases:
        check_op(Tensor, g, expr, tensor_fn, numpy_fn, [x], given={"a": "a numpy array of shape (3,)"})


def test_pow_by_a_number(seed):
    Tensor = tensor_class()
    g = np.random.default_rng(seed)
    for exponent in [2, 3, -1, 0.5, -1.5, round(float(g.uniform(1.1, 2.9)), 3)]:
        x = positive(g, random_pair(g)[0]) if isinstance(exponent, float) else away_from_zero(g, (2, 1, 3))
        check_op(Tensor, g, f"out = x ** {exponent}", lambda t, e=exponent: t**e, lambda v, e=exponent: v**e, [x])


def test_matmul(seed):
    Tensor = tensor_class()
    g = np.random.default_rng(seed)
    n, k, m, b = (int(v) for v in g.integers(2, 5, 4))
    shapes = [
        ((n, k), (k, m)),
        ((1, k), (k, m)),
        ((n, 1), (1, m)),
        ((n, k), (k, 1)),
        ((b, n, k), (b, k, m)),
        ((b, n, k), (k, m)),
        ((n, k), (b, k, m)),
        ((1, n, k), (b, k, m)),
        ((2, 1, n, k), (b, k, m)),
    ]
    for x_shape, y_shape in shapes:
        x, y = g.normal(size=x_shape), g.normal(size=y_shape)
        check_op(Tensor, g, "out = x @ y", lambda p, q: p @ q, lambda p, q: p @ q, [x, y], ops=MATMUL)
    a = g.normal(size=(m, n))
    x = g.normal(size=(n, k))
    check_op(
        Tensor,
        g,
        "out = a @ x",
        lambda t: a @ t,
        lambda v: a @ v,
        [x],
        ops=MATMUL,
        given={"a": f"a numpy array of {describe(a.shape)}"},
    )
    c = g.normal(size=(k, m))
    check_op(
        Tensor,
        g,
        "out = x @ c",
        lambda t: t @ c,
        lambda v: v @ c,
        [x],
        ops=MATMUL,
        given={"c": f"a numpy array of {describe(c.shape)}"},
    )


def reductions(g):
    shape = (int(g.integers(2, 4)), 1, int(g.integers(2, 5)))
    axes = [None, 0, 1, 2, -1, (0, 2), (0, 1, 2)]
    return shape, axes


def check_reduction(seed, name, draw, whole_shape, ops):
    """x.<name>(axis=..., keepdims=...) for every axis choice, then x.<name>() of a second input.

    Returns the Tensor class and the generator, for checks that follow on the same random stream.
    """
    Tensor = tensor_class()
    g = np.random.default_rng(seed)
    shape, axes = reductions(g)
    for axis in axes:
        for keepdims in (False, True):
            check_op(
                Tensor,
                g,
                f"out = x.{name}(axis={axis}, keepdims={keepdims})",
                lambda t, a=axis, kd=keepdims: getattr(t, name)(axis=a, keepdims=kd),
                lambda v, a=axis, kd=keepdims: getattr(v, name)(axis=a, keepdims=kd),
                [draw(g, shape)],
                ops=ops,
            )
    check_op(
        Tensor,
        g,
        f"out = x.{name}()",
        lambda t: getattr(t, name)(),
        lambda v: getattr(v, name)(),
        [draw(g, whole_shape)],
        ops=ops,
    )
    return Tensor, g


def normal(g, shape):
    return g.normal(size=shape)


def test_sum(seed):
    check_reduction(seed, "sum", normal, (3, 2), ("sum",))


def test_mean(seed):
    check_reduction(seed, "mean", normal, (4, 3), ("mean", "sum"))


def test_max(seed):
    Tensor, g = check_reduction(seed, "max", distinct_values, (3, 4), ("max",))

    # Ties: which maximum gets the gradient (one of them, or all in equal shares) is your choice,
    # but together they get exactly out.grad, and nothing else gets any.
    rows = np.round(g.uniform(-1, 1, (4, 5)), 1)
    rows[:, [1, 3]] = rows.max(axis=1, keepdims=True) + 0.5
    rows[2, 0] = rows[2, 1]
    x = Tensor(rows.copy())
    upstream = g.uniform(0.5, 2.0, 4)
    x.max(axis=1).backward(upstream.copy())
    expr = "out = x.max(axis=1); out.backward(g)   (x: rows whose maximum appears two or three times)"
    grad = np.asarray(x.grad)
    winners = rows == rows.max(axis=1, keepdims=True)
    if grad.shape != rows.shape or np.any(grad[~winners] != 0) or not np.allclose(grad.sum(axis=1), upstream):
        fail_with(
            Msg(
                en="with ties, the gradient of a maximum must go only to elements equal to it, and add up to "
                "exactly out.grad for each row: {expr}; got x.grad = {got} for g = {upstream}",
                ko="최댓값이 여럿일 때 그래디언트는 최댓값과 같은 원소에게만 가고, 행마다 합이 정확히 "
                "out.grad 여야 합니다: {expr}; g = {upstream}에 대해 x.grad = {got}",
            ),
            expr=expr,
            got=grad.round(4).tolist(),
            upstream=upstream.round(4).tolist(),
        )


def test_reshape_and_transpose(seed):
    Tensor = tensor_class()
    g = np.random.default_rng(seed)
    a, b, c = (int(v) for v in g.integers(2, 5, 3))
    x = g.normal(size=(a, b, c))
    reshapes = [
        (f"out = x.reshape({a * b}, {c})", lambda t: t.reshape(a * b, c), lambda v: v.reshape(a * b, c)),
        (f"out = x.reshape(({c}, -1))", lambda t: t.reshape((c, -1)), lambda v: v.reshape((c, -1))),
        ("out = x.reshape(1, -1, 1)", lambda t: t.reshape(1, -1, 1), lambda v: v.reshape(1, -1, 1)),
        ("out = x.reshape(-1)", lambda t: t.reshape(-1), lambda v: v.reshape(-1)),
    ]
    for expr, tensor_fn, numpy_fn in reshapes:
        check_op(Tensor, g, expr, tensor_fn, numpy_fn, [x], ops=("reshape",))
    transposes = [
        ("out = x.transpose()", lambda t: t.transpose(), lambda v: v.transpose()),
        ("out = x.transpose(1, 2, 0)", lambda t: t.transpose(1, 2, 0), lambda v: v.transpose(1, 2, 0)),
        ("out = x.transpose((2, 0, 1))", lambda t: t.transpose((2, 0, 1)), lambda v: v.transpose(2, 0, 1)),
    ]
    for expr, tensor_fn, numpy_fn in transposes:
        check_op(Tensor, g, expr, tensor_fn, numpy_fn, [x], ops=("transpose",))
    y = g.normal(size=(b, 1))
    check_op(
        Tensor, g, "out = y.transpose()", lambda t: t.transpose(), lambda v: v.T, [y], names=("y",), ops=("transpose",)
    )


def test_exp_log_tanh(seed):
    Tensor = tensor_class()
    g = np.random.default_rng(seed)
    for shape in [(2, 1, 3), random_pair(g)[0]]:
        check_op(Tensor, g, "out = x.exp()", lambda t: t.exp(), np.exp, [g.uniform(-2, 2, shape)])
        check_op(Tensor, g, "out = x.log()", lambda t: t.log(), np.log, [positive(g, shape)])
        check_op(Tensor, g, "out = x.tanh()", lambda t: t.tanh(), np.tanh, [g.normal(size=shape)])


def test_relu_and_sigmoid(seed):
    Tensor = tensor_class()
    g = np.random.default_rng(seed)
    for shape in [(3, 1, 2), random_pair(g)[0]]:
        check_op(
            Tensor, g, "out = x.relu()", lambda t: t.relu(), lambda v: np.maximum(v, 0), [away_from_zero(g, shape)]
        )
        check_op(
            Tensor,
            g,
            "out = x.sigmoid()",
            lambda t: t.sigmoid(),
            lambda v: 1 / (1 + np.exp(-v)),
            [g.normal(size=shape) * 3],
        )
    big = np.array([[-1000.0, -50.0, 0.0, 50.0, 1000.0]]) * g.uniform(0.9, 1.1)
    expected = np.where(big > 0, 1.0, 0.0)
    expected[0, 2] = 0.5
    with np.errstate(all="ignore"):
        out = Tensor(big.copy()).sigmoid()
    expect_array(out.data, expected, "out.data", expr="out = x.sigmoid()", given={"x": big.round(3).tolist()})


def log_softmax_np(v, axis=-1):
    shifted = v - v.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def test_log_softmax(seed):
    Tensor = tensor_class()
    g = np.random.default_rng(seed)
    ops = ("log_softmax",)
    for shape in [(3, 4), (2, 3, 5), (4, 1)]:
        x = g.normal(size=shape) * 2
        check_op(Tensor, g, "out = x.log_softmax()", lambda t: t.log_softmax(), log_softmax_np, [x], ops=ops)
    x = g.normal(size=(4, 3))
    check_op(
        Tensor,
        g,
        "out = x.log_softmax(axis=0)",
        lambda t: t.log_softmax(axis=0),
        lambda v: log_softmax_np(v, 0),
        [x],
        ops=ops,
    )


def test_log_softmax_is_stable_for_large_logits(seed):
    Tensor = tensor_class()
    g = np.random.default_rng(seed)
    logits = 1000 + g.normal(size=(3, 4)) * 5
    logits[1] -= 2000
    expected = log_softmax_np(logits)
    with np.errstate(all="ignore"):
        x = Tensor(logits.copy())
        out = x.log_softmax()
        upstream = g.normal(size=logits.shape)
        out.backward(upstream.copy())
    given = {"x": "logits around 1000 and -1000"}
    expect_array(out.data, expected, "out.data", expr="out = x.log_softmax()", given=given)
    softmax = np.exp(expected)
    wanted = upstream - softmax * upstream.sum(axis=-1, keepdims=True)
    expect_grad(
        x,
        wanted,
        "x",
        expr="out = x.log_softmax(); out.backward(g)",
        given=given,
        ops=("log_softmax",),
        expected_from="formula",
    )


def cross_entropy_np(v, targets):
    return -log_softmax_np(v)[np.arange(len(targets)), targets].mean()


def test_cross_entropy(seed):
    module = learner("tensor")
    Tensor = need(module, "Tensor")
    cross_entropy = need(module, "cross_entropy")
    g = np.random.default_rng(seed)
    n, c, k = int(g.integers(3, 7)), int(g.integers(2, 6)), int(g.integers(2, 5))
    targets = g.integers(0, c, n)
    given_targets = {"targets": targets.tolist()}
    logits = g.normal(size=(n, c)) * 2
    check_op(
        Tensor,
        g,
        "out = cross_entropy(x, targets)",
        lambda t: cross_entropy(t, targets),
        lambda v: cross_entropy_np(v, targets),
        [logits],
        ops=("cross_entropy", "log_softmax"),
    )
    features, weights = g.normal(size=(n, k)), g.normal(size=(k, c))
    check_op(
        Tensor,
        g,
        "out = cross_entropy(x @ w, targets) * 3",
        lambda a, w: cross_entropy(a @ w, targets) * 3,
        lambda a, w: 3 * cross_entropy_np(a @ w, targets),
        [features, weights],
        names=("x", "w"),
        ops=("cross_entropy", "log_softmax"),
    )
    big = 1000 + g.normal(size=(n, c)) * 10
    with np.errstate(all="ignore"):
        x = Tensor(big.copy())
        loss = cross_entropy(x, targets)
        loss.backward()
    expr = "loss = cross_entropy(x, targets); loss.backward()   (x: logits around 1000)"
    expect_array(loss.data, cross_entropy_np(big, targets), "loss.data", expr=expr, given=given_targets)
    wanted = np.exp(log_softmax_np(big))
    wanted[np.arange(n), targets] -= 1
    expect_grad(x, wanted / n, "x", expr=expr, given=given_targets, ops=("cross_entropy",), expected_from="formula")


def test_reused_tensors_and_diamonds(seed):
    Tensor = tensor_class()
    g = np.random.default_rng(seed)
    x, y = g.normal(size=(2, 3)), g.normal(size=(3,))
    check_op(Tensor, g, "out = x * x", lambda t: t * t, lambda v: v * v, [x])
    check_op(Tensor, g, "out = x + x + x", lambda t: t + t + t, lambda v: 3 * v, [x])
    check_op(Tensor, g, "out = x @ x.transpose()", lambda t: t @ t.transpose(), lambda v: v @ v.T, [x])
    check_op(
        Tensor,
        g,
        "t = x * y; out = t * t + t.exp()",
        lambda a, b: (lambda t: t * t + t.exp())(a * b),
        lambda a, b: (a * b) ** 2 + np.exp(a * b),
        [x, y],
    )
    check_op(
        Tensor,
        g,
        "t = x * y; out = t.exp() + t * t",
        lambda a, b: (lambda t: t.exp() + t * t)(a * b),
        lambda a, b: np.exp(a * b) + (a * b) ** 2,
        [x, y],
    )

    def diamond(a, b):
        top = a * b
        left, right = top.tanh(), top * a
        return (left + right) * top - b

    def diamond_np(a, b):
        top = a * b
        return (np.tanh(top) + top * a) * top - b

    check_op(Tensor, g, "t = x * y; out = (t.tanh() + t * x) * t - y", diamond, diamond_np, [x, y])

    def many_uses(a):
        return a.exp() * a + a.tanh() / (a * a + 1) - a.sum(axis=0, keepdims=True) * a

    def many_uses_np(v):
        return np.exp(v) * v + np.tanh(v) / (v * v + 1) - v.sum(axis=0, keepdims=True) * v

    check_op(
        Tensor,
        g,
        "out = x.exp() * x + x.tanh() / (x * x + 1) - x.sum(axis=0, keepdims=True) * x",
        many_uses,
        many_uses_np,
        [x],
    )


def test_backward_without_a_gradient_starts_from_ones(seed):
    Tensor = tensor_class()
    g = np.random.default_rng(seed)
    x, y = g.normal(size=(3, 2)), g.normal(size=(2,))
    tx, ty = Tensor(x.copy()), Tensor(y.copy())
    loss = (tx * ty).sum()
    loss.backward()
    given = {"x": describe(x.shape), "y": describe(y.shape)}
    expect_grad(
        tx,
        np.broadcast_to(y, x.shape),
        "x",
        expr="loss = (x * y).sum(); loss.backward()",
        given=given,
        ops=("backward",),
    )
    expect_grad(ty, x.sum(axis=0), "y", expr="loss = (x * y).sum(); loss.backward()", given=given, ops=("backward",))
    tx = Tensor(x.copy())
    out = tx * 2.5
    out.backward()
    expect_grad(tx, np.full(x.shape, 2.5), "x", expr="out = x * 2.5; out.backward()", given=given, ops=("backward",))


def test_deep_graph_needs_no_recursion(seed):
    Tensor = tensor_class()
    g = np.random.default_rng(seed)
    steps = 3000
    x = Tensor(g.normal(size=(2,)))
    out = x
    for _ in range(steps):
        out = out + x
    try:
        out.backward(np.ones(2))
    except RecursionError:
        fail_with(
            Msg(
                en="backward() hit Python's recursion limit on a chain of {steps} operations: build the "
                "topological order with a loop and an explicit stack instead of a recursive function",
                ko="연산 {steps}개가 이어진 그래프에서 backward()가 파이썬 재귀 한도에 걸렸습니다. "
                "위상 정렬을 재귀 함수 대신 반복문과 명시적인 스택으로 만들어 주세요",
            ),
            steps=steps,
        )
    expect_grad(
        x, np.full(2, steps + 1.0), "x", expr=f"out = x; {steps} times: out = out + x", given={}, ops=("backward",)
    )


def test_requires_grad_false_gets_no_gradient(seed):
    Tensor = tensor_class()
    g = np.random.default_rng(seed)
    x, w = g.normal(size=(4, 3)), g.normal(size=(3, 2))
    tx, tw = Tensor(x.copy(), requires_grad=False), Tensor(w.copy())
    out = (tx @ tw).tanh().sum()
    out.backward()
    expr = "x = Tensor(..., requires_grad=False); out = (x @ w).tanh().sum(); out.backward()"
    given = {"x": describe(x.shape), "w": describe(w.shape)}
    inner = 1 - np.tanh(x @ w) ** 2
    expect_grad(
        tw, x.T @ inner, "w", expr=expr, given=given, ops=("__rmatmul__", "__matmul__", "tanh"), expected_from="formula"
    )
    if tx.grad is not None and not (is_array(tx.grad, x.shape) and not np.any(tx.grad)):
        fail_with(
            Msg(
                en="x was made with requires_grad=False, yet x.grad is {got} after {expr}: it should stay "
                "None or zeros",
                ko="x는 requires_grad=False로 만들었는데 {expr} 뒤에 x.grad가 {got}입니다. None이나 0으로 "
                "남아 있어야 합니다",
            ),
            got=tx.grad,
            expr=expr,
        )


def _holds(root, targets):
    """Whether `root` keeps any of `targets` alive: through attributes, containers or closures."""
    wanted = {id(t) for t in targets}
    seen = set()
    stack = [root]
    while stack and len(seen) < 100_000:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if obj is not root and id(obj) in wanted:
            return True
        if isinstance(obj, (type, types.ModuleType, types.CodeType, str, bytes, int, float, np.ndarray)):
            continue
        if isinstance(obj, dict) and "__builtins__" in obj:
            continue  # a module's globals: everything is reachable from there
        stack.extend(gc.get_referents(obj))
    return False


def test_no_grad_records_nothing(seed):
    module = learner("tensor")
    Tensor = need(module, "Tensor")
    no_grad = need(module, "no_grad")
    g = np.random.default_rng(seed)
    x, w = g.normal(size=(3, 4)), g.normal(size=(4, 2))
    tx, tw = Tensor(x.copy()), Tensor(w.copy())
    recorded = ((tx @ tw).tanh() * 2).sum()
    tracks_by_reference = _holds(recorded, [tx, tw])

    with no_grad():
        hidden = (tx @ tw).tanh()
        out = (hidden * 2).sum()
    expr = "with no_grad(): out = ((x @ w).tanh() * 2).sum()"
    expect_type(out, Tensor, expr)
    expect_array(out.data, (np.tanh(x @ w) * 2).sum(), "out.data", expr=expr)
    if tracks_by_reference and _holds(out, [tx, tw, hidden]):
        fail_with(
            Msg(
                en="a result computed inside no_grad() still holds on to its inputs (through _prev or its "
                "_backward closure), so the graph stays in memory: {expr}",
                ko="no_grad() 안에서 계산한 결과가 여전히 입력을 붙잡고 있습니다 (_prev나 _backward 클로저를 "
                "통해서). 그래서 그래프가 메모리에 남습니다: {expr}",
            ),
            expr=expr,
        )
    with contextlib.suppress(Exception):  # refusing to backpropagate through nothing is fine too
        out.backward()
    for tensor, name in ((tx, "x"), (tw, "w")):
        if tensor.grad is not None and np.any(tensor.grad):
            fail_with(
                Msg(
                    en="{name}.grad changed after out.backward(), but out was computed inside no_grad(): "
                    "nothing should connect it to {name} ({expr})",
                    ko="out은 no_grad() 안에서 계산했는데 out.backward() 뒤에 {name}.grad가 바뀌었습니다. "
                    "out과 {name:은} 연결되어 있으면 안 됩니다 ({expr})",
                ),
                name=name,
                expr=expr,
            )

    with contextlib.suppress(ValueError), no_grad():
        raise ValueError("inside no_grad")
    with no_grad(), no_grad():
        pass
    after = (tx * 3).sum()
    after.backward()
    expr = "after a no_grad() block (left normally, or by an exception): out = (x * 3).sum(); out.backward()"
    expect_grad(
        tx,
        np.full(x.shape, 3.0),
        "x",
        expr=expr,
        given={"x": describe(x.shape)},
        ops=("no_grad",),
        expected_from="formula",
    )


def test_agrees_with_your_value(seed):
    Tensor = tensor_class()
    Value = need(learner("engine"), "Value")
    g = np.random.default_rng(seed)
    xs, ys = g.uniform(-2, 2, 4), g.uniform(-2, 2, 4)
    expressions = [
        ("a * b + a.tanh()", lambda a, b: a * b + a.tanh()),
        ("(a - b) / (b * b + 1)", lambda a, b: (a - b) / (b * b + 1)),
        ("a.exp() * b - a ** 2", lambda a, b: a.exp() * b - a**2),
        ("a.sigmoid() + (b * 2).relu()", lambda a, b: a.sigmoid() + (b * 2).relu()),
        ("3 - a / (a ** 2 + 1) + 2 * b", lambda a, b: 3 - a / (a**2 + 1) + 2 * b),
    ]
    for expr, f in expressions:
        ta, tb = Tensor(xs.copy()), Tensor(ys.copy())
        out = f(ta, tb)
        out.backward()
        for i in range(len(xs)):
            va, vb = Value(float(xs[i])), Value(float(ys[i]))
            vout = f(va, vb)
            vout.backward()
            pairs = [
                ("out.data", np.asarray(out.data)[i], vout.data),
                ("a.grad", np.asarray(ta.grad)[i], va.grad),
                ("b.grad", np.asarray(tb.grad)[i], vb.grad),
            ]
            for what, tensor_value, scalar_value in pairs:
                if not abs(float(tensor_value) - float(scalar_value)) <= 1e-9 * max(1.0, abs(float(scalar_value))):
                    fail_with(
                        Msg(
                            en="your Tensor and your Value disagree on {what} for {expr} at a = {a}, b = {b}: "
                            "Tensor gives {tensor}, Value gives {value}",
                            ko="{expr:를} a = {a}, b = {b}에서 계산했을 때 {what:가} Tensor와 Value에서 "
                            "다릅니다: Tensor는 {tensor}, Value는 {value}",
                        ),
                        what=what,
                        expr=expr,
                        a=float(xs[i]),
                        b=float(ys[i]),
                        tensor=float(tensor_value),
                        value=float(scalar_value),
                    )
