"""Neural networks made of scalar Values: a neuron, a layer of neurons, a stack of layers.

Week 3 asks for everything in this file; `tinygrad-learn show week3` explains it.
"""

import random  # noqa: F401  (random.uniform(-1, 1) gives the starting weights)

from .engine import Value  # noqa: F401


class Module:
    """Anything that owns parameters: it can list them and clear their gradients."""

    def zero_grad(self):
        # TODO(week3): set the grad of every Value in self.parameters() back to 0.
        raise NotImplementedError("week3: write Module.zero_grad")

    def parameters(self):
        # TODO(week3): a bare Module owns nothing: return an empty list.
        raise NotImplementedError("week3: write Module.parameters")


class Neuron(Module):
    """tanh(w . x + b), or just w . x + b when nonlin is False."""

    def __init__(self, nin, nonlin=True):
        # TODO(week3): self.w, a list of nin Values, and self.b, one Value, each starting at
        # random.uniform(-1, 1); keep nonlin as self.nonlin.
        raise NotImplementedError("week3: write Neuron.__init__")

    def __call__(self, x):
        # TODO(week3): x is a list of nin numbers or Values. Return the Value
        # w[0]*x[0] + ... + w[nin-1]*x[nin-1] + b, passed through .tanh() when self.nonlin.
        raise NotImplementedError("week3: write Neuron.__call__")

    def parameters(self):
        # TODO(week3): the weights, then the bias, in one list.
        raise NotImplementedError("week3: write Neuron.parameters")

    def __repr__(self):
        # TODO(week3): TanhNeuron(3) for a neuron with 3 inputs, LinearNeuron(3) when not nonlin.
        raise NotImplementedError("week3: write Neuron.__repr__")


class Layer(Module):
    """nout neurons that all read the same inputs.

    Calling a layer returns a list of nout Values, except for a one-neuron layer, which returns
    its single Value on its own (handy for a network's output, so don't put such a layer in the
    middle of an MLP: the next layer needs a list).
    """

    def __init__(self, nin, nout, **kwargs):
        # TODO(week3): self.neurons, a list of nout Neuron(nin, **kwargs).
        raise NotImplementedError("week3: write Layer.__init__")

    def __call__(self, x):
        # TODO(week3): every neuron's output for x: a list, or the Value itself when nout == 1.
        raise NotImplementedError("week3: write Layer.__call__")

    def parameters(self):
        # TODO(week3): the parameters of every neuron, in one flat list.
        raise NotImplementedError("week3: write Layer.parameters")

    def __repr__(self):
        # TODO(week3): Layer of [TanhNeuron(2), TanhNeuron(2)]
        raise NotImplementedError("week3: write Layer.__repr__")


class MLP(Module):
    """Layers in a row: tanh in every hidden layer, a linear last layer."""

    def __init__(self, nin, nouts):
        # TODO(week3): self.layers; layer i reads the previous size and has nouts[i] neurons.
        # Every layer but the last gets nonlin=True, the last nonlin=False.
        raise NotImplementedError("week3: write MLP.__init__")

    def __call__(self, x):
        # TODO(week3): feed x through the layers, each one's output the next one's input.
        raise NotImplementedError("week3: write MLP.__call__")

    def parameters(self):
        # TODO(week3): the parameters of every layer, in one flat list.
        raise NotImplementedError("week3: write MLP.parameters")

    def __repr__(self):
        # TODO(week3): MLP of [Layer of [...], Layer of [...]]
        raise NotImplementedError("week3: write MLP.__repr__")
