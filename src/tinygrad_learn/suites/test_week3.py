"""Week 3: neurons, layers and an MLP made of the learner's Values, SGD with momentum, and XOR.

Every expected number is computed here with plain floats from the parameters the learner's
objects hold, so any correct network passes and a network that fakes its outputs does not. The
network's structure is read through the attributes the lesson names: `mlp.layers`,
`layer.neurons`, `neuron.w` (a list of Values) and `neuron.b` (a Value).
"""

import math
import random
from contextlib import contextmanager

from tinygrad_learn.grading.suitekit import value_class
from tinygrad_learn.grading.testkit import (
    Msg,
    expect_close,
    expect_equal,
    expect_grads,
    expect_number,
    expect_true,
    expect_type,
    fail_with,
    learner,
    need,
    need_attr,
    numeric_grad,
)

# train_xor must classify all four points after this many steps with seed 0.
XOR_BUDGET = 300
XOR_POINTS = [([0.0, 0.0], -1.0), ([0.0, 1.0], 1.0), ([1.0, 0.0], 1.0), ([1.0, 1.0], -1.0)]
# No sensible initialisation draws a starting weight this large (gauss(0, 1) would need 10 sigma).
INIT_BOUND = 10.0
# Two runs with the same seed may add the same gradients in another order (a `_prev` kept as a
# set follows memory addresses), so their numbers may differ in the last digits, never more.
SAME_RUN_TOL = 1e-9


def nn_parts(*names):
    nn = learner("nn")
    return [need(nn, name) for name in names]


@contextmanager
def global_random_seeded(seed):
    """Seed Python's `random` (which the learner's Neuron uses) and put it back afterwards."""
    saved = random.getstate()
    random.seed(seed)
    try:
        yield
    finally:
        random.setstate(saved)


def params_of(module, what):
    """module.parameters(): a list of the learner's own Values."""
    Value = value_class()
    params = module.parameters()
    expect_type(params, list, f"{what}.parameters()")
    for p in params:
        expect_type(p, Value, f"an item of {what}.parameters()")
    return params


def structure(mlp):
    """The MLP as nested lists of Values: layers -> neurons -> (weights, bias)."""
    Value = value_class()
    layers = []
    for i, layer in enumerate(need_attr(mlp, "layers", "mlp.layers")):
        neurons = []
        for j, neuron in enumerate(need_attr(layer, "neurons", f"mlp.layers[{i}].neurons")):
            w = list(need_attr(neuron, "w", f"mlp.layers[{i}].neurons[{j}].w"))
            b = need_attr(neuron, "b", f"mlp.layers[{i}].neurons[{j}].b")
            for k, wk in enumerate(w):
                expect_type(wk, Value, f"mlp.layers[{i}].neurons[{j}].w[{k}]")
            expect_type(b, Value, f"mlp.layers[{i}].neurons[{j}].b")
            neurons.append((w, b))
        layers.append(neurons)
    return layers


def named_params(layers):
    """(name, Value) for every weight and bias of a structure(), in a fixed order."""
    named = []
    for i, neurons in enumerate(layers):
        for j, (w, b) in enumerate(neurons):
            named += [(f"L{i}.N{j}.w{k}", wk) for k, wk in enumerate(w)]
            named.append((f"L{i}.N{j}.b", b))
    return named


def float_neuron(w, b, x, nonlin):
    act = sum(wi * xi for wi, xi in zip(w, x, strict=False)) + b
    return math.tanh(act) if nonlin else act


def float_mlp(numbers, shapes, x):
    """The MLP's output computed with floats: tanh everywhere but the last layer, which is linear.

    `numbers` are the parameter values in named_params() order; `shapes` lists each layer's
    (nin, nout). Returns a list of floats, one per output neuron.
    """
    it = iter(numbers)
    for i, (nin, nout) in enumerate(shapes):
        nonlin = i != len(shapes) - 1
        out = []
        for _ in range(nout):
            w = [next(it) for _ in range(nin)]
            out.append(float_neuron(w, next(it), x, nonlin))
        x = out
    return x


def same_numbers(first, second, tol=SAME_RUN_TOL):
    """Equal lists of numbers, up to the rounding a different order of adding brings."""
    return len(first) == len(second) and all(
        abs(a - b) <= tol * max(1.0, abs(a), abs(b)) for a, b in zip(first, second, strict=True)
    )


def data_of(values, what):
    return [expect_number(v.data, what) for v in values]


def output_numbers(out, nout, what):
    """A layer's or MLP's output as floats: a bare Value when nout == 1, else a list of Values."""
    Value = value_class()
    if nout == 1:
        expect_type(out, Value, what)
        return [expect_number(out.data, f"{what}.data")]
    expect_type(out, list, what)
    expect_equal(len(out), nout, f"len({what})")
    for v in out:
        expect_type(v, Value, f"an item of {what}")
    return data_of(out, f"{what}[i].data")


def randomize(values, rng, scale=1.5):
    for v in values:
        v.data = rng.uniform(-scale, scale)


def random_sizes(rng):
    """nin and nouts for a random MLP; hidden layers have 2+ neurons (a 1-neuron layer returns a Value)."""
    nin = rng.randint(1, 4)
    nouts = [rng.randint(2, 4) for _ in range(rng.randint(0, 2))] + [rng.randint(1, 3)]
    return nin, nouts


def shapes_of(nin, nouts):
    sizes = [nin] + nouts
    return [(sizes[i], sizes[i + 1]) for i in range(len(nouts))]


