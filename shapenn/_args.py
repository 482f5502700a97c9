"""Checks of plain arguments (sizes, counts, rates, factors, seeds, callbacks, array sizes) at
the public boundary, in one place.

A number is accepted as Python writes it or as NumPy holds it, and comes back as the plain
``int`` or ``float`` it represents: ``np.int64(3)`` is 3, ``np.uint8(5)`` is 5 (taken with
``operator.index``, so no NumPy arithmetic can wrap it later), ``np.float32(0.1)`` is a float.
``True`` is not a number here, nor is a string, a complex number or an array. Anything else is
an ArgumentError naming the owner (``Dense``, ``Model.train``) and the argument, with what it
must be.
"""

import math
import numbers
import operator
import os
from collections.abc import Callable, Sequence
from functools import cache
from typing import Any

import numpy as np
import numpy.typing as npt

from .shapes import ArgumentError, ShapeError

__all__ = [
    "array",
    "as_integer",
    "fits_memory",
    "function",
    "generator",
    "integer",
    "memory_limit",
    "nonnegative",
    "optional_positive",
    "positive",
    "real",
    "shown",
    "within_memory",
]

#: The bound on an array's bytes where the machine's memory cannot be read.
FALLBACK_MEMORY = 2**40


def shown(value: object, limit: int = 60) -> str:
    """``repr(value)``, cut to ``limit`` characters (an int of a thousand digits is an
    argument a message should not repeat whole)."""
    if isinstance(value, type):
        return f"the class {value.__name__}"
    if isinstance(value, int) and value.bit_length() > 190:
        # Past about 57 digits its size says enough (and past 4300 Python refuses to write it).
        return f"an int of about {value.bit_length() * math.log10(2):.0f} digits"
    try:
        text = repr(value)
    except ValueError:  # a container of such an int
        return f"a {type(value).__name__} holding an int too long to write"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def as_integer(value: object) -> int | None:
    """``value`` as the Python int it represents, or None if it is not an integer (a bool, a
    float, a string, an array)."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Integral | np.integer):
        return None
    return operator.index(value)


def _real(value: object) -> float | None:
    """``value`` as a float (an int too large for one as ``inf``), or None if it is not a real
    number."""
    if isinstance(value, bool | np.bool_):
        return None
    whole = as_integer(value)
    if whole is not None:
        try:
            return float(whole)
        except OverflowError:
            return math.inf if whole > 0 else -math.inf
    if not isinstance(value, numbers.Real | np.floating):
        return None
    try:
        return float(value)
    except (OverflowError, ValueError, TypeError):
        return None


def integer(
    owner: str, name: str, value: object, *, minimum: int = 1, maximum: int | None = None
) -> int:
    """``value`` as a plain int if it is an integer in ``[minimum, maximum]`` (NumPy integers
    included, never wrapped); an ArgumentError naming it otherwise."""
    number = as_integer(value)
    if number is not None and number >= minimum and (maximum is None or number <= maximum):
        return number
    bounds = f">= {minimum}" if maximum is None else f"from {minimum} to {maximum}"
    raise ArgumentError(f"{owner}: {name} must be an integer {bounds}, got {shown(value)}")


def positive(owner: str, name: str, value: object) -> int:
    """``value`` as an int if it is an integer >= 1 (NumPy integers included); an
    ArgumentError naming it otherwise."""
    number = as_integer(value)
    if number is None or number < 1:
        raise ArgumentError(f"{owner}: {name} must be a positive integer, got {shown(value)}")
    return number


def optional_positive(owner: str, name: str, value: object) -> int | None:
    """None, or ``value`` as an int if it is an integer >= 1; an ArgumentError naming it
    otherwise (a ``batch_size``, which None leaves to the caller)."""
    if value is None:
        return None
    number = as_integer(value)
    if number is None or number < 1:
        raise ArgumentError(
            f"{owner}: {name} must be a positive integer or None, got {shown(value)}"
        )
    return number


def real(
    owner: str,
    name: str,
    value: object,
    *,
    low: float = -math.inf,
    high: float = math.inf,
    high_open: bool = False,
) -> float:
    """``value`` as a float if it is a finite real number in ``[low, high]`` (``[low, high)``
    with ``high_open``); NumPy scalars included, bools, NaN and infinities refused."""
    number = _real(value)
    if (
        number is not None
        and math.isfinite(number)
        and low <= number
        and (number < high if high_open else number <= high)
    ):
        return number
    if low > -math.inf and high < math.inf:
        what = f"in [{low:g}, {high:g}{')' if high_open else ']'}"
    elif low > -math.inf:
        what = f"a finite number >= {low:g}"
    elif high < math.inf:
        what = f"a finite number {'<' if high_open else '<='} {high:g}"
    else:
        what = "a finite number"
    raise ArgumentError(f"{owner}: {name} must be {what}, got {shown(value)}")


def nonnegative(owner: str, name: str, value: object) -> float:
    """``value`` as a float if it is a finite real number >= 0 (NumPy scalars included); an
    ArgumentError naming it otherwise."""
    return real(owner, name, value, low=0.0)


def generator(owner: str, seed: object, name: str = "seed") -> np.random.Generator:
    """A NumPy Generator for ``seed``: None (fresh entropy), an integer >= 0 (NumPy integers
    included), a Generator (used as it is), a BitGenerator or a SeedSequence."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or isinstance(seed, np.random.BitGenerator | np.random.SeedSequence):
        return np.random.default_rng(seed)
    number = as_integer(seed)
    if number is not None and number >= 0:
        return np.random.default_rng(number)
    raise ArgumentError(
        f"{owner}: {name} must be an integer >= 0, a numpy.random.Generator or None, "
        f"got {shown(seed)}"
    )


