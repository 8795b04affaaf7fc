"""Projects 1-3: functions written with Value, so backward() can differentiate them."""


def f1(x):
    """Project 1: f(x) = x^2 + 2x + 1."""
    return x**2 + 2 * x + 1


def f2(x, y):
    """Project 2: f(x, y) = x*y + x."""
    return x * y + x


def f3(x, y):
    """Project 3: f(x, y) = tanh(x*y) * (x + y)."""
    return (x * y).tanh() * (x + y)