# ---------------------------------------------------------------------------------------------
# Module, Neuron, Layer, MLP


def test_module_lists_and_zeroes_parameters(rng):
    Module, Neuron, Layer, MLP = nn_parts("Module", "Neuron", "Layer", "MLP")
    Value = value_class()
    expect_equal(Module().parameters(), [], "Module().parameters()")
    for cls in (Neuron, Layer, MLP):
        expect_true(
            isinstance(cls, type) and issubclass(cls, Module),
            Msg(
                "{name} should be a subclass of Module (class {name}(Module):)",
                "{name:는} Module을 상속해야 합니다 (class {name}(Module):)",
            ),
            name=cls.__name__ if isinstance(cls, type) else repr(cls),
        )

    class Pair(Module):
        def __init__(self):
            self.a, self.b = Value(rng.uniform(-2, 2)), Value(rng.uniform(-2, 2))

        def parameters(self):
            return [self.a, self.b]

    pair = Pair()
    before = [pair.a.data, pair.b.data]
    pair.a.grad, pair.b.grad = rng.uniform(0.5, 3), -rng.uniform(0.5, 3)
    pair.zero_grad()
    for name, v in (("a", pair.a), ("b", pair.b)):
        expect_equal(
            expect_number(v.grad, f"{name}.grad"),
            0.0,
            f"{name}.grad",
            expr="m.zero_grad()  # m.parameters() == [a, b]",
        )
    expect_equal(
        [pair.a.data, pair.b.data], before, "[a.data, b.data]", expr="m.zero_grad() must not touch data"
    )


def test_parameter_counts(rng):
    Neuron, Layer, MLP = nn_parts("Neuron", "Layer", "MLP")
    for _ in range(4):
        nin, nouts = random_sizes(rng)
        expected = sum(a * b + b for a, b in shapes_of(nin, nouts))
        mlp = MLP(nin, nouts)
        params = params_of(mlp, f"MLP({nin}, {nouts})")
        expect_equal(len(params), expected, "len(mlp.parameters())", expr=f"mlp = MLP({nin}, {nouts})")
        expect_equal(
            len({id(p) for p in params}),
            len(params),
            "the number of different Values in mlp.parameters()",
            expr=f"mlp = MLP({nin}, {nouts})",
        )
        layers = structure(mlp)
        expect_equal(len(layers), len(nouts), "len(mlp.layers)", expr=f"mlp = MLP({nin}, {nouts})")
        for i, ((a, b), neurons) in enumerate(zip(shapes_of(nin, nouts), layers, strict=True)):
            expect_equal(len(neurons), b, f"len(mlp.layers[{i}].neurons)", expr=f"mlp = MLP({nin}, {nouts})")
            for j, (w, _) in enumerate(neurons):
                expect_equal(
                    len(w), a, f"len(mlp.layers[{i}].neurons[{j}].w)", expr=f"mlp = MLP({nin}, {nouts})"
                )
        own = {id(v) for _, v in named_params(layers)}
        expect_true(
            own == {id(p) for p in params} and {id(p) for p in mlp.parameters()} == own,
            Msg(
                (
                    "mlp.parameters() should return the very Values the neurons hold (every w and "
                    "every b), not copies"
                ),
                (
                    "mlp.parameters()는 뉴런이 가진 바로 그 Value 들(모든 w와 b)을 돌려줘야 합니다. "
                    "복사본이 아니라요"
                ),
            ),
        )

        nin, nout = rng.randint(1, 5), rng.randint(1, 4)
        layer = Layer(nin, nout)
        expect_equal(
            len(params_of(layer, "layer")),
            nin * nout + nout,
            "len(layer.parameters())",
            expr=f"layer = Layer({nin}, {nout})",
        )
        neuron = Neuron(nin)
        neuron_params = params_of(neuron, "neuron")
        expect_equal(len(neuron_params), nin + 1, "len(neuron.parameters())", expr=f"n = Neuron({nin})")
        expect_true(
            {id(p) for p in neuron_params} == {id(v) for v in list(neuron.w) + [neuron.b]},
            Msg(
                "n.parameters() should hold exactly n.w and n.b",
                "n.parameters() 에는 정확히 n.w와 n.b가 들어 있어야 합니다",
            ),
        )


