"""A small framework on Tensor: modules with named parameters, saving and loading, optimizers, fit()."""

import numpy as np

from .tensor import Tensor


class Module:
    """Base of every layer and model: finds its parameters by looking at its own attributes."""

    def named_parameters(self, prefix=""):
        """Yield (dotted name, Tensor) for every parameter, walking sub-modules and lists of them."""
        for name, value in vars(self).items():
            yield from _named(value, prefix + name)

    def parameters(self):
        return [p for _, p in self.named_parameters()]

    def zero_grad(self):
        for p in self.parameters():
            p.grad = np.zeros_like(p.data)

    def __call__(self, *args):
        return self.forward(*args)

    def forward(self, *args):
        raise NotImplementedError(f"{type(self).__name__} has no forward()")


def _named(value, name):
    if isinstance(value, Tensor):
        yield name, value
    elif isinstance(value, Module):
        yield from value.named_parameters(name + ".")
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from _named(item, f"{name}.{i}")


class Linear(Module):
    """x @ weight + bias, with weight (in_features, out_features)."""

    def __init__(self, in_features, out_features, seed=0):
        rng = np.random.default_rng(seed)
        # He initialisation: normal with variance 2 / in_features.
        self.weight = Tensor(rng.normal(0, np.sqrt(2 / in_features), (in_features, out_features)))
        self.bias = Tensor(np.zeros(out_features))

    def forward(self, x):
        return x @ self.weight + self.bias

    def __repr__(self):
        return f"Linear({self.weight.data.shape[0]}, {self.weight.data.shape[1]})"


class ReLU(Module):
    def forward(self, x):
        return x.relu()

    def __repr__(self):
        return "ReLU()"


class Tanh(Module):
    def forward(self, x):
        return x.tanh()

    def __repr__(self):
        return "Tanh()"


class Sequential(Module):
    """Layers applied one after the other; their parameters are named layers.0.weight, ..."""

    def __init__(self, *layers):
        self.layers = list(layers)

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def __repr__(self):
        return f"Sequential({', '.join(map(repr, self.layers))})"


def save(model, path):
    """Write every parameter of `model` to the .npz file `path`, under its dotted name."""
    with open(path, "wb") as file:  # an open file: np.savez would otherwise append ".npz"
        np.savez(file, **{name: p.data for name, p in model.named_parameters()})


def load(model, path):
    """Read parameters saved by save() into `model`; check everything before changing anything."""
    params = dict(model.named_parameters())
    with np.load(path) as saved:
        arrays = {name: saved[name] for name in saved.files}
    missing = sorted(set(params) - set(arrays))
    unexpected = sorted(set(arrays) - set(params))
    if missing or unexpected:
        raise KeyError(f"{path}: missing parameters {missing}, unexpected parameters {unexpected}")
    for name, p in params.items():
        if arrays[name].shape != p.data.shape:
            raise ValueError(f"{name}: the file holds shape {arrays[name].shape}, the model {p.data.shape}")
    for name, p in params.items():
        p.data = arrays[name].astype(np.float64)


class SGD:
    """p -= lr * v, where v = momentum * v + (grad + weight_decay * p)."""

    def __init__(self, params, lr, momentum=0.0, weight_decay=0.0):
        self.params = list(params)
        self.lr = lr
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.velocity = [np.zeros_like(p.data) for p in self.params]

    def step(self):
        for p, v in zip(self.params, self.velocity):
            grad = p.grad + self.weight_decay * p.data
            v *= self.momentum
            v += grad
            p.data -= self.lr * v

    def zero_grad(self):
        for p in self.params:
            p.grad = np.zeros_like(p.data)


class Adam:
    """Adam with bias correction; weight_decay adds weight_decay * p to the gradient (L2)."""

    def __init__(self, params, lr=0.001, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        self.params = list(params)
        self.lr = lr
        self.beta1, self.beta2 = betas
        self.eps = eps
        self.weight_decay = weight_decay
        self.t = 0
        self.m = [np.zeros_like(p.data) for p in self.params]
        self.v = [np.zeros_like(p.data) for p in self.params]

    def step(self):
        self.t += 1
        for p, m, v in zip(self.params, self.m, self.v):
            grad = p.grad + self.weight_decay * p.data
            m *= self.beta1
            m += (1 - self.beta1) * grad
            v *= self.beta2
            v += (1 - self.beta2) * grad * grad
            # Both averages start at zero; dividing by (1 - beta**t) removes that early pull.
            m_hat = m / (1 - self.beta1**self.t)
            v_hat = v / (1 - self.beta2**self.t)
            p.data -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)

    def zero_grad(self):
        for p in self.params:
            p.grad = np.zeros_like(p.data)


def fit(model, data, loss_fn, optimizer, epochs, callback=None):
    """Train `model` on `data`, a list of (inputs, targets) batches, for `epochs` passes.

    After every optimizer step it calls callback(epoch, step, loss): the epoch (from 0), the
    batch within the epoch (from 0) and that batch's loss as a float. The training loop never
    prints; whoever calls fit() decides how to show progress. Returns each epoch's mean loss.
    """
    history = []
    for epoch in range(epochs):
        total = 0.0
        for step, (inputs, targets) in enumerate(data):
            optimizer.zero_grad()
            loss = loss_fn(model(inputs), targets)
            loss.backward()
            optimizer.step()
            total += float(loss.data)
            if callback is not None:
                callback(epoch, step, float(loss.data))
        history.append(total / len(data))
    return history
