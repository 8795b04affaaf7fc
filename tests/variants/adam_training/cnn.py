"""A convolutional network on Tensors: conv2d by im2col, max pooling, and a small CNN that learns shapes."""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .tensor import Tensor, cross_entropy

SHAPES = ("horizontal line", "vertical line", "cross", "square")


def make_shapes(n, seed=0):
    """`n` noisy 8x8 images of the four SHAPES, at random places and sizes, and their labels 0-3."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 4, n)
    images = np.zeros((n, 1, 8, 8))
    for image, label in zip(images[:, 0], labels):
        if label < 2:
            length = rng.integers(3, 7)
            row, col = rng.integers(0, 8), rng.integers(0, 9 - length)
            if label == 0:
                image[row, col : col + length] = 1
            else:
                image[col : col + length, row] = 1
        elif label == 2:
            arm = rng.integers(1, 3)
            row, col = rng.integers(arm, 8 - arm, size=2)
            image[row, col - arm : col + arm + 1] = 1
            image[row - arm : row + arm + 1, col] = 1
        else:
            side = rng.integers(3, 6)
            row, col = rng.integers(0, 9 - side, size=2)
            image[row : row + side, col : col + side] = 1
            image[row + 1 : row + side - 1, col + 1 : col + side - 1] = 0
    images *= rng.uniform(0.7, 1.0, (n, 1, 1, 1))
    images += rng.normal(0, 0.2, images.shape)
    return images, labels


def _windows(data, kernel, stride):
    """View of every kernel-sized window: (N, C, H, W) -> (N, C, OH, OW, KH, KW), no copy."""
    return sliding_window_view(data, kernel, axis=(2, 3))[:, :, ::stride, ::stride]


def _scatter_windows(grad_windows, shape, stride):
    """The reverse of _windows: add each window's gradient back where the window was taken from."""
    n, c, oh, ow, kh, kw = grad_windows.shape
    grad = np.zeros(shape)
    # One pass per kernel offset (a handful), each covering every window at once.
    for i in range(kh):
        for j in range(kw):
            grad[:, :, i : i + stride * oh : stride, j : j + stride * ow : stride] += grad_windows[..., i, j]
    return grad


def conv2d(x, w, b=None, stride=1, padding=0):
    """x (N, C, H, W) convolved with w (F, C, KH, KW), plus b (F,): a Tensor (N, F, OH, OW)."""
    f, c, kh, kw = w.data.shape
    padded = np.pad(x.data, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    windows = _windows(padded, (kh, kw), stride)
    n, _, oh, ow = windows.shape[:4]
    # im2col: one row per output pixel, one column per (channel, ky, kx); conv becomes a matmul.
    cols = windows.transpose(0, 2, 3, 1, 4, 5).reshape(n * oh * ow, c * kh * kw)
    kernel = w.data.reshape(f, c * kh * kw)
    flat = cols @ kernel.T
    if b is not None:
        flat += b.data
    out = Tensor(flat.reshape(n, oh, ow, f).transpose(0, 3, 1, 2))

    def _backward():
        grad = out.grad.transpose(0, 2, 3, 1).reshape(n * oh * ow, f)
        w._accumulate((grad.T @ cols).reshape(w.data.shape))
        if b is not None:
            b._accumulate(grad.sum(axis=0))
        if x.requires_grad:
            grad_windows = (grad @ kernel).reshape(n, oh, ow, c, kh, kw).transpose(0, 3, 1, 2, 4, 5)
            grad_padded = _scatter_windows(grad_windows, padded.shape, stride)
            x._accumulate(grad_padded[:, :, padding : padding + x.data.shape[2], padding : padding + x.data.shape[3]])

    parents = (x, w) if b is None else (x, w, b)
    return out._link(parents, "conv2d", _backward)


def max_pool2d(x, kernel_size=2, stride=None):
    """The largest value of each kernel_size x kernel_size window; stride defaults to kernel_size."""
    stride = stride or kernel_size
    windows = _windows(x.data, (kernel_size, kernel_size), stride)
    flat = windows.reshape(windows.shape[:4] + (kernel_size * kernel_size,))
    winner = flat.argmax(axis=-1)
    out = Tensor(np.take_along_axis(flat, winner[..., None], axis=-1)[..., 0])

    def _backward():
        # Only the winning element of each window receives that window's gradient.
        one_hot = winner[..., None] == np.arange(flat.shape[-1])
        grad_windows = (one_hot * out.grad[..., None]).reshape(windows.shape)
        x._accumulate(_scatter_windows(grad_windows, x.data.shape, stride))

    return out._link((x,), "max_pool2d", _backward)


def flatten(x):
    """(N, ...) -> (N, everything else): the bridge from feature maps to a linear layer."""
    return x.reshape(x.data.shape[0], -1)


def _weights(rng, *shape):
    """Random weights (outputs first) scaled by 1/sqrt(fan-in): every layer starts at a similar scale."""
    return Tensor(rng.normal(0, 1, shape) / np.sqrt(np.prod(shape[1:])))


class SmallCNN:
    """conv 3x3 (8 filters) -> relu -> max pool -> conv 3x3 (16) -> relu -> max over the image -> linear."""

    def __init__(self, seed=0):
        rng = np.random.default_rng(seed)
        self.w1, self.b1 = _weights(rng, 8, 1, 3, 3), Tensor(np.zeros(8))
        self.w2, self.b2 = _weights(rng, 16, 8, 3, 3), Tensor(np.zeros(16))
        self.w3, self.b3 = _weights(rng, 4, 16), Tensor(np.zeros(4))

    def parameters(self):
        return [self.w1, self.b1, self.w2, self.b2, self.w3, self.b3]

    def __call__(self, images):
        h = max_pool2d(conv2d(images, self.w1, self.b1, padding=1).relu())
        h = conv2d(h, self.w2, self.b2, padding=1).relu()
        # The largest response anywhere: a shape is the same shape wherever it sits.
        h = h.max(axis=(2, 3))
        return h @ self.w3.transpose() + self.b3


def train_cnn(images, labels, seed=0):
    """Train a SmallCNN with Adam on the summed cross-entropy of each batch; return the model."""
    rng = np.random.default_rng(seed)
    model = SmallCNN(seed)
    params = model.parameters()
    first = [np.zeros_like(p.data) for p in params]
    second = [np.zeros_like(p.data) for p in params]
    lr, beta1, beta2, eps = 0.01, 0.9, 0.999, 1e-8
    t = 0
    for _ in range(10):
        order = rng.permutation(len(images))
        for start in range(0, len(images), 64):
            pick = order[start : start + 64]
            loss = cross_entropy(model(Tensor(images[pick], requires_grad=False)), labels[pick]) * len(pick)
            for p in params:
                p.grad = np.zeros_like(p.data)
            loss.backward()
            t += 1
            for p, m, v in zip(params, first, second):
                m *= beta1
                m += (1 - beta1) * p.grad
                v *= beta2
                v += (1 - beta2) * p.grad**2
                p.data -= lr * (m / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + eps)
    return model