def test_neuron_starts_random_from_python_random(rng):
    (Neuron,) = nn_parts("Neuron")
    seed = rng.randrange(10**9)
    with global_random_seeded(seed):
        first, second = Neuron(6), Neuron(6)
    with global_random_seeded(seed):
        again = Neuron(6)
    numbers = data_of(params_of(first, "n"), "n.parameters()[i].data")
    for p in params_of(first, "n"):
        expect_equal(expect_number(p.grad, "p.grad"), 0.0, "p.grad", expr="p in Neuron(6).parameters()")
    # What the course needs is weights that are random, distinct and reproducible from random.seed.
    # The range is the lesson's suggestion only: gauss, Xavier or He scaling are just as right,
    # and a bias may start at 0.
    weights = data_of(first.w, "n.w[i].data")
    expect_true(
        len(set(weights)) == len(weights),
        Msg(
            (
                "the weights of a new Neuron should all start at different random numbers "
                "(random.uniform(-1, 1), for example); got {got}"
            ),
            (
                "새 Neuron의 가중치는 모두 서로 다른 무작위 값(예: random.uniform(-1, 1))으로 "
                "시작해야 합니다. 받은 값: {got}"
            ),
        ),
        got=weights,
    )
    with global_random_seeded(seed + 1):
        neurons = [Neuron(8) for _ in range(24)]
    weights = [expect_number(w.data, "n.w[i].data") for n in neurons for w in n.w]
    biases = [expect_number(n.b.data, "n.b.data") for n in neurons]
    expect_true(
        all(abs(number) <= INIT_BOUND for number in weights + biases) and min(weights) < 0 < max(weights),
        Msg(
            (
                "a new Neuron's weights should be small random numbers of both signs "
                "(random.uniform(-1, 1), random.gauss(0, 1) or a scaled version of these); 24 neurons "
                "of 8 inputs had weights from {low} to {high}, biases from {blow} to {bhigh}"
            ),
            (
                "새 Neuron의 가중치는 부호가 섞인 작은 무작위 값이어야 합니다 (random.uniform(-1, 1), "
                "random.gauss(0, 1) 또는 그 크기를 조절한 값). 입력 8개짜리 뉴런 24개의 가중치는 "
                "{low} ~ {high}, 편향은 {blow} ~ {bhigh}였습니다"
            ),
        ),
        low=min(weights),
        high=max(weights),
        blow=min(biases),
        bhigh=max(biases),
    )
    expect_true(
        data_of(params_of(again, "n"), "p.data") == numbers
        and data_of(params_of(second, "n"), "p.data") != numbers,
        Msg(
            (
                "a Neuron should draw its starting numbers from Python's random module: after "
                "random.seed(s) the same neuron comes out, and the next one differs"
            ),
            (
                "Neuron은 시작 값을 파이썬의 random 모듈에서 뽑아야 합니다. random.seed(s) 뒤에는 "
                "같은 뉴런이, 그다음에는 다른 뉴런이 나와야 합니다"
            ),
        ),
    )


def test_neuron_is_tanh_of_its_own_parameters(rng):
    (Neuron,) = nn_parts("Neuron")
    Value = value_class()
    for trial in range(6):
        nin = rng.randint(1, 6)
        n = Neuron(nin)
        randomize(params_of(n, "n"), rng)
        x = [rng.uniform(-2, 2) for _ in range(nin)]
        inputs = x if trial % 2 == 0 else [Value(xi) for xi in x]
        w, b = data_of(n.w, "n.w[i].data"), expect_number(n.b.data, "n.b.data")
        out = n(inputs)
        expect_type(out, Value, "n(x)")
        expect_close(
            out.data,
            float_neuron(w, b, x, True),
            "n(x).data",
            expr="tanh(w . x + b)",
            given={"w": w, "b": b, "x": x},
        )


def test_linear_neuron(rng):
    (Neuron,) = nn_parts("Neuron")
    Value = value_class()
    for trial in range(4):
        nin = rng.randint(1, 5)
        n = Neuron(nin, nonlin=False)
        randomize(params_of(n, "n"), rng, scale=3.0)
        x = [rng.uniform(-3, 3) for _ in range(nin)]
        w, b = data_of(n.w, "n.w[i].data"), expect_number(n.b.data, "n.b.data")
        out = n(x if trial % 2 else [Value(xi) for xi in x])
        expect_type(out, Value, "n(x)")
        expect_close(
            out.data,
            float_neuron(w, b, x, False),
            "n(x).data",
            expr="Neuron(nin, nonlin=False): w . x + b",
            given={"w": w, "b": b, "x": x},
        )


def test_neuron_gradients_with_a_reused_input(rng):
    (Neuron,) = nn_parts("Neuron")
    Value = value_class()
    n = Neuron(3)
    randomize(params_of(n, "n"), rng)
    a, c = Value(rng.uniform(-1.5, 1.5)), Value(rng.uniform(-1.5, 1.5))
    out = n([a, c, a])
    out.backward()
    named = [("w0", n.w[0]), ("w1", n.w[1]), ("w2", n.w[2]), ("b", n.b), ("a", a), ("c", c)]
    point = data_of([v for _, v in named], "p.data")

    def f(w0, w1, w2, b, a, c):
        return float_neuron([w0, w1, w2], b, [a, c, a], True)

    expect_grads(
        {name: v.grad for name, v in named},
        dict(zip([name for name, _ in named], numeric_grad(f, point), strict=True)),
        expr="out = Neuron(3)([a, c, a]); out.backward()",
        given=dict(zip([name for name, _ in named], point, strict=True)),
        expected_from="numerical",
    )


def test_layer_returns_a_list_of_neuron_outputs(rng):
    (Layer,) = nn_parts("Layer")
    for nonlin in (True, False):
        nin, nout = rng.randint(1, 4), rng.randint(2, 4)
        layer = Layer(nin, nout) if nonlin else Layer(nin, nout, nonlin=False)
        neurons = list(need_attr(layer, "neurons", "layer.neurons"))
        expect_equal(len(neurons), nout, "len(layer.neurons)", expr=f"Layer({nin}, {nout})")
        randomize(params_of(layer, "layer"), rng)
        x = [rng.uniform(-2, 2) for _ in range(nin)]
        expr = f"Layer({nin}, {nout}{'' if nonlin else ', nonlin=False'})(x)"
        got = output_numbers(layer(x), nout, "layer(x)")
        for j, neuron in enumerate(neurons):
            w, b = data_of(neuron.w, "w.data"), expect_number(neuron.b.data, "b.data")
            expect_close(
                got[j], float_neuron(w, b, x, nonlin), f"layer(x)[{j}].data", expr=expr, given={"x": x}
            )


