"""The ``shapenn`` command: train, evaluate, predict and summarize models from the shell.

``shapenn train`` with no arguments trains a 2-64-64-3 network on the spiral data with a live
progress bar, prints training and validation figures and saves the model. Every failure a user
can cause — a bad argument, a missing or foreign file, data of the wrong shape — is one line on
standard error and a non-zero exit, never a traceback.
"""

import argparse
import itertools
import math
import os
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from . import datasets
from ._files import check_writable
from ._io import ModelFileError, load, save
from ._losses import CategoricalCrossentropy, Loss, MeanSquaredError
from ._metrics import Accuracy, CategoricalAccuracy, RegressionAccuracy
from ._model import Model
from ._optimizers import SGD, Adagrad, Adam, DivergenceError, Optimizer, RMSprop
from ._progress import Progress
from .layers import Conv2D, Dense, Flatten, Layer, Linear, MaxPool2D, ReLU, Sigmoid, Softmax, Tanh
from .shapes import LabelError, ShapeError

__all__ = ["main"]

ACTIVATIONS: dict[str, type[Layer]] = {"relu": ReLU, "tanh": Tanh, "sigmoid": Sigmoid}
OPTIMIZERS: dict[str, type[Optimizer]] = {
    "adam": Adam,
    "sgd": SGD,
    "rmsprop": RMSprop,
    "adagrad": Adagrad,
}
REGRESSION = {"sine"}


class CommandError(Exception):
    """A failure to report as one line and exit status 1."""


def _positive(kind: type[int] | type[float]) -> Any:
    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
        return value

    return parse


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="shapenn", description="Neural networks from scratch in NumPy, shapes checked."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    train = commands.add_parser("train", help="train a model on a built-in dataset and save it")
    train.add_argument("--dataset", choices=datasets.names(), default="spiral")
    train.add_argument(
        "--samples", type=_positive(int), default=300, help="per class (spiral, vertical)"
    )
    train.add_argument(
        "--conv",
        type=_positive(int),
        nargs="?",
        const=16,
        default=None,
        metavar="CHANNELS",
        help="start with a convolution block: Conv2D 3×3 with CHANNELS kernels (16 if not "
        "given), the activation, 2×2 max pooling and Flatten; needs an image dataset "
        f"({', '.join(datasets.IMAGES)})",
    )
    train.add_argument(
        "--hidden",
        type=_positive(int),
        nargs="+",
        default=None,
        help="hidden layer sizes (default: 64 64, none after --conv)",
    )
    train.add_argument("--activation", choices=list(ACTIVATIONS), default="relu")
    train.add_argument("--optimizer", choices=list(OPTIMIZERS), default="adam")
    train.add_argument(
        "--learning-rate",
        type=_positive(float),
        default=None,
        help="default: 0.02 for adam (0.01 with --conv), 0.001 rmsprop, 1 sgd and adagrad",
    )
    train.add_argument("--decay", type=float, default=None, help="default: 5e-7 (1e-3 with --conv)")
    train.add_argument(
        "--epochs", type=_positive(int), default=None, help="default: 2000 (30 with --conv)"
    )
    train.add_argument(
        "--batch-size",
        type=_positive(int),
        default=None,
        help="default: the whole set (32 with --conv)",
    )
    train.add_argument("--validation", type=float, default=0.2, help="fraction held out")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--output", type=Path, default=Path("model.npz"))
    train.add_argument("--plot", type=Path, default=None, help="write training curves (PNG)")
    train.add_argument("--quiet", action="store_true", help="no progress, only the result")
    train.add_argument(
        "--threads",
        type=_positive(int),
        default=None,
        help="BLAS threads (default: one for small models and batches, more for large)",
    )

    evaluate = commands.add_parser(
        "evaluate",
        help="loss and accuracy of a saved model on a whole dataset (training samples included)",
    )
    evaluate.add_argument("model", type=Path)
    evaluate.add_argument("--dataset", choices=datasets.names(), required=True)
    evaluate.add_argument("--samples", type=_positive(int), default=300)
    evaluate.add_argument("--seed", type=int, default=0)

    predict = commands.add_parser("predict", help="predictions for rows of a .npy or .csv file")
    predict.add_argument("model", type=Path)
    predict.add_argument("input", type=Path)
    predict.add_argument("--output", type=Path, default=None, help="CSV file (default: stdout)")

    summary = commands.add_parser("summary", help="the layers of a saved model, shapes named")
    summary.add_argument("model", type=Path)

    export = commands.add_parser(
        "export",
        help="write a saved model as ONNX (needs shapenn[onnx]) or as a PyTorch program",
    )
    export.add_argument("model", type=Path)
    export.add_argument("onnx", type=Path, nargs="?", default=None, help="the .onnx file to write")
    export.add_argument(
        "--torch",
        type=Path,
        default=None,
        metavar="PATH",
        help="also (or only) write a torch.export program (.pt2): torch.export.load(PATH)",
    )
    return parser


