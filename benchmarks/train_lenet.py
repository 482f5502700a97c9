"""Training throughput of a LeNet-style CNN in shapenn against PyTorch, measured in one run.

The task: conv 1→6 (5×5) → ReLU → 2×2 max pool → conv 6→16 (5×5) → ReLU → 2×2 max pool →
flatten (256) → dense 120 → ReLU → dense 10 → softmax cross-entropy, Adam (lr 0.001), on
synthetic 1×28×28 images of MNIST's size, at batch 64. Each implementation trains ``--epochs``
(at least 4) measured epochs, each after a warm-up one; the figure is the median samples/s,
each ratio the median of the ratios of the epochs timed in the same round.

- shapenn, checks on (the default) and off;
- PyTorch on the CPU, with its own thread setting (skipped if not installed);
- a ceiling: only the step's matrix products — each convolution's im2col product forward,
  its weight and input gradients backward (none for the first layer's input), and the dense
  layers' — into preallocated arrays: what an im2col implementation could reach at most.

shapenn with checks on and off share a block and take turns epoch by epoch; PyTorch and the
ceiling have blocks of their own; each block is a warm-up epoch of each of its runs, then a
timed one, and there is a round of blocks per measured epoch, the order reversed every other
round: what one library's threads leave running falls on a warm-up, and a slow spell of the
machine stretches the epochs of one round, whose ratios it leaves alone. Peak memory: for
shapenn (checks on) and PyTorch, each in a fresh process, how far resident memory rises while
training two epochs above what the process held before.

Run:  python benchmarks/train_lenet.py               (about two minutes on 2 cores)
      python benchmarks/train_lenet.py --markdown    (the table for docs/benchmarks.md)
"""

import argparse
import json
from collections.abc import Callable
from typing import Any

import numpy as np
from _common import (
    PEAK_NOTE,
    MiB,
    environment,
    how_timed,
    medians,
    memory_options,
    peaks_in_children,
    speedup,
    take_turns,
    training_peak,
)

import shapenn as sn

Array = np.ndarray[Any, np.dtype[Any]]
F32 = np.float32
CLASSES = 10


def synthetic(samples: int, seed: int = 0) -> tuple[Array, Array]:
    """28×28 one-channel images whose class depends on the pixels (so it is learnable)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, CLASSES, samples)
    prototypes = rng.random((CLASSES, 1, 28, 28), dtype=F32)
    X = 0.5 * prototypes[y] + 0.5 * rng.random((samples, 1, 28, 28), dtype=F32)
    return X.astype(F32), y.astype(np.int64)


def shapenn_model() -> sn.Model:
    return sn.Model(
        [
            sn.Conv2D(1, 6, 5, seed=0),
            sn.ReLU(),
            sn.MaxPool2D(2),
            sn.Conv2D(6, 16, 5, seed=1),
            sn.ReLU(),
            sn.MaxPool2D(2),
            sn.Flatten(),
            sn.Dense(256, 120, seed=2, weight_scale=float(np.sqrt(2 / 256))),
            sn.ReLU(),
            sn.Dense(120, CLASSES, seed=3, weight_scale=float(np.sqrt(1 / 120))),
            sn.Softmax(),
        ],
        loss=sn.CategoricalCrossentropy(),
        optimizer=sn.Adam(learning_rate=0.001),
        metric=sn.CategoricalAccuracy(),
        input_shape=(1, 28, 28),
    )


def shapenn_epoch(X: Array, y: Array, batch: int, model: sn.Model) -> Callable[[], None]:
    def run() -> None:
        model.fit(X, y, epochs=1, batch_size=batch, seed=0, verbose=0)

    return run


def torch_epoch(X: Array, y: Array, batch: int) -> Callable[[], None] | None:
    try:
        import torch
    except ImportError:
        return None
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(1, 6, 5),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(6, 16, 5),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Flatten(),
        torch.nn.Linear(256, 120),
        torch.nn.ReLU(),
        torch.nn.Linear(120, CLASSES),
    )
    optimizer = torch.optim.Adam(net.parameters(), lr=0.001, eps=1e-7)
    loss_fn = torch.nn.CrossEntropyLoss()
    inputs, targets = torch.from_numpy(X), torch.from_numpy(y)

    def run() -> None:
        order = torch.randperm(len(inputs))
        for start in range(0, len(inputs), batch):
            rows = order[start : start + batch]
            optimizer.zero_grad(set_to_none=True)
            logits = net(inputs[rows])
            loss = loss_fn(logits, targets[rows])
            loss.backward()
            optimizer.step()
            (logits.argmax(dim=1) == targets[rows]).float().mean()

    return run


def ceiling_epoch(X: Array, batch: int) -> Callable[[], None]:
    """Only the step's matrix products, into preallocated arrays: per convolution the im2col
    product forward and the weight (and, but for the first layer, the input) gradient
    products backward; per dense layer the same three as in an MLP."""
    rng = np.random.default_rng(0)

    def array(*shape: int) -> Array:
        return rng.random(shape, dtype=F32)

    # (rows of the im2col matrix, its columns, output channels) for both convolutions.
    convs = [(batch * 24 * 24, 25, 6, False), (batch * 8 * 8, 150, 16, True)]
    plan = []
    for rows, cols, out, needs_input in convs:
        plan.append((array(rows, cols), array(cols, out), array(rows, out), array(out, cols),
                     array(rows, cols) if needs_input else None))  # fmt: skip
    dense = [(256, 120), (120, CLASSES)]
    layers = [(array(batch, a), array(a, b), array(batch, b), array(a, b), array(batch, a))
              for a, b in dense]  # fmt: skip
    steps = len(X) // batch

    def run() -> None:
        for _ in range(steps):
            for cols, weights, out, dweights, dcols in plan:
                np.matmul(cols, weights, out=out)
                np.matmul(out.T, cols, out=dweights)
                if dcols is not None:
                    np.matmul(out, weights.T, out=dcols)
            for inputs, weights, out, dweights, dinputs in layers:
                np.matmul(inputs, weights, out=out)
                np.matmul(inputs.T, out, out=dweights)
                np.matmul(out, weights.T, out=dinputs)

    return run


def implementations(X: Array, y: Array, batch: int) -> dict[str, Callable[[], None]]:
    """Each implementation's epoch at ``batch``."""
    found: dict[str, Callable[[], None]] = {}
    for name, checks in (("shapenn (checks on)", True), ("shapenn (checks off)", False)):
        found[name] = shapenn_run(X, y, batch, checks)
    peer = torch_epoch(X, y, batch)
    if peer is not None:
        found["PyTorch CPU"] = peer
    found["matmul-only ceiling"] = ceiling_epoch(X, batch)
    return found


