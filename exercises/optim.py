"""Optimizers: they move parameters against their gradients.

Week 3 asks for SGD; `tinygrad-learn show week3` explains it.
"""


class SGD:
    """Stochastic gradient descent with momentum.

    For each parameter p, with its own velocity v (0 at the start), step() does:
        v = momentum * v + p.grad
        p.data -= lr * v
    With momentum 0 that is plain gradient descent: p.data -= lr * p.grad.
    """

    def __init__(self, params, lr=0.1, momentum=0.0):
        # TODO(week3): keep the parameters as a list, lr and momentum, and one velocity per
        # parameter, starting at 0.
        raise NotImplementedError("week3: write SGD.__init__")

    def step(self):
        # TODO(week3): for each parameter: v = momentum * v + p.grad; p.data -= lr * v
        raise NotImplementedError("week3: write SGD.step")

    def zero_grad(self):
        # TODO(week3): set the grad of every parameter back to 0.
        raise NotImplementedError("week3: write SGD.zero_grad")

    def __repr__(self):
        # TODO(week3): SGD(lr=0.1, momentum=0.9)
        raise NotImplementedError("week3: write SGD.__repr__")
