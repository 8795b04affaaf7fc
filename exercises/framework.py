"""A small framework on Tensor: modules with named parameters, saving and loading, optimizers, fit().

`tinygrad-learn show week4-framework` explains what each part must do.
"""

import numpy as np

from .tensor import Tensor


class Module:
    """Base of every layer and model: finds its parameters by looking at its own attributes."""

    def named_parameters(self, prefix=""):
        """Yield (dotted name, Tensor) for every parameter, walking sub-modules and lists of them."""
        # TODO(week4-framework): go through vars(self) in order. A Tensor attribute `w` is the
        # parameter prefix + "w"; a Module attribute `enc` yields its own parameters with the
        # prefix "enc."; a list or tuple attribute `layers` does the same for each item, with the
        # prefix "layers.0.", "layers.1.", ... Anything else is not a parameter.
        raise NotImplementedError("week4-framework: write Module.named_parameters")

    def parameters(self):
        # TODO(week4-framework): the Tensors of named_parameters(), as a list.
        raise NotImplementedError("week4-framework: write Module.parameters")

    def zero_grad(self):
        # TODO(week4-framework): every parameter's grad back to zeros of its shape.
        raise NotImplementedError("week4-framework: write Module.zero_grad")

    def __call__(self, *args):
        return self.forward(*args)

    def forward(self, *args):
        raise NotImplementedError(f"{type(self).__name__} has no forward()")


class Linear(Module):
    """x @ weight + bias, with weight (in_features, out_features) and bias (out_features,)."""

    def __init__(self, in_features, out_features, seed=0):
        # TODO(week4-framework): self.weight with small random values (for example uniform in
        # +-1/sqrt(in_features)), self.bias zeros.
        raise NotImplementedError("week4-framework: write Linear.__init__")

    def forward(self, x):
        # TODO(week4-framework)
        raise NotImplementedError("week4-framework: write Linear.forward")


class ReLU(Module):
    def forward(self, x):
        # TODO(week4-framework)
        raise NotImplementedError("week4-framework: write ReLU.forward")


class Tanh(Module):
    def forward(self, x):
        # TODO(week4-framework)
        raise NotImplementedError("week4-framework: write Tanh.forward")


class Sequential(Module):
    """Layers applied one after the other; their parameters are named layers.0.weight, ..."""

    def __init__(self, *layers):
        # TODO(week4-framework): keep the layers in a list called `layers`.
        raise NotImplementedError("week4-framework: write Sequential.__init__")

    def forward(self, x):
        # TODO(week4-framework)
        raise NotImplementedError("week4-framework: write Sequential.forward")


def save(model, path):
    """Write every parameter of `model` to the .npz file `path`, under its dotted name."""
    # TODO(week4-framework): np.savez with one array per name. np.savez adds ".npz" to a file
    # name that lacks it; open the file yourself to write exactly `path`.
    raise NotImplementedError("week4-framework: write save")


def load(model, path):
    """Read parameters saved by save() into `model`; check everything before changing anything."""
    # TODO(week4-framework): a KeyError naming any parameter the file lacks or the model lacks,
    # a ValueError naming any parameter whose shape differs; only then copy the arrays in.
    raise NotImplementedError("week4-framework: write load")


class SGD:
    """p -= lr * v, where v = momentum * v + (grad + weight_decay * p)."""

    def __init__(self, params, lr, momentum=0.0, weight_decay=0.0):
        # TODO(week4-framework): keep the parameters (a list) and one velocity array per parameter.
        raise NotImplementedError("week4-framework: write SGD.__init__")

    def step(self):
        # TODO(week4-framework): the formula in the docstring, for every parameter.
        raise NotImplementedError("week4-framework: write SGD.step")

    def zero_grad(self):
        # TODO(week4-framework)
        raise NotImplementedError("week4-framework: write SGD.zero_grad")


class Adam:
    """Adam with bias correction; weight_decay adds weight_decay * p to the gradient (L2)."""

    def __init__(self, params, lr=0.001, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        # TODO(week4-framework): the parameters, a step counter t, and arrays m and v per parameter.
        raise NotImplementedError("week4-framework: write Adam.__init__")

    def step(self):
        # TODO(week4-framework): t += 1; g = grad + weight_decay * p;
        # m = beta1 * m + (1 - beta1) * g; v = beta2 * v + (1 - beta2) * g * g;
        # p -= lr * (m / (1 - beta1**t)) / (sqrt(v / (1 - beta2**t)) + eps)
        raise NotImplementedError("week4-framework: write Adam.step")

    def zero_grad(self):
        # TODO(week4-framework)
        raise NotImplementedError("week4-framework: write Adam.zero_grad")


def fit(model, data, loss_fn, optimizer, epochs, callback=None):
    """Train `model` on `data`, a list of (inputs, targets) batches, for `epochs` passes.

    After every optimizer step it calls callback(epoch, step, loss): the epoch (from 0), the
    batch within the epoch (from 0) and that batch's loss as a float. Returns each epoch's mean
    loss, as a list.
    """
    # TODO(week4-framework): for each batch: zero the grads, loss = loss_fn(model(inputs),
    # targets), backward, step, then the callback. Never print: the caller shows progress.
    raise NotImplementedError("week4-framework: write fit")
