"""Training a small MLP to compute XOR, the function no single neuron can learn."""

import random

from .nn import MLP
from .optim import SGD

# XOR on 0/1 inputs, with -1 for false and +1 for true: the output's sign is the answer.
XOR_INPUTS = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
XOR_TARGETS = [-1.0, 1.0, 1.0, -1.0]


def train_xor(steps=100, lr=0.2, seed=0, callback=None):
    """Train MLP(2, [4, 1]) on the four XOR points; return (model, losses).

    Each step runs the four points forward, sums the squared errors, backpropagates once and
    takes one optimizer step. callback(step, loss) is called after every step, step counting
    from 0 and loss a plain float.
    """
    random.seed(seed)  # the same seed gives the same initial weights, so the same run
    model = MLP(2, [4, 1])
    optimizer = SGD(model.parameters(), lr=lr, momentum=0.9)
    losses = []
    for step in range(steps):
        # The mean squared error: the sum's gradients divided by the number of points.
        loss = sum((model(x) - y) ** 2 for x, y in zip(XOR_INPUTS, XOR_TARGETS)) / len(XOR_INPUTS)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.data)
        if callback is not None:
            callback(step, loss.data)
    return model, losses
