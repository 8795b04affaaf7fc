"""Week 4 speed: the reference Tensor (solutions/tensor.py, solutions/cnn.py) against plain numpy.

Side by side in one run, each timing the median of several runs, the two sides alternating in
short blocks so that a busy machine slows both alike:

- one training step of an MLP 784-256-10 on a batch of 256 (forward, cross-entropy, backward,
  SGD update): the reference Tensor against the same step written directly in numpy with a
  hand-written backward pass. Bar: the Tensor step within 1.5x of numpy.
- conv2d forward plus backward (gradients of input, kernels and bias) on x (64, 8, 16, 16),
  w (16, 8, 3, 3), padding 1: the reference conv2d against a direct numpy im2col version.
  Bar: within 3x.

Both sides are first checked to compute the same numbers. Figures only, no assertions. BLAS
threads add noise on small products; OPENBLAS_NUM_THREADS=1 gives steadier figures.

    python benchmarks/week4_speed.py [--repeats 30]
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import statistics
import sys
import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions"

MLP_BAR = 1.5
BLOCK = 5
CONV_BAR = 3.0
BATCH = 256
LR = 0.01


def load_solutions() -> tuple[types.ModuleType, types.ModuleType]:
    """solutions/tensor.py and solutions/cnn.py, imported as a package under a fresh name."""
    name = "_week4_speed_solutions"
    spec = importlib.util.spec_from_file_location(
        name, SOLUTIONS / "__init__.py", submodule_search_locations=[str(SOLUTIONS)]
    )
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {SOLUTIONS}")
    package = importlib.util.module_from_spec(spec)
    sys.modules[name] = package
    spec.loader.exec_module(package)
    return importlib.import_module(f"{name}.tensor"), importlib.import_module(f"{name}.cnn")


def alternating_medians(first: Callable[[], Any], second: Callable[[], Any], repeats: int) -> tuple[float, float]:
    """Median seconds of each function, run in alternating blocks of a few calls after a warm-up.

    Blocks rather than strict alternation: the first call after the other function pays for
    memory the allocator has just handed back, and would make whichever runs first look slower.
    """
    first()
    second()
    times: tuple[list[float], list[float]] = ([], [])
    while len(times[1]) < repeats:
        for function, bucket in ((first, times[0]), (second, times[1])):
            for _ in range(min(BLOCK, repeats - len(bucket))):
                start = time.perf_counter()
                function()
                bucket.append(time.perf_counter() - start)
    return statistics.median(times[0]), statistics.median(times[1])


# ---------------------------------------------------------------------------------------------
# MLP 784-256-10, one SGD step


def mlp_setup(seed: int = 0) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(BATCH, 784))
    targets = rng.integers(0, 10, BATCH)
    params = [
        rng.normal(0, 784**-0.5, (784, 256)),
        np.zeros(256),
        rng.normal(0, 256**-0.5, (256, 10)),
        np.zeros(10),
    ]
    return x, targets, params


def numpy_step(x: np.ndarray, targets: np.ndarray, params: list[np.ndarray]) -> float:
    """Forward, cross-entropy, backward by hand, SGD update in place."""
    w1, b1, w2, b2 = params
    pre = x @ w1 + b1
    hidden = np.maximum(pre, 0)
    logits = hidden @ w2 + b2
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    rows = np.arange(len(targets))
    loss = -log_probs[rows, targets].mean()
    d_logits = np.exp(log_probs)
    d_logits[rows, targets] -= 1
    d_logits /= len(targets)
    d_hidden = d_logits @ w2.T
    d_pre = d_hidden * (pre > 0)
    grads = [x.T @ d_pre, d_pre.sum(axis=0), hidden.T @ d_logits, d_logits.sum(axis=0)]
    for p, g in zip(params, grads, strict=True):
        p -= LR * g
    return float(loss)


def tensor_step(tensor: types.ModuleType, x: Any, targets: np.ndarray, params: list[Any]) -> float:
    """The same step on the reference Tensor."""
    for p in params:
        p.grad = np.zeros_like(p.data)
    w1, b1, w2, b2 = params
    loss = tensor.cross_entropy((x @ w1 + b1).relu() @ w2 + b2, targets)
    loss.backward()
    for p in params:
        p.data -= LR * p.grad
    return float(loss.data)


def bench_mlp(tensor: types.ModuleType, repeats: int) -> float:
    x, targets, start = mlp_setup()
    plain = [p.copy() for p in start]
    tracked = [tensor.Tensor(p.copy()) for p in start]
    inputs = tensor.Tensor(x, requires_grad=False)
    loss_numpy = numpy_step(x, targets, plain)
    loss_tensor = tensor_step(tensor, inputs, targets, tracked)
    drift = max(float(np.abs(p.data - q).max()) for p, q in zip(tracked, plain, strict=True))
    print(
        f"MLP 784-256-10, batch {BATCH}: same loss {loss_numpy:.6f} / {loss_tensor:.6f}, "
        f"largest parameter difference after one step {drift:.1e}"
    )
    numpy_time, tensor_time = alternating_medians(
        lambda: numpy_step(x, targets, plain), lambda: tensor_step(tensor, inputs, targets, tracked), repeats
    )
    ratio = tensor_time / numpy_time
    print(f"  numpy by hand  {numpy_time * 1e3:8.2f} ms")
    print(f"  Tensor         {tensor_time * 1e3:8.2f} ms")
    print(f"  ratio          {ratio:8.2f}x   (bar: within {MLP_BAR}x: {'met' if ratio <= MLP_BAR else 'NOT met'})")
    return ratio


# ---------------------------------------------------------------------------------------------
# conv2d, forward and backward


def numpy_conv(
    x: np.ndarray, w: np.ndarray, b: np.ndarray, upstream: np.ndarray, padding: int
) -> tuple[np.ndarray, ...]:
    """im2col convolution and its backward pass, stride 1, straight on numpy arrays."""
    n, c, height, width = x.shape
    f, _, kh, kw = w.shape
    padded = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    windows = sliding_window_view(padded, (kh, kw), axis=(2, 3))
    oh, ow = windows.shape[2:4]
    cols = windows.transpose(0, 2, 3, 1, 4, 5).reshape(n * oh * ow, c * kh * kw)
    kernel = w.reshape(f, -1)
    out = (cols @ kernel.T + b).reshape(n, oh, ow, f).transpose(0, 3, 1, 2)
    grad = upstream.transpose(0, 2, 3, 1).reshape(-1, f)
    grad_w = (grad.T @ cols).reshape(w.shape)
    grad_b = grad.sum(axis=0)
    grad_windows = (grad @ kernel).reshape(n, oh, ow, c, kh, kw).transpose(0, 3, 1, 2, 4, 5)
    grad_padded = np.zeros_like(padded)
    for i in range(kh):
        for j in range(kw):
            grad_padded[:, :, i : i + oh, j : j + ow] += grad_windows[..., i, j]
    grad_x = grad_padded[:, :, padding : padding + height, padding : padding + width]
    return out, grad_x, grad_w, grad_b


def tensor_conv(
    tensor: types.ModuleType, cnn: types.ModuleType, arrays: list[np.ndarray], upstream: np.ndarray, padding: int
) -> tuple[np.ndarray, ...]:
    x, w, b = (tensor.Tensor(a) for a in arrays)
    out = cnn.conv2d(x, w, b, padding=padding)
    out.backward(upstream)
    return out.data, x.grad, w.grad, b.grad


def bench_conv(tensor: types.ModuleType, cnn: types.ModuleType, repeats: int) -> float:
    rng = np.random.default_rng(1)
    arrays = [rng.normal(size=(64, 8, 16, 16)), rng.normal(size=(16, 8, 3, 3)), rng.normal(size=16)]
    upstream = rng.normal(size=(64, 16, 16, 16))
    ours = tensor_conv(tensor, cnn, arrays, upstream, 1)
    plain = numpy_conv(*arrays, upstream, 1)
    drift = max(float(np.abs(a - b).max()) for a, b in zip(ours, plain, strict=True))
    print(f"conv2d x (64, 8, 16, 16), w (16, 8, 3, 3), padding 1, forward + backward: largest difference {drift:.1e}")
    numpy_time, tensor_time = alternating_medians(
        lambda: numpy_conv(*arrays, upstream, 1), lambda: tensor_conv(tensor, cnn, arrays, upstream, 1), repeats
    )
    ratio = tensor_time / numpy_time
    print(f"  numpy im2col   {numpy_time * 1e3:8.2f} ms")
    print(f"  conv2d         {tensor_time * 1e3:8.2f} ms")
    print(f"  ratio          {ratio:8.2f}x   (bar: within {CONV_BAR}x: {'met' if ratio <= CONV_BAR else 'NOT met'})")
    return ratio


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30, help="timed runs of each side")
    args = parser.parse_args(argv)
    tensor, cnn = load_solutions()
    print(f"week 4 speed, median of {args.repeats} runs each, in alternating blocks of {BLOCK}\n")
    mlp = bench_mlp(tensor, args.repeats)
    print()
    conv = bench_conv(tensor, cnn, args.repeats)
    print(f"\nbars: MLP {'met' if mlp <= MLP_BAR else 'NOT met'}, conv2d {'met' if conv <= CONV_BAR else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
