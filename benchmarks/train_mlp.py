"""Training throughput of shapenn against its peers, all measured in one run.

The task: a 784-128-128-10 ReLU MLP with softmax cross-entropy and Adam (lr 0.001) on
synthetic data of Fashion-MNIST's shape (float32 pixels in [0, 1], 10 classes). For each batch
size, every implementation trains ``--epochs`` (at least 4) measured epochs, one per round,
each after a warm-up epoch, in blocks: shapenn with checks on and off share one and take
turns epoch by epoch, every other implementation has its own; the order reverses every other
round (what one library's threads leave running falls on a warm-up, and a slow spell of the
machine stretches the epochs of one round, whose ratios it leaves alone). Some stalls —
float32 subnormals in Adam's state — appear only after the first epoch or two. The figure is
the median samples/s of the measured epochs; each ratio, the median of the ratios of the
epochs timed in the same round.

- shapenn, checks on (the default) and off;
- the book's code in plain NumPy, float32 end to end — what ``nnfs.init()`` gives the book's
  readers — with plain float32 ``np.dot`` (``nnfs.init`` also routes ``np.dot`` through float64,
  which would only slow the baseline down);
- PyTorch on the CPU, with its own thread setting (skipped if not installed);
- a ceiling: only the step's matrix products, into preallocated arrays, in this process: what
  any NumPy implementation of this network could reach at most.

Peak memory: for shapenn (checks on), the book's code and PyTorch, each in a fresh process, how
far resident memory rises while training two epochs above what the process held before.

Run:  python benchmarks/train_mlp.py               (about three minutes on 2 cores)
      python benchmarks/train_mlp.py --markdown    (the table for docs/benchmarks.md)
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
FEATURES, HIDDEN, CLASSES = 784, 128, 10
F32 = np.float32


def synthetic(samples: int, seed: int = 0) -> tuple[Array, Array]:
    """Images of Fashion-MNIST's shape whose class depends on the pixels (so it is learnable)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, CLASSES, samples)
    prototypes = rng.random((CLASSES, FEATURES), dtype=F32)
    X = 0.5 * prototypes[y] + 0.5 * rng.random((samples, FEATURES), dtype=F32)
    return X.astype(F32), y.astype(np.int64)


# --- shapenn ---------------------------------------------------------------------------------


def shapenn_model() -> sn.Model:
    return sn.Model(
        [
            sn.Dense(FEATURES, HIDDEN, seed=0),
            sn.ReLU(),
            sn.Dense(HIDDEN, HIDDEN, seed=1),
            sn.ReLU(),
            sn.Dense(HIDDEN, CLASSES, seed=2),
            sn.Softmax(),
        ],
        loss=sn.CategoricalCrossentropy(),
        optimizer=sn.Adam(learning_rate=0.001),
        metric=sn.CategoricalAccuracy(),
    )


def shapenn_epoch(X: Array, y: Array, batch: int, model: sn.Model) -> Callable[[], None]:
    def run() -> None:
        model.fit(X, y, epochs=1, batch_size=batch, seed=0, verbose=0)

    return run


# --- the book's way, in plain NumPy, float32 ---------------------------------------------------


class BookDense:
    def __init__(self, n_inputs: int, n_neurons: int, rng: np.random.Generator) -> None:
        self.weights = (0.01 * rng.standard_normal((n_inputs, n_neurons))).astype(F32)
        self.biases = np.zeros((1, n_neurons), dtype=F32)
        self.weight_momentums = np.zeros_like(self.weights)
        self.weight_cache = np.zeros_like(self.weights)
        self.bias_momentums = np.zeros_like(self.biases)
        self.bias_cache = np.zeros_like(self.biases)

    def forward(self, inputs: Array) -> None:
        self.inputs = inputs
        self.output = np.dot(inputs, self.weights) + self.biases

    def backward(self, dvalues: Array) -> None:
        self.dweights = np.dot(self.inputs.T, dvalues)
        self.dbiases = np.sum(dvalues, axis=0, keepdims=True)
        self.dinputs = np.dot(dvalues, self.weights.T)


