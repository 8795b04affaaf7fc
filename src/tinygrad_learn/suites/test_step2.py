"""Step 2: Value keeps its inputs, and addition builds a graph node whose _backward adds out.grad into both inputs.

Only `+` (and `number + Value`) and a hand-called `out._backward()` are used here: backward() is
step 3.
"""

from tinygrad_learn.grading.suitekit import (
    UNHASHABLE,
    endless_reflection,
    explaining,
    holds,
    type_error_mentioning,
    unhashable_value,
    value_class,
)
from tinygrad_learn.grading.testkit import (
    Msg,
    expect_close,
    expect_equal,
    expect_number,
    expect_true,
    expect_type,
    fail_with,
    need_attr,
)

REFLECTED_RECURSION = Msg(
    en=(
        "RecursionError inside {method}: it calls itself forever. In `2 + v` Python first asks int, int "
        "refuses, then Python calls v.__radd__(2). Writing `return other + self` there asks int again, "
        "which sends Python straight back to __radd__. Return `self + other` instead: addition is "
        "commutative, and self is a Value, so __add__ runs."
    ),
    ko=(
        "{method} 안에서 RecursionError가 났습니다: 자기 자신을 끝없이 부릅니다. `2 + v`에서 파이썬은 먼저 "
        "int에게 묻고, int가 거절하면 v.__radd__(2)를 부릅니다. 거기서 `return other + self`라고 쓰면 "
        "다시 int에게 묻게 되고, 곧바로 __radd__로 돌아옵니다. 대신 `self + other`를 돌려주세요. 덧셈은 "
        "순서를 바꿔도 같고, self가 Value 이므로 __add__가 실행됩니다."
    ),
)


NOT_ATTACHED = Msg(
    en=(
        "After out._backward(), the inputs' grads did not change. out._backward must be the closure you wrote "
        "in __add__: did you attach it with `out._backward = _backward` before returning out?"
    ),
    ko=(
        "out._backward() 뒤에도 입력들의 grad가 그대로입니다. out._backward는 __add__ 안에서 쓴 클로저여야 "
        "합니다. out을 돌려주기 전에 `out._backward = _backward`로 붙였나요?"
    ),
)

MISSING_OUT_GRAD = Msg(
    en=(
        "After out._backward(), the inputs' grads grew by 1 instead of out.grad = {g}. The chain rule "
        "multiplies: each input receives d(out)/d(input) * out.grad, which for + is 1 * out.grad."
    ),
    ko=(
        "out._backward() 뒤에 입력들의 grad가 out.grad = {g:가} 아니라 1 만큼 늘었습니다. 연쇄 법칙은 곱입니다. "
        "입력마다 d(out)/d(입력) * out.grad를 받고, + 에서는 1 * out.grad입니다."
    ),
)

OVERWRITES = Msg(
    en=(
        "After out._backward(), the inputs' grads became {g}, losing what they already held. Gradients add "
        "up: write `self.grad += out.grad`, not `=`."
    ),
    ko=(
        "out._backward() 뒤에 입력들의 grad가 {g:가} 되어 원래 값이 사라졌습니다. 그래디언트는 누적됩니다. "
        "`=`가 아니라 `self.grad += out.grad`로 쓰세요."
    ),
)

MISSING_RADD = Msg(
    en=(
        "TypeError: {error}. When the left side is a plain number (as in `2 + v`, or in sum(), which starts "
        "from 0), Python asks the Value on the right through __radd__: define it (addition is commutative)."
    ),
    ko=(
        "TypeError: {error}. 왼쪽이 보통 숫자이면 (`2 + v`, 또는 0에서 시작하는 sum()처럼) 파이썬은 오른쪽 "
        "Value의 __radd__를 부릅니다. 그것을 정의하세요 (덧셈은 순서를 바꿔도 같습니다)."
    ),
)


explained = explaining(
    endless_reflection("__radd__", REFLECTED_RECURSION),
    endless_reflection("__add__", REFLECTED_RECURSION),
    unhashable_value(UNHASHABLE),
    type_error_mentioning(MISSING_RADD, "unsupported operand type(s) for +", "and 'Value'"),
)


def inputs_of(node, what):
    """The nodes in `node._prev`, whatever container the learner chose; this is where the learner
    first writes _prev, so unlike suitekit.inputs_of a _prev that is no container is explained."""
    prev = need_attr(node, "_prev", what)
    try:
        items = list(prev)
    except TypeError:
        fail_with(
            Msg(
                en="{what}._prev should be a set, tuple or list of input Values; it is {prev}",
                ko="{what}._prev는 입력 Value들을 담은 set, tuple 또는 list 여야 합니다. 지금 값: {prev}",
            ),
            what=what,
            prev=prev,
        )
    return items