def function(owner: str, name: str, value: object, *, takes: str) -> Callable[..., Any] | None:
    """``value`` if it can be called, None if it is None; an ArgumentError naming it otherwise
    (``takes`` says what it is called with, for the message)."""
    if value is None or (callable(value) and not isinstance(value, type)):
        return value
    raise ArgumentError(f"{owner}: {name} must be a function {takes} or None, got {shown(value)}")


@cache
def memory_limit() -> int:
    """The bytes one array may take: the machine's physical memory where the system tells it
    (an array larger than all of it can never be filled, let alone trained with its gradient),
    ``FALLBACK_MEMORY`` (1 TiB) where it does not."""
    try:
        pages, size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):  # not a POSIX system, or not this name
        return FALLBACK_MEMORY
    return pages * size if pages > 0 and size > 0 else FALLBACK_MEMORY


def _bytes(count: int) -> str:
    """``count`` bytes as people read them: ``400 TB`` rather than fifteen digits."""
    if count >= 1000**7:  # past exabytes a float may not hold it: its order is enough
        return f"about 10^{int(count.bit_length() * math.log10(2))} bytes"
    value = float(count)
    for unit in ("bytes", "kB", "MB", "GB", "TB", "PB"):
        if value < 1000:
            return f"{count} bytes" if unit == "bytes" else f"{value:.3g} {unit}"
        value /= 1000
    return f"{value:.3g} EB"


def fits_memory(
    owner: str,
    what: str,
    shape: Sequence[int],
    dtype: npt.DTypeLike,
    *,
    fix: str = "choose smaller sizes",
) -> None:
    """Refuse, before anything is allocated, an array of ``shape`` and ``dtype`` larger than
    `memory_limit`: ``what`` says which arguments made it (``n_inputs=10000000 and
    n_neurons=10000000 make weights of shape``), ``fix`` what to do."""
    count = math.prod(int(size) for size in shape)
    shown_shape = f"{shown(tuple(int(s) for s in shape), 80)} in {np.dtype(dtype)}"
    within_memory(owner, f"{what} {shown_shape}", count * np.dtype(dtype).itemsize, fix=fix)


def within_memory(owner: str, what: str, needed: int, *, fix: str) -> None:
    """Refuse ``needed`` bytes, said by ``what``, when they are more than `memory_limit`."""
    limit = memory_limit()
    if needed > limit:
        raise ArgumentError(
            f"{owner}: {what}, which would need {_bytes(needed)}, more than this machine's "
            f"memory ({_bytes(limit)}); {fix}"
        )


def array(owner: str, name: str, value: npt.ArrayLike) -> npt.NDArray[Any]:
    """``value`` as an ndarray (an ndarray as it is); nested lists whose rows differ in length
    are a ShapeError saying which row, not NumPy's "inhomogeneous shape"."""
    if isinstance(value, np.ndarray):
        return value
    try:
        return np.asarray(value)
    except ValueError as err:
        where = _first_ragged(value, f"{name}")
        if where is None:
            raise ArgumentError(f"{owner}: `{name}` is not an array of numbers: {err}") from None
        raise ShapeError.create(
            owner,
            name,
            "an array: nested lists with rows of one length",
            f"a {type(value).__name__} whose rows have different lengths ({where})",
            "NumPy cannot make an array of rows of different lengths",
            hint="give every row the same number of values (pad the short ones)",
            located=True,
        ) from None


def _count(length: int | None) -> str:
    return "a single value" if length is None else f"{length} value" + "s" * (length != 1)


def _first_ragged(value: object, path: str) -> str | None:
    """Where a nested list stops being rectangular (``X[1] has 1 value, X[0] has 2``), or None
    if it does not."""
    if not isinstance(value, list | tuple) or not value:
        return None
    lengths = [
        len(v) if isinstance(v, list | tuple) else v.shape[0] if np.ndim(v) else None for v in value
    ]
    for index, length in enumerate(lengths):
        if length != lengths[0]:
            return f"{path}[{index}] has {_count(length)}, {path}[0] has {_count(lengths[0])}"
    for index, item in enumerate(value):
        found = _first_ragged(item, f"{path}[{index}]")
        if found is not None:
            return found
    return None
