"""Step 1: SimpleValue keeps its number and starts with no gradient."""

from tinygrad_learn.grading.testkit import Msg, expect_close, expect_equal, expect_number, expect_true, learner, need


def simple_value():
    return need(learner("engine"), "SimpleValue")


def test_keeps_data(rng):
    SimpleValue = simple_value()
    for _ in range(5):
        number = rng.uniform(-1000, 1000)
        v = SimpleValue(number)
        expect_close(v.data, number, "v.data", expr=f"v = SimpleValue({number!r})", tol=0)
        expect_true(
            type(v.data) is float,
            Msg("v.data should stay the float it was given", "v.data는 받은 float 그대로여야 합니다"),
        )


def test_keeps_integers_as_given(rng):
    SimpleValue = simple_value()
    number = rng.randint(-50, 50)
    v = SimpleValue(number)
    expect_equal(v.data, number, "v.data", expr=f"v = SimpleValue({number})")


def test_grad_starts_at_zero(rng):
    SimpleValue = simple_value()
    v = SimpleValue(rng.uniform(-10, 10))
    expect_equal(expect_number(v.grad, "v.grad"), 0.0, "v.grad", expr="v = SimpleValue(...)")


def test_each_value_has_its_own_fields(rng):
    SimpleValue = simple_value()
    x, y = rng.uniform(0, 1), rng.uniform(1, 2)
    a, b = SimpleValue(x), SimpleValue(y)
    expect_close(a.data, x, "a.data", expr=f"a = SimpleValue({x!r}); b = SimpleValue({y!r})", tol=0)
    a.grad = 1.5
    expect_equal(expect_number(b.grad, "b.grad"), 0.0, "b.grad", expr="a.grad = 1.5")
    expect_equal(a.grad, 1.5, "a.grad", expr="a.grad = 1.5")


def expect_repr(v, data, grad, expr):
    # A starting grad of 0 or 0.0 are both fine; the text must show whichever it is.
    expect_equal(repr(v), f"SimpleValue(data={data!r}, grad={grad!r})", "repr(v)", expr=expr)


def test_repr(rng):
    SimpleValue = simple_value()
    for number in (round(rng.uniform(-100, 100), 3), rng.uniform(-1, 1), rng.randint(-99, 99)):
        v = SimpleValue(number)
        start = expect_number(v.grad, "v.grad")
        expect_true(
            start == 0,
            Msg("a new SimpleValue should start with grad 0", "새 SimpleValue의 grad는 0에서 시작해야 합니다"),
        )
        expect_repr(v, number, v.grad, f"v = SimpleValue({number!r})")
        grad = rng.choice([2.5, -0.75, 4])
        v.grad = grad
        expect_repr(v, number, grad, f"v = SimpleValue({number!r}); v.grad = {grad!r}")
