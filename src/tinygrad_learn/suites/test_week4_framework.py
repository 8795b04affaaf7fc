"""Week 4, your own framework: named parameters, .npz files, SGD and Adam to the formula, fit()."""

import os
import tempfile

import numpy as np

from tinygrad_learn.grading.suitekit import entry_label, is_array, misses, tensor_class
from tinygrad_learn.grading.testkit import Msg, expect_type, fail, fail_with, learner, need

STEP_TOL = 1e-12


def framework():
    return learner("framework")


def expect_same_array(actual, expected, what, *, expr, tol=0.0):
    """`actual` is a float64 array of `expected`'s shape; equal to it (within tol, relative)."""
    expected = np.asarray(expected, dtype=np.float64)
    if not is_array(actual, expected.shape):
        fail("wrong_type", what=what, expected="numpy.ndarray", got=type(actual).__name__, value=actual)
    if actual.shape != expected.shape:
        fail_with(
            Msg(
                en="{what} has shape {got}, expected {expected} ({expr})",
                ko="{what}의 모양이 {got}입니다. {expected} 이어야 합니다 ({expr})",
            ),
            what=what,
            got=str(actual.shape),
            expected=str(expected.shape),
            expr=expr,
        )
    wrong = misses(actual, expected, tol, scale=np.maximum(1.0, np.abs(expected)))
    if wrong.any():
        index = tuple(int(i) for i in np.argwhere(wrong)[0])
        label = entry_label(what, index)
        fail("wrong_value", what=label, expected=float(expected[index]), got=float(actual[index]), expr=expr, given={})


def randomize(model, g):
    """Give every parameter fresh random values, so no test depends on the learner's init."""
    for _, p in model.named_parameters():
        p.data = g.normal(size=np.shape(p.data))


def names_of(model):
    names = [name for name, _ in model.named_parameters()]
    for name in names:
        if type(name) is not str:
            fail(
                "wrong_type", what="a name from named_parameters()", expected="str", got=type(name).__name__, value=name
            )
    return names


def expect_names(model, expected, expr):
    names = names_of(model)
    if len(names) != len(set(names)) or set(names) != set(expected):
        fail(
            "wrong_value",
            what="the names from model.named_parameters()",
            expected=sorted(expected),
            got=sorted(names),
            expr=expr,
            given={},
        )


def small_mlp(fw, g):
    sizes = [int(n) for n in g.integers(2, 5, 3)]
    model = fw.Sequential(fw.Linear(sizes[0], sizes[1]), fw.ReLU(), fw.Linear(sizes[1], sizes[2]))
    return model, sizes


# ---------------------------------------------------------------------------------------------


def test_sequential_names_its_parameters(seed):
    fw = framework()
    Tensor = tensor_class()
    for name in ("Module", "Linear", "ReLU", "Tanh", "Sequential"):
        need(fw, name)
    g = np.random.default_rng(seed)
    model, (a, b, c) = small_mlp(fw, g)
    expr = f"model = Sequential(Linear({a}, {b}), ReLU(), Linear({b}, {c}))"
    expect_names(model, ["layers.0.weight", "layers.0.bias", "layers.2.weight", "layers.2.bias"], expr)
    named = dict(model.named_parameters())
    shapes = {"layers.0.weight": (a, b), "layers.0.bias": (b,), "layers.2.weight": (b, c), "layers.2.bias": (c,)}
    for name, shape in shapes.items():
        expect_type(named[name], Tensor, f"the parameter {name}")
        if np.shape(named[name].data) != shape:
            fail(
                "wrong_value",
                what=f"{name}.data.shape",
                expected=str(shape),
                got=str(np.shape(named[name].data)),
                expr=expr,
                given={},
            )
    if named["layers.2.weight"] is not model.layers[2].weight or named["layers.0.bias"] is not model.layers[0].bias:
        fail_with(
            Msg(
                en="named_parameters() should yield the layers' own Tensors, not copies ({expr})",
                ko="named_parameters()는 복사본이 아니라 레이어가 가진 Tensor 그 자체를 내놓아야 합니다 ({expr})",
            ),
            expr=expr,
        )
    listed = model.parameters()
    if sorted(map(id, listed)) != sorted(map(id, named.values())):
        fail_with(
            Msg(
                en="model.parameters() should hold exactly the Tensors of named_parameters() ({expr})",
                ko="model.parameters()는 named_parameters()의 Tensor들을 정확히 담아야 합니다 ({expr})",
            ),
            expr=expr,
        )


