"""A convolutional network on Tensors: conv2d by im2col, max pooling, and a small CNN that learns shapes.

`tinygrad-learn show week4-cnn` explains what each part must do.
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view  # noqa: F401  (every window, without a copy)

from .tensor import Tensor, cross_entropy  # noqa: F401

SHAPES = ("horizontal line", "vertical line", "cross", "square")


def make_shapes(n, seed=0):
    """`n` noisy 8x8 images of the four SHAPES, at random places and sizes, and their labels 0-3.

    Ready to use: images has shape (n, 1, 8, 8), labels shape (n,). The checker draws its own
    images from this same recipe, with seeds your code never sees.
    """
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


def conv2d(x, w, b=None, stride=1, padding=0):
    """x (N, C, H, W) convolved with w (F, C, KH, KW), plus b (F,): a Tensor (N, F, OH, OW)."""
    # TODO(week4-cnn): pad x with zeros, take every KH x KW window (sliding_window_view, then
    # [..., ::stride, ::stride]), lay the windows out as rows of a (N*OH*OW, C*KH*KW) matrix
    # (im2col), multiply by w reshaped to (F, C*KH*KW), add b, reshape to (N, F, OH, OW).
    # Backward: grads of w and b from the same matrices; for x, put each window's gradient back
    # where the window came from (a loop over the KH*KW kernel offsets is fine, over pixels not).
    raise NotImplementedError("week4-cnn: write conv2d")


def max_pool2d(x, kernel_size=2, stride=None):
    """The largest value of each kernel_size x kernel_size window; stride defaults to kernel_size."""
    # TODO(week4-cnn): windows as in conv2d; out = the maximum of each; the gradient goes only to
    # the element that won its window (added up when windows overlap).
    raise NotImplementedError("week4-cnn: write max_pool2d")


def flatten(x):
    """(N, ...) -> (N, everything else): the bridge from feature maps to a linear layer."""
    # TODO(week4-cnn)
    raise NotImplementedError("week4-cnn: write flatten")


class SmallCNN:
    """Your network: for example conv 3x3 (8 filters) -> relu -> max pool -> conv 3x3 (16) -> relu
    -> the maximum over the whole image -> a linear layer to 4 classes."""

    def __init__(self, seed=0):
        # TODO(week4-cnn): weights as Tensors, small random values (np.random.default_rng(seed)).
        raise NotImplementedError("week4-cnn: write SmallCNN.__init__")

    def parameters(self):
        # TODO(week4-cnn)
        raise NotImplementedError("week4-cnn: write SmallCNN.parameters")

    def __call__(self, images):
        # TODO(week4-cnn): images is a Tensor (N, 1, 8, 8); return the logits, a Tensor (N, 4).
        raise NotImplementedError("week4-cnn: write SmallCNN.__call__")


def train_cnn(images, labels, seed=0):
    """Train a SmallCNN on images (N, 1, 8, 8) and labels (N,); return the trained model."""
    # TODO(week4-cnn): a few passes over shuffled mini-batches: zero the grads, cross_entropy of
    # the model's logits, backward, an SGD step (momentum helps). A few seconds at most.
    raise NotImplementedError("week4-cnn: write train_cnn")
