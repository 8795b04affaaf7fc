"""A scalar autograd engine: values that remember how they were made, and pass gradients back."""

import math


class SimpleValue:
    """Step 1: a number and the gradient that will flow into it."""

    def __init__(self, data):
        self.data = data
        self.grad = 0

    def __repr__(self):
        return f"SimpleValue(data={self.data!r}, grad={self.grad!r})"


class Value:
    """A scalar in a computation graph; each node's local rule is a method chosen by its operation."""

    __slots__ = ("data", "grad", "_prev", "_op", "_arg")

    def __init__(self, data, _children=(), _op="", _arg=None):
        self.data = data
        self.grad = 0.0
        self._prev = list(_children)
        self._op = _op
        self._arg = _arg

    def _backward(self):
        rule = _RULES.get(self._op)
        if rule is not None:
            rule(self)

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data + other.data, (self, other), "+")

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data * other.data, (self, other), "*")

    def __pow__(self, exponent):
        assert isinstance(exponent, (int, float)), "only plain-number exponents are supported"
        return Value(self.data**exponent, (self,), "**", exponent)

    def tanh(self):
        return Value(math.tanh(self.data), (self,), "tanh")

    def exp(self):
        return Value(math.exp(self.data), (self,), "exp")

    def sigmoid(self):
        if self.data >= 0:
            s = 1 / (1 + math.exp(-self.data))
        else:
            e = math.exp(self.data)
            s = e / (1 + e)
        return Value(s, (self,), "sigmoid")

    def relu(self):
        return Value(self.data if self.data > 0 else 0.0, (self,), "relu")

    def leaky_relu(self, slope=0.01):
        return Value(self.data if self.data > 0 else slope * self.data, (self,), "leaky_relu", slope)

    def backward(self):
        # Iterative depth-first search: a recursive one overflows Python's stack on deep graphs.
        topo = []
        visited = set()
        stack = [(self, False)]
        while stack:
            node, children_done = stack.pop()
            if children_done:
                topo.append(node)
                continue
            if node in visited:
                continue
            visited.add(node)
            stack.append((node, True))
            for child in node._prev:
                if child not in visited:
                    stack.append((child, False))

        self.grad = 1.0
        for node in reversed(topo):
            node._backward()

    def __neg__(self):  # -self
        return self * -1

    def __radd__(self, other):  # other + self
        return self + other

    def __sub__(self, other):  # self - other
        return self + (-other)

    def __rsub__(self, other):  # other - self
        return other + (-self)

    def __rmul__(self, other):  # other * self
        return self * other

    def __truediv__(self, other):  # self / other
        return self * other**-1

    def __rtruediv__(self, other):  # other / self
        return other * self**-1

    def __repr__(self):
        return f"Value(data={self.data!r}, grad={self.grad!r})"


def _add_rule(out):
    a, b = out._prev
    a.grad += out.grad
    b.grad += out.grad


def _mul_rule(out):
    a, b = out._prev
    a.grad += b.data * out.grad
    b.grad += a.data * out.grad


def _pow_rule(out):
    (a,) = out._prev
    a.grad += out._arg * a.data ** (out._arg - 1) * out.grad


def _tanh_rule(out):
    (a,) = out._prev
    a.grad += (1 - out.data * out.data) * out.grad


def _exp_rule(out):
    (a,) = out._prev
    a.grad += out.data * out.grad


def _sigmoid_rule(out):
    (a,) = out._prev
    a.grad += out.data * (1 - out.data) * out.grad


def _relu_rule(out):
    (a,) = out._prev
    a.grad += (1.0 if a.data > 0 else 0.0) * out.grad


def _leaky_relu_rule(out):
    (a,) = out._prev
    a.grad += (1.0 if a.data > 0 else out._arg) * out.grad


_RULES = {
    "+": _add_rule,
    "*": _mul_rule,
    "**": _pow_rule,
    "tanh": _tanh_rule,
    "exp": _exp_rule,
    "sigmoid": _sigmoid_rule,
    "relu": _relu_rule,
    "leaky_relu": _leaky_relu_rule,
}
