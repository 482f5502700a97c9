"""The ``shapenn`` command: train, evaluate, predict and summarize models from the shell.

``shapenn train`` with no arguments trains a 2-64-64-3 network on the spiral data with a live
progress bar, prints training and validation figures and saves the model. Every failure a user
can cause — a bad argument, a missing or foreign file, data of the wrong shape — is one line on
standard error and a non-zero exit, never a traceback.
"""

import argparse
import io
import itertools
import math
import os
import stat
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, BinaryIO, NoReturn

import numpy as np
import numpy.typing as npt

from . import datasets
from ._files import check_writable, write_atomically
from ._io import ModelFileError, load, save
from ._losses import CategoricalCrossentropy, Loss, MeanSquaredError
from ._metrics import (
    F1,
    Accuracy,
    CategoricalAccuracy,
    Precision,
    Recall,
    RegressionAccuracy,
    TopKAccuracy,
)
from ._progress import Progress
from ._threads import MAX_THREADS
from .layers import Conv2D, Dense, Flatten, Layer, Linear, MaxPool2D, ReLU, Sigmoid, Softmax, Tanh
from .model import History, Model
from .optim import SGD, Adagrad, Adam, DivergenceError, Optimizer, RMSprop
from .shapes import LabelError, ShapeError, ShapennError

__all__ = ["main"]

ACTIVATIONS: dict[str, type[Layer]] = {"relu": ReLU, "tanh": Tanh, "sigmoid": Sigmoid}
OPTIMIZERS: dict[str, type[Optimizer]] = {
    "adam": Adam,
    "sgd": SGD,
    "rmsprop": RMSprop,
    "adagrad": Adagrad,
}
REGRESSION = {"sine"}
TEXT = "text"  # the dataset of train that builds a character GPT (shapenn._gpt)
#: Datasets of thousands of real samples, trained as such data usually is: mini-batches of 128
#: for 10 epochs at Adam's 0.001, from the layers' default (fan-scaled) initialization. The
#: others keep the book's recipe (whole-set batches, 2000 epochs, weights of 0.01 · N(0, 1)),
#: which on spiral and sine ends lower than He-normal weights (sine: MSE 8e-6 against 1e-3).
MINIBATCH = {"mnist"}
STDIO = "-"  # the shell's name for standard input or output, in place of a file


