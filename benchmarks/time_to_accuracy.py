"""Time to accuracy: shapenn with its defaults against PyTorch with its defaults, in one run.

Both train on the same 4000 of ``sn.datasets.mnist()``'s digits and are validated on the other
1000 after every epoch, in batches of 128 reshuffled each epoch, from each framework's default
initialization (shapenn: He-normal; PyTorch: ``nn.Linear``/``nn.Conv2d``'s own), for the same
epochs and seeds. The networks:

- 784-128-10 and 784-64-64-64-64-10 (ReLU, softmax cross-entropy), Adam (lr 0.001), and the
  deep one with SGD (lr 0.1);
- a small CNN: conv 1→8 (3×3) → ReLU → 2×2 max pool → flatten (1352) → dense 64 → ReLU →
  dense 10, Adam (lr 0.001).

For each network the target is 95 % of the best mean validation accuracy (over the seeds)
that either framework reaches; the table gives the epochs and seconds (training and the
per-epoch validation, mean over seeds) each needs to reach it, and the accuracy after the
whole budget.

Run:  python benchmarks/time_to_accuracy.py               (about half a minute on 2 cores)
      python benchmarks/time_to_accuracy.py --markdown    (the table for docs/benchmarks.md)
"""

import argparse
import itertools
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from _common import environment

import shapenn as sn

Array = np.ndarray[Any, np.dtype[Any]]
BATCH = 128


@dataclass
class Task:
    name: str
    sizes: list[int]  # an MLP's widths; empty for the CNN
    optimizer: str  # "adam" (lr 0.001) or "sgd" (lr 0.1)
    epochs: int


TASKS = [
    Task("784-128-10, Adam", [784, 128, 10], "adam", 15),
    Task("784-64×4-10, Adam", [784, 64, 64, 64, 64, 10], "adam", 15),
    Task("784-64×4-10, SGD 0.1", [784, 64, 64, 64, 64, 10], "sgd", 15),
    Task("CNN, Adam", [], "adam", 8),
]


def shapenn_curve(
    task: Task, data: tuple[Array, ...], seed: int
) -> tuple[list[float], list[float]]:
    """Validation accuracy and cumulative seconds after each epoch."""
    X, y, X_val, y_val = data
    layers: list[sn.Layer] = []
    if task.sizes:
        pairs = list(itertools.pairwise(task.sizes))
        for index, (a, b) in enumerate(pairs):
            layers += [sn.Dense(a, b, seed=seed * 100 + index), sn.ReLU()]
        layers[-1] = sn.Softmax()
    else:
        layers = [
            sn.Conv2D(1, 8, 3, seed=seed * 100),
            sn.ReLU(),
            sn.MaxPool2D(2),
            sn.Flatten(),
            sn.Dense(8 * 13 * 13, 64, seed=seed * 100 + 1),
            sn.ReLU(),
            sn.Dense(64, 10, seed=seed * 100 + 2),
            sn.Softmax(),
        ]
    optimizer: sn.Optimizer = (
        sn.Adam(learning_rate=1e-3) if task.optimizer == "adam" else sn.SGD(learning_rate=0.1)
    )
    model = sn.Model(
        layers,
        loss=sn.CategoricalCrossentropy(),
        optimizer=optimizer,
        metric=sn.CategoricalAccuracy(),
    )
    times: list[float] = []
    start = time.perf_counter()

    def clock(epoch: int, figures: dict[str, float]) -> None:
        times.append(time.perf_counter() - start)

    history = model.fit(
        X,
        y,
        epochs=task.epochs,
        batch_size=BATCH,
        validation_data=(X_val, y_val),
        seed=seed,
        verbose=0,
        callback=clock,
    )
    return history["val_accuracy"], times


