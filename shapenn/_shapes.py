"""The shape vocabulary: annotated array aliases and the one decorator that checks them.

Every array that crosses a function boundary in shapenn is annotated with named dims, e.g.
``Float[Array2D, "batch in"]``. At run time jaxtyping + beartype check the annotations of a
function decorated with `shapechecked`: dims with the same name must have the same size across
all arguments and the return value of one call. A failed check becomes a `ShapeError` that says,
in one sentence, which argument broke which dim and how to fix it.

Statically, `Float[X, "..."]` is `X` to mypy and pyright, so the aliases below carry the *rank*
to static checkers through NumPy's shape-typed ``ndarray[tuple[int, int], ...]``: passing a 1-D
array where a batch is declared is a type error before the code runs.
"""

import functools
import inspect
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeAlias, TypeVar, overload

import numpy as np
from beartype import beartype
from jaxtyping import Float, Integer, Real, TypeCheckError, jaxtyped

from ._errors import LabelError, ShapeError
from ._explain import array_annotation, dtype_report, explain

__all__ = [
    "Array1D",
    "Array2D",
    "Biases",
    "Inputs",
    "OneHot",
    "Outputs",
    "SparseLabels",
    "Weights",
    "checks",
    "checks_enabled",
    "located",
    "shapechecked",
]

if TYPE_CHECKING:
    Array1D: TypeAlias = np.ndarray[tuple[int], np.dtype[Any]]
    Array2D: TypeAlias = np.ndarray[tuple[int, int], np.dtype[Any]]
else:
    # At run time jaxtyping needs the bare class; the rank is in the dim string.
    Array1D = Array2D = np.ndarray

Inputs: TypeAlias = Float[Array2D, "batch in"]
Outputs: TypeAlias = Float[Array2D, "batch out"]
Weights: TypeAlias = Float[Array2D, "in out"]
Biases: TypeAlias = Float[Array2D, "1 out"]
SparseLabels: TypeAlias = Integer[Array1D, " batch"]
OneHot: TypeAlias = Real[Array2D, "batch classes"]

_PLAIN = (bool, int, float, str, np.generic, np.random.Generator)
_SIGNATURES_KEPT = 256  # per function; a training run uses a handful

P = ParamSpec("P")
R = TypeVar("R")
S = TypeVar("S")

_enabled = os.environ.get("SHAPENN_CHECKS", "1").strip().lower() not in {"0", "false", "off"}


def checks_enabled() -> bool:
    """Whether shape checks run (on unless ``SHAPENN_CHECKS=0`` or inside ``checks(False)``)."""
    return _enabled


@contextmanager
def checks(enabled: bool) -> Iterator[None]:
    """Turn shape checking on or off inside a ``with`` block, restoring the previous setting.

    Checks are on by default; turn them off only for code already known to be shape-correct.
    """
    global _enabled
    previous, _enabled = _enabled, enabled
    try:
        yield
    finally:
        _enabled = previous


def _float_positions(signature: inspect.Signature, hints: dict[str, Any]) -> list[tuple[int, str]]:
    return [
        (i, name)
        for i, name in enumerate(signature.parameters)
        if "float32" in getattr(array_annotation(hints.get(name)), "dtypes", ())
    ]