class CommandError(Exception):
    """A failure to report as one line and exit status 1."""


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are two lines: the error, and where to read the usage.

    argparse's own error prints the whole usage block first, which for ``train`` is ten lines
    that push the one that matters off the screen.
    """

    commands: "dict[str, _Parser]"  # the subcommands' parsers, by name (the top parser's)

    def error(self, message: str) -> NoReturn:
        """Print ``prog: error: message`` and a pointer to ``--help``; exit with status 2."""
        headline = " ".join(message.split())  # argparse's messages may wrap a choice list
        self.exit(2, f"{self.prog}: error: {headline}\n(see {self.prog} --help)\n")


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


def _threads(text: str) -> int:
    """A ``--threads`` count: an integer from 1 to MAX_THREADS, as ``fit(threads=...)`` takes."""
    shown = text if len(text) <= 20 else f"{text[:12]}… ({len(text)} characters)"
    try:
        value = int(text)
    except ValueError:  # not a number, or more digits than Python converts
        raise argparse.ArgumentTypeError(
            f"must be an integer from 1 to {MAX_THREADS}, got {shown!r}"
        ) from None
    if not 1 <= value <= MAX_THREADS:
        raise argparse.ArgumentTypeError(f"must be from 1 to {MAX_THREADS}, got {shown}")
    return value


#: The metrics ``train --metrics`` takes by name; ``top<k>`` is top-k accuracy (``top3``).
METRICS: dict[str, type[Accuracy]] = {"precision": Precision, "recall": Recall, "f1": F1}


def _metric(text: str) -> Accuracy:
    """A metric named on the command line: precision, recall, f1 or top<k>."""
    if text in METRICS:
        return METRICS[text]()
    if text.startswith("top") and text[3:].isdigit() and int(text[3:]) >= 1:
        return TopKAccuracy(int(text[3:]))
    raise argparse.ArgumentTypeError(
        f"{text!r} is not a metric: choose from {', '.join(METRICS)} or top<k> (top3)"
    )


def _parser() -> _Parser:
    """The command line's parser; its ``commands`` are the subcommands' parsers."""
    parser = _Parser(
        prog="shapenn", description="Neural networks from scratch in NumPy, shapes checked."
    )
    # The subcommands' parsers are built with the class of this one, so their errors are
    # short too.
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    train = commands.add_parser("train", help="train a model on a built-in dataset and save it")
    train.add_argument(
        "--dataset",
        choices=[*datasets.names(), TEXT],
        default="spiral",
        help="text: a tiny character GPT on the standard library's English text",
    )
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
        help="default: 0.02 for adam (0.01 with --conv or on sine), 0.001 rmsprop, 1 sgd and "
        "adagrad; on mnist 0.001 adam and rmsprop, 0.1 sgd, 0.01 adagrad",
    )
    train.add_argument(
        "--decay",
        type=float,
        default=None,
        help="default: 5e-7 (1e-3 with --conv, 0.02 for adam on sine, 0 on mnist)",
    )
    train.add_argument(
        "--epochs",
        type=_positive(int),
        default=None,
        help="default: 2000 (30 with --conv, 10 on mnist)",
    )
    train.add_argument(
        "--batch-size",
        type=_positive(int),
        default=None,
        help="default: the whole set (32 with --conv, 128 on mnist)",
    )
    train.add_argument("--validation", type=float, default=0.2, help="fraction held out")
    train.add_argument(
        "--windows",
        type=_positive(int),
        default=None,
        help="text: train on the first N windows of 64 characters (default: all) and "
        "validate on N/9 of the held-out ones",
    )
    train.add_argument(
        "--metrics",
        type=_metric,
        nargs="+",
        default=[],
        metavar="METRIC",
        help="further metrics, recorded each epoch and saved with the model: precision, recall, "
        "f1 (macro means over the classes), top<k> (top-k accuracy, e.g. top3)",
    )
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--output", type=Path, default=Path("model.npz"))
    train.add_argument(
        "--plot",
        type=Path,
        default=None,
        help="write training curves, in the format of the extension (.png, .pdf, .svg, …)",
    )
    train.add_argument("--quiet", action="store_true", help="no progress, only the result")
    train.add_argument(
        "--threads",
        type=_threads,
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
    predict.add_argument(
        "input",
        type=Path,
        help="a .npy or .csv file, or - for CSV on standard input; a CSV's first row is skipped "
        "if it is not numbers (a header)",
    )
    predict.add_argument(
        "--output", type=Path, default=None, help="CSV file (default, or -: standard output)"
    )

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
    generate = commands.add_parser(
        "generate", help="text from a model trained with train --dataset text"
    )
    generate.add_argument("model", type=Path)
    generate.add_argument("--prompt", default="The ", help="the text to continue")
    generate.add_argument("--length", type=_positive(int), default=200, help="new characters")
    generate.add_argument(
        "--temperature",
        type=float,
        default=0.8,
        help="below 1 more likely characters, above 1 more varied; 0 always the likeliest",
    )
    generate.add_argument("--seed", type=int, default=None)
    parser.commands = {
        "train": train,
        "generate": generate,
        "evaluate": evaluate,
        "predict": predict,
        "summary": summary,
        "export": export,
    }
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
    book_init: bool = True,
) -> Model:
    """A multilayer perceptron for samples of shape ``sample``: Dense + activation per hidden
    size, then the output layer; with ``conv`` kernels, a convolution block before them (the
    samples are then images, (channels, height, width)). ``book_init``: the Dense layers draw
    the book's scaled normal weights, else the layers' default initialization."""
    layers: list[Layer] = []
    width = sample[0]
    scale: float | None = 0.1 if regression else 0.01  # the book's regression chapter: 0.1
    if conv is not None:
        channels, height, size = sample
        layers += [Conv2D(channels, conv, 3, padding="same", seed=seed), ACTIVATIONS[activation]()]
        layers += [MaxPool2D(2), Flatten()]
        width = conv * (height // 2) * (size // 2)
        # After a convolution the inputs of a Dense layer are of unit size, not pixels: weights
        # of 1/√width keep its outputs there too (0.01 would start it nearly silent).
        scale = float(1 / np.sqrt(width))
    if not book_init:
        scale = None
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


def _file_output(path: Path, what: str) -> None:
    """Prove that ``what`` (a model, a plot, …), which only a file can hold, can be written to
    ``path``: not ``-``, and a file can be created in its folder.

    Raises:
        CommandError: ``path`` is ``-`` (standard output).
        PathError: ``path`` cannot be written (see `check_writable`).
    """
    if str(path) == STDIO:
        raise CommandError(f"{what} cannot be written to standard output (-); give a file name")
    check_writable(path)


def _plot_format(path: Path) -> str:
    """The format to write the plot ``path`` in, from its extension, once matplotlib has
    written a small figure with text in it.

    Raises:
        CommandError: the extension is missing or not one matplotlib writes (the message lists
            those it does), or writing in that format fails here (pgf without LaTeX, …).
        MissingDependencyError: matplotlib is not installed.
    """
    from .plots import require_matplotlib

    require_matplotlib()
    from matplotlib.backend_bases import FigureCanvasBase
    from matplotlib.figure import Figure

    formats = FigureCanvasBase.get_supported_filetypes()
    common = [name for name in ("png", "pdf", "svg") if name in formats]
    listed = ", ".join(f".{name}" for name in common + sorted(set(formats) - set(common)))
    extension = path.suffix.lower().removeprefix(".")
    if not extension:
        raise CommandError(f"--plot {path}: the name has no extension; end it with one of {listed}")
    if extension not in formats:
        raise CommandError(
            f"--plot {path}: matplotlib cannot write .{extension} files; "
            f"end the name with one of {listed}"
        )
    probe = Figure(figsize=(1.0, 1.0))
    probe.text(0.5, 0.5, "0")  # text too: pgf needs LaTeX only to measure it
    try:
        probe.savefig(io.BytesIO(), format=extension)
    except Exception as err:  # a backend raises what it likes (no LaTeX for pgf, …)
        reason = (str(err).splitlines() or [type(err).__name__])[0]
        raise CommandError(
            f"--plot {path}: matplotlib cannot write .{extension} here: {reason}"
        ) from None
    return extension


def _write_plot(history: History, path: Path, extension: str) -> None:
    """Write the training curves of ``history`` to ``path`` atomically, as ``extension``."""
    from .plots import DPI, plot_history

    figure = plot_history(history)
    write_atomically(path, lambda handle: figure.savefig(handle, format=extension, dpi=DPI))


def _optimizer_defaults(
    name: str, *, conv: bool, regression: bool, minibatch: bool
) -> tuple[float, float]:
    """The learning rate and decay ``train`` gives optimizer ``name`` when they are not given."""
    if minibatch:
        # The rates Keras and PyTorch users know for mini-batches, without decay.
        return {"adam": 1e-3, "rmsprop": 1e-3, "sgd": 0.1, "adagrad": 0.01}[name], 0.0
    if name == "adam" and regression:
        # Measured on sine with 64-64 over 2000 and 3000 epochs, under OpenBLAS's default,
        # Sandybridge and Haswell kernels: at 0.02 without decay the loss spikes 58- to
        # 92-fold every 100-200 epochs to the end; the book's 0.005 with decay 1e-3 still
        # jumps 2- to 3-fold and ends near MSE 2e-5 to 3e-5; 0.01 with decay 0.02 ends at
        # 8e-6 (2000 epochs) and 4e-6 (3000), each of the last 300 epochs within 7% of the
        # lowest loss before it, with each kernel (and seeds 0 to 3 with the default one).
        return 0.01, 2e-2
    rate = {"adam": 0.02, "rmsprop": 0.001, "sgd": 1.0, "adagrad": 1.0}[name]
    if conv and name == "adam":
        rate = 0.01
    return rate, (1e-3 if conv else 5e-7)


def _loss_text(loss: float) -> str:
    """A loss for the shell: 4 decimals, or 3 significant digits below 0.001 (a regression's
    MSE would print as 0.0000)."""
    return f"{loss:.4f}" if not 0 < abs(loss) < 1e-3 else f"{loss:.2e}"


def _train(args: argparse.Namespace) -> None:
    # Everything that can fail after minutes of training is checked first.
    _file_output(args.output, "the model")
    plot: tuple[Path, str] | None = None  # the file and its format
    if args.plot is not None:
        _file_output(args.plot, "the plot")
        plot = (args.plot, _plot_format(args.plot))
    if args.dataset == TEXT:
        _train_text(args, plot)
        return
    if args.windows is not None:
        raise CommandError("--windows is for --dataset text")
    regression = args.dataset in REGRESSION
    conv = args.conv is not None
    if regression and args.metrics:
        raise CommandError(f"--metrics score classes; {args.dataset} is a regression")
    if conv and args.dataset not in datasets.IMAGES:
        raise CommandError(
            f"--conv needs an image dataset ({', '.join(datasets.IMAGES)}); "
            f"{args.dataset} holds rows of numbers"
        )
    hidden = args.hidden if args.hidden is not None else ([] if conv else [64, 64])
    minibatch = args.dataset in MINIBATCH
    epochs = args.epochs or (10 if minibatch else 30 if conv else 2000)
    batch_size = args.batch_size or (128 if minibatch else 32 if conv else None)
    X, y = datasets.load(args.dataset, samples=args.samples, seed=args.seed, images=conv)
    X_train, X_val, y_train, y_val = datasets.train_validation_split(
        X, y, validation=args.validation, seed=args.seed
    )
    outputs = 1 if regression else int(np.max(y)) + 1
    default_rate, default_decay = _optimizer_defaults(
        args.optimizer, conv=conv, regression=regression, minibatch=minibatch
    )
    rate = args.learning_rate if args.learning_rate is not None else default_rate
    decay = args.decay if args.decay is not None else default_decay
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
        book_init=not minibatch,
    )
    model.set(metrics=args.metrics)
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
        f"loss {_loss_text(history.loss[-1])}, accuracy {history.accuracy[-1]:.3f}; "
        f"validation loss {_loss_text(history.val_loss[-1])}, "
        f"accuracy {history.val_accuracy[-1]:.3f}"
        + "".join(f", {m.name} {history[f'val_{m.name}'][-1]:.3f}" for m in model.metrics)
    )
    save(model, args.output)
    print(f"saved {args.output}")
    if plot is not None:
        _write_plot(history, *plot)
        print(f"plotted {plot[0]}")


def _evaluate(args: argparse.Namespace) -> None:
    model = load(args.model)
    X, y = datasets.load(args.dataset, samples=args.samples, seed=args.seed)
    X = _as_samples(model, X, f"the {args.dataset} dataset", "features")
    figures = model.evaluate(X, y, return_dict=True)
    text = f"loss {_loss_text(figures.pop('loss'))}" + "".join(
        f", {name} {value:.3f}" for name, value in figures.items()
    )
    print(f"{args.dataset} ({len(X)} samples, training samples included): {text}")


def _name(path: Path) -> str:
    """How messages name the input ``path``: ``stdin`` for ``-``."""
    return "stdin" if str(path) == STDIO else str(path)


def _read_rows(path: Path) -> tuple[npt.NDArray[Any], str | None]:
    """The rows of ``path``, a .npy or .csv file (either case) or ``-`` for CSV on standard
    input, and the note to print if the CSV's first row was skipped as a header.

    Raises:
        CommandError: the file is missing, a folder, of another kind, or not a table of
            numbers; the message names it and, for a CSV, the line at fault.
    """
    if str(path) == STDIO:
        return _read_csv(sys.stdin.buffer.read(), _name(path))
    if path.is_dir():
        raise CommandError(f"{path}: it is a folder; give a .npy or .csv file")
    if not path.is_file():
        raise CommandError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix == ".npy":
        try:
            rows: npt.NDArray[Any] = np.load(path, allow_pickle=False)
        except (ValueError, EOFError, OSError) as err:
            raise CommandError(f"{path}: not a readable .npy array ({err})") from None
        return rows, None
    if suffix == ".csv":
        return _read_csv(path.read_bytes(), str(path))
    raise CommandError(f"{path}: give a .npy or .csv file, or - for CSV on standard input")


def _fields(line: str) -> list[str]:
    """The comma-separated fields of a CSV line, stripped, without its ``#`` comment (which
    np.loadtxt ignores too)."""
    return [field.strip() for field in line.split("#", 1)[0].split(",")]


def _is_number(field: str) -> bool:
    """Whether the CSV field ``field`` reads as a number (nan and inf included)."""
    try:
        float(field)
    except ValueError:
        return False
    return True


def _read_csv(data: bytes, name: str) -> tuple[npt.NDArray[Any], str | None]:
    """The numbers of the CSV table ``data`` (read from ``name``), and a note if its first row
    is not numbers: a header, which is skipped.

    Raises:
        CommandError: the table is not UTF-8 text, has no rows of numbers, or holds something
            else than numbers after its first row, or rows of different lengths.
    """
    try:
        text = data.decode("utf-8-sig")  # a spreadsheet's byte-order mark is not a field
    except UnicodeDecodeError:
        raise CommandError(f"{name}: not a CSV table (it is not UTF-8 text)") from None
    rows = [
        (number, line)
        for number, line in enumerate(text.splitlines(), 1)
        if _fields(line) != [""]  # blank and comment lines, as np.loadtxt skips them
    ]
    if not rows:
        raise CommandError(f"{name}: it has no rows")
    note = None
    if not all(_is_number(field) for field in _fields(rows[0][1])):
        header = rows[0][1].strip()
        rows = rows[1:]
        if not rows:
            raise CommandError(f"{name}: it has a header row ({header}) and no rows of numbers")
        note = f"{name}: skipped a header row: {header}"
    try:
        lines = [line for _, line in rows]
        table: npt.NDArray[Any] = np.loadtxt(lines, delimiter=",", ndmin=2, dtype=np.float64)
    except ValueError as err:
        raise CommandError(_csv_problem(rows, name, err)) from None
    return table, note


def _csv_problem(rows: list[tuple[int, str]], name: str, error: ValueError) -> str:
    """Where and why ``rows`` (numbered lines of the CSV table ``name``) are not a table of
    numbers, which np.loadtxt's ``error`` says in its own terms (0-based, headers uncounted)."""
    first, width = rows[0][0], len(_fields(rows[0][1]))
    for number, line in rows:
        fields = _fields(line)
        for column, field in enumerate(fields, 1):
            if not _is_number(field):
                what = f"not a number: {field!r}" if field else "empty"
                return f"{name}: line {number}, column {column} is {what}"
        if len(fields) != width:
            return f"{name}: line {number} has {len(fields)} columns, line {first} has {width}"
    return f"{name}: not a numeric CSV table ({error})"


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