def test_one_neuron_layer_returns_its_value(rng):
    (Layer,) = nn_parts("Layer")
    for nonlin in (True, False):
        nin = rng.randint(1, 5)
        layer = Layer(nin, 1, nonlin=nonlin)
        randomize(params_of(layer, "layer"), rng, scale=2.5)
        x = [rng.uniform(-2, 2) for _ in range(nin)]
        (neuron,) = need_attr(layer, "neurons", "layer.neurons")
        w, b = data_of(neuron.w, "w.data"), expect_number(neuron.b.data, "b.data")
        (got,) = output_numbers(layer(x), 1, f"Layer({nin}, 1, nonlin={nonlin})(x)")
        expect_close(
            got,
            float_neuron(w, b, x, nonlin),
            "layer(x).data",
            expr=f"Layer({nin}, 1, nonlin={nonlin})(x)",
            given={"x": x},
        )


def test_mlp_forward(rng):
    (MLP,) = nn_parts("MLP")
    Value = value_class()
    for trial in range(6):
        nin, nouts = random_sizes(rng)
        mlp = MLP(nin, nouts)
        named = named_params(structure(mlp))
        randomize([v for _, v in named], rng)
        x = [rng.uniform(-2, 2) for _ in range(nin)]
        expected = float_mlp(data_of([v for _, v in named], "p.data"), shapes_of(nin, nouts), x)
        got = output_numbers(mlp(x if trial % 2 else [Value(xi) for xi in x]), nouts[-1], "mlp(x)")
        for k, (g, e) in enumerate(zip(got, expected, strict=False)):
            expect_close(
                g,
                e,
                f"output {k} of mlp(x)",
                expr=f"MLP({nin}, {nouts})(x): tanh in hidden layers, linear last layer",
                given={"x": x},
            )


def test_mlp_gradients_match_numerical_ones(rng):
    (MLP,) = nn_parts("MLP")
    Value = value_class()
    nouts = [3, rng.randint(2, 3), 1]
    mlp = MLP(3, nouts)
    shapes = shapes_of(3, nouts)
    named = named_params(structure(mlp))
    randomize([v for _, v in named], rng)
    a, c = Value(rng.uniform(-1, 1)), Value(rng.uniform(-1, 1))
    samples = [[rng.uniform(-1, 1) for _ in range(3)] for _ in range(2)]
    targets = [rng.choice([-1.0, 1.0]) for _ in range(3)]

    loss = 0
    for x, y in zip([[a, c, a]] + samples, targets, strict=True):
        d = mlp(x) - y
        loss = loss + d * d
    mlp.zero_grad()
    loss.backward()

    names = [name for name, _ in named] + ["a", "c"]
    point = data_of([v for _, v in named] + [a, c], "p.data")

    def f(*numbers):
        params, (xa, xc) = numbers[:-2], numbers[-2:]
        total = 0.0
        for x, y in zip([[xa, xc, xa]] + samples, targets, strict=True):
            total += (float_mlp(params, shapes, x)[0] - y) ** 2
        return total

    expect_grads(
        {name: v.grad for name, v in named + [("a", a), ("c", c)]},
        dict(zip(names, numeric_grad(f, point), strict=True)),
        expr=f"mlp = MLP(3, {nouts}); loss = sum((mlp(x) - y)**2 for x in [[a, c, a], x1, x2]); "
        "loss.backward()",
        given={"a": point[-2], "c": point[-1], "x1": samples[0], "x2": samples[1], "y": targets},
        expected_from="numerical",
    )


def test_zero_grad_clears_every_parameter(rng):
    (MLP,) = nn_parts("MLP")
    nin, nouts = rng.randint(2, 3), [rng.randint(2, 4), rng.randint(2, 3)]
    mlp = MLP(nin, nouts)
    params = params_of(mlp, "mlp")
    randomize(params, rng)
    x = [rng.uniform(-1, 1) for _ in range(nin)]

    def backward_once():
        out = mlp(x)
        total = out[0]
        for o in out[1:]:
            total = total + o * o
        total.backward()
        return [expect_number(p.grad, "p.grad") for p in params]

    first = backward_once()
    expect_true(
        any(g != 0 for g in first),
        Msg(
            "backward() left every parameter's grad at 0",
            "backward() 뒤에도 모든 파라미터의 grad가 0입니다",
        ),
    )
    data = [p.data for p in params]
    mlp.zero_grad()
    for p in params:
        expect_equal(
            expect_number(p.grad, "p.grad"), 0.0, "p.grad", expr="mlp.zero_grad()  # p in mlp.parameters()"
        )
    expect_equal(
        [p.data for p in params],
        data,
        "[p.data for p in mlp.parameters()]",
        expr="mlp.zero_grad() must not touch data",
    )
    second = backward_once()
    for g1, g2 in zip(first, second, strict=True):
        expect_close(
            g2,
            g1,
            "p.grad",
            expr="backward(); mlp.zero_grad(); backward() again: the same grads as the first time",
        )

    layers = list(need_attr(mlp, "layers", "mlp.layers"))
    neuron = list(need_attr(layers[0], "neurons", "mlp.layers[0].neurons"))[0]
    neuron.zero_grad()
    for p in neuron.parameters():
        expect_equal(expect_number(p.grad, "p.grad"), 0.0, "p.grad", expr="neuron.zero_grad()")
    layer = layers[-1]
    layer.zero_grad()
    for p in layer.parameters():
        expect_equal(expect_number(p.grad, "p.grad"), 0.0, "p.grad", expr="layer.zero_grad()")