class BookReLU:
    def forward(self, inputs: Array) -> None:
        self.inputs = inputs
        self.output = np.maximum(0, inputs)

    def backward(self, dvalues: Array) -> None:
        self.dinputs = dvalues.copy()
        self.dinputs[self.inputs <= 0] = 0


class BookSoftmaxCrossentropy:
    def forward(self, inputs: Array, y_true: Array) -> float:
        exp = np.exp(inputs - np.max(inputs, axis=1, keepdims=True))
        self.output = exp / np.sum(exp, axis=1, keepdims=True)
        clipped = np.clip(self.output, 1e-7, 1 - 1e-7)
        return float(np.mean(-np.log(clipped[range(len(y_true)), y_true])))

    def backward(self, dvalues: Array, y_true: Array) -> None:
        samples = len(dvalues)
        self.dinputs = dvalues.copy()
        self.dinputs[range(samples), y_true] -= 1
        self.dinputs = self.dinputs / samples


class BookAdam:
    def __init__(self, learning_rate: float = 0.001) -> None:
        self.learning_rate, self.iterations = learning_rate, 0
        self.beta_1, self.beta_2, self.epsilon = 0.9, 0.999, 1e-7

    def update_params(self, layer: BookDense) -> None:
        b1, b2, t = self.beta_1, self.beta_2, self.iterations + 1
        layer.weight_momentums = b1 * layer.weight_momentums + (1 - b1) * layer.dweights
        layer.bias_momentums = b1 * layer.bias_momentums + (1 - b1) * layer.dbiases
        weight_momentums_corrected = layer.weight_momentums / (1 - b1**t)
        bias_momentums_corrected = layer.bias_momentums / (1 - b1**t)
        layer.weight_cache = b2 * layer.weight_cache + (1 - b2) * layer.dweights**2
        layer.bias_cache = b2 * layer.bias_cache + (1 - b2) * layer.dbiases**2
        weight_cache_corrected = layer.weight_cache / (1 - b2**t)
        bias_cache_corrected = layer.bias_cache / (1 - b2**t)
        layer.weights += (
            -self.learning_rate
            * weight_momentums_corrected
            / (np.sqrt(weight_cache_corrected) + self.epsilon)
        )
        layer.biases += (
            -self.learning_rate
            * bias_momentums_corrected
            / (np.sqrt(bias_cache_corrected) + self.epsilon)
        )


def book_epoch(X: Array, y: Array, batch: int) -> tuple[Callable[[], None], Callable[[], float]]:
    """The book's training loop for one epoch, and the subnormal share of its Adam state."""
    rng = np.random.default_rng(0)
    dense1, dense2, dense3 = (
        BookDense(FEATURES, HIDDEN, rng),
        BookDense(HIDDEN, HIDDEN, rng),
        BookDense(HIDDEN, CLASSES, rng),
    )
    relu1, relu2 = BookReLU(), BookReLU()
    head = BookSoftmaxCrossentropy()
    optimizer = BookAdam()

    def run() -> None:
        for start in range(0, len(X), batch):
            batch_X, batch_y = X[start : start + batch], y[start : start + batch]
            dense1.forward(batch_X)
            relu1.forward(dense1.output)
            dense2.forward(relu1.output)
            relu2.forward(dense2.output)
            dense3.forward(relu2.output)
            head.forward(dense3.output, batch_y)
            np.mean(np.argmax(head.output, axis=1) == batch_y)  # the book's accuracy
            head.backward(head.output, batch_y)
            dense3.backward(head.dinputs)
            relu2.backward(dense3.dinputs)
            dense2.backward(relu2.dinputs)
            relu1.backward(dense2.dinputs)
            dense1.backward(relu1.dinputs)
            for layer in (dense1, dense2, dense3):
                optimizer.update_params(layer)
            optimizer.iterations += 1

    def state() -> float:
        return subnormal_share(
            [
                array
                for layer in (dense1, dense2, dense3)
                for array in (
                    layer.weight_momentums,
                    layer.weight_cache,
                    layer.bias_momentums,
                    layer.bias_cache,
                )
            ]
        )

    return run, state