def test_linear_starts_with_small_random_weights(seed):
    fw = framework()
    Tensor = tensor_class()
    layer = fw.Linear(100, 50)
    expect_type(layer.weight, Tensor, "Linear(100, 50).weight")
    weight = np.asarray(layer.weight.data, dtype=np.float64)
    spread = float(weight.std()) if weight.size else 0.0
    if weight.shape != (100, 50) or not np.all(np.isfinite(weight)) or len(np.unique(weight)) < 100:
        fail_with(
            Msg(
                en="Linear(100, 50).weight should start as 100 x 50 different random numbers: with equal weights "
                "every unit of a layer learns the same thing",
                ko="Linear(100, 50).weight는 서로 다른 무작위 수 100 x 50 개로 시작해야 합니다. 가중치가 같으면 "
                "레이어의 모든 유닛이 같은 것만 배웁니다",
            )
        )
    if not 0.001 <= spread <= 2.0:
        fail_with(
            Msg(
                en="Linear(100, 50).weight starts with a standard deviation of {spread}: keep it small, for example "
                "uniform values within +-1/sqrt(in_features) = +-0.1",
                ko="Linear(100, 50).weight의 처음 표준편차가 {spread}입니다. 작게 잡으세요. 예를 들어 "
                "+-1/sqrt(in_features) = +-0.1 안의 균등분포 값",
            ),
            spread=round(spread, 4),
        )


def test_nested_modules_get_dotted_names(seed):
    fw = framework()
    Tensor = tensor_class()
    g = np.random.default_rng(seed)
    width = int(g.integers(2, 5))

    class Net(fw.Module):
        def __init__(self):
            super().__init__()
            self.encoder = fw.Sequential(fw.Linear(3, width), fw.Tanh(), fw.Linear(width, width))
            self.blocks = [fw.Linear(width, width), fw.Linear(width, width)]
            self.head = fw.Linear(width, 2)
            self.scale = Tensor(np.ones(2))
            self.label = "not a parameter"
            self.cache = np.zeros(3)

        def forward(self, x):
            h = self.encoder(x)
            for block in self.blocks:
                h = block(h).relu()
            return self.head(h) * self.scale

    net = Net()
    expected = [
        "encoder.layers.0.weight", "encoder.layers.0.bias", "encoder.layers.2.weight", "encoder.layers.2.bias",
        "blocks.0.weight", "blocks.0.bias", "blocks.1.weight", "blocks.1.bias",
        "head.weight", "head.bias", "scale",
    ]  # fmt: skip
    expr = "a Module with encoder = Sequential(...), blocks = [Linear, Linear], head = Linear, scale = Tensor"
    expect_names(net, expected, expr)
    named = dict(net.named_parameters())
    if named["blocks.1.weight"] is not net.blocks[1].weight or named["scale"] is not net.scale:
        fail_with(
            Msg(
                en="named_parameters() should yield the module's own Tensors ({expr})",
                ko="named_parameters()는 모듈이 가진 Tensor 그 자체를 내놓아야 합니다 ({expr})",
            ),
            expr=expr,
        )
    randomize(net, g)
    x = g.normal(size=(5, 3))
    out = net(Tensor(x))
    expect_type(out, Tensor, "net(x)")
    h = np.tanh(x @ named["encoder.layers.0.weight"].data + named["encoder.layers.0.bias"].data)
    h = h @ named["encoder.layers.2.weight"].data + named["encoder.layers.2.bias"].data
    for i in range(2):
        h = np.maximum(h @ named[f"blocks.{i}.weight"].data + named[f"blocks.{i}.bias"].data, 0)
    wanted = (h @ named["head.weight"].data + named["head.bias"].data) * named["scale"].data
    expect_same_array(out.data, wanted, "net(x).data", expr="x @ weight + bias through every layer", tol=1e-9)


def test_framework_zero_grad_clears_every_parameter(seed):
    fw = framework()
    Tensor = tensor_class()
    g = np.random.default_rng(seed)
    model, (a, _, _) = small_mlp(fw, g)
    randomize(model, g)
    for zero in ("model.zero_grad()", "SGD(model.parameters(), lr=0.1).zero_grad()"):
        model(Tensor(g.normal(size=(4, a)))).sum().backward()
        if zero == "model.zero_grad()":
            model.zero_grad()
        else:
            fw.SGD(model.parameters(), lr=0.1).zero_grad()
        for name, p in model.named_parameters():
            expect_same_array(p.grad, np.zeros(np.shape(p.data)), f"{name}.grad", expr=f"backward(); {zero}")