def number(rng):
    return round(rng.uniform(-50, 50), rng.choice([0, 1, 3, 6]))


def expect_grad(node, expected, what, expr, given):
    expect_close(node.grad, expected, f"{what}.grad", expr=expr, given=given, tol=1e-12)


@explained
def test_new_value_fields(rng):
    Value = value_class()
    for start in (number(rng), rng.randint(-9, 9)):
        v = Value(start)
        expr = f"v = Value({start!r})"
        expect_type(v, Value, "Value(...)")
        expect_number(v.data, "v.data")
        expect_close(v.data, start, "v.data", expr=expr, tol=0)
        expect_equal(expect_number(v.grad, "v.grad"), 0.0, "v.grad", expr=expr)
        expect_equal(len(inputs_of(v, "v")), 0, "len(v._prev)", expr=expr)
        expect_type(need_attr(v, "_op", "v"), str, "v._op")
        backward = need_attr(v, "_backward", "v")
        expect_true(
            callable(backward),
            Msg(en="v._backward should be a function (one that does nothing, for a new Value)",
                ko="v._backward는 함수여야 합니다 (새 Value 에서는 아무것도 하지 않는 함수)"),
        )
        v.grad = 0.5
        result = backward()
        expect_true(
            result is None and v.data == start and v.grad == 0.5,
            Msg(
                en="the _backward of a Value that no operation made must do nothing and return None; after "
                "v._backward() v is {v} and it returned {result}",
                ko="연산으로 만들지 않은 Value의 _backward는 아무것도 하지 않고 None을 돌려줘야 합니다. "
                "v._backward() 뒤에 v는 {v}, 돌려준 값은 {result}입니다",
            ),
            v=v,
            result=result,
            expr=expr,
        )


@explained
def test_value_keeps_children_and_op(rng):
    Value = value_class()
    a, b = Value(number(rng)), Value(number(rng))
    op = rng.choice(["+", "op", "join"])
    out = Value(a.data + b.data, (a, b), op)
    expr = f"out = Value(a.data + b.data, (a, b), {op!r})"
    prev = inputs_of(out, "out")
    expect_true(
        holds(prev, a) and holds(prev, b) and all(item is a or item is b for item in prev),
        Msg(en="out._prev should hold exactly a and b, the very same objects; it holds {prev}",
            ko="out._prev 에는 a와 b, 바로 그 객체들만 있어야 합니다. 지금 값: {prev}"),
        expr=expr,
        prev=prev,
        given={"a": a.data, "b": b.data},
    )
    expect_equal(out._op, op, "out._op", expr=expr)


@explained
def test_add_two_values(rng):
    Value = value_class()
    for _ in range(5):
        x, y = number(rng), number(rng)
        a, b = Value(x), Value(y)
        c = a + b
        given = {"a": x, "b": y}
        expect_type(c, Value, "a + b")
        expect_close(c.data, x + y, "c.data", expr="c = a + b", given=given, tol=1e-12)
        expect_equal(expect_number(c.grad, "c.grad"), 0.0, "c.grad", expr="c = a + b", given=given)
        prev = inputs_of(c, "c")
        expect_true(
            holds(prev, a) and holds(prev, b) and all(item is a or item is b for item in prev),
            Msg(en="c._prev should hold a and b themselves (not copies); it holds {prev}",
                ko="c._prev 에는 a와 b 자신이 (복사본이 아니라) 들어 있어야 합니다. 지금 값: {prev}"),
            prev=prev,
            expr="c = a + b",
            given=given,
        )
        op = c._op
        expect_true(
            type(op) is str and op != "",
            Msg(en="c._op should name the operation, for example '+'; it is {op}",
                ko="c._op 에는 연산 이름이 들어가야 합니다 (예: '+'). 지금 값: {op}"),
            op=op,
            expr="c = a + b",
        )
        expect_equal(a.data, x, "a.data", expr="c = a + b (a must not change)", given=given)
        expect_equal(b.data, y, "b.data", expr="c = a + b (b must not change)", given=given)
        expect_equal(expect_number(a.grad, "a.grad"), 0.0, "a.grad", expr="c = a + b (no gradient yet)", given=given)


@explained
def test_int_data_stays_a_number(rng):
    Value = value_class()
    x, y = rng.randint(-20, 20), rng.randint(-20, 20)
    c = Value(x) + Value(y)
    expect_number(c.data, "c.data")
    expect_close(c.data, x + y, "c.data", expr=f"c = Value({x}) + Value({y})", tol=0)