def test_reprs(rng):
    Neuron, Layer, MLP = nn_parts("Neuron", "Layer", "MLP")
    nin = rng.randint(1, 9)
    expect_equal(repr(Neuron(nin)), f"TanhNeuron({nin})", "repr(n)", expr=f"n = Neuron({nin})")
    expect_equal(
        repr(Neuron(nin, nonlin=False)),
        f"LinearNeuron({nin})",
        "repr(n)",
        expr=f"n = Neuron({nin}, nonlin=False)",
    )
    nout = rng.randint(1, 3)
    neurons = ", ".join([f"TanhNeuron({nin})"] * nout)
    expect_equal(
        repr(Layer(nin, nout)), f"Layer of [{neurons}]", "repr(layer)", expr=f"layer = Layer({nin}, {nout})"
    )
    hidden = rng.randint(2, 3)
    expected = (
        f"MLP of [Layer of [{', '.join([f'TanhNeuron({nin})'] * hidden)}], Layer of [LinearNeuron({hidden})]]"
    )
    expect_equal(repr(MLP(nin, [hidden, 1])), expected, "repr(mlp)", expr=f"mlp = MLP({nin}, [{hidden}, 1])")


# ---------------------------------------------------------------------------------------------
# SGD


def sgd_class():
    return need(learner("optim"), "SGD")


def expect_sgd_step(params, velocities, lr, momentum, what):
    """Compare params with one more step of v = momentum * v + grad; p.data -= lr * v (updates the lists)."""
    for i, (p, (data, grad)) in enumerate(zip(params, velocities["before"], strict=True)):
        v = momentum * velocities["v"][i] + grad
        velocities["v"][i] = v
        expect_close(
            p.data,
            data - lr * v,
            f"p{i}.data",
            expr=what,
            given={"p.data before": data, "p.grad": grad, "lr": lr, "momentum": momentum},
            tol=1e-12,
        )
        expect_close(p.grad, grad, f"p{i}.grad", expr=f"{what} must not change grad", tol=0)


def run_steps(opt, params, rng, steps, lr, momentum, what):
    state = {"v": [0.0] * len(params)}
    for _ in range(steps):
        for p in params:
            p.grad = rng.choice([0.0, rng.uniform(-3, 3), rng.uniform(-3, 3)])
        state["before"] = [(p.data, p.grad) for p in params]
        opt.step()
        expect_sgd_step(params, state, lr, momentum, what)


def test_sgd_plain_step(rng):
    SGD = sgd_class()
    Value = value_class()
    params = [Value(rng.uniform(-2, 2)) for _ in range(rng.randint(2, 5))]
    lr = rng.uniform(0.01, 0.9)
    run_steps(SGD(params, lr=lr), params, rng, 3, lr, 0.0, f"SGD(params, lr={lr!r}).step()")
    params = [Value(rng.uniform(-2, 2)) for _ in range(3)]
    run_steps(SGD(params), params, rng, 2, 0.1, 0.0, "SGD(params).step()  # lr=0.1, momentum=0.0")


def test_sgd_momentum(rng):
    SGD = sgd_class()
    Value = value_class()
    params = [Value(rng.uniform(-2, 2)) for _ in range(rng.randint(2, 5))]
    lr, momentum = rng.uniform(0.01, 0.5), rng.uniform(0.5, 0.95)
    run_steps(
        SGD(params, lr=lr, momentum=momentum),
        params,
        rng,
        5,
        lr,
        momentum,
        f"SGD(params, lr={lr!r}, momentum={momentum!r}).step()",
    )
    # A second optimizer starts with velocities of its own, all 0.
    others = [Value(rng.uniform(-2, 2)) for _ in range(3)]
    run_steps(
        SGD(others, momentum=momentum),
        others,
        rng,
        3,
        0.1,
        momentum,
        f"SGD(others, momentum={momentum!r}).step()",
    )


def test_sgd_with_parameters_used_twice(rng):
    SGD = sgd_class()
    Value = value_class()
    p, q = Value(rng.uniform(0.5, 1.5)), Value(rng.uniform(-1.5, -0.5))
    lr, momentum = rng.uniform(0.01, 0.2), rng.uniform(0.5, 0.9)
    opt = SGD([p, q], lr=lr, momentum=momentum)
    state = {"v": [0.0, 0.0]}
    for step in range(3):
        opt.zero_grad()
        for name, v in (("p", p), ("q", q)):
            expect_equal(expect_number(v.grad, f"{name}.grad"), 0.0, f"{name}.grad", expr="opt.zero_grad()")
        loss = p * p * q + p * q + q * q
        loss.backward()
        grads = [2 * p.data * q.data + q.data, p.data * p.data + p.data + 2 * q.data]
        for name, v, g in (("p", p, grads[0]), ("q", q, grads[1])):
            expect_close(v.grad, g, f"{name}.grad", expr="loss = p*p*q + p*q + q*q; loss.backward()")
        state["before"] = [(p.data, p.grad), (q.data, q.grad)]
        opt.step()
        expect_sgd_step(
            [p, q], state, lr, momentum, f"step {step + 1} of SGD([p, q], lr={lr!r}, momentum={momentum!r})"
        )


