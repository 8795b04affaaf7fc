"""Tensors: the scalar engine's idea, with a numpy array where Value had a number."""

from contextlib import contextmanager

import numpy as np

_recording = True


@contextmanager
def no_grad():
    """Inside `with no_grad():` results keep no link to their inputs: no graph, no memory held."""
    global _recording
    previous = _recording
    _recording = False
    try:
        yield
    finally:
        _recording = previous


def _sum_to(grad, shape):
    """Undo broadcasting: sum `grad` over the axes that broadcasting added or stretched."""
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra:
        grad = grad.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    return grad


def _no_backward():
    pass


def _lift(x):
    # Plain numbers and arrays become constants: nothing needs their gradient.
    return x if isinstance(x, Tensor) else Tensor(x, requires_grad=False)


class Tensor:
    """An array of float64 numbers in a computation graph."""

    # Makes numpy hand `array + tensor` over to Tensor.__radd__ instead of looping over the array.
    __array_ufunc__ = None

    def __init__(self, data, _children=(), _op="", requires_grad=True):
        self.data = np.asarray(data, dtype=np.float64)
        self.grad = np.zeros_like(self.data)
        self.requires_grad = requires_grad
        self._backward = _no_backward
        self._prev = set(_children)
        self._op = _op

    @property
    def shape(self):
        return self.data.shape

    def _link(self, children, op, backward):
        """Attach this result to the graph, unless no gradient can flow back through it."""
        if _recording and any(c.requires_grad for c in children):
            self._prev = set(children)
            self._op = op
            self._backward = backward
        else:
            self.requires_grad = False
        return self

    def _accumulate(self, grad):
        if self.requires_grad:
            self.grad += _sum_to(grad, self.data.shape)

    # -- elementwise arithmetic, with broadcasting -------------------------------------------

    def __add__(self, other):
        other = _lift(other)
        out = Tensor(self.data + other.data)

        def _backward():
            self._accumulate(out.grad)
            other._accumulate(out.grad)

        return out._link((self, other), "+", _backward)

    def __mul__(self, other):
        other = _lift(other)
        out = Tensor(self.data * other.data)

        def _backward():
            self._accumulate(other.data * out.grad)
            other._accumulate(self.data * out.grad)

        return out._link((self, other), "*", _backward)

    def __truediv__(self, other):  # self / other
        other = _lift(other)
        out = Tensor(self.data / other.data)

        def _backward():
            self._accumulate(out.grad / other.data)
            other._accumulate(-out.grad * out.data / other.data)

        return out._link((self, other), "/", _backward)

    def __pow__(self, exponent):
        assert isinstance(exponent, (int, float)), "only plain-number exponents are supported"
        out = Tensor(self.data**exponent)

        def _backward():
            self._accumulate(exponent * self.data ** (exponent - 1) * out.grad)

        return out._link((self,), f"**{exponent}", _backward)

    def __neg__(self):  # -self
        return self * -1.0

    def __radd__(self, other):  # other + self
        return self + other

    def __sub__(self, other):  # self - other
        return self + (-_lift(other))

    def __rsub__(self, other):  # other - self
        return _lift(other) + (-self)

    def __rmul__(self, other):  # other * self
        return self * other

    def __rtruediv__(self, other):  # other / self
        return _lift(other) / self

    # -- matrix product ----------------------------------------------------------------------

    def __matmul__(self, other):
        other = _lift(other)
        out = Tensor(self.data @ other.data)

        def _backward():
            # The transposes are views; the checks skip a whole product for constant inputs.
            if self.requires_grad:
                self._accumulate(out.grad @ np.swapaxes(other.data, -1, -2))
            if other.requires_grad:
                other._accumulate(np.swapaxes(self.data, -1, -2) @ out.grad)

        return out._link((self, other), "@", _backward)

    def __rmatmul__(self, other):  # other @ self
        return _lift(other) @ self

    # -- reductions --------------------------------------------------------------------------

    def sum(self, axis=None, keepdims=False):
        kept = self.data.sum(axis=axis, keepdims=True)
        out = Tensor(kept if keepdims else np.squeeze(kept, axis))

        def _backward():
            # Every input element contributed once to its sum.
            self._accumulate(np.broadcast_to(out.grad.reshape(kept.shape), self.data.shape))

        return out._link((self,), "sum", _backward)

    def mean(self, axis=None, keepdims=False):
        total = self.sum(axis=axis, keepdims=keepdims)
        return total * (total.data.size / self.data.size)

    def max(self, axis=None, keepdims=False):
        kept = self.data.max(axis=axis, keepdims=True)
        out = Tensor(kept if keepdims else np.squeeze(kept, axis))

        def _backward():
            # The gradient goes to the largest element (shared equally if several tie).
            winners = self.data == kept
            share = out.grad.reshape(kept.shape) / winners.sum(axis=axis, keepdims=True)
            self._accumulate(winners * share)

        return out._link((self,), "max", _backward)

    # -- shape -------------------------------------------------------------------------------

    def reshape(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        out = Tensor(self.data.reshape(shape))

        def _backward():
            self._accumulate(out.grad.reshape(self.data.shape))

        return out._link((self,), "reshape", _backward)

    def transpose(self, *axes):
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        axes = axes or tuple(reversed(range(self.data.ndim)))
        out = Tensor(self.data.transpose(axes))

        def _backward():
            self._accumulate(out.grad.transpose(np.argsort(axes)))

        return out._link((self,), "transpose", _backward)

    # -- elementwise functions ---------------------------------------------------------------

    def exp(self):
        out = Tensor(np.exp(self.data))

        def _backward():
            self._accumulate(out.data * out.grad)

        return out._link((self,), "exp", _backward)

    def log(self):
        out = Tensor(np.log(self.data))

        def _backward():
            self._accumulate(out.grad / self.data)

        return out._link((self,), "log", _backward)

    def tanh(self):
        out = Tensor(np.tanh(self.data))

        def _backward():
            self._accumulate((1 - out.data**2) * out.grad)

        return out._link((self,), "tanh", _backward)

    def relu(self):
        out = Tensor(np.maximum(self.data, 0))

        def _backward():
            self._accumulate((self.data > 0) * out.grad)

        return out._link((self,), "relu", _backward)

    def sigmoid(self):
        # 1 / (1 + e^-x) = exp(-log(1 + e^-x)); logaddexp computes the log without overflowing.
        out = Tensor(np.exp(-np.logaddexp(0, -self.data)))

        def _backward():
            self._accumulate(out.data * (1 - out.data) * out.grad)

        return out._link((self,), "sigmoid", _backward)

    def log_softmax(self, axis=-1):
        # Subtracting the maximum first keeps exp() from overflowing; the result is the same.
        shifted = self.data - self.data.max(axis=axis, keepdims=True)
        out = Tensor(shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True)))

        def _backward():
            softmax = np.exp(out.data)
            self._accumulate(out.grad - softmax * out.grad.sum(axis=axis, keepdims=True))

        return out._link((self,), "log_softmax", _backward)

    # -- backpropagation ---------------------------------------------------------------------

    def backward(self, grad=None):
        # Iterative depth-first search: deep graphs (long sequences) would overflow recursion.
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

        if grad is None:
            self.grad = np.ones_like(self.data)
        else:
            self.grad = np.array(np.broadcast_to(grad, self.data.shape), dtype=np.float64)
        for node in reversed(topo):
            node._backward()

    def __repr__(self):
        return f"Tensor(shape={self.data.shape}, op={self._op!r})"


def cross_entropy(logits, targets):
    """Mean negative log-probability of the right class; logits (N, C), targets N class numbers."""
    targets = np.asarray(targets)
    rows = np.arange(len(targets))
    shifted = logits.data - logits.data.max(axis=-1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    out = Tensor(-log_probs[rows, targets].mean())

    def _backward():
        # d(loss)/d(logits) = (softmax - one_hot) / N
        grad = np.exp(log_probs)
        grad[rows, targets] -= 1
        logits._accumulate(grad * (out.grad / len(targets)))

    return out._link((logits,), "cross_entropy", _backward)
