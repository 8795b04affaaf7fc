"""Week 1: check autograd against numerical derivatives, the way you would debug it by hand.

`numerical_grad` needs nothing but arithmetic; `gradient_check` uses your Value and backward().
"""

import math  # noqa: F401  (math.isclose is handy in gradient_check)

from .engine import Value  # noqa: F401


def numerical_grad(f, xs, h=1e-5):
    """Estimate every partial derivative of `f` at the point `xs` by central differences.

    `f` takes plain numbers, `f(*xs)`, and returns a plain number. Returns a list with one float
    per input: (f(..., x_i + h, ...) - f(..., x_i - h, ...)) / (2 * h).
    Leave the list `xs` itself unchanged.
    """
    # TODO(week1): for each i, call f on a copy of xs with x_i moved up by h and on a copy with
    # x_i moved down by h; the difference divided by 2 * h is the i-th partial derivative.
    raise NotImplementedError("week1: write numerical_grad")


def gradient_check(f, xs, tol=1e-6):
    """Compare backward() with numerical_grad for `f` at the point `xs`.

    `f` must work on plain numbers and on Values alike (use only + - * / ** and negation).
    Returns a tuple (ok, autograd_grads, numeric_grads): the two lists of gradients, one per input,
    and ok, True when every pair agrees:
    abs(autograd - numeric) <= tol * max(1, abs(autograd), abs(numeric)).
    """
    # TODO(week1): wrap each x in a Value, call f on those Values and backward() on the result,
    # collect their grads, get numerical_grad(f, xs), compare pair by pair, return the tuple.
    raise NotImplementedError("week1: write gradient_check")