def test_save_writes_every_parameter_by_name(seed):
    fw = framework()
    need(fw, "save")
    g = np.random.default_rng(seed)
    model, _ = small_mlp(fw, g)
    randomize(model, g)
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "model.npz")
        fw.save(model, path)
        if not os.path.exists(path):
            fail_with(
                Msg(
                    en="save(model, path) wrote no file at path (a path that already ends in .npz)",
                    ko="save(model, path)가 path에 파일을 쓰지 않았습니다 (path는 이미 .npz로 끝납니다)",
                )
            )
        with np.load(path) as saved:
            stored = {name: saved[name] for name in saved.files}
    expr = "save(model, 'model.npz'); np.load('model.npz')"
    named = dict(model.named_parameters())
    if set(stored) != set(named):
        fail(
            "wrong_value",
            what="the names in the .npz file",
            expected=sorted(named),
            got=sorted(stored),
            expr=expr,
            given={},
        )
    for name, p in named.items():
        expect_same_array(stored[name], p.data, f"file[{name!r}]", expr=expr)


def test_load_restores_a_fresh_model(seed):
    fw = framework()
    need(fw, "load")
    Tensor = tensor_class()
    g = np.random.default_rng(seed)
    model, (a, b, c) = small_mlp(fw, g)
    randomize(model, g)
    fresh = fw.Sequential(fw.Linear(a, b), fw.ReLU(), fw.Linear(b, c))
    randomize(fresh, g)
    x = g.normal(size=(6, a))
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "model.npz")
        fw.save(model, path)
        fw.load(fresh, path)
    expr = "save(model, path); load(fresh, path)"
    for (name, p), (_, q) in zip(model.named_parameters(), fresh.named_parameters(), strict=False):
        expect_same_array(q.data, p.data, f"fresh {name}", expr=expr)
    expect_same_array(fresh(Tensor(x)).data, model(Tensor(x)).data, "fresh(x).data", expr=expr + "; compare outputs")


def test_load_refuses_missing_extra_and_misshaped_parameters(seed):
    fw = framework()
    g = np.random.default_rng(seed)
    a, b, c = (int(n) for n in g.integers(2, 5, 3))
    target = fw.Sequential(fw.Linear(a, b), fw.ReLU(), fw.Linear(b, c))
    randomize(target, g)
    before = {name: np.array(p.data, copy=True) for name, p in target.named_parameters()}
    cases = [
        (
            "a file saved from Sequential(Linear) only: layers.2.* are missing",
            fw.Sequential(fw.Linear(a, b)),
            "layers.2.weight",
        ),
        (
            "a file with one more layer: layers.4.* are not in the model",
            fw.Sequential(fw.Linear(a, b), fw.ReLU(), fw.Linear(b, c), fw.ReLU(), fw.Linear(c, 2)),
            "layers.4.weight",
        ),
        (
            "a file whose layers.2.weight has another shape",
            fw.Sequential(fw.Linear(a, b), fw.ReLU(), fw.Linear(b, c + 1)),
            "layers.2.weight",
        ),
    ]
    for description, source, key in cases:
        randomize(source, g)
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "other.npz")
            fw.save(source, path)
            try:
                fw.load(target, path)
            except (KeyError, ValueError) as error:
                if key not in str(error):
                    fail_with(
                        Msg(
                            en="load() raised {kind}, but its message should name {key}: {message}",
                            ko="load()가 {kind:를} 일으켰지만 메시지에 {key:가} 들어 있어야 합니다: {message}",
                        ),
                        kind=type(error).__name__,
                        key=key,
                        message=str(error)[:200],
                    )
            else:
                fail_with(
                    Msg(
                        en="load() accepted {description}; it should raise a KeyError or ValueError naming {key}",
                        ko="load()가 {description:를} 받아들였습니다. {key:를} 밝히는 "
                        "KeyError나 ValueError를 일으켜야 합니다",
                    ),
                    description=description,
                    key=key,
                )
        for name, p in target.named_parameters():
            expect_same_array(
                p.data, before[name], name, expr=f"a refused load() ({description}) must leave the model as it was"
            )


