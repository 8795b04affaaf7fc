"""Step 1: SimpleValue keeps its number and starts with no gradient."""

from tinygrad_learn.testkit import Msg, expect_close, expect_equal, expect_number, expect_true, learner, need


def simple_value():
    return need(learner("engine"), "SimpleValue")


def test_keeps_data(rng):
    SimpleValue = simple_value()
    for _ in range(5):
        number = rng.uniform(-1000, 1000)
        v = SimpleValue(number)
        expect_close(v.data, number, "v.data", expr=f"v = SimpleValue({number!r})", tol=0)
        expect_true(type(v.data) is float, Msg("v.data should stay the float it was given", "v.data 는 받은 float 그대로여야 합니다"))


def test_keeps_integers_as_given(rng):
    SimpleValue = simple_value()
    number = rng.randint(-50, 50)
    v = SimpleValue(number)
    expect_equal(v.data, number, "v.data", expr=f"v = SimpleValue({number})")


def test_grad_starts_at_zero(rng):
    SimpleValue = simple_value()
    v = SimpleValue(rng.uniform(-10, 10))
    expect_equal(expect_number(v.grad, "v.grad"), 0.0, "v.grad", expr="v = SimpleValue(...)")


def test_each_value_has_its_own_grad(rng):
    SimpleValue = simple_value()
    a, b = SimpleValue(rng.uniform(0, 1)), SimpleValue(rng.uniform(1, 2))
    a.grad = 1.5
    expect_equal(expect_number(b.grad, "b.grad"), 0.0, "b.grad", expr="a.grad = 1.5")


def test_repr(rng):
    SimpleValue = simple_value()
    number = round(rng.uniform(-100, 100), 3)
    v = SimpleValue(number)
    expect_equal(repr(v), f"SimpleValue(data={number!r}, grad=0)", "repr(v)", expr=f"v = SimpleValue({number!r})")
    v.grad = 2.5
    expect_equal(repr(v), f"SimpleValue(data={number!r}, grad=2.5)", "repr(v)", expr="v.grad = 2.5")
