"""Week 4, a recurrent network: a tanh RNN cell, backpropagation through time, sine waves continued.

The gradients of an unrolled sequence are compared with central differences on a short
sequence and with backpropagation through time written out in numpy on a 60-step one.
"""

import numpy as np

from tinygrad_learn.grading.arraykit import (
    ARRAY_GRAD_TOL,
    expect_array,
    expect_grad,
    numeric_grads,
    tensor_class,
)
from tinygrad_learn.grading.testkit import Msg, expect_type, fail, fail_with, learner, need, need_attr
from tinygrad_learn.grading.trainkit import (
    ParametersSetTo,
    TrainingWatch,
    expect_step_grads,
    expect_step_loss,
    expect_updates_follow_a_rule,
    model_parameters,
    not_trained,
    sampled_steps,
)

MSE_LIMIT = 0.005
WARM_UP = 10


def rnn():
    return learner("rnn")


def run_np(w_xh, w_hh, b, h, xs):
    states = []
    for x in xs:
        h = np.tanh(x @ w_xh + h @ w_hh + b)
        states.append(h)
    return states


def bptt_np(w_xh, w_hh, b, h0, xs, upstream):
    """Backpropagation through time, written out: the gradients of sum_t sum(h_t * upstream[t])."""
    states = run_np(w_xh, w_hh, b, h0, xs)
    grads = [np.zeros_like(w_xh), np.zeros_like(w_hh), np.zeros_like(b)]
    carried = np.zeros_like(h0)
    for t in reversed(range(len(xs))):
        dz = (upstream[t] + carried) * (1 - states[t] ** 2)
        previous = states[t - 1] if t else h0
        grads[0] += xs[t].T @ dz
        grads[1] += previous.T @ dz
        grads[2] += dz.sum(axis=0)
        carried = dz @ w_hh.T
    return grads + [carried]


def cell_with(module, g, inputs, hidden, long_memory=False):
    """A learner RNNCell whose weights are set to known random values (returned too).

    With long_memory, W_hh is a rotation: the state neither dies out nor explodes over many steps,
    so the first steps still matter to the gradient 60 steps later.
    """
    RNNCell = need(module, "RNNCell")
    Tensor = tensor_class()
    cell = RNNCell(inputs, hidden)
    expected = {"W_xh": (inputs, hidden), "W_hh": (hidden, hidden), "b": (hidden,)}
    values = []
    for name, shape in expected.items():
        param = getattr(cell, name, None)
        if param is None:
            fail("missing_attr", what="RNNCell", attr=name)
        expect_type(param, Tensor, f"RNNCell({inputs}, {hidden}).{name}")
        if np.shape(param.data) != shape:
            fail(
                "wrong_value",
                what=f"RNNCell({inputs}, {hidden}).{name}.data.shape",
                expected=str(shape),
                got=str(np.shape(param.data)),
                expr=f"cell = RNNCell({inputs}, {hidden})",
                given={},
            )
        value = g.normal(size=shape) / np.sqrt(shape[0])
        if long_memory:
            value = np.linalg.qr(g.normal(size=shape))[0] if name == "W_hh" else value * 0.5
        param.data = value.copy()
        values.append(value)
    return cell, values


# ---------------------------------------------------------------------------------------------


def test_cell_has_its_weights_and_computes_one_step(seed):
    module = rnn()
    Tensor = tensor_class()
    g = np.random.default_rng(seed)
    inputs, hidden, batch = int(g.integers(1, 4)), int(g.integers(2, 6)), int(g.integers(1, 4))
    cell, (w_xh, w_hh, b) = cell_with(module, g, inputs, hidden)
    listed = cell.parameters()
    if sorted(map(id, listed)) != sorted(map(id, (cell.W_xh, cell.W_hh, cell.b))):
        fail_with(
            Msg(
                en="cell.parameters() should be exactly [W_xh, W_hh, b], the cell's own Tensors",
                ko="cell.parameters()는 셀이 가진 Tensor 그대로 [W_xh, W_hh, b] 여야 합니다",
            )
        )
    x, h = g.normal(size=(batch, inputs)), g.normal(size=(batch, hidden))
    wanted = np.tanh(x @ w_xh + h @ w_hh + b)
    given = {"x": f"shape {x.shape}", "h": f"shape {h.shape}"}
    for expr, x_value in (("h_new = cell(x, h)   (x: a numpy array)", x), ("h_new = cell(Tensor(x), h)", Tensor(x))):
        out = cell(x_value, Tensor(h))
        expect_type(out, Tensor, expr)
        expect_array(
            out.data,
            wanted,
            "h_new.data",
            expr=expr + ", h_new = tanh(x @ W_xh + h @ W_hh + b)",
            given=given,
            strict=False,
        )


