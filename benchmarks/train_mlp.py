"""Training throughput: shapenn (checks on and off) against a book-style NumPy network,
PyTorch on the CPU and scikit-learn's MLPClassifier, all measured in the same run.

The task: a 784-128-128-10 ReLU MLP with softmax cross-entropy and Adam (lr 0.001) on synthetic
data of Fashion-MNIST's shape (float32 pixels in [0, 1], 10 classes). For each batch size the
figure is the median samples/s over several epochs after a warm-up epoch. Peers that are not
installed are skipped. Also printed: the per-call cost of a checked kernel and the peak memory.

Run:  python benchmarks/train_mlp.py            (add --quick for a short smoke run)
"""

import argparse
import platform
import resource
import statistics
import time
import timeit
from collections.abc import Callable
from typing import Any

import numpy as np

import shapenn as sn

Array = np.ndarray[Any, np.dtype[Any]]
FEATURES, HIDDEN, CLASSES = 784, 128, 10


def synthetic(samples: int, seed: int = 0) -> tuple[Array, Array]:
    """Images of Fashion-MNIST's shape whose class depends on the pixels (so it is learnable)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, CLASSES, samples)
    prototypes = rng.random((CLASSES, FEATURES), dtype=np.float32)
    X = 0.5 * prototypes[y] + 0.5 * rng.random((samples, FEATURES), dtype=np.float32)
    return X.astype(np.float32), y.astype(np.int64)


def epochs_per_second(run_epoch: Callable[[], None], epochs: int) -> list[float]:
    run_epoch()  # warm-up: caches, allocations, BLAS threads
    times = []
    for _ in range(epochs):
        start = time.perf_counter()
        run_epoch()
        times.append(time.perf_counter() - start)
    return times


# --- shapenn ---------------------------------------------------------------------------------


def shapenn_epoch(X: Array, y: Array, batch: int) -> Callable[[], None]:
    model = sn.Model(
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
    return lambda: model.fit(X, y, epochs=1, batch_size=batch, seed=0, verbose=0) and None


# --- the book's way, in plain NumPy ----------------------------------------------------------


class BookDense:
    def __init__(self, n_inputs: int, n_neurons: int, rng: np.random.Generator) -> None:
        self.weights = 0.01 * rng.standard_normal((n_inputs, n_neurons))
        self.biases = np.zeros((1, n_neurons))
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


def book_epoch(X: Array, y: Array, batch: int) -> Callable[[], None]:
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

    return run


# --- peers -----------------------------------------------------------------------------------


def torch_epoch(X: Array, y: Array, batch: int) -> Callable[[], None] | None:
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

    return run


def sklearn_epoch(X: Array, y: Array, batch: int) -> Callable[[], None] | None:
    try:
        from sklearn.neural_network import MLPClassifier
    except ImportError:
        return None
    classifier = MLPClassifier(
        hidden_layer_sizes=(HIDDEN, HIDDEN), batch_size=batch, learning_rate_init=0.001
    )
    classes = np.arange(CLASSES)
    return lambda: classifier.partial_fit(X, y, classes=classes) and None


# --- report ----------------------------------------------------------------------------------


def checked_call_cost() -> tuple[float, float]:
    layer = sn.Dense(FEATURES, HIDDEN, seed=0)
    x = np.ones((1, FEATURES), np.float32)
    number = 20000
    on = min(timeit.repeat(lambda: layer.forward(x), number=number, repeat=5)) / number
    with sn.checks(False):
        off = min(timeit.repeat(lambda: layer.forward(x), number=number, repeat=5)) / number
    return on * 1e6, off * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=10000)
    parser.add_argument("--epochs", type=int, default=5, help="measured epochs per case")
    parser.add_argument("--batches", type=int, nargs="+", default=[32, 128, 512])
    parser.add_argument("--quick", action="store_true", help="1,000 samples, 2 epochs")
    args = parser.parse_args()
    if args.quick:
        args.samples, args.epochs = 1000, 2
    X, y = synthetic(args.samples)

    import sklearn
    import torch

    print(f"{time.strftime('%Y-%m-%d')}, {platform.processor() or platform.machine()}, ")
    print(
        f"Python {platform.python_version()}, NumPy {np.__version__}, shapenn {sn.__version__}, "
        f"PyTorch {torch.__version__} ({torch.get_num_threads()} threads), "
        f"scikit-learn {sklearn.__version__}"
    )
    print(f"784-128-128-10 MLP, Adam, {args.samples} samples, median of {args.epochs} epochs\n")
    on, off = checked_call_cost()
    print(f"Dense.forward per call: {on:.2f} µs checked, {off:.2f} µs unchecked\n")

    header = (
        f"{'batch':>5}  {'implementation':<22} {'samples/s':>10}  {'vs book':>7}  {'vs torch':>8}"
    )
    print(header)
    print("-" * len(header))
    for batch in args.batches:
        results: dict[str, float] = {}

        def measure(
            name: str, run: Callable[[], None] | None, results: dict[str, float] = results
        ) -> None:
            if run is None:
                return
            seconds = statistics.median(epochs_per_second(run, args.epochs))
            results[name] = args.samples / seconds

        measure("shapenn (checks on)", shapenn_epoch(X, y, batch))
        with sn.checks(False):
            measure("shapenn (checks off)", shapenn_epoch(X, y, batch))
        measure("book-style NumPy", book_epoch(X, y, batch))
        measure("PyTorch CPU", torch_epoch(X, y, batch))
        measure("scikit-learn MLP", sklearn_epoch(X, y, batch))
        book, peer = results["book-style NumPy"], results.get("PyTorch CPU")
        for name, rate in results.items():
            versus_torch = f"{rate / peer:8.2f}" if peer else f"{'-':>8}"
            print(f"{batch:>5}  {name:<22} {rate:>10,.0f}  {rate / book:7.2f}  {versus_torch}")
        ratio = results["shapenn (checks on)"] / results["shapenn (checks off)"]
        print(f"{'':>5}  checks on / off: {ratio:.2f}\n")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory of this run: {peak:.0f} MiB")


if __name__ == "__main__":
    main()
