"""Datasets: nnfs's spiral, vertical and sine data, seeded by argument.

nnfs draws from NumPy's *global* random state. These wrappers seed it for the one call and then
restore it, so the caller's random state is exactly as it was.
"""

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
from jaxtyping import Float, Integer

from ._shapes import Array1D, Array2D

__all__ = ["sine", "spiral", "vertical"]


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