@explained
def test_value_plus_number(rng):
    Value = value_class()
    for k in (rng.randint(-9, 9), number(rng)):
        x = number(rng)
        a = Value(x)
        c = a + k
        expr = f"c = a + {k!r}"
        given = {"a": x}
        expect_type(c, Value, f"a + {k!r}")
        expect_close(c.data, x + k, "c.data", expr=expr, given=given, tol=1e-12)
        prev = inputs_of(c, "c")
        expect_true(
            holds(prev, a) and all(type(item) is Value for item in prev),
            Msg(en="c._prev should hold a, and only Value objects (wrap the number in a Value); it holds {prev}",
                ko="c._prev 에는 a가 있어야 하고, Value 객체만 있어야 합니다 (숫자는 Value로 감싸세요). "
                "지금 값: {prev}"),
            expr=expr,
            prev=prev,
            given=given,
        )


@explained
def test_number_plus_value(rng):
    Value = value_class()
    for k in (rng.randint(-9, 9), number(rng)):
        x = number(rng)
        a = Value(x)
        c = k + a
        expr = f"c = {k!r} + a"
        given = {"a": x}
        expect_type(c, Value, f"{k!r} + a")
        expect_close(c.data, k + x, "c.data", expr=expr, given=given, tol=1e-12)
        prev = inputs_of(c, "c")
        expect_true(
            holds(prev, a) and all(type(item) is Value for item in prev),
            Msg(en="c._prev should hold a, and only Value objects; it holds {prev}",
                ko="c._prev 에는 a가 있어야 하고, Value 객체만 있어야 합니다. 지금 값: {prev}"),
            expr=expr,
            prev=prev,
            given=given,
        )
        g = number(rng) or 1.5
        c.grad = g
        c._backward()
        expect_received({"a": a}, [0.0], g, f"{expr}; c.grad = {g!r}; c._backward()", given)


@explained
def test_builtin_sum(rng):
    Value = value_class()
    xs = [number(rng) for _ in range(rng.randint(3, 6))]
    total = sum(Value(x) for x in xs)
    expect_type(total, Value, "sum([Value, ...])")
    expect_close(total.data, sum(xs), "total.data", expr="total = sum(values)  # starts from 0 + values[0]",
                 given={"values": xs}, tol=1e-12)


def expect_received(nodes, starts, g, expr, given):
    """After a hand-called _backward, each input must hold its start plus exactly g; explain the usual slips."""
    got = [expect_number(node.grad, f"{name}.grad") for name, node in nodes.items()]
    if got == starts:
        fail_with(NOT_ATTACHED, expr=expr, given=given)
    if g != 1 and got == [start + 1 for start in starts]:
        fail_with(MISSING_OUT_GRAD, expr=expr, g=g, given=given)
    if any(starts) and got == [g] * len(starts):
        fail_with(OVERWRITES, expr=expr, g=g, given=given)
    for (name, node), start in zip(nodes.items(), starts, strict=True):
        expect_grad(node, start + g, name, expr, given)


def check_pass_through(Value, rng, a_start, b_start):
    """out.grad = g, out._backward(): both inputs gain exactly g."""
    x, y = number(rng), number(rng)
    a, b = Value(x), Value(y)
    a.grad, b.grad = a_start, b_start
    out = a + b
    g = rng.choice([2.0, -3.0, 0.25, number(rng) or 0.5])
    out.grad = g
    out._backward()
    expr = f"a.grad = {a_start!r}; b.grad = {b_start!r}; out = a + b; out.grad = {g!r}; out._backward()"
    given = {"a": x, "b": y}
    expect_received({"a": a, "b": b}, [a_start, b_start], g, expr, given)
    expect_close(out.data, x + y, "out.data", expr=expr, given=given, tol=1e-12)


@explained
def test_add_backward_passes_out_grad(rng):
    Value = value_class()
    for _ in range(3):
        check_pass_through(Value, rng, 0.0, 0.0)


@explained
def test_add_backward_accumulates(rng):
    Value = value_class()
    check_pass_through(Value, rng, number(rng) or 1.25, number(rng) or -0.75)
    a, b = Value(number(rng)), Value(number(rng))
    out = a + b
    g = number(rng) or 2.5
    out.grad = g
    out._backward()
    expr = f"out = a + b; out.grad = {g!r}; out._backward()"
    expect_received({"a": a, "b": b}, [0.0, 0.0], g, expr, {"a": a.data, "b": b.data})
    out._backward()
    expr += "; out._backward()"
    expect_received({"a": a, "b": b}, [g, g], g, expr, {"a": a.data, "b": b.data})


