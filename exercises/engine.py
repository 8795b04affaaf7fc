"""A scalar autograd engine: values that remember how they were made, and pass gradients back.

You grow this one file through the course. Each method says which checkpoint asks for it;
`tinygrad-learn show <checkpoint>` explains what to write.
"""

import math  # noqa: F401  (you will want it for tanh, exp and sigmoid)


class SimpleValue:
    """Step 1: a number and the gradient that will flow into it."""

    def __init__(self, data):
        # TODO(step1): keep `data` as it was given, and start `grad` at 0.
        raise NotImplementedError("step1: write SimpleValue.__init__")

    def __repr__(self):
        # TODO(step1): return text like SimpleValue(data=3.0, grad=0)
        raise NotImplementedError("step1: write SimpleValue.__repr__")


class Value:
    """A scalar in a computation graph."""

    def __init__(self, data, _children=(), _op=""):
        # TODO(step2): store data, grad (0.0), the inputs in _prev, the operation name in _op,
        # and a _backward that does nothing until an operation replaces it.
        raise NotImplementedError("step2: write Value.__init__")

    def __add__(self, other):
        # TODO(step2): wrap a plain number in a Value, build `out` from both inputs, and give it a
        # _backward that adds out.grad into each input's grad.
        raise NotImplementedError("step2: write Value.__add__")

    def __mul__(self, other):
        # TODO(project1): like __add__, but d(a*b)/da = b and d(a*b)/db = a.
        raise NotImplementedError("project1: write Value.__mul__")

    def __pow__(self, exponent):
        # TODO(project1): `exponent` is a plain number; d(x**n)/dx = n * x**(n-1).
        raise NotImplementedError("project1: write Value.__pow__")

    def tanh(self):
        # TODO(project3): use math.tanh; its derivative is 1 - tanh(x)**2.
        raise NotImplementedError("project3: write Value.tanh")

    def exp(self):
        # TODO(week2): d(e**x)/dx = e**x.
        raise NotImplementedError("week2: write Value.exp")

    def sigmoid(self):
        # TODO(week2): 1 / (1 + e**-x), computed so that a large |x| never overflows.
        raise NotImplementedError("week2: write Value.sigmoid")

    def relu(self):
        # TODO(week2): x if x > 0 else 0; the gradient passes only where x > 0.
        raise NotImplementedError("week2: write Value.relu")

    def leaky_relu(self, slope=0.01):
        # TODO(week2): x if x > 0 else slope * x.
        raise NotImplementedError("week2: write Value.leaky_relu")

    def backward(self):
        # TODO(step3): order the graph so every node comes after its inputs, set this node's
        # grad to 1.0, then call each node's _backward from the output back to the inputs.
        raise NotImplementedError("step3: write Value.backward")

    def __neg__(self):  # -self
        # TODO(week1)
        raise NotImplementedError("week1: write Value.__neg__")

    def __radd__(self, other):  # other + self
        # TODO(step2): Python calls this for `2 + Value(3)`.
        raise NotImplementedError("step2: write Value.__radd__")

    def __sub__(self, other):  # self - other
        # TODO(week1)
        raise NotImplementedError("week1: write Value.__sub__")

    def __rsub__(self, other):  # other - self
        # TODO(week1)
        raise NotImplementedError("week1: write Value.__rsub__")

    def __rmul__(self, other):  # other * self
        # TODO(project1)
        raise NotImplementedError("project1: write Value.__rmul__")

    def __truediv__(self, other):  # self / other
        # TODO(week1)
        raise NotImplementedError("week1: write Value.__truediv__")

    def __rtruediv__(self, other):  # other / self
        # TODO(week1)
        raise NotImplementedError("week1: write Value.__rtruediv__")

    def __repr__(self):
        # TODO(step2): return text like Value(data=5.0, grad=0.0)
        raise NotImplementedError("step2: write Value.__repr__")