def test_cell_starts_with_small_random_weights(seed):
    RNNCell = need(rnn(), "RNNCell")
    Tensor = tensor_class()
    cell = RNNCell(100, 50)
    for name, shape in (("W_xh", (100, 50)), ("W_hh", (50, 50))):
        param = getattr(cell, name, None)
        if param is None:
            fail("missing_attr", what="RNNCell", attr=name)
        expect_type(param, Tensor, f"RNNCell(100, 50).{name}")
        values = np.asarray(param.data, dtype=np.float64)
        if values.shape != shape or not np.all(np.isfinite(values)) or len(np.unique(values)) < 100:
            fail_with(
                Msg(
                    en="RNNCell(100, 50).{name} should start as {shape} different random numbers",
                    ko="RNNCell(100, 50).{name:은} 서로 다른 무작위 수 {shape} 개로 시작해야 합니다",
                ),
                name=name,
                shape=f"{shape[0]} x {shape[1]}",
            )
        if not (0.001 <= values.std() <= 2.0 and abs(values.mean()) <= 0.5):
            fail_with(
                Msg(
                    en="RNNCell(100, 50).{name} starts with mean {mean} and standard deviation {std}: keep "
                    "the weights small and around zero (for example normal with deviation 1/sqrt(fan-in)), "
                    "or the state saturates or explodes along the sequence",
                    ko="RNNCell(100, 50).{name}의 처음 평균이 {mean}, 표준편차가 {std}입니다. 가중치는 0 "
                    "근처의 작은 값으로 두세요(예: 표준편차 1/sqrt(fan-in) 인 정규분포). 그렇지 않으면 "
                    "시퀀스를 따라가며 상태가 포화되거나 폭발합니다",
                ),
                name=name,
                mean=round(float(values.mean()), 4),
                std=round(float(values.std()), 4),
            )


def test_unroll_returns_every_state_and_starts_from_zeros(seed):
    module = rnn()
    unroll = need(module, "unroll")
    Tensor = tensor_class()
    g = np.random.default_rng(seed)
    steps, batch, inputs, hidden = int(g.integers(3, 7)), 3, 2, 4
    cell, (w_xh, w_hh, b) = cell_with(module, g, inputs, hidden)
    xs = g.normal(size=(steps, batch, inputs))
    h0 = g.normal(size=(batch, hidden))
    for expr, states, start in (
        ("states = unroll(cell, xs, h0)", unroll(cell, xs, Tensor(h0)), h0),
        ("states = unroll(cell, xs)   (h starts at zeros)", unroll(cell, xs), np.zeros((batch, hidden))),
    ):
        wanted = run_np(w_xh, w_hh, b, start, xs)
        if type(states) is not list or len(states) != steps:
            fail(
                "wrong_value",
                what="states",
                expected=f"a list of {steps} Tensors",
                got=states,
                expr=expr,
                given={"xs": f"shape {xs.shape}"},
            )
        for t, (state, value) in enumerate(zip(states, wanted, strict=False)):
            expect_type(state, Tensor, f"states[{t}]")
            expect_array(
                state.data, value, f"states[{t}].data", expr=expr, given={"xs": f"shape {xs.shape}"}, strict=False
            )


def check_sequence(module, g, steps, expr, exact):
    unroll = need(module, "unroll")
    Tensor = tensor_class()
    batch, inputs, hidden = 2, 2, 3
    cell, (w_xh, w_hh, b) = cell_with(module, g, inputs, hidden, long_memory=exact)
    xs = g.normal(size=(steps, batch, inputs)) * (0.3 if exact else 1.0)
    h0 = g.normal(size=(batch, hidden)) * 0.5
    upstream = g.normal(size=(steps, batch, hidden))
    if exact:
        upstream[:-1] *= 0.1  # most of the signal has to come all the way from the last step
    start = Tensor(h0.copy())
    states = unroll(cell, xs, start)
    loss = (states[0] * upstream[0]).sum()
    for state, weight in zip(states[1:], upstream[1:], strict=False):
        loss = loss + (state * weight).sum()
    loss.backward()
    if exact:
        wanted = bptt_np(w_xh, w_hh, b, h0, xs, upstream)
    else:
        wanted = numeric_grads(
            lambda p, q, r, s: float(sum(np.sum(h * u) for h, u in zip(run_np(p, q, r, s, xs), upstream, strict=True))),
            [w_xh, w_hh, b, h0],
        )
    given = {"xs": f"shape {xs.shape}", "h0": f"shape {h0.shape}", "hidden size": hidden}
    for tensor, grad, name in zip(
        (cell.W_xh, cell.W_hh, cell.b, start), wanted, ("W_xh", "W_hh", "b", "h0"), strict=True
    ):
        expect_grad(
            tensor,
            grad,
            name,
            expr=expr,
            given=given,
            tol=1e-7 if exact else ARRAY_GRAD_TOL,
            ops=("RNNCell.__call__", "unroll"),
            strict=False,
            expected_from="formula" if exact else "numerical",
        )