@explained
def test_reused_node(rng):
    Value = value_class()
    x = number(rng)
    a = Value(x)
    out = a + a
    expect_close(out.data, 2 * x, "out.data", expr="out = a + a", given={"a": x}, tol=1e-12)
    prev = inputs_of(out, "out")
    expect_true(
        holds(prev, a) and all(item is a for item in prev),
        Msg(en="out._prev should hold only a; it holds {prev}",
            ko="out._prev 에는 a만 있어야 합니다. 지금 값: {prev}"),
        prev=prev,
        expr="out = a + a",
    )
    g = rng.choice([1.0, 3.0, -2.0, number(rng) or 0.5])
    out.grad = g
    out._backward()
    if a.grad == g:
        fail_with(
            Msg(
                en="out._backward() left a.grad = {g}, but a is both inputs, so it "
                "must receive out.grad twice (a.grad = {twice}). Use += for each input, so the second "
                "addition does not overwrite the first.",
                ko="out._backward() 뒤에 a.grad가 {g}입니다. a는 두 입력 모두이므로 "
                "out.grad를 두 번 받아야 합니다 (a.grad = {twice}). 입력마다 += 를 써서 두 번째 덧셈이 첫 번째를 "
                "덮어쓰지 않게 하세요.",
            ),
            g=g,
            twice=2 * g,
            expr=f"out = a + a; out.grad = {g!r}; out._backward()",
            given={"a": x},
        )
    expect_grad(a, 2 * g, "a", f"out = a + a; out.grad = {g!r}; out._backward()", {"a": x})


@explained
def test_chained_additions(rng):
    Value = value_class()
    x, y, z = number(rng), number(rng), number(rng)
    a, b, c = Value(x), Value(y), Value(z)
    ab = a + b
    out = ab + c
    given = {"a": x, "b": y, "c": z}
    expect_type(out, Value, "(a + b) + c")
    expect_close(out.data, x + y + z, "out.data", expr="ab = a + b; out = ab + c", given=given, tol=1e-12)
    expect_true(
        holds(inputs_of(out, "out"), ab),
        Msg(en="out._prev should hold the node ab itself",
            ko="out._prev 에는 노드 ab 자체가 있어야 합니다"),
        expr="ab = a + b; out = ab + c",
        given=given,
    )
    g = number(rng) or 1.5
    out.grad = g
    out._backward()
    expr = f"ab = a + b; out = ab + c; out.grad = {g!r}; out._backward()"
    expect_received({"ab": ab, "c": c}, [0.0, 0.0], g, expr, given)
    expect_grad(a, 0.0, "a", expr + "  # ab._backward() not called yet", given)
    ab._backward()
    expr += "; ab._backward()"
    expect_received({"a": a, "b": b}, [0.0, 0.0], g, expr, given)
    expect_grad(c, g, "c", expr, given)


@explained
def test_equal_data_stays_two_nodes(rng):
    Value = value_class()
    x = float(rng.randint(-5, 5))
    a, b = Value(x), Value(x)
    out = a + b
    prev = inputs_of(out, "out")
    if not (holds(prev, a) and holds(prev, b)):
        fail_with(
            Msg(
                en="out._prev holds {prev}, so a and b, two "
                "different nodes with the same data, became one. If you defined __eq__ or __hash__ "
                "from data, remove them (or hash with id(self)): nodes are told apart by identity.",
                ko="out._prev가 {prev} 라서, data만 같은 서로 다른 "
                "노드 a와 b가 하나가 되었습니다. data로 __eq__나 __hash__를 정의했다면 지우세요 "
                "(또는 id(self)로 해시하세요). 노드는 동일성(identity)으로 구별합니다.",
            ),
            prev=prev,
            expr=f"a = Value({x!r}); b = Value({x!r}); out = a + b",
        )
    out.grad = 2.0
    out._backward()
    expect_received({"a": a, "b": b}, [0.0, 0.0], 2.0, "out = a + b; out.grad = 2.0; out._backward()",
                    {"a": x, "b": x})


@explained
def test_value_repr(rng):
    Value = value_class()
    x = number(rng)
    v = Value(x)
    grad = expect_number(v.grad, "v.grad")
    expect_equal(repr(v), f"Value(data={x!r}, grad={v.grad!r})", "repr(v)", expr=f"v = Value({x!r})")
    expect_true(grad == 0, Msg(en="a new Value should start with grad 0.0", ko="새 Value의 grad는 0.0 이어야 합니다"))
    g = rng.choice([2.5, -1.0, 0.125])
    v.grad = g
    expect_equal(repr(v), f"Value(data={x!r}, grad={g!r})", "repr(v)", expr=f"v = Value({x!r}); v.grad = {g!r}")
    y = rng.randint(1, 9)
    c = Value(5.0) + Value(float(y))
    expr = f"c = Value(5.0) + Value({float(y)!r})"
    expect_equal(repr(c), f"Value(data={5.0 + y!r}, grad={c.grad!r})", "repr(c)", expr=expr)
    expect_equal(repr(Value(5.0)), f"Value(data=5.0, grad={Value(5.0).grad!r})", "repr(Value(5.0))")