def test_sgd_repr(rng):
    SGD = sgd_class()
    lr, momentum = round(rng.uniform(0.01, 1), 3), round(rng.uniform(0, 0.99), 2)
    expect_equal(
        repr(SGD([], lr=lr, momentum=momentum)),
        f"SGD(lr={lr!r}, momentum={momentum!r})",
        "repr(opt)",
        expr=f"opt = SGD([], lr={lr!r}, momentum={momentum!r})",
    )
    expect_equal(repr(SGD([])), "SGD(lr=0.1, momentum=0.0)", "repr(opt)", expr="opt = SGD([])")


# ---------------------------------------------------------------------------------------------
# train_xor


def train_parts():
    train = learner("train")
    return need(train, "train_xor"), need(learner("nn"), "MLP"), sgd_class()


def unpack_run(result, steps, MLP):
    expect_type(result, tuple, "train_xor(...)")
    expect_equal(len(result), 2, "len(train_xor(...))", expr="model, losses = train_xor(...)")
    model, losses = result
    expect_type(model, MLP, "model")
    expect_type(losses, list, "losses")
    expect_equal(len(losses), steps, "len(losses)", expr=f"model, losses = train_xor(steps={steps}, ...)")
    for loss in losses:
        if not math.isfinite(expect_number(loss, "losses[i]")):
            fail_with(
                Msg("the loss became {loss} during training", "학습 도중 손실이 {loss:이} 되었습니다"),
                loss=loss,
            )
    return model, losses


def expect_outputs_from_parameters(model, what):
    """model(x) for the XOR inputs, checked against the float MLP built from model's parameters."""
    layers = structure(model)
    named = named_params(layers)
    shapes = [(len(neurons[0][0]), len(neurons)) for neurons in layers]
    expect_true(
        bool(shapes) and shapes[0][0] == 2 and shapes[-1][1] == 1,
        Msg(
            "the XOR model should take 2 inputs and give 1 output; its layers are {shapes}",
            "XOR 모델은 입력 2개, 출력 1개여야 합니다. 레이어 모양: {shapes}",
        ),
        shapes=[list(s) for s in shapes],
    )
    numbers = data_of([v for _, v in named], "p.data")
    outputs = []
    for x, _ in XOR_POINTS:
        (got,) = output_numbers(model(x), 1, f"model({x})")
        expect_close(got, float_mlp(numbers, shapes, x)[0], f"model({x}).data", expr=what)
        outputs.append(got)
    return outputs, [v for _, v in named]


class TrainingRecord:
    """What every SGD built during train_xor saw: its settings, and each step's parameters.

    SGD.__init__ and SGD.step are wrapped for the call only; each step keeps the parameters'
    (data, grad) before it and their data after it, so the run can be replayed with plain floats.
    """

    def __init__(self, SGD):
        self.SGD = SGD
        self.optimizers = {}
        self.steps = []

    def __enter__(self):
        import inspect

        SGD, record = self.SGD, self
        self.original_init = need_attr(SGD, "__init__", "SGD.__init__")
        self.original_step = need_attr(SGD, "step", "SGD.step")
        signature = inspect.signature(self.original_init)
        first = list(signature.parameters)[1]  # the parameters, whatever the learner named them
        original_init, original_step = self.original_init, self.original_step

        def recording_init(opt, *args, **kwargs):
            bound = signature.bind(opt, *args, **kwargs)
            bound.apply_defaults()
            params = list(bound.arguments[first])
            record.optimizers[id(opt)] = (params, bound.arguments.get("lr"), bound.arguments.get("momentum"))
            bound.arguments[first] = params
            return original_init(*bound.args, **bound.kwargs)

        def recording_step(opt, *args, **kwargs):
            params, lr, momentum = record.optimizers.get(id(opt), ([], None, None))
            before = [(p.data, p.grad) for p in params]
            result = original_step(opt, *args, **kwargs)
            record.steps.append((id(opt), params, before, [p.data for p in params], lr, momentum))
            return result

        SGD.__init__, SGD.step = recording_init, recording_step
        return self

    def __exit__(self, *exc):
        self.SGD.__init__, self.SGD.step = self.original_init, self.original_step
        return False


def not_trained(en, ko, **params):
    """Fail saying what was found that shows the returned model did not come from its training."""
    fail_with(
        Msg(
            en="train_xor's model did not come from its training: " + en,
            ko="train_xor의 모델이 학습에서 나온 것이 아닙니다. " + ko,
        ),
        **params,
    )


def squared_error_loss(numbers, shapes):
    return sum((float_mlp(numbers, shapes, x)[0] - y) ** 2 for x, y in XOR_POINTS)


