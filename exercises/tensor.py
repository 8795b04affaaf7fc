"""Tensors: the scalar engine's idea, with a numpy array where Value had a number.

A Tensor keeps `data` (a float64 numpy array), `grad` (an array of the same shape), the tensors
it was made from (`_prev`) and a `_backward` closure, exactly like Value. Each operation does
its work on whole arrays with numpy; backward() walks the graph the same way it did for Value.
`tinygrad-learn show week4-tensor` explains what each part must do.
"""

from contextlib import contextmanager  # noqa: F401  (handy for no_grad)

import numpy as np

_recording = True  # False inside `with no_grad():`


def no_grad():
    """A context manager: inside `with no_grad():` operations record no graph at all."""
    # TODO(week4-tensor): set _recording to False for the duration of the with-block, and put the
    # previous value back afterwards, even when the block raises (try/finally; @contextmanager).
    raise NotImplementedError("week4-tensor: write no_grad")


def _sum_to(grad, shape):
    """Undo broadcasting: sum `grad` until it has `shape` again."""
    # TODO(week4-tensor): sum over the leading axes broadcasting added, then (keepdims=True) over
    # the axes where `shape` has a 1 but grad does not.
    raise NotImplementedError("week4-tensor: write _sum_to")


class Tensor:
    """An array of float64 numbers in a computation graph."""

    # numpy would otherwise compute `array + tensor` itself, element by element; with this it
    # hands the operation to Tensor.__radd__ (and the other reflected methods).
    __array_ufunc__ = None

    def __init__(self, data, _children=(), _op="", requires_grad=True):
        # TODO(week4-tensor): data as a float64 numpy array (np.asarray(..., dtype=np.float64)),
        # grad as zeros of the same shape, requires_grad, _prev, _op and a do-nothing _backward.
        raise NotImplementedError("week4-tensor: write Tensor.__init__")

    @property
    def shape(self):
        return self.data.shape

    def __add__(self, other):
        # TODO(week4-tensor): wrap numbers and arrays in a Tensor; out.data = self.data + other.data;
        # _backward adds out.grad, summed back to each input's shape (_sum_to), into both grads.
        # Record nothing (no _prev, no _backward) when _recording is False.
        raise NotImplementedError("week4-tensor: write Tensor.__add__")

    def __mul__(self, other):
        # TODO(week4-tensor): like Value.__mul__, on arrays, with _sum_to for broadcasting.
        raise NotImplementedError("week4-tensor: write Tensor.__mul__")

    def __truediv__(self, other):  # self / other
        # TODO(week4-tensor): d(a/b)/da = 1/b, d(a/b)/db = -a/b**2.
        raise NotImplementedError("week4-tensor: write Tensor.__truediv__")

    def __pow__(self, exponent):
        # TODO(week4-tensor): `exponent` is a plain number, as in Value.
        raise NotImplementedError("week4-tensor: write Tensor.__pow__")

    def __neg__(self):  # -self
        # TODO(week4-tensor)
        raise NotImplementedError("week4-tensor: write Tensor.__neg__")

    def __radd__(self, other):  # other + self
        # TODO(week4-tensor)
        raise NotImplementedError("week4-tensor: write Tensor.__radd__")

    def __sub__(self, other):  # self - other
        # TODO(week4-tensor)
        raise NotImplementedError("week4-tensor: write Tensor.__sub__")

    def __rsub__(self, other):  # other - self
        # TODO(week4-tensor)
        raise NotImplementedError("week4-tensor: write Tensor.__rsub__")

    def __rmul__(self, other):  # other * self
        # TODO(week4-tensor)
        raise NotImplementedError("week4-tensor: write Tensor.__rmul__")

    def __rtruediv__(self, other):  # other / self
        # TODO(week4-tensor)
        raise NotImplementedError("week4-tensor: write Tensor.__rtruediv__")

    def __matmul__(self, other):
        # TODO(week4-tensor): out = a @ b (2-D or batched); grad of a is out.grad @ b^T, grad of b
        # is a^T @ out.grad, with the last two axes swapped (np.swapaxes) and _sum_to for batches.
        raise NotImplementedError("week4-tensor: write Tensor.__matmul__")

    def __rmatmul__(self, other):  # other @ self
        # TODO(week4-tensor)
        raise NotImplementedError("week4-tensor: write Tensor.__rmatmul__")

    def sum(self, axis=None, keepdims=False):
        # TODO(week4-tensor): every element gets the gradient of the sum it went into: reshape
        # out.grad to the keepdims shape, then broadcast it back to self's shape.
        raise NotImplementedError("week4-tensor: write Tensor.sum")

    def mean(self, axis=None, keepdims=False):
        # TODO(week4-tensor): a sum divided by how many elements went into each result.
        raise NotImplementedError("week4-tensor: write Tensor.mean")

    def max(self, axis=None, keepdims=False):
        # TODO(week4-tensor): the gradient goes only to the element(s) equal to the maximum.
        raise NotImplementedError("week4-tensor: write Tensor.max")

    def reshape(self, *shape):
        # TODO(week4-tensor): accept x.reshape(2, 3) and x.reshape((2, 3)); the gradient is
        # out.grad reshaped back.
        raise NotImplementedError("week4-tensor: write Tensor.reshape")

    def transpose(self, *axes):
        # TODO(week4-tensor): like numpy: no axes reverses them, x.transpose(1, 0, 2) or
        # x.transpose((1, 0, 2)) permutes; the gradient goes through the inverse permutation.
        raise NotImplementedError("week4-tensor: write Tensor.transpose")

    def exp(self):
        # TODO(week4-tensor)
        raise NotImplementedError("week4-tensor: write Tensor.exp")

    def log(self):
        # TODO(week4-tensor): d(log x)/dx = 1/x.
        raise NotImplementedError("week4-tensor: write Tensor.log")

    def tanh(self):
        # TODO(week4-tensor)
        raise NotImplementedError("week4-tensor: write Tensor.tanh")

    def relu(self):
        # TODO(week4-tensor)
        raise NotImplementedError("week4-tensor: write Tensor.relu")

    def sigmoid(self):
        # TODO(week4-tensor): no overflow warnings and no nan for x = -1000 or x = 1000.
        raise NotImplementedError("week4-tensor: write Tensor.sigmoid")

    def log_softmax(self, axis=-1):
        # TODO(week4-tensor): x - log(sum(exp(x))), after subtracting the maximum along `axis` so
        # exp() never overflows. Gradient: out.grad - softmax * out.grad.sum(axis, keepdims=True).
        raise NotImplementedError("week4-tensor: write Tensor.log_softmax")

    def backward(self, grad=None):
        # TODO(week4-tensor): topological order with an explicit stack (no recursion), then
        # self.grad = grad (ones of self's shape when grad is None), then every _backward in
        # reverse order.
        raise NotImplementedError("week4-tensor: write Tensor.backward")

    def __repr__(self):
        return f"Tensor(shape={self.data.shape}, op={self._op!r})"


def cross_entropy(logits, targets):
    """Mean negative log-probability of the right class; logits (N, C), targets N class numbers."""
    # TODO(week4-tensor): a Tensor of shape (): the mean over rows of -log_softmax(logits)[row,
    # target]. Its gradient with respect to the logits is (softmax - one_hot(targets)) / N.
    raise NotImplementedError("week4-tensor: write cross_entropy")
