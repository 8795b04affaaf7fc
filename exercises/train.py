"""Training a small MLP to compute XOR, the function no single neuron can learn.

Week 3 asks for train_xor; `tinygrad-learn show week3` explains it.
"""

import random  # noqa: F401

from .nn import MLP  # noqa: F401
from .optim import SGD  # noqa: F401

# XOR on 0/1 inputs, with -1 for false and +1 for true: the output's sign is the answer.
XOR_INPUTS = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
XOR_TARGETS = [-1.0, 1.0, 1.0, -1.0]


def train_xor(steps=100, lr=0.05, seed=0, callback=None):
    """Train an MLP with 2 inputs and 1 output on the four XOR points; return (model, losses).

    Each step runs the four points forward, adds up a loss, backpropagates once and takes one
    optimizer step. callback(step, loss) is called after every step, step counting from 0 and
    loss a plain float; losses is the list of those floats.
    """
    # TODO(week3): random.seed(seed); build the MLP and an SGD over its parameters; then, steps
    # times: loss of the four points, zero the grads, loss.backward(), optimizer.step(), record
    # loss.data and call the callback.
    raise NotImplementedError("week3: write train_xor")