def test_gradients_through_a_short_sequence(seed):
    g = np.random.default_rng(seed)
    steps = int(g.integers(3, 6))
    check_sequence(
        rnn(),
        g,
        steps,
        f"states = unroll(cell, xs, h0) over {steps} steps; "
        "loss = sum over t of (states[t] * g[t]).sum(); loss.backward()",
        exact=False,
    )


def test_backpropagation_through_60_steps(seed):
    g = np.random.default_rng(seed)
    check_sequence(
        rnn(),
        g,
        60,
        "states = unroll(cell, xs, h0) over 60 steps; loss = sum over t of (states[t] * g[t]).sum(); loss.backward()",
        exact=True,
    )


def test_sine_predictor_reads_out_every_step(seed):
    module = rnn()
    SinePredictor = need(module, "SinePredictor")
    Tensor = tensor_class()
    g = np.random.default_rng(seed)
    hidden, steps, batch = int(g.integers(3, 7)), int(g.integers(3, 6)), 2
    model = SinePredictor(hidden_size=hidden)
    expr = f"model = SinePredictor(hidden_size={hidden})"
    cell = need_attr(model, "cell", "SinePredictor")
    params = {
        "cell.W_xh": (cell, "W_xh", (1, hidden)),
        "cell.W_hh": (cell, "W_hh", (hidden, hidden)),
        "cell.b": (cell, "b", (hidden,)),
        "W_hy": (model, "W_hy", (hidden, 1)),
        "b_y": (model, "b_y", (1,)),
    }
    values = {}
    for label, (owner, attr, shape) in params.items():
        param = need_attr(owner, attr, "SinePredictor" if owner is model else "RNNCell")
        expect_type(param, Tensor, f"model.{label}")
        if np.shape(param.data) != shape:
            fail(
                "wrong_value",
                what=f"model.{label}.data.shape",
                expected=str(shape),
                got=str(np.shape(param.data)),
                expr=expr,
                given={},
            )
        values[label] = g.normal(size=shape) * 0.7
        param.data = values[label].copy()
    wanted_ids = sorted(id(getattr(owner, attr)) for owner, attr, _ in params.values())
    if sorted(map(id, model.parameters())) != wanted_ids:
        fail_with(
            Msg(
                en="model.parameters() should hold the cell's W_xh, W_hh and b, and W_hy and b_y ({expr})",
                ko="model.parameters()는 셀의 W_xh, W_hh, b와 W_hy, b_y를 담아야 합니다 ({expr})",
            ),
            expr=expr,
        )

    def guesses_np(w_xh, w_hh, b, w_hy, b_y, xs):
        states = run_np(w_xh, w_hh, b, np.zeros((xs.shape[1], hidden)), xs[:, :, None])
        return [h @ w_hy + b_y for h in states]

    waves = g.uniform(-1, 1, (steps + 1, batch))
    given = {"xs": f"shape {waves[:-1].shape}", "hidden size": hidden}
    outs = model(waves[:-1].copy())
    wanted = guesses_np(*values.values(), waves[:-1])
    if type(outs) is not list or len(outs) != steps:
        fail("wrong_value", what="model(xs)", expected=f"a list of {steps} Tensors", got=outs, expr=expr, given=given)
    for t, (out, value) in enumerate(zip(outs, wanted, strict=True)):
        expect_type(out, Tensor, f"model(xs)[{t}]")
        expect_array(out.data, value, f"model(xs)[{t}].data", expr="h_t @ W_hy + b_y", given=given, strict=False)
    guesses = model.predict(waves[:-1].copy())
    expect_array(
        guesses,
        np.stack([v[:, 0] for v in wanted]),
        "model.predict(xs)",
        expr="one row per step",
        given=given,
        strict=False,
    )

    def loss_np(*arrays):
        return float(
            np.mean(
                [
                    np.mean((out - target[:, None]) ** 2)
                    for out, target in zip(guesses_np(*arrays, waves[:-1]), waves[1:], strict=True)
                ]
            )
        )

    loss = model.loss(waves.copy())
    expr = "loss = model.loss(waves); loss.backward()   (the mean over the steps of each step's squared error)"
    expect_type(loss, Tensor, "model.loss(waves)")
    expect_array(np.asarray(loss.data), loss_np(*values.values()), "loss.data", expr=expr, given=given, strict=False)
    loss.backward()
    numeric = numeric_grads(loss_np, list(values.values()))
    for (label, (owner, attr, _)), grad in zip(params.items(), numeric, strict=True):
        expect_grad(
            getattr(owner, attr),
            grad,
            label,
            expr=expr,
            given=given,
            ops=("SinePredictor.loss", "SinePredictor.__call__"),
            strict=False,
            expected_from="numerical",
        )