def expect_real_training(record, model, losses, rng):
    """The returned model is where SGD left it, every step followed SGD's rule, and sampled steps
    used the gradients and reported the loss of the model's own parameters at that step."""
    layers = structure(model)
    named = named_params(layers)
    shapes = [(len(neurons[0][0]), len(neurons)) for neurons in layers]
    model_params = [v for _, v in named]
    ids = {id(v) for v in model_params}
    steps = [step for step in record.steps if {id(p) for p in step[1]} == ids]
    if len(steps) != len(record.steps) or len(steps) != len(losses):
        not_trained(
            "{taken} SGD steps were taken, {on_model} of them on exactly the returned model's parameters, "
            "for {count} losses",
            "SGD 스텝이 {taken}번 있었고, 그중 돌려준 모델의 파라미터에 대한 것은 {on_model}번, 손실은 {count}개입니다",
            taken=len(record.steps),
            on_model=len(steps),
            count=len(losses),
        )
    for i, (_, _params, before, _after, lr, momentum) in enumerate(steps):
        if type(lr) not in (int, float) or type(momentum) not in (int, float):
            not_trained(
                "SGD was built with lr={lr}, momentum={momentum}",
                "SGD를 lr={lr}, momentum={momentum:로} 만들었습니다",
                lr=lr,
                momentum=momentum,
            )
        if i:
            moved = [j for j, (data, _) in enumerate(before) if data != steps[i - 1][3][j]]
            if moved:
                not_trained(
                    "between SGD steps {before} and {after}, {count} parameter(s) were changed by hand",
                    "SGD 스텝 {before:와} {after} 사이에 파라미터 {count}개를 손으로 바꿨습니다",
                    before=i - 1,
                    after=i,
                    count=len(moved),
                )
    order = {id(v): k for k, v in enumerate(model_params)}
    if steps:
        final = [p.data for p in steps[-1][1]]
        changed = [k for k, (a, b) in enumerate(zip(final, steps[-1][3], strict=True)) if a != b]
        if changed:
            not_trained(
                "{count} parameter(s) are not where the last SGD step left them",
                "파라미터 {count}개가 마지막 SGD 스텝이 남긴 값이 아닙니다",
                count=len(changed),
            )
    velocities = None
    for i, (_, params, before, after, lr, momentum) in enumerate(steps):
        velocities = velocities or [0.0] * len(params)
        for k, ((data, grad), got) in enumerate(zip(before, after, strict=True)):
            velocities[k] = momentum * velocities[k] + grad
            expected = data - lr * velocities[k]
            if abs(got - expected) > 1e-9 * max(1.0, abs(expected)):
                not_trained(
                    "SGD step {step} moved a parameter from {data} to {got}; with lr={lr}, momentum={momentum} "
                    "and grad {grad} the rule v = momentum * v + grad, p.data -= lr * v gives {expected}",
                    "SGD 스텝 {step}에서 파라미터가 {data}에서 {got:로} 움직였습니다. lr={lr}, momentum={momentum}, "
                    "grad {grad}이면 규칙 v = momentum * v + grad, p.data -= lr * v에 따라 {expected}여야 합니다",
                    step=i,
                    data=data,
                    got=got,
                    lr=lr,
                    momentum=momentum,
                    grad=grad,
                    expected=expected,
                )

    def state_at(i):
        """The parameters and gradients SGD was given at step i, in the model's order."""
        _, params, before, _, _, _ = steps[i]
        numbers = [0.0] * len(params)
        grads = [0.0] * len(params)
        for p, (data, grad) in zip(params, before, strict=True):
            numbers[order[id(p)]] = data
            grads[order[id(p)]] = grad
        return numbers, grads

    # Every reported loss is recomputed: a forward pass is cheap. Checked at a few sampled steps
    # only, a made-up curve went through whenever the samples fell where the true loss is too small
    # for the tolerance to tell. The gradients, which need a numerical derivative, are sampled.
    scale = None  # the sum of the squared errors, or their mean: read from step 0, where the loss is large
    for i in range(len(steps)):
        numbers, _ = state_at(i)
        total = squared_error_loss(numbers, shapes)
        if scale is None:
            scale = next(
                (s for s in (1.0, 1.0 / len(XOR_POINTS)) if abs(losses[i] - s * total) <= 1e-9 * max(1.0, total)),
                None,
            )
        if scale is None or abs(losses[i] - scale * total) > 1e-9 * max(1.0, total):
            not_trained(
                "losses[{step}] is {loss}, but the model's parameters at step {step} give a summed squared "
                "error of {total} (mean {mean})",
                "losses[{step}]는 {loss}인데, 스텝 {step}의 모델 파라미터로 계산한 제곱 오차의 합은 {total} "
                "(평균 {mean})입니다",
                step=i,
                loss=losses[i],
                total=total,
                mean=total / len(XOR_POINTS),
            )
    sampled = sorted({0, len(steps) - 1, *rng.sample(range(len(steps)), min(3, len(steps)))}) if steps else []
    for i in sampled:
        numbers, grads = state_at(i)
        expected = numeric_grad(lambda *xs, scale=scale: scale * squared_error_loss(list(xs), shapes), numbers)
        for k, (got, want) in enumerate(zip(grads, expected, strict=True)):
            if abs(got - want) > 1e-5 * max(1.0, abs(want)):
                not_trained(
                    "at step {step} SGD was given grad {got} for {name}, but the gradient of that step's loss "
                    "is {want}",
                    "스텝 {step}에서 SGD가 받은 {name}의 grad는 {got}인데, 그 스텝의 손실로 구한 그래디언트는 "
                    "{want}입니다",
                    step=i,
                    got=got,
                    name=named[k][0],
                    want=want,
                )