def check_steps(make_optimizer, formula, expr, g, steps):
    """Run `steps` optimizer steps with random grads; compare every parameter with `formula`."""
    Tensor = tensor_class()
    shapes = [(3,), (2, 3), ()]
    values = [g.normal(size=shape) for shape in shapes]
    params = [Tensor(np.array(v, copy=True)) for v in values]
    optimizer = make_optimizer(params)
    state = [dict() for _ in shapes]
    for step in range(1, steps + 1):
        grads = [g.normal(size=shape) * 2 for shape in shapes]
        for p, grad in zip(params, grads, strict=True):
            p.grad = np.array(grad, copy=True)
        optimizer.step()
        for i, (p, grad) in enumerate(zip(params, grads, strict=True)):
            values[i] = formula(values[i], grad, state[i], step)
            expect_same_array(
                np.asarray(p.data), values[i], f"p{i}.data", expr=f"{expr}, after step {step}", tol=STEP_TOL
            )


def sgd_formula(lr, momentum, weight_decay):
    def update(p, grad, state, step):
        d = grad + weight_decay * p
        state["v"] = momentum * state.get("v", 0.0) + d
        return p - lr * state["v"]

    return update


def adam_formula(lr, beta1, beta2, eps, weight_decay):
    def update(p, grad, state, step):
        d = grad + weight_decay * p
        state["m"] = beta1 * state.get("m", 0.0) + (1 - beta1) * d
        state["v"] = beta2 * state.get("v", 0.0) + (1 - beta2) * d * d
        m_hat = state["m"] / (1 - beta1**step)
        v_hat = state["v"] / (1 - beta2**step)
        return p - lr * m_hat / (np.sqrt(v_hat) + eps)

    return update


def test_sgd_matches_the_formula(seed):
    fw = framework()
    SGD = need(fw, "SGD")
    g = np.random.default_rng(seed)
    lr = round(float(g.uniform(0.01, 0.3)), 4)
    momentum = round(float(g.uniform(0.5, 0.95)), 3)
    decay = round(float(g.uniform(0.01, 0.1)), 4)
    for steps in (1, 6):
        check_steps(lambda ps: SGD(ps, lr=lr), sgd_formula(lr, 0.0, 0.0), f"SGD(params, lr={lr})", g, steps)
        check_steps(
            lambda ps: SGD(ps, lr=lr, momentum=momentum),
            sgd_formula(lr, momentum, 0.0),
            f"SGD(params, lr={lr}, momentum={momentum})",
            g,
            steps,
        )
        check_steps(
            lambda ps: SGD(ps, lr=lr, weight_decay=decay),
            sgd_formula(lr, 0.0, decay),
            f"SGD(params, lr={lr}, weight_decay={decay})",
            g,
            steps,
        )
        check_steps(
            lambda ps: SGD(ps, lr=lr, momentum=momentum, weight_decay=decay),
            sgd_formula(lr, momentum, decay),
            f"SGD(params, lr={lr}, momentum={momentum}, weight_decay={decay})",
            g,
            steps,
        )


def test_adam_matches_the_formula(seed):
    fw = framework()
    Adam = need(fw, "Adam")
    g = np.random.default_rng(seed)
    lr = round(float(g.uniform(0.01, 0.2)), 4)
    beta1, beta2 = round(float(g.uniform(0.5, 0.95)), 3), round(float(g.uniform(0.9, 0.999)), 4)
    eps = float(10.0 ** -g.integers(3, 9))
    decay = round(float(g.uniform(0.01, 0.1)), 4)
    for steps in (1, 7):
        check_steps(lambda ps: Adam(ps), adam_formula(0.001, 0.9, 0.999, 1e-8, 0.0), "Adam(params)", g, steps)
        check_steps(
            lambda ps: Adam(ps, lr=lr, betas=(beta1, beta2), eps=eps),
            adam_formula(lr, beta1, beta2, eps, 0.0),
            f"Adam(params, lr={lr}, betas=({beta1}, {beta2}), eps={eps})",
            g,
            steps,
        )
        check_steps(
            lambda ps: Adam(ps, lr=lr, betas=(beta1, beta2), eps=eps, weight_decay=decay),
            adam_formula(lr, beta1, beta2, eps, decay),
            f"Adam(params, lr={lr}, betas=({beta1}, {beta2}), eps={eps}, weight_decay={decay})",
            g,
            steps,
        )


def regression_data(Tensor, g, a, c, batches):
    truth = g.normal(size=(a, c))
    data = []
    for _ in range(batches):
        x = g.normal(size=(8, a))
        data.append((Tensor(x, requires_grad=False), x @ truth + 0.1 * g.normal(size=(8, c))))
    return data


