"""Initial parameter values, and a way to skip them when they are about to be replaced.

**Fan-scaled weights.** A layer's weights are drawn so that each layer keeps the size of what
flows through it: He's ``N(0, 2 / fan_in)`` by default (``"he_normal"``), or Glorot's
(``"glorot_uniform"``, ``"glorot_normal"``), He's uniform form (``"he_uniform"``), the book's
``0.01 · N(0, 1)`` (``"book"``), or a function ``init(shape, rng, dtype) → array`` of one's own.
``fan_in`` is the number of inputs each output sums (``in`` of a Dense layer, ``in_channels ·
kh · kw`` of a convolution), ``fan_out`` the number of outputs each input feeds. The normal
forms are plain normal draws, as PyTorch's ``kaiming_normal_`` and ``xavier_normal_``.

Loading a model and ``Dense.from_arrays`` build a layer and then set its parameters from
arrays; drawing random weights first would be wasted work, and for a file declaring a huge
layer, a way to allocate gigabytes before the file is refused. Inside ``uninitialized()`` the
initializers return uninitialized memory of the right shape: the pages are never touched, so
the operating system never commits them.
"""

import math
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import numpy as np
import numpy.typing as npt

from .._args import fits_memory, shown
from ..shapes import ArgumentError, Bound, ShapeError, argument_error, bind, describe, spec_of

#: A function that draws initial weights: ``init(shape, rng, dtype) → array``.
Initializer = Callable[[tuple[int, ...], np.random.Generator, np.dtype[Any]], Any]

#: The initializations a layer takes by name.
INITS = ("he_normal", "he_uniform", "glorot_uniform", "glorot_normal", "book")

__all__ = [
    "INITS",
    "Initializer",
    "check_init",
    "draw",
    "float_dtype",
    "normal",
    "ones",
    "torch_dtype",
    "uninitialized",
    "zeros",
]

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
    _affordable(shape, dtype)
    if _SKIP.get():
        return np.empty(shape, dtype=dtype)
    return _drawn(shape, dtype, lambda n: scale * rng.standard_normal(n))


#: Values drawn at a time: the float64 draws of a large layer are never all held at once.
DRAW_CHUNK = 1 << 20


def _drawn(
    shape: Sequence[int], dtype: np.dtype[Any], draw: Callable[[int], Any]
) -> np.ndarray[Any, np.dtype[Any]]:
    """An array of ``shape`` in ``dtype`` filled, in C order, with ``draw(n)``'s float64
    values, ``DRAW_CHUNK`` at a time: the same values as one draw of the whole (a Generator's
    stream does not depend on how it is split), cast once, without a float64 copy of the
    whole array beside it."""
    result = np.empty(shape, dtype=dtype)
    flat = result.reshape(-1)
    for start in range(0, flat.size, DRAW_CHUNK):
        flat[start : start + DRAW_CHUNK] = draw(min(DRAW_CHUNK, flat.size - start))
    return result


def _affordable(shape: Sequence[int], dtype: np.dtype[Any]) -> None:
    """Refuse an array larger than the machine's memory before allocating it. The layers
    check their own arguments first, with their names; this is the last word for the rest."""
    fits_memory("a layer", "its sizes make an array of shape", shape, dtype)


def check_init(owner: str, init: object) -> "str | Initializer":
    """``init`` if it is the name of an initialization or a function; an ArgumentError
    listing the names otherwise."""
    if isinstance(init, str) and init in INITS:
        return init
    if callable(init) and not isinstance(init, type):
        return init
    names = ", ".join(f"'{name}'" for name in INITS)
    raise ArgumentError(
        f"{owner}: init must be one of {names}, or a function init(shape, rng, dtype) -> array; "
        f"got {init!r}"
    )