def sine_waves(n, steps, rng):
    """The course's sine waves (the same generator as sine_waves in exercises/rnn.py)."""
    frequency = rng.uniform(0.1, 0.6, n)
    phase = rng.uniform(0, 2 * np.pi, n)
    return np.sin(np.arange(steps)[:, None] * frequency + phase)


def next_sample_error(predict, waves, expr):
    """predict(waves[:-1])'s mean squared error on waves[1:] from step WARM_UP on, and the guesses."""
    guesses = predict(waves[:-1].copy())
    if type(guesses) is not np.ndarray or guesses.shape != waves[:-1].shape:
        fail(
            "wrong_value",
            what="predict(xs)",
            expected=f"a numpy array of shape {waves[:-1].shape}",
            got=guesses,
            expr=expr,
            given={},
        )
    return float(np.mean((guesses[WARM_UP:] - waves[1:][WARM_UP:]) ** 2)), guesses


def expect_trained(steps, predict, waves, g):
    """The model train_rnn trained is where its training left it, sampled steps were its loss on
    their waves, with its gradients, and predict's guesses come from that training."""
    if not steps:
        not_trained(
            "train_rnn",
            Msg(
                en="backward() never ran on a SinePredictor's loss (model.loss(waves))",
                ko="SinePredictor의 손실(model.loss(waves))에 backward()가 한 번도 불리지 않았습니다",
            ),
        )
    model = steps[-1].model
    steps = [step for step in steps if step.model is model]
    expect_updates_follow_a_rule("train_rnn", steps, [np.array(p.data) for p in model_parameters(model)])
    for k in sampled_steps(len(steps), g):
        step = steps[k]
        with ParametersSetTo(model, step.params) as params:
            loss = model.loss(step.inputs.copy())
            expect_step_loss(
                "train_rnn",
                k,
                step.loss,
                float(np.asarray(loss.data)),
                Msg(en="model.loss of that step's waves", ko="그 스텝의 파형에 대한 model.loss"),
            )
            loss.backward()
            expect_step_grads("train_rnn", k, step, [p.grad for p in params])
    with ParametersSetTo(model, steps[0].params):
        start, _ = next_sample_error(predict, waves, "predict(xs)")
    if start < MSE_LIMIT:
        not_trained(
            "train_rnn",
            Msg(
                en="with the trained model's parameters set back to where its training started, predict's "
                "error is still {error}: its guesses do not come from the training",
                ko="학습한 모델의 파라미터를 학습을 시작할 때로 되돌려도 predict의 오차가 {error}입니다. "
                "예측이 학습에서 나오지 않습니다",
            ),
            error=round(start, 5),
        )


def test_rnn_learns_to_continue_sine_waves(seed):
    module = rnn()
    train_rnn, SinePredictor = need(module, "train_rnn"), need(module, "SinePredictor")
    g = np.random.default_rng(seed)
    with TrainingWatch(tensor_class(), SinePredictor, "loss") as watch:
        predict = train_rnn(seed=seed)
    waves = sine_waves(64, 51, g)
    inputs = waves[:-1].copy()
    expr = "predict = train_rnn(seed); predict(xs) for 64 new waves of 50 steps, xs of shape (50, 64)"
    error, guesses = next_sample_error(predict, waves, expr)
    if not error < MSE_LIMIT:
        fail_with(
            Msg(en="after train_rnn the mean squared error of the next-sample guesses on new waves (from step "
                "{warm_up} on) is {error}; it must be below {limit}",
                ko="train_rnn 뒤 새 파형에서 다음 값 예측의 평균 제곱 오차가 ({warm_up} 번째 스텝부터) "
                "{error}입니다. {limit}보다 작아야 합니다"),
            warm_up=WARM_UP, error=round(error, 5), limit=MSE_LIMIT,
        )  # fmt: skip
    cut = int(g.integers(15, 40))
    changed = inputs.copy()
    changed[cut:] = g.uniform(-1, 1, changed[cut:].shape)
    again = np.asarray(predict(changed), dtype=np.float64)
    if not np.allclose(again[:cut], guesses[:cut], rtol=1e-9, atol=1e-9):
        fail_with(
            Msg(en="predict(xs)[t] must use only xs[0..t]: changing xs from step {cut} on changed earlier guesses",
                ko="predict(xs)[t]는 xs[0..t]만 써야 합니다. {cut} 번째 스텝부터 xs를 바꿨더니 그 앞의 예측이 "
                "바뀌었습니다"),
            cut=cut,
        )  # fmt: skip
    expect_trained(watch.steps, predict, waves, g)