# --- PyTorch and the ceiling -------------------------------------------------------------------


def torch_epoch(
    X: Array, y: Array, batch: int
) -> tuple[Callable[[], None], Callable[[], float]] | None:
    """PyTorch's training loop for one epoch, and the subnormal share of its Adam state."""
    try:
        import torch
    except ImportError:
        return None
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Linear(FEATURES, HIDDEN),
        torch.nn.ReLU(),
        torch.nn.Linear(HIDDEN, HIDDEN),
        torch.nn.ReLU(),
        torch.nn.Linear(HIDDEN, CLASSES),
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

    def state() -> float:
        return subnormal_share(
            [
                tensor.numpy()
                for fields in optimizer.state.values()
                for tensor in fields.values()
                if tensor.dim() > 0
            ]
        )

    return run, state


def ceiling_epoch(X: Array, batch: int) -> Callable[[], None]:
    """Only the step's matrix products — three forward, five backward (the first layer needs
    no input gradient) — into preallocated arrays: nothing else of a step is done."""
    rng = np.random.default_rng(0)
    w1, w2, w3 = (
        rng.standard_normal(shape).astype(F32)
        for shape in ((FEATURES, HIDDEN), (HIDDEN, HIDDEN), (HIDDEN, CLASSES))
    )
    h1, h2 = np.empty((batch, HIDDEN), F32), np.empty((batch, HIDDEN), F32)
    out, d3 = np.empty((batch, CLASSES), F32), np.ones((batch, CLASSES), F32)
    d2, d1 = np.empty((batch, HIDDEN), F32), np.empty((batch, HIDDEN), F32)
    g1, g2, g3 = np.empty_like(w1), np.empty_like(w2), np.empty_like(w3)
    full = len(X) // batch * batch

    def run() -> None:
        for start in range(0, full, batch):
            x = X[start : start + batch]
            np.matmul(x, w1, out=h1)
            np.matmul(h1, w2, out=h2)
            np.matmul(h2, w3, out=out)
            np.matmul(h2.T, d3, out=g3)
            np.matmul(d3, w3.T, out=d2)
            np.matmul(h1.T, d2, out=g2)
            np.matmul(d2, w2.T, out=d1)
            np.matmul(x.T, d1, out=g1)

    return run


# --- report ------------------------------------------------------------------------------------


def subnormal_share(arrays: list[Array]) -> float:
    """The fraction of the values in ``arrays`` (an optimizer's state) that is subnormal."""
    tiny = np.finfo(F32).tiny
    total = sum(a.size for a in arrays)
    return sum(int(np.count_nonzero((np.abs(a) < tiny) & (a != 0))) for a in arrays) / total


def implementations(
    X: Array, y: Array, batch: int
) -> dict[str, tuple[Callable[[], None], Callable[[], float] | None]]:
    """Each implementation's epoch at ``batch``, and the subnormal share of its state."""
    found: dict[str, tuple[Callable[[], None], Callable[[], float] | None]] = {}
    for name, checks in (("shapenn (checks on)", True), ("shapenn (checks off)", False)):
        found[name] = shapenn_run(X, y, batch, checks)
    found["book-style NumPy, float32"] = book_epoch(X, y, batch)
    torch_run = torch_epoch(X, y, batch)
    if torch_run is not None:
        found["PyTorch CPU"] = torch_run
    found["matmul-only ceiling"] = (ceiling_epoch(X, batch), None)
    return found


def shapenn_run(
    X: Array, y: Array, batch: int, checks: bool
) -> tuple[Callable[[], None], Callable[[], float]]:
    model = shapenn_model()
    epoch = shapenn_epoch(X, y, batch, model)

    def run() -> None:
        with sn.checks(checks):
            epoch()

    def state() -> float:
        assert model.optimizer is not None
        return subnormal_share([a for fields in model.optimizer.state.values() for a in fields])

    return run, state