def draw(
    init: "str | Initializer",
    shape: tuple[int, ...],
    fans: tuple[int, int],
    rng: np.random.Generator,
    dtype: np.dtype[Any],
    *,
    hint: Any,
    where: str,
) -> np.ndarray[Any, np.dtype[Any]]:
    """Initial weights of ``shape`` by ``init`` (see the module), for fans ``(fan_in,
    fan_out)``, drawn in float64 and cast once to ``dtype``.

    A function's result must be an array of ``dtype`` that fits ``hint``, the weights'
    annotation, with the dims ``shape`` gives them: else a ShapeError at ``where``.
    """
    _affordable(shape, dtype)
    if _SKIP.get():
        return np.empty(shape, dtype=dtype)
    fan_in, fan_out = fans
    if callable(init):
        value = init(tuple(shape), rng, dtype)
        _check_drawn(value, shape, dtype, hint, where)
        return np.asarray(value)
    if init == "book":
        return normal(shape, 0.01, rng, dtype)
    if init == "he_normal":
        return normal(shape, math.sqrt(2.0 / fan_in), rng, dtype)
    if init == "glorot_normal":
        return normal(shape, math.sqrt(2.0 / (fan_in + fan_out)), rng, dtype)
    limit = math.sqrt(6.0 / (fan_in if init == "he_uniform" else fan_in + fan_out))
    return _drawn(shape, dtype, lambda n: rng.uniform(-limit, limit, size=n))


def _check_drawn(
    value: Any, shape: tuple[int, ...], dtype: np.dtype[Any], hint: Any, where: str
) -> None:
    spec = spec_of(hint)
    bindings: dict[str, Bound] = {}
    if spec is not None:
        bind(spec, shape, bindings)
        given = f"the shape `{tuple(shape)}` it was asked for"
        bindings = {k: Bound(b.size, given) for k, b in bindings.items()}
    error = argument_error(where, "init(shape, rng, dtype)", hint, value, bindings)
    if error is not None:
        raise error
    if value.dtype != dtype:
        raise ShapeError.create(
            where,
            "init(shape, rng, dtype)",
            f"dtype {dtype}",
            describe(value),
            f"the layer computes in {dtype}, and it returned {value.dtype}",
            hint=f"return `array.astype(dtype)` from init (it is given dtype={dtype})",
            located=True,
        )


def zeros(shape: Sequence[int], dtype: np.dtype[Any]) -> np.ndarray[Any, np.dtype[Any]]:
    """Zeros in ``dtype`` (uninitialized inside ``uninitialized()``)."""
    _affordable(shape, dtype)
    if _SKIP.get():
        return np.empty(shape, dtype=dtype)
    return np.zeros(shape, dtype=dtype)


def ones(shape: Sequence[int], dtype: np.dtype[Any]) -> np.ndarray[Any, np.dtype[Any]]:
    """Ones in ``dtype`` (uninitialized inside ``uninitialized()``)."""
    _affordable(shape, dtype)
    if _SKIP.get():
        return np.empty(shape, dtype=dtype)
    return np.ones(shape, dtype=dtype)


def float_dtype(dtype: npt.DTypeLike, owner: str = "") -> np.dtype[Any]:
    """``dtype`` resolved, if it is one a layer computes in: float32 or float64 (as a NumPy
    type, a dtype or a name); an ArgumentError naming ``owner`` and the two otherwise."""
    allowed = (np.dtype(np.float32), np.dtype(np.float64))
    resolved = None
    # None is refused, not read as NumPy reads it (float64): a layer's default is float32.
    if dtype is not None and not isinstance(dtype, bool | np.ndarray):
        try:
            # A deprecated alias (b"a") warns before it resolves to a dtype refused below: the
            # refusal is the one message.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                resolved = np.dtype(dtype)
        except (TypeError, ValueError, KeyError, SyntaxError, OverflowError):
            resolved = None
    if resolved is not None and resolved in allowed:
        return resolved
    got = str(resolved) if resolved is not None else shown(dtype)
    prefix = f"{owner}: " if owner else ""
    raise ArgumentError(
        f"{prefix}dtype must be float32 or float64, got {got} (give np.float32, np.float64 or "
        "their names)"
    )


def torch_dtype(torch: Any, layer: Any) -> Any:
    """The torch dtype of ``layer``'s parameters (float32 or float64), for its exported
    module."""
    return getattr(torch, str(layer.parameters()[0].value.dtype))