def shapenn_run(X: Array, y: Array, batch: int, checks: bool) -> Callable[[], None]:
    epoch = shapenn_epoch(X, y, batch, shapenn_model())

    def run() -> None:
        with sn.checks(checks):
            epoch()

    return run


PEAKS = ["shapenn (checks on)", "PyTorch CPU"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=10000)
    parser.add_argument("--epochs", type=int, default=4, help="measured epochs (at least 4)")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--markdown", action="store_true", help="print a markdown table")
    memory_options(parser)
    args = parser.parse_args()
    epochs = max(4, args.epochs)
    X, y = synthetic(args.samples)
    if args.peak_of is not None:
        print(json.dumps(training_peak(implementations(X, y, args.batch)[args.peak_of])))
        return
    print(environment())
    print(
        f"LeNet-style CNN, Adam, {args.samples} samples of 1×28×28, batch {args.batch}; "
        f"{how_timed(epochs, 'epoch')}\n"
    )
    found = implementations(X, y, args.batch)
    times = take_turns(found, epochs)
    rate = {name: args.samples / spent for name, spent in medians(times).items()}
    peaks: dict[str, int | None] = {}
    if not args.no_memory:
        common = ["--samples", str(args.samples), "--batch", str(args.batch)]
        peaks = peaks_in_children(__file__, [n for n in PEAKS if n in found], common)
    torch, ceiling = "PyTorch CPU", "matmul-only ceiling"
    if args.markdown:
        print("| implementation | samples/s | vs PyTorch | of ceiling | peak MiB |")
        print("|---|---:|---:|---:|---:|")
    for name, value in rate.items():
        versus = f"{speedup(times, name, torch):.2f}" if torch in times else "-"
        of_ceiling = speedup(times, name, ceiling)
        peak = peaks.get(name)
        memory = f"{peak / MiB:.1f}" if peak is not None else "-"
        if args.markdown:
            print(f"| {name} | {value:,.0f} | {versus} | {of_ceiling:.2f} | {memory} |")
        else:
            print(f"{name:<22} {value:>10,.0f} samples/s  {versus:>5} of PyTorch  "
                  f"{of_ceiling:5.2f} of ceiling  {memory:>6} peak MiB")  # fmt: skip
    checks = speedup(times, "shapenn (checks on)", "shapenn (checks off)")
    print(f"\nchecks on / off: {checks:.2f}")
    if not args.no_memory:
        print(PEAK_NOTE)


if __name__ == "__main__":
    main()