def _same_file(a: Path, b: Path) -> bool:
    """Whether ``a`` and ``b`` name one file (through links too), or would once written."""
    try:
        return os.path.samefile(a, b)
    except (OSError, ValueError):  # one does not exist (yet): compare where they lead
        return os.path.realpath(a) == os.path.realpath(b)


def _not_an_input(output: Path, inputs: list[Path]) -> None:
    """Refuse an ``--output`` that is one of ``inputs``: writing it would destroy the input.

    Raises:
        CommandError: naming the file and what it is.
    """
    for source in inputs:
        if str(source) != STDIO and _same_file(output, source):
            what = "the model" if source is inputs[0] else "the input"
            raise CommandError(
                f"--output {output} is {what} ({source}): writing the predictions would "
                "replace it; give another file"
            )


def _not_a_stream(output: Path) -> None:
    """Refuse an ``--output`` that is a pipe or a terminal (/dev/stdout): predictions are
    written to a file, whole, and ``-`` is how to name standard output.

    Raises:
        CommandError: naming the file and what it is.
    """
    try:
        mode = os.stat(output).st_mode
    except (OSError, ValueError):
        return  # a missing file is created; other problems are check_writable's to word
    kind = {
        stat.S_IFIFO: "a named pipe (FIFO)",
        stat.S_IFCHR: "a character device",
        stat.S_IFSOCK: "a socket",
        stat.S_IFBLK: "a block device",
    }.get(stat.S_IFMT(mode))
    if kind is not None:
        raise CommandError(
            f"--output {output} is {kind}: predictions are written to a file, whole; "
            "give - to write them to standard output"
        )


