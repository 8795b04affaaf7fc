"""Week 1: check autograd against numerical derivatives, the way you would debug it by hand."""

import math

from .engine import Value


def numerical_grad(f, xs, h=1e-5):
    """Estimate every partial derivative of `f` at the point `xs` by central differences.

    `f` takes plain numbers, `f(*xs)`, and returns a plain number. Returns a list with one float
    per input: (f(..., x_i + h, ...) - f(..., x_i - h, ...)) / (2 * h).
    """
    grads = []
    for i in range(len(xs)):
        # Copies, so the caller's list is never changed and each input moves on its own.
        up = list(xs)
        down = list(xs)
        up[i] += h
        down[i] -= h
        # Stepping to both sides cancels the h**2 term of the Taylor series: the error is O(h**2).
        grads.append((f(*up) - f(*down)) / (2 * h))
    return grads


def gradient_check(f, xs, tol=1e-6):
    """Compare backward() with numerical_grad for `f` at the point `xs`.

    `f` must work on plain numbers and on Values alike (use only + - * / ** and negation).
    Returns a tuple (ok, autograd_grads, numeric_grads): the two lists of gradients, one per input,
    and ok, True when every pair agrees:
    abs(autograd - numeric) <= tol * max(1, abs(autograd), abs(numeric)).
    """
    values = [Value(x) for x in xs]
    f(*values).backward()
    autograd = [v.grad for v in values]
    numeric = numerical_grad(f, xs)
    # isclose with rel_tol = abs_tol = tol is exactly the rule in the docstring.
    ok = all(math.isclose(a, n, rel_tol=tol, abs_tol=tol) for a, n in zip(autograd, numeric))
    return ok, autograd, numeric