@overload
def shapechecked(fn: Callable[P, R], /) -> Callable[P, R]: ...
@overload
def shapechecked(*, anchors: Sequence[str] = ()) -> Callable[[Callable[P, R]], Callable[P, R]]: ...
def shapechecked(
    fn: Callable[P, R] | None = None, /, *, anchors: Sequence[str] = ()
) -> Callable[P, R] | Callable[[Callable[P, R]], Callable[P, R]]:
    """Check a function's array annotations at every call, raising `ShapeError` on a mismatch.

    Wraps ``jaxtyping.jaxtyped(typechecker=beartype.beartype)``: the dims named in one call —
    arguments and return value — must agree. On top of that, all floating-point arrays passed in
    one call must share one dtype, so a float64 array never silently upcasts a float32 model.

    Args:
        fn: the function to check.
        anchors: the arguments trusted to be right (e.g. a layer's own ``weights``). When a
            check fails, dims are bound from these first, so the error blames the other
            argument: "`in` is 3 here but 4 in `weights`", not the reverse.

    Example::

        @shapechecked(anchors=("weights",))
        def project(inputs: Float[Array2D, "batch in"], weights: Float[Array2D, "in out"]
                    ) -> Float[Array2D, "batch out"]:
            return inputs @ weights
    """

    def decorate(fn: Callable[P, R]) -> Callable[P, R]:
        checked = jaxtyped(typechecker=beartype)(fn)
        signature = inspect.signature(fn)
        hints = inspect.get_annotations(fn, eval_str=True)
        arrays = _float_positions(signature, hints)
        where = fn.__qualname__
        anchor_list = [*anchors]

        def same_dtypes(args: tuple[Any, ...], kwargs: dict[str, Any]) -> ShapeError | None:
            # Why a hand-written check: jaxtyping has no dtype variables, and a float64 input
            # to float32 weights would make NumPy upcast the whole model without a word.
            first: tuple[str, np.dtype[Any]] | None = None
            ordered = [(name, args[i] if i < len(args) else kwargs.get(name)) for i, name in arrays]
            ordered.sort(key=lambda item: item[0] not in anchor_list)
            for name, value in ordered:
                dtype = getattr(value, "dtype", None)
                if not isinstance(dtype, np.dtype) or dtype.kind != "f":
                    continue
                if first is None:
                    first = (name, dtype)
                elif dtype != first[1]:
                    return dtype_report(where, name, value, first[0], first[1])
            return None

        # Signatures (array types, shapes and dtypes; other arguments' types) that have passed
        # the full check. What jaxtyping + beartype decide depends on nothing else, so a call
        # with a known signature passes too: it costs one tuple and one set lookup. A failing
        # signature is never stored, so every bad call still gets the full check and its error.
        passed: set[tuple[Any, ...]] = set()

        def signature_of(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...] | None:
            key: list[Any] = []
            for value in (*args, *kwargs.values()):
                if isinstance(value, np.ndarray):
                    key.append((type(value), value.shape, value.dtype))
                elif value is None or isinstance(value, _PLAIN):
                    key.append(type(value))
                else:
                    return None  # e.g. a list: its contents matter, so always check in full
            if kwargs:
                key.append(tuple(kwargs))
            return tuple(key)

        @functools.wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            if not _enabled:
                return fn(*args, **kwargs)
            key = signature_of(args, kwargs)
            if key is not None and key in passed:
                return fn(*args, **kwargs)
            mixed = same_dtypes(args, kwargs)
            if mixed is not None:
                raise mixed
            try:
                result = checked(*args, **kwargs)
            except TypeCheckError as err:
                raise explain(where, signature, hints, anchor_list, args, kwargs, str(err)) from err
            if key is not None:
                if len(passed) >= _SIGNATURES_KEPT:
                    passed.clear()
                passed.add(key)
            return result

        return wrapper

    return decorate if fn is None else decorate(fn)


def located(method: Callable[Concatenate[S, P], R]) -> Callable[Concatenate[S, P], R]:
    """Report a ShapeError raised inside a layer's method as the layer's own, e.g.
    ``Dense(4 → 3).forward`` instead of the kernel ``dense_forward`` (and prefix a LabelError
    with the same name)."""
    name = method.__name__

    @functools.wraps(method)
    def wrapper(self: S, /, *args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(self, *args, **kwargs)
        except ShapeError as err:
            raise err.located(f"{self!r}.{name}") from err.__cause__
        except LabelError as err:
            raise err.located(f"{self!r}.{name}") from None

    return wrapper
