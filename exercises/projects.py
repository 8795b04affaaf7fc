"""Projects 1-3: functions written with Value, so backward() can differentiate them.

Each function receives Value objects and returns a Value. Write the formula with the
operators you gave Value; do not compute the derivative yourself: backward() does that.
"""


def f1(x):
    """Project 1: f(x) = x^2 + 2x + 1."""
    # TODO(project1): one line, using **, * and + on x.
    raise NotImplementedError("project1: write f1")


def f2(x, y):
    """Project 2: f(x, y) = x*y + x."""
    # TODO(project2)
    raise NotImplementedError("project2: write f2")


def f3(x, y):
    """Project 3: f(x, y) = tanh(x*y) * (x + y)."""
    # TODO(project3): tanh is a method of Value.
    raise NotImplementedError("project3: write f3")
