"""Datasets: nnfs's spiral, vertical and sine data, scikit-learn's digits, iris and breast
cancer, and a seeded train/validation split.

nnfs draws from NumPy's *global* random state. These wrappers seed it for the one call and then
restore it, so the caller's random state is exactly as it was. scikit-learn's datasets ship
inside the package (no download); they need the optional extra ``shapenn[datasets]``.

Every loader returns float32 ``X`` and int64 labels (float32 targets for ``sine``).
"""

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal, overload

import numpy as np
from jaxtyping import Float, Integer

from .shapes import ArgumentError, Array1D, Array2D, Array4D, MissingDependencyError

__all__ = [
    "IMAGES",
    "breast_cancer",
    "digits",
    "iris",
    "load",
    "names",
    "sine",
    "spiral",
    "train_validation_split",
    "vertical",
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
}


def names() -> list[str]:
    """The names ``load`` accepts."""
    return list(_LOADERS)


#: The datasets whose samples are images, and the shape ``load(name, images=True)`` gives each.
IMAGES: dict[str, tuple[int, int, int]] = {"digits": (1, 8, 8)}


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