PEAKS = ["shapenn (checks on)", "book-style NumPy, float32", "PyTorch CPU"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--samples", type=int, default=60000, help="training samples (Fashion-MNIST has 60000)"
    )
    parser.add_argument("--epochs", type=int, default=4, help="measured epochs (at least 4)")
    parser.add_argument("--batches", type=int, nargs="+", default=[32, 128, 512])
    parser.add_argument("--markdown", action="store_true", help="print a markdown table")
    memory_options(parser)
    args = parser.parse_args()
    epochs = max(4, args.epochs)
    X, y = synthetic(args.samples)
    if args.peak_of is not None:
        run, _ = implementations(X, y, args.batches[0])[args.peak_of]
        print(json.dumps(training_peak(run)))
        return
    print(environment())
    print(f"784-128-128-10 MLP, Adam, {args.samples} samples; {how_timed(epochs, 'epoch')}\n")
    rows: list[tuple[int, str, float, float, float | None, float, float | None, int | None]] = []
    ratios: dict[int, float] = {}
    for batch in args.batches:
        found = implementations(X, y, batch)
        times = take_turns({name: run for name, (run, _) in found.items()}, epochs)
        rate = {name: args.samples / spent for name, spent in medians(times).items()}
        share = {name: state() for name, (_, state) in found.items() if state is not None}
        peaks: dict[str, int | None] = {}
        if not args.no_memory:
            common = ["--samples", str(args.samples), "--batches", str(batch)]
            peaks = peaks_in_children(__file__, [n for n in PEAKS if n in found], common)
        book, torch, ceiling = "book-style NumPy, float32", "PyTorch CPU", "matmul-only ceiling"
        for name, value in rate.items():
            versus_torch = speedup(times, name, torch) if torch in times else None
            rows.append(
                (batch, name, value, speedup(times, name, book), versus_torch,
                 speedup(times, name, ceiling), share.get(name), peaks.get(name))
            )  # fmt: skip
        ratios[batch] = speedup(times, "shapenn (checks on)", "shapenn (checks off)")
    if args.markdown:
        print(
            "| batch | implementation | samples/s | vs book | vs PyTorch | of ceiling "
            "| subnormal state | peak MiB |"
        )
        print("|---:|---|---:|---:|---:|---:|---:|---:|")
    else:
        header = (
            f"{'batch':>5}  {'implementation':<26} {'samples/s':>10}  {'vs book':>7}  "
            f"{'vs torch':>8}  {'of ceiling':>10}  {'subnormal state':>15}  {'peak MiB':>8}"
        )
        print(header)
        print("-" * len(header))
    for batch, name, value, book_ratio, torch_ratio, ceiling_ratio, sub, peak in rows:
        shown = f"{torch_ratio:.2f}" if torch_ratio is not None else "-"
        subnormal = f"{sub:.1%}" if sub is not None else "-"
        memory = f"{peak / MiB:.1f}" if peak is not None else "-"
        if args.markdown:
            print(
                f"| {batch} | {name} | {value:,.0f} | {book_ratio:.2f} | {shown} | "
                f"{ceiling_ratio:.2f} | {subnormal} | {memory} |"
            )
        else:
            print(
                f"{batch:>5}  {name:<26} {value:>10,.0f}  {book_ratio:7.2f}  {shown:>8}  "
                f"{ceiling_ratio:10.2f}  {subnormal:>15}  {memory:>8}"
            )
    print()
    print(
        "checks on / off: "
        + ", ".join(f"{ratios[batch]:.2f} at batch {batch}" for batch in args.batches)
    )
    print(
        f"subnormal state: the share of the optimizer's state values that are subnormal after "
        f"{epochs + 1} epochs (float32 arithmetic on them is up to 100x slower)"
    )
    if not args.no_memory:
        print(PEAK_NOTE)


if __name__ == "__main__":
    main()
