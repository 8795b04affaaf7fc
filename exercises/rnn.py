"""A recurrent network on Tensors: one cell reused at every step, trained through time.

`tinygrad-learn show week4-rnn` explains what each part must do.
"""

import numpy as np

from .tensor import Tensor, no_grad  # noqa: F401


def sine_waves(n, steps, rng):
    """`n` sine waves of `steps` samples, shape (steps, n): random frequency and phase each.

    Ready to use; the checker draws its own waves from this same recipe.
    """
    frequency = rng.uniform(0.1, 0.6, n)
    phase = rng.uniform(0, 2 * np.pi, n)
    return np.sin(np.arange(steps)[:, None] * frequency + phase)


class RNNCell:
    """h_new = tanh(x @ W_xh + h @ W_hh + b): the same weights at every step of a sequence."""

    def __init__(self, input_size, hidden_size, seed=0):
        # TODO(week4-rnn): Tensors W_xh (input_size, hidden_size), W_hh (hidden_size,
        # hidden_size) with small random values, and b (hidden_size,) zeros.
        raise NotImplementedError("week4-rnn: write RNNCell.__init__")

    def parameters(self):
        # TODO(week4-rnn): [W_xh, W_hh, b]
        raise NotImplementedError("week4-rnn: write RNNCell.parameters")

    def __call__(self, x, h):
        # TODO(week4-rnn): one step; x is (N, input_size) (an array or a Tensor), h a Tensor.
        raise NotImplementedError("week4-rnn: write RNNCell.__call__")


def unroll(cell, xs, h=None):
    """Run `cell` over xs (T, N, input_size) from h (zeros if None): the list of T hidden states."""
    # TODO(week4-rnn): a plain loop over the steps; keep every state. The graph of the whole
    # sequence stays connected, so one backward() goes back through time by itself.
    raise NotImplementedError("week4-rnn: write unroll")


class SinePredictor:
    """An RNNCell reading one sample per step, and a linear read-out guessing the next sample."""

    def __init__(self, hidden_size=16, seed=0):
        # TODO(week4-rnn): self.cell = RNNCell(1, hidden_size, seed), and a read-out W_hy
        # (hidden_size, 1) and b_y (1,); zeros are a fine start for the read-out.
        raise NotImplementedError("week4-rnn: write SinePredictor.__init__")

    def parameters(self):
        # TODO(week4-rnn)
        raise NotImplementedError("week4-rnn: write SinePredictor.parameters")

    def __call__(self, xs):
        """xs (T, N): one (N, 1) Tensor per step, the guess for the sample after that step."""
        # TODO(week4-rnn): unroll over xs[:, :, None], then the read-out on every state.
        raise NotImplementedError("week4-rnn: write SinePredictor.__call__")

    def loss(self, waves):
        """Over all steps, the mean squared error of the guesses of waves[t + 1]; a Tensor of shape ()."""
        # TODO(week4-rnn): the guesses for waves[:-1]; for each step t the squared error
        # ((guess_t - waves[t + 1][:, None]) ** 2).mean(); return the mean of those (shape ()).
        raise NotImplementedError("week4-rnn: write SinePredictor.loss")

    def predict(self, xs):
        # TODO(week4-rnn): under no_grad(), the guesses as one numpy array of shape (T, N).
        raise NotImplementedError("week4-rnn: write SinePredictor.predict")


def train_rnn(seed=0):
    """Train a SinePredictor on fresh sine waves (25 steps each); return its predict function."""
    # TODO(week4-rnn): a few hundred steps; each: model.loss(sine_waves(32, 26, rng)), zero the
    # grads, backward, an update (SGD with momentum works). A few seconds at most.
    raise NotImplementedError("week4-rnn: write train_rnn")
