"""Optimizers: they move parameters against their gradients."""


class SGD:
    """Stochastic gradient descent with momentum.

    For each parameter p, with its own velocity v (0 at the start), step() does:
        v = momentum * v + p.grad
        p.data -= lr * v
    With momentum 0 that is plain gradient descent: p.data -= lr * p.grad.
    """

    def __init__(self, params, lr=0.1, momentum=0.0):
        self.params = list(params)
        self.lr = lr
        self.momentum = momentum
        # One velocity per parameter, kept between steps: that memory is what momentum is.
        self.velocities = [0.0 for _ in self.params]

    def step(self):
        for i, p in enumerate(self.params):
            v = self.momentum * self.velocities[i] + p.grad
            self.velocities[i] = v
            p.data -= self.lr * v

    def zero_grad(self):
        for p in self.params:
            p.grad = 0

    def __repr__(self):
        return f"SGD(lr={self.lr!r}, momentum={self.momentum!r})"
