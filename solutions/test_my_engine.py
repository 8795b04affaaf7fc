"""Week 2: tests of the engine, written the way you would write them for your own.

Each test builds a small graph, runs backward() and states what the data and gradients must be.
Run them with `python -m pytest exercises/test_my_engine.py` from the workspace.
"""

import math

from .engine import Value


def test_add_counts_a_reused_value_twice():
    a = Value(3.0)
    b = a + a
    b.backward()
    assert b.data == 6.0
    # a reaches b along two paths, so both contributions must add up.
    assert a.grad == 2.0


def test_mul_sends_each_input_the_other_one():
    a = Value(2.0)
    b = Value(-3.0)
    c = a * b
    c.backward()
    assert a.grad == -3.0
    assert b.grad == 2.0


def test_chain_rule_through_two_products():
    # The inner product's gradient is c, not 1: a missing `* out.grad` shows only here.
    a = Value(2.0)
    b = Value(3.0)
    c = Value(4.0)
    d = (a * b) * c
    d.backward()
    assert a.grad == 12.0
    assert b.grad == 8.0


def test_pow_uses_one_power_less():
    x = Value(2.0)
    y = x**3
    y.backward()
    assert y.data == 8.0
    assert x.grad == 12.0


def test_tanh_gradient():
    x = Value(0.5)
    x.tanh().backward()
    t = math.tanh(0.5)
    assert math.isclose(x.grad, 1 - t**2)


def test_sigmoid_value_and_gradient():
    x = Value(0.3)
    y = x.sigmoid()
    y.backward()
    s = 1 / (1 + math.exp(-0.3))
    assert math.isclose(y.data, s)
    assert math.isclose(x.grad, s * (1 - s))


def test_relu_blocks_negative_inputs():
    x = Value(-2.0)
    y = x.relu()
    y.backward()
    assert y.data == 0
    assert x.grad == 0
