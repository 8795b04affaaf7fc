"""A recurrent network on Tensors: one cell reused at every step, trained through time."""

import numpy as np

from .tensor import Tensor, no_grad


def sine_waves(n, steps, rng):
    """`n` sine waves of `steps` samples, shape (steps, n): random frequency and phase each."""
    frequency = rng.uniform(0.1, 0.6, n)
    phase = rng.uniform(0, 2 * np.pi, n)
    return np.sin(np.arange(steps)[:, None] * frequency + phase)


class RNNCell:
    """h_new = tanh(x @ W_xh + h @ W_hh + b): the same weights at every step of a sequence."""

    def __init__(self, input_size, hidden_size, seed=0):
        rng = np.random.default_rng(seed)
        self.W_xh = Tensor(rng.normal(0, 1 / np.sqrt(input_size), (input_size, hidden_size)))
        self.W_hh = Tensor(rng.normal(0, 1 / np.sqrt(hidden_size), (hidden_size, hidden_size)))
        self.b = Tensor(np.zeros(hidden_size))

    def parameters(self):
        return [self.W_xh, self.W_hh, self.b]

    def __call__(self, x, h):
        return (x @ self.W_xh + h @ self.W_hh + self.b).tanh()


def unroll(cell, xs, h=None):
    """Run `cell` over xs (T, N, input_size) from h (zeros if None): the list of T hidden states.

    The graph of the whole sequence stays connected, so backward() goes back through time.
    """
    if h is None:
        h = Tensor(np.zeros((xs.shape[1], cell.W_hh.data.shape[0])), requires_grad=False)
    states = []
    for x in xs:
        h = cell(x, h)
        states.append(h)
    return states


class SinePredictor:
    """An RNNCell reading one sample per step, and a linear read-out guessing the next sample."""

    def __init__(self, hidden_size=16, seed=0):
        self.cell = RNNCell(1, hidden_size, seed)
        # A read-out of zeros is a fine start: the states it reads already differ.
        self.W_hy = Tensor(np.zeros((hidden_size, 1)))
        self.b_y = Tensor(np.zeros(1))

    def parameters(self):
        return self.cell.parameters() + [self.W_hy, self.b_y]

    def __call__(self, xs):
        """xs (T, N): one (N, 1) Tensor per step, the guess for the sample after that step."""
        return [h @ self.W_hy + self.b_y for h in unroll(self.cell, xs[:, :, None])]

    def loss(self, waves):
        """Over all steps, the mean squared error of the guesses of waves[t + 1]; a Tensor of shape ()."""
        guesses = self(waves[:-1])
        total = 0
        for guess, target in zip(guesses, waves[1:]):
            total = total + ((guess - target[:, None]) ** 2).mean()
        return total * (1 / len(guesses))

    def predict(self, xs):
        with no_grad():
            return np.stack([guess.data[:, 0] for guess in self(xs)])


def train_rnn(seed=0):
    """Train a SinePredictor with Adam on fresh sine waves; return its predict function."""
    rng = np.random.default_rng(seed)
    model = SinePredictor(seed=seed)
    params = model.parameters()
    first = [np.zeros_like(p.data) for p in params]
    second = [np.zeros_like(p.data) for p in params]
    lr, beta1, beta2, eps = 0.01, 0.9, 0.999, 1e-8
    for t in range(1, 301):
        loss = model.loss(sine_waves(32, 26, rng))
        for p in params:
            p.grad = np.zeros_like(p.data)
        loss.backward()
        for p, m, v in zip(params, first, second):
            m *= beta1
            m += (1 - beta1) * p.grad
            v *= beta2
            v += (1 - beta2) * p.grad**2
            p.data -= lr * (m / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + eps)
    return lambda xs: model.predict(xs)
