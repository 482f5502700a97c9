"""Checks of plain arguments (sizes, rates, factors) at the public boundary: a number is
accepted as Python writes it or as NumPy holds it (``np.int64(3)``, ``np.float32(0.1)``) and
comes back as a plain ``int`` or ``float``; anything else is an ArgumentError naming the owner
and the argument."""

import math
import numbers

from .shapes import ArgumentError

__all__ = ["nonnegative", "positive"]


def nonnegative(owner: str, name: str, value: object) -> float:
    """``value`` as a float if it is a finite real number >= 0 (NumPy scalars included); an
    ArgumentError naming it otherwise."""
    number = _real(value)
    if number is not None and math.isfinite(number) and number >= 0:
        return number
    raise ArgumentError(f"{owner}: {name} must be a finite number >= 0, got {value!r}")


def positive(owner: str, name: str, value: object) -> int:
    """``value`` as an int if it is an integer >= 1 (NumPy integers included); an
    ArgumentError naming it otherwise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ArgumentError(f"{owner}: {name} must be a positive integer, got {value!r}")
    return int(value)


def _real(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    return float(value)
