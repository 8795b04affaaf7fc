"""Neural networks made of scalar Values: a neuron, a layer of neurons, a stack of layers."""

import random

from .engine import Value


class Module:
    """Anything that owns parameters: it can list them and clear their gradients."""

    def zero_grad(self):
        # backward() adds into .grad, so old gradients must go before the next backward().
        for p in self.parameters():
            p.grad = 0

    def parameters(self):
        return []


class Neuron(Module):
    """tanh(w . x + b), or just w . x + b when nonlin is False."""

    def __init__(self, nin, nonlin=True):
        # Random weights break the symmetry: identical neurons would learn identical things.
        self.w = [Value(random.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(random.uniform(-1, 1))
        self.nonlin = nonlin

    def __call__(self, x):
        act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
        return act.tanh() if self.nonlin else act

    def parameters(self):
        return self.w + [self.b]

    def __repr__(self):
        return f"{'Tanh' if self.nonlin else 'Linear'}Neuron({len(self.w)})"


class Layer(Module):
    """nout neurons that all read the same inputs.

    Calling a layer returns a list of nout Values, except for a one-neuron layer, which returns
    its single Value on its own (handy for a network's output, so don't put such a layer in the
    middle of an MLP: the next layer needs a list).
    """

    def __init__(self, nin, nout, **kwargs):
        self.neurons = [Neuron(nin, **kwargs) for _ in range(nout)]

    def __call__(self, x):
        out = [n(x) for n in self.neurons]
        return out[0] if len(out) == 1 else out

    def parameters(self):
        return [p for n in self.neurons for p in n.parameters()]

    def __repr__(self):
        return f"Layer of [{', '.join(str(n) for n in self.neurons)}]"


class MLP(Module):
    """Layers in a row: tanh in every hidden layer, a linear last layer."""

    def __init__(self, nin, nouts):
        sizes = [nin] + nouts
        self.layers = [Layer(sizes[i], sizes[i + 1], nonlin=i != len(nouts) - 1) for i in range(len(nouts))]

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]

    def __repr__(self):
        return f"MLP of [{', '.join(str(layer) for layer in self.layers)}]"