def _predict(args: argparse.Namespace) -> None:
    output: Path | None = args.output  # None for standard output
    if output is not None and str(output) == STDIO:
        output = None
    if output is not None:
        _not_a_stream(output)
        check_writable(output)  # before standard input is read
        _not_an_input(output, [args.model, args.input])
    model = load(args.model)
    table, note = _read_rows(args.input)
    rows = _as_samples(model, table, _name(args.input), "columns")
    if note is not None:
        print(note, file=sys.stderr)
    outputs = model.predict(rows)
    columns = [f"output_{i}" for i in range(outputs.shape[1])]
    if model.loss is not None and model.loss.labels:
        labels = outputs.argmax(axis=1).reshape(-1, 1).astype(outputs.dtype)
        outputs, columns = np.hstack([labels, outputs]), ["class", *columns]
    csv: dict[str, Any] = {"delimiter": ",", "header": ",".join(columns), "comments": ""}
    if output is None:
        np.savetxt(sys.stdout, outputs, fmt="%.6g", **csv)
        return

    def write(handle: BinaryIO) -> None:
        text = io.TextIOWrapper(handle, encoding="utf-8", newline="")
        np.savetxt(text, outputs, fmt="%.6g", **csv)
        text.flush()
        text.detach()  # the handle is write_atomically's to close

    # Written whole to a temporary file, then renamed: a full disk or an interrupt leaves the
    # previous predictions as they were, not half a table.
    write_atomically(output, write)