def build_model(
    sample: tuple[int, ...],
    outputs: int,
    hidden: Sequence[int],
    activation: str,
    *,
    regression: bool,
    optimizer: Optimizer,
    seed: int,
    conv: int | None = None,
) -> Model:
    """A multilayer perceptron for samples of shape ``sample``: Dense + activation per hidden
    size, then the output layer; with ``conv`` kernels, a convolution block before them (the
    samples are then images, (channels, height, width))."""
    layers: list[Layer] = []
    width = sample[0]
    scale = 0.1 if regression else 0.01  # the book's regression chapter uses 0.1
    if conv is not None:
        channels, height, size = sample
        layers += [Conv2D(channels, conv, 3, padding="same", seed=seed), ACTIVATIONS[activation]()]
        layers += [MaxPool2D(2), Flatten()]
        width = conv * (height // 2) * (size // 2)
        # After a convolution the inputs of a Dense layer are of unit size, not pixels: weights
        # of 1/√width keep its outputs there too (0.01 would start it nearly silent).
        scale = float(1 / np.sqrt(width))
    first = seed + len(layers) // 4  # the convolution drew from `seed`
    for index, size in enumerate(hidden):
        layers += [Dense(width, size, seed=first + index, weight_scale=scale)]
        layers += [ACTIVATIONS[activation]()]
        width = size
    layers += [Dense(width, outputs, seed=first + len(hidden), weight_scale=scale)]
    layers += [Linear() if regression else Softmax()]
    loss: Loss = MeanSquaredError() if regression else CategoricalCrossentropy()
    metric: Accuracy = RegressionAccuracy() if regression else CategoricalAccuracy()
    return Model(layers, loss=loss, optimizer=optimizer, metric=metric, input_shape=sample)


def _memory_needed(features: int, hidden: Sequence[int], outputs: int) -> tuple[int, int]:
    """The parameter count of the MLP, and the bytes training it takes: float32 weights,
    gradients, Adam's two moments and two scratch arrays, plus the float64 initial draw."""
    sizes = [features, *hidden, outputs]
    count = sum(a * b + b for a, b in itertools.pairwise(sizes))
    return count, count * (6 * 4 + 8)


def _available_memory() -> int | None:
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # not every platform tells
        return None


def _train(args: argparse.Namespace) -> None:
    # Everything that can fail after minutes of training is checked first.
    check_writable(args.output)
    if args.plot is not None:
        from .plots import require_matplotlib

        check_writable(args.plot)
        require_matplotlib()
    regression = args.dataset in REGRESSION
    conv = args.conv is not None
    if conv and args.dataset not in datasets.IMAGES:
        raise CommandError(
            f"--conv needs an image dataset ({', '.join(datasets.IMAGES)}); "
            f"{args.dataset} holds rows of numbers"
        )
    hidden = args.hidden if args.hidden is not None else ([] if conv else [64, 64])
    epochs = args.epochs or (30 if conv else 2000)
    batch_size = args.batch_size or (32 if conv else None)
    X, y = datasets.load(args.dataset, samples=args.samples, seed=args.seed, images=conv)
    X_train, X_val, y_train, y_val = datasets.train_validation_split(
        X, y, validation=args.validation, seed=args.seed
    )
    outputs = 1 if regression else int(np.max(y)) + 1
    default_rate = {"adam": 0.02, "rmsprop": 0.001, "sgd": 1.0, "adagrad": 1.0}[args.optimizer]
    if conv and args.optimizer == "adam":
        default_rate = 0.01
    rate = args.learning_rate if args.learning_rate is not None else default_rate
    decay = args.decay if args.decay is not None else (1e-3 if conv else 5e-7)
    optimizer = OPTIMIZERS[args.optimizer](learning_rate=rate, decay=decay)
    flat = int(np.prod(X.shape[1:])) if not conv else args.conv * (X.shape[2] // 2) ** 2
    count, needed = _memory_needed(flat, hidden, outputs)
    available = _available_memory()
    if available is not None and needed > available:
        raise CommandError(
            f"a {'-'.join(map(str, [flat, *hidden, outputs]))} network has "
            f"{count:,} parameters and needs about {needed / 2**30:.1f} GiB to train, but "
            f"{available / 2**30:.1f} GiB are free: use smaller --hidden sizes"
        )
    model = build_model(
        tuple(X.shape[1:]),
        outputs,
        hidden,
        args.activation,
        regression=regression,
        optimizer=optimizer,
        seed=args.seed,
        conv=args.conv,
    )
    if not args.quiet:
        print(f"training on {args.dataset}: {len(X_train)} samples, {len(X_val)} held out")
        model.summary()
    progress = Progress(epochs, mode="quiet" if args.quiet else "bar", stream=sys.stderr)
    start = time.perf_counter()
    try:
        history = model.fit(
            X_train,
            y_train,
            epochs=epochs,
            batch_size=batch_size,
            validation_data=(X_val, y_val),
            seed=args.seed,
            verbose=0,
            callback=progress,
            threads=args.threads,
        )
    finally:
        progress.close()
    seconds = time.perf_counter() - start
    print(
        f"trained {epochs} epochs in {seconds:.1f} s: "
        f"loss {history.loss[-1]:.4f}, accuracy {history.accuracy[-1]:.3f}; "
        f"validation loss {history.val_loss[-1]:.4f}, accuracy {history.val_accuracy[-1]:.3f}"
    )
    save(model, args.output)
    print(f"saved {args.output}")
    if args.plot is not None:
        from .plots import plot_history

        plot_history(history, args.plot)
        print(f"plotted {args.plot}")


def _evaluate(args: argparse.Namespace) -> None:
    model = load(args.model)
    X, y = datasets.load(args.dataset, samples=args.samples, seed=args.seed)
    X = _as_samples(model, X, f"the {args.dataset} dataset", "features")
    loss, accuracy = model.evaluate(X, y)
    text = f"loss {loss:.4f}" + (f", accuracy {accuracy:.3f}" if accuracy is not None else "")
    print(f"{args.dataset} ({len(X)} samples, training samples included): {text}")


def _read_rows(path: Path) -> npt.NDArray[Any]:
    if path.is_dir():
        raise CommandError(f"{path}: it is a folder; give a .npy or .csv file")
    if not path.is_file():
        raise CommandError(f"{path}: no such file")
    if path.suffix == ".npy":
        try:
            rows: npt.NDArray[Any] = np.load(path, allow_pickle=False)
        except (ValueError, EOFError, OSError) as err:
            raise CommandError(f"{path}: not a readable .npy array ({err})") from None
        return rows
    if path.suffix == ".csv":
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # an empty file is reported below, not warned
                table: npt.NDArray[Any] = np.loadtxt(path, delimiter=",", ndmin=2, dtype=np.float64)
        except ValueError as err:
            raise CommandError(f"{path}: not a numeric CSV table ({err})") from None
        if table.size == 0:
            raise CommandError(f"{path}: it has no rows")
        return table
    raise CommandError(f"{path}: give a .npy or .csv file")


def _as_samples(model: Model, rows: npt.NDArray[Any], source: str, what: str) -> Any:
    """``rows`` as the model's samples: flat rows of an image model's size are reshaped to
    its images; data of another width or rank is refused in terms of the file or dataset."""
    sample = model.sample_shape
    if sample is None or any(not isinstance(size, int) for size in sample):
        return rows
    needed = [int(size) for size in sample]
    size = math.prod(needed)
    if rows.ndim == 2 and len(needed) > 1 and rows.shape[1] == size:
        return rows.reshape(-1, *needed)  # flat pixels, in the (channel, row, column) order
    if rows.ndim == 2 and rows.shape[1] != size:
        shape = " × ".join(map(str, needed))
        per_sample = f"{size} ({shape})" if len(needed) > 1 else f"{size}"
        raise CommandError(f"{source} has {rows.shape[1]} {what}; the model needs {per_sample}")
    if rows.ndim != len(needed) + 1:
        shape = " × ".join(map(str, needed))
        raise CommandError(
            f"{source} holds arrays of shape {rows.shape[1:]} per row; the model needs {shape}"
        )
    return rows


def _predict(args: argparse.Namespace) -> None:
    model = load(args.model)
    rows = _as_samples(model, _read_rows(args.input), str(args.input), "columns")
    if args.output is not None:
        check_writable(args.output)
    outputs = model.predict(rows)
    columns = [f"output_{i}" for i in range(outputs.shape[1])]
    if model.loss is not None and model.loss.labels:
        labels = outputs.argmax(axis=1).reshape(-1, 1).astype(outputs.dtype)
        outputs, columns = np.hstack([labels, outputs]), ["class", *columns]
    handle = args.output.open("w") if args.output is not None else sys.stdout
    try:
        np.savetxt(
            handle, outputs, delimiter=",", header=",".join(columns), comments="", fmt="%.6g"
        )
    finally:
        if args.output is not None:
            handle.close()


def _summary(args: argparse.Namespace) -> None:
    load(args.model).summary()


def _export(args: argparse.Namespace) -> None:
    from .export import to_onnx, to_torch_program

    if args.onnx is None and args.torch is None:
        raise CommandError("give an .onnx file to write, or --torch PATH, or both")
    for target in (args.onnx, args.torch):
        if target is not None:
            check_writable(target)
    model = load(args.model)
    if args.onnx is not None:
        print(f"wrote {to_onnx(model, args.onnx)}")
    if args.torch is not None:
        print(f"wrote {to_torch_program(model, args.torch)}")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = _parser().parse_args(argv)
    commands = {
        "train": _train,
        "evaluate": _evaluate,
        "predict": _predict,
        "summary": _summary,
        "export": _export,
    }
    try:
        commands[args.command](args)
    except KeyboardInterrupt:
        print("shapenn: interrupted", file=sys.stderr)
        return 130
    except MemoryError:
        print("shapenn: error: out of memory: use a smaller model or dataset", file=sys.stderr)
        return 1
    except (
        CommandError,
        ShapeError,
        LabelError,
        ModelFileError,
        DivergenceError,
        ImportError,
        OSError,
        ValueError,
    ) as err:
        # At the shell, the headline: a ShapeError's hint is written for Python code.
        message = str(err).splitlines()[0] if isinstance(err, ShapeError) else str(err)
        print(f"shapenn: error: {message}", file=sys.stderr)
        return 1
    return 0