def test_fit_reports_every_step_and_trains_like_a_plain_loop(seed):
    fw = framework()
    fit = need(fw, "fit")
    Tensor = tensor_class()
    g = np.random.default_rng(seed)
    model, (a, b, c) = small_mlp(fw, g)
    randomize(model, g)
    twin = fw.Sequential(fw.Linear(a, b), fw.ReLU(), fw.Linear(b, c))
    for (_, p), (_, q) in zip(model.named_parameters(), twin.named_parameters(), strict=False):
        q.data = np.array(p.data, copy=True)
    batches, epochs = int(g.integers(2, 5)), int(g.integers(2, 4))
    data = regression_data(Tensor, g, a, c, batches)
    losses = []

    def loss_fn(out, targets):
        loss = ((out - targets) ** 2).mean() + (out * 0.1).mean()
        losses.append(float(loss.data))
        return loss

    calls = []
    history = fit(
        model,
        data,
        loss_fn,
        fw.SGD(model.parameters(), lr=0.05, momentum=0.9),
        epochs,
        callback=lambda *args: calls.append(args),
    )
    expr = f"fit(model, data ({batches} batches), loss_fn, SGD(...), epochs={epochs}, callback=record)"
    expected_calls = [(epoch, step) for epoch in range(epochs) for step in range(batches)]
    got_calls = [tuple(call[:2]) for call in calls]
    if len(calls) != len(expected_calls) or any(len(call) != 3 for call in calls) or got_calls != expected_calls:
        fail(
            "wrong_value",
            what="the (epoch, step) of each callback(epoch, step, loss) call",
            expected=[list(c) for c in expected_calls],
            got=[list(c) for c in got_calls],
            expr=expr,
            given={},
        )
    for (epoch, step, loss), recorded in zip(calls, losses, strict=False):
        if not isinstance(loss, (int, float)) or isinstance(loss, bool) or abs(loss - recorded) > 1e-12:
            fail(
                "wrong_value",
                what=f"the loss given to callback({epoch}, {step}, loss)",
                expected=recorded,
                got=loss,
                expr=expr,
                given={},
            )
    if type(history) is not list or len(history) != epochs:
        fail(
            "wrong_value",
            what="fit(...)'s return value (one mean loss per epoch)",
            expected=f"a list of {epochs} numbers",
            got=history,
            expr=expr,
            given={},
        )
    for epoch in range(epochs):
        mean = float(np.mean(losses[epoch * batches : (epoch + 1) * batches]))
        if not isinstance(history[epoch], (int, float)) or abs(history[epoch] - mean) > 1e-12 * max(1, abs(mean)):
            fail(
                "wrong_value",
                what=f"fit(...)[{epoch}], the mean loss of epoch {epoch}",
                expected=mean,
                got=history[epoch],
                expr=expr,
                given={},
            )

    optimizer = fw.SGD(twin.parameters(), lr=0.05, momentum=0.9)
    for _ in range(epochs):
        for inputs, targets in data:
            optimizer.zero_grad()
            out = twin(inputs)
            (((out - targets) ** 2).mean() + (out * 0.1).mean()).backward()
            optimizer.step()
    for (name, p), (_, q) in zip(model.named_parameters(), twin.named_parameters(), strict=False):
        expect_same_array(
            p.data,
            q.data,
            name,
            expr=expr + " vs the same steps written out: zero_grad, forward, loss, backward, step",
            tol=1e-12,
        )


def test_fit_works_without_a_callback(seed):
    fw = framework()
    fit = need(fw, "fit")
    Tensor = tensor_class()
    g = np.random.default_rng(seed)
    a, c = int(g.integers(2, 5)), int(g.integers(1, 4))
    model = fw.Sequential(fw.Linear(a, c))
    randomize(model, g)
    data = regression_data(Tensor, g, a, c, 4)
    history = fit(model, data, lambda out, y: ((out - y) ** 2).mean(), fw.Adam(model.parameters(), lr=0.05), 30)
    if type(history) is not list or len(history) != 30 or not history[-1] < 0.5 * history[0]:
        fail_with(
            Msg(
                en="fit() with Adam(lr=0.05) for 30 epochs on a linear regression should at least halve "
                "the loss; the epoch losses were {history}",
                ko="선형 회귀에서 Adam(lr=0.05)로 30 에포크 fit() 하면 손실이 적어도 절반으로 줄어야 "
                "합니다. 에포크별 손실: {history}",
            ),
            history=history,
        )