def torch_curve(
    task: Task, data: tuple[Array, ...], seed: int
) -> tuple[list[float], list[float]] | None:
    try:
        import torch
    except ImportError:
        return None
    X_np, y_np, X_val_np, y_val_np = data
    torch.manual_seed(seed)
    nn = torch.nn
    if task.sizes:
        modules: list[Any] = []
        for a, b in itertools.pairwise(task.sizes):
            modules += [nn.Linear(a, b), nn.ReLU()]
        net = nn.Sequential(*modules[:-1])
    else:
        net = nn.Sequential(
            nn.Conv2d(1, 8, 3),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(8 * 13 * 13, 64),
            nn.ReLU(),
            nn.Linear(64, 10),
        )
    optimizer = (
        torch.optim.Adam(net.parameters(), lr=1e-3)
        if task.optimizer == "adam"
        else torch.optim.SGD(net.parameters(), lr=0.1)
    )
    X, y = torch.from_numpy(X_np), torch.from_numpy(y_np)
    X_val, y_val = torch.from_numpy(X_val_np), torch.from_numpy(y_val_np)
    generator = torch.Generator().manual_seed(seed)
    loss_fn = nn.CrossEntropyLoss()
    accuracies: list[float] = []
    times: list[float] = []
    start = time.perf_counter()
    for _ in range(task.epochs):
        net.train()
        order = torch.randperm(len(X), generator=generator)
        for first in range(0, len(X), BATCH):
            rows = order[first : first + BATCH]
            optimizer.zero_grad()
            loss_fn(net(X[rows]), y[rows]).backward()
            optimizer.step()
        net.eval()
        with torch.no_grad():
            accuracies.append(float((net(X_val).argmax(1) == y_val).float().mean()))
        times.append(time.perf_counter() - start)
    return accuracies, times


def reach(accuracy: Array, seconds: Array, target: float) -> tuple[str, str]:
    """The first epoch (from 1) whose mean accuracy reaches ``target``, and its seconds."""
    hits = np.flatnonzero(accuracy >= target)
    if not hits.size:
        return "not reached", "—"
    return str(int(hits[0]) + 1), f"{seconds[hits[0]]:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=None, help="override each budget")
    parser.add_argument("--train", type=int, default=4000, help="training samples")
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()

    flat, labels = sn.datasets.mnist()
    images, _ = sn.datasets.mnist(images=True)
    n = args.train
    rows = []
    for task in TASKS:
        if args.epochs is not None:
            task.epochs = args.epochs
        X = images if not task.sizes else flat
        data = (X[:n], labels[:n], X[4000:], labels[4000:])
        curves: dict[str, list[tuple[list[float], list[float]]]] = {"shapenn": [], "PyTorch": []}
        for seed in range(args.seeds):
            curves["shapenn"].append(shapenn_curve(task, data, seed))
            torch_run = torch_curve(task, data, seed)
            if torch_run is not None:
                curves["PyTorch"].append(torch_run)
        means = {
            name: (np.mean([a for a, _ in runs], axis=0), np.mean([t for _, t in runs], axis=0))
            for name, runs in curves.items()
            if runs
        }
        target = 0.95 * max(float(accuracy.max()) for accuracy, _ in means.values())
        row: list[str] = [task.name, f"{target:.3f}"]
        for name in ("shapenn", "PyTorch"):
            if name not in means:
                row += ["—", "—", "—"]
                continue
            accuracy, seconds = means[name]
            epochs, secs = reach(accuracy, seconds, target)
            row += [epochs, secs, f"{accuracy[-1]:.3f} ({task.epochs})"]
        rows.append(row)
        if not args.markdown:
            print(" | ".join(row), flush=True)

    header = [
        "network, optimizer",
        "target (95 % of best)",
        "shapenn epochs",
        "shapenn s",
        "shapenn accuracy (epochs)",
        "PyTorch epochs",
        "PyTorch s",
        "PyTorch accuracy (epochs)",
    ]
    print(f"\n{environment()}; {args.seeds} seeds, batch {BATCH}, {n} train / 1000 validation\n")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
