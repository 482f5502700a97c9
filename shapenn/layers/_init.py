"""Initial parameter values, and a way to skip them when they are about to be replaced.

Loading a model and ``Dense.from_arrays`` build a layer and then set its parameters from
arrays; drawing random weights first would be wasted work, and for a file declaring a huge
layer, a way to allocate gigabytes before the file is refused. Inside ``uninitialized()`` the
initializers return uninitialized memory of the right shape: the pages are never touched, so
the operating system never commits them.
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import numpy as np
import numpy.typing as npt

from ..shapes import ArgumentError

__all__ = ["float_dtype", "normal", "ones", "torch_dtype", "uninitialized", "zeros"]

_SKIP: ContextVar[bool] = ContextVar("shapenn_uninitialized", default=False)


@contextmanager
def uninitialized() -> Iterator[None]:
    """Build layers whose parameters are set right after (this thread or task only)."""
    token = _SKIP.set(True)
    try:
        yield
    finally:
        _SKIP.reset(token)


def normal(
    shape: Sequence[int], scale: float, rng: np.random.Generator, dtype: np.dtype[Any]
) -> np.ndarray[Any, np.dtype[Any]]:
    """``scale · N(0, 1)`` in ``dtype``, drawn in float64 (the book's draws) and cast once."""
    if _SKIP.get():
        return np.empty(shape, dtype=dtype)
    return (scale * rng.standard_normal(shape)).astype(dtype)


def zeros(shape: Sequence[int], dtype: np.dtype[Any]) -> np.ndarray[Any, np.dtype[Any]]:
    """Zeros in ``dtype`` (uninitialized inside ``uninitialized()``)."""
    if _SKIP.get():
        return np.empty(shape, dtype=dtype)
    return np.zeros(shape, dtype=dtype)


def ones(shape: Sequence[int], dtype: np.dtype[Any]) -> np.ndarray[Any, np.dtype[Any]]:
    """Ones in ``dtype`` (uninitialized inside ``uninitialized()``)."""
    if _SKIP.get():
        return np.empty(shape, dtype=dtype)
    return np.ones(shape, dtype=dtype)


def float_dtype(dtype: npt.DTypeLike) -> np.dtype[Any]:
    """``dtype`` resolved, if it is one a layer computes in: float32 or float64."""
    resolved = np.dtype(dtype)
    if resolved not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ArgumentError(f"dtype must be float32 or float64, got {resolved}")
    return resolved


def torch_dtype(torch: Any, layer: Any) -> Any:
    """The torch dtype of ``layer``'s parameters (float32 or float64), for its exported
    module."""
    return getattr(torch, str(layer.parameters()[0].value.dtype))