def _train_text(args: argparse.Namespace, plot: tuple[Path, str] | None) -> None:
    """Train the tiny character GPT on the standard library's text (1 epoch of windows of 64
    characters, batches of 32, Adam 0.001 by default) and report its validation loss against
    the unigram and bigram baselines."""
    from ._gpt import text_data, tiny_gpt
    from ._text import baselines

    if args.conv is not None or args.hidden is not None or args.metrics:
        raise CommandError("--dataset text builds its own model: no --conv, --hidden or --metrics")
    if not 0 < args.validation < 1:
        raise CommandError(f"--validation must be in (0, 1), got {args.validation}")
    data = text_data(validation=args.validation)
    if args.windows is not None:
        data.X, data.y = data.X[: args.windows], data.y[: args.windows]
        held = max(1, args.windows // 9)
        data.X_val, data.y_val = data.X_val[:held], data.y_val[:held]
    rate = args.learning_rate if args.learning_rate is not None else 1e-3
    optimizer = OPTIMIZERS[args.optimizer](learning_rate=rate, decay=args.decay or 0.0)
    model = tiny_gpt(data.tokenizer.vocab_size, optimizer=optimizer, seed=args.seed)
    epochs = args.epochs or 1
    if not args.quiet:
        print(
            f"training on text: {len(data.X)} windows of 64 characters, {len(data.X_val)} held out"
        )
        model.summary()
    progress = Progress(epochs, mode="quiet" if args.quiet else "bar", stream=sys.stderr)
    start = time.perf_counter()
    try:
        history = model.fit(
            data.X,
            data.y,
            epochs=epochs,
            batch_size=args.batch_size or 32,
            validation_data=(data.X_val, data.y_val),
            seed=args.seed,
            verbose=0,
            callback=progress,
            threads=args.threads,
        )
    finally:
        progress.close()
    base = baselines(data.train_ids, data.val_ids, data.tokenizer.vocab_size)
    print(
        f"trained {epochs} epochs in {time.perf_counter() - start:.1f} s: loss "
        f"{history.loss[-1]:.4f}; validation loss {history.val_loss[-1]:.4f} (unigram "
        f"{base['unigram']:.4f}, bigram {base['bigram']:.4f})"
    )
    save(model, args.output)
    print(f"saved {args.output}")
    if plot is not None:
        _write_plot(history, *plot)
        print(f"plotted {plot[0]}")


def _generate(args: argparse.Namespace) -> None:
    from ._generate import generate
    from ._gpt import vocabulary_of
    from ._text import CharTokenizer, text

    model = load(args.model)
    tokenizer = CharTokenizer(text())
    if vocabulary_of(model) != tokenizer.vocab_size:
        raise CommandError(
            f"{args.model} is not a model of the text dataset's {tokenizer.vocab_size} "
            "characters: train one with shapenn train --dataset text"
        )
    if not args.prompt:
        raise CommandError("--prompt must hold at least one character")
    if not np.isfinite(args.temperature) or args.temperature < 0:
        raise CommandError(f"--temperature must be >= 0, got {args.temperature}")
    try:
        prompt = tokenizer.encode(args.prompt)
    except LabelError as err:
        raise CommandError(f"--prompt: {str(err).splitlines()[0]}") from None
    ids = generate(model, prompt, args.length, temperature=args.temperature, seed=args.seed)
    print(tokenizer.decode(ids))


def _summary(args: argparse.Namespace) -> None:
    load(args.model).summary()


def _export(args: argparse.Namespace) -> None:
    from .export import to_onnx, to_torch_program

    if args.onnx is None and args.torch is None:
        raise CommandError("give an .onnx file to write, or --torch PATH, or both")
    if args.onnx is not None:
        _file_output(args.onnx, "the ONNX model")
    if args.torch is not None:
        _file_output(args.torch, "the torch program")
    model = load(args.model)
    if args.onnx is not None:
        print(f"wrote {to_onnx(model, args.onnx)}")
    if args.torch is not None:
        print(f"wrote {to_torch_program(model, args.torch)}")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = _parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:  # reported by the subcommand, whose --help lists what it takes
        parser.commands[args.command].error(f"unrecognized arguments: {' '.join(unknown)}")
    commands = {
        "train": _train,
        "generate": _generate,
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
        ShapennError,
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