def test_train_xor_solves_xor(rng):
    train_xor, MLP, SGD = train_parts()
    calls = []
    with TrainingRecord(SGD) as record:
        result = train_xor(steps=XOR_BUDGET, seed=0, callback=lambda step, loss: calls.append((step, loss)))
    steps_taken = record.steps
    model, losses = unpack_run(result, XOR_BUDGET, MLP)

    expect_equal(
        len(steps_taken),
        XOR_BUDGET,
        "the number of SGD.step() calls",
        expr=f"train_xor(steps={XOR_BUDGET}, seed=0)",
    )
    expect_equal(
        len(calls),
        XOR_BUDGET,
        "the number of callback calls",
        expr=f"train_xor(steps={XOR_BUDGET}, seed=0, callback=cb)",
    )
    expect_equal(
        [step for step, _ in calls],
        list(range(XOR_BUDGET)),
        "the step numbers given to the callback",
        expr="0, 1, 2, ...",
    )
    for i, ((_, loss), kept) in enumerate(zip(calls, losses, strict=True)):
        expect_close(
            expect_number(loss, "the callback's loss"),
            kept,
            f"losses[{i}]",
            expr=f"callback({i}, loss) was given {loss!r}",
            tol=0,
        )

    tenth = XOR_BUDGET // 10
    early, late = sum(losses[:tenth]) / tenth, sum(losses[-tenth:]) / tenth
    expect_true(
        late < 0.5 * early,
        Msg(
            (
                "the loss should go down during training: the first {n} steps average {early}, the "
                "last {n} average {late}"
            ),
            (
                "학습하면서 손실이 줄어야 합니다. 처음 {n}스텝의 평균은 {early}, 마지막 {n}스텝의 "
                "평균은 {late}입니다"
            ),
        ),
        n=tenth,
        early=early,
        late=late,
    )

    expect_real_training(record, model, losses, rng)
    outputs, params = expect_outputs_from_parameters(model, "the trained MLP's own computation")
    wrong = [x for (x, y), out in zip(XOR_POINTS, outputs, strict=True) if (out > 0) != (y > 0)]
    if wrong:
        fail_with(
            Msg(
                (
                    "after train_xor(steps={steps}, seed=0) the model should give a positive output "
                    "for XOR true and a negative one for false; outputs {outputs} for inputs {inputs}"
                ),
                (
                    "train_xor(steps={steps}, seed=0) 뒤에는 XOR이 참이면 양수, 거짓이면 음수를 "
                    "내야 합니다. 입력 {inputs}"
                    "에 대한 출력: {outputs}"
                ),
            ),
            steps=XOR_BUDGET,
            outputs=outputs,
            inputs=[x for x, _ in XOR_POINTS],
        )

    # The answers must keep coming from the parameters: move them and the outputs follow.
    randomize(params, rng)
    moved, _ = expect_outputs_from_parameters(model, "the MLP after its parameters were changed")
    expect_true(
        moved != outputs,
        Msg(
            "changing the model's parameters did not change its outputs",
            "모델의 파라미터를 바꿨는데 출력이 그대로입니다",
        ),
    )


def test_train_xor_is_seeded_and_moves_the_parameters(rng):
    train_xor, MLP, _ = train_parts()
    seed = rng.randrange(1, 10**6)
    steps = rng.randint(5, 10)
    runs = []
    for noise in (rng.random(), rng.random()):
        with global_random_seeded(noise):
            model, losses = unpack_run(train_xor(steps=steps, seed=seed), steps, MLP)
        runs.append((data_of(params_of(model, "model"), "p.data"), losses))
    expect_true(
        same_numbers(runs[0][0], runs[1][0]) and same_numbers(runs[0][1], runs[1][1]),
        Msg(
            (
                "two runs of train_xor(steps={steps}, seed={seed}) should give the same losses and "
                "parameters (up to the last digits, which a different order of adding may change): "
                "call random.seed(seed) before building the model"
            ),
            (
                "train_xor(steps={steps}, seed={seed})를 두 번 돌리면 손실과 파라미터가 같아야 "
                "합니다 (더하는 순서가 달라 바뀌는 마지막 몇 자리는 괜찮습니다). 모델을 만들기 전에 "
                "random.seed(seed)를 부르세요"
            ),
        ),
        steps=steps,
        seed=seed,
    )
    with global_random_seeded(rng.random()):
        default_seed, _ = unpack_run(train_xor(steps=steps), steps, MLP)
        zero_seed, _ = unpack_run(train_xor(steps=steps, seed=0), steps, MLP)
    expect_true(
        same_numbers(
            data_of(params_of(default_seed, "model"), "p.data"), data_of(params_of(zero_seed, "model"), "p.data")
        ),
        Msg(
            (
                "train_xor's seed should default to 0: train_xor(steps=n) and train_xor(steps=n, "
                "seed=0) should give the same model"
            ),
            (
                "train_xor의 seed 기본값은 0 이어야 합니다. train_xor(steps=n)과 "
                "train_xor(steps=n, seed=0)은 "
                "같은 모델을 내야 합니다"
            ),
        ),
    )
    with global_random_seeded(rng.random()):
        untrained, _ = unpack_run(train_xor(steps=0, seed=seed), 0, MLP)
        other, _ = unpack_run(train_xor(steps=steps, seed=seed + 1), steps, MLP)
    start = data_of(params_of(untrained, "model"), "p.data")
    expect_true(
        len(start) == len(runs[0][0]) and not same_numbers(start, runs[0][0]),
        Msg(
            (
                "train_xor(steps={steps}) returned the same parameters as train_xor(steps=0): "
                "training should change them"
            ),
            (
                "train_xor(steps={steps})가 train_xor(steps=0)과 같은 파라미터를 돌려줍니다. "
                "학습하면 파라미터가 바뀌어야 합니다"
            ),
        ),
        steps=steps,
    )
    expect_true(
        not same_numbers(data_of(params_of(other, "model"), "p.data"), runs[0][0]),
        Msg(
            (
                "train_xor with seed={seed} and seed={other} gave the same parameters: the seed "
                "should decide the starting weights"
            ),
            (
                "seed={seed:와} seed={other:로} 돌린 train_xor의 파라미터가 같습니다. 시작 가중치는 "
                "seed로 정해져야 합니다"
            ),
        ),
        seed=seed,
        other=seed + 1,
    )
