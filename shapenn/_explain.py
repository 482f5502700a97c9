"""Turn a failed jaxtyping/beartype check into a ShapeError that says what went wrong.

The checking itself is done by jaxtyping + beartype (see `_shapes.shapechecked`). This module
only runs *after* a check has failed: it walks the same annotations again over the same
arguments, in blame order, to find the first argument that does not fit and to say why in
plain words — which dim disagrees with which earlier argument, and how to fix it. It is never
on the hot path.
"""

import inspect
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
from beartype.door import is_bearable
from jaxtyping._array_types import (  # private, but stable across 0.2/0.3; only read here
    _AnonymousDim,
    _AnonymousVariadicDim,
    _FixedDim,
    _NamedDim,
    _NamedVariadicDim,
)

from ._errors import ShapeError, _Report

__all__ = ["array_annotation", "describe", "dtype_report", "explain"]

_DTYPE_FAMILY = {"Float": "floating-point", "Integer": "integer", "Real": "real-valued"}


class _Binding(NamedTuple):
    size: int | tuple[int, ...]  # a tuple for a variadic dim such as ``*shape``
    argument: str


def array_annotation(annotation: Any) -> Any | None:
    """The jaxtyping array type inside `annotation` (also inside `X | None`), or None."""
    if hasattr(annotation, "dims") and hasattr(annotation, "array_type"):
        return annotation
    for member in getattr(annotation, "__args__", ()):
        found = array_annotation(member)
        if found is not None:
            return found
    return None


def _family(annotation: Any) -> str:
    return str(annotation.__name__).split("[", 1)[0]


def _family_words(annotation: Any) -> str:
    return _DTYPE_FAMILY.get(_family(annotation), _family(annotation))


def describe(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"{tuple(value.shape)} {value.dtype}"
    return f"a {type(value).__name__}"


def _expected(annotation: Any, memo: Mapping[str, _Binding]) -> str:
    parts: list[str] = []
    for dim in annotation.dims:
        if isinstance(dim, _FixedDim):
            parts.append(str(dim.size))
        elif isinstance(dim, _NamedDim):
            known = memo.get(dim.name)
            parts.append(f"{dim.name}={known.size}" if known else dim.name)
        elif isinstance(dim, _NamedVariadicDim):
            known = memo.get("*" + dim.name)
            parts.append(f"*{dim.name}={known.size}" if known else f"*{dim.name}")
        elif isinstance(dim, _AnonymousVariadicDim):
            parts.append("...")
        else:
            parts.append("_")
    inner = ", ".join(parts)
    if len(parts) == 1:
        return inner if inner.startswith(("*", "...")) else f"({inner},)"
    return f"({inner})"


def _with_rank(annotation: Any, shape: tuple[int, ...], memo: dict[str, _Binding]) -> str | None:
    """Why `shape` breaks `annotation`'s dims given `memo` (binding new dims into it), or None."""
    dims = list(annotation.dims)
    variadic = next(
        (i for i, d in enumerate(dims) if isinstance(d, _NamedVariadicDim | _AnonymousVariadicDim)),
        None,
    )
    if variadic is None:
        if len(shape) != len(dims):
            return f"it is {len(shape)}-D but {len(dims)}-D is needed"
        pairs = list(zip(dims, shape, strict=True))
    else:
        fixed = len(dims) - 1
        if len(shape) < fixed:
            return f"it is {len(shape)}-D but at least {fixed}-D is needed"
        middle = shape[variadic : len(shape) - (fixed - variadic)]
        rest = shape[:variadic] + shape[len(shape) - (fixed - variadic) :]
        dim = dims.pop(variadic)
        if isinstance(dim, _NamedVariadicDim):
            known = memo.get("*" + dim.name)
            if known is None:
                memo["*" + dim.name] = _Binding(middle, "")
            elif known.size != middle:
                where = f" in `{known.argument}`" if known.argument else ""
                return f"its shape {middle} differs from {known.size}{where}"
        pairs = list(zip(dims, rest, strict=True))
    for axis, (dim, size) in enumerate(pairs):
        if isinstance(dim, _FixedDim):
            if size != dim.size:
                return f"axis {axis} must be {dim.size} but is {size}"
        elif isinstance(dim, _NamedDim):
            known = memo.get(dim.name)
            if known is None:
                memo[dim.name] = _Binding(size, "")
            elif known.size != size:
                where = f" in `{known.argument}`" if known.argument else " on another axis"
                return f"`{dim.name}` is {size} here but {known.size}{where}"
        elif not isinstance(dim, _AnonymousDim):
            raise NotImplementedError(type(dim).__name__)
    return None


class _Problem(NamedTuple):
    argument: str
    annotation: Any
    value: Any
    reason: str
    memo: dict[str, _Binding]  # the dims bound before this argument


def _first_problem(
    values: Mapping[str, Any], order: Sequence[str], hints: Mapping[str, Any]
) -> _Problem | None:
    """Walk array arguments in blame order, binding dims; return the first that does not fit."""
    memo: dict[str, _Binding] = {}
    for name in order:
        annotation = array_annotation(hints.get(name))
        value: Any = values.get(name)
        if annotation is None or (value is None and is_bearable(None, hints[name])):
            continue
        before = dict(memo)
        if not isinstance(value, np.ndarray):
            return _Problem(name, annotation, value, "a NumPy array is needed", before)
        if value.dtype.name not in annotation.dtypes:
            reason = f"its dtype {value.dtype} is not {_family_words(annotation)}"
            return _Problem(name, annotation, value, reason, before)
        trial = dict(memo)
        mismatch = _with_rank(annotation, tuple(value.shape), trial)
        if mismatch is not None:
            return _Problem(name, annotation, value, mismatch, before)
        memo = {k: v if v.argument else _Binding(v.size, name) for k, v in trial.items()}
    return None


def _float_target(values: Mapping[str, Any], order: Sequence[str]) -> str:
    for name in order:
        value = values.get(name)
        if isinstance(value, np.ndarray) and value.dtype.kind == "f":
            return f"np.{value.dtype}"
    return "np.float32"


def _hint(
    problem: _Problem,
    values: Mapping[str, Any],
    order: Sequence[str],
    hints: Mapping[str, Any],
    anchors: Sequence[str],
) -> str | None:
    name, annotation, value = problem.argument, problem.annotation, problem.value
    family = _family(annotation)
    if not isinstance(value, np.ndarray):
        dtype = "np.int64" if family == "Integer" else _float_target(values, order)
        return f"convert it with `np.asarray({name}, dtype={dtype})`"
    if value.dtype.name not in annotation.dtypes:
        if family == "Integer":
            return f"labels must be integers: cast with `{name}.astype(np.int64)`"
        return f"cast with `{name}.astype({_float_target(values, order)})`"
    # Would transposing one 2-D argument make the whole call fit? The culprit first.
    transposed = [
        f"`{candidate}` looks transposed: pass `{candidate}.T`"
        # The culprit first, then other non-anchor arguments: anchors are trusted as they are.
        for candidate in [name, *(n for n in order if n != name and n not in anchors)]
        if isinstance(array := values.get(candidate), np.ndarray)
        and array.ndim == 2
        and array.shape[0] != array.shape[1]
        and _first_problem({**values, candidate: array.T}, order, hints) is None
    ]
    if transposed:
        return "; or ".join(transposed)
    dims = annotation.dims
    if value.ndim == 1 and len(dims) == 2:
        first = dims[0]
        known = problem.memo.get(first.name) if isinstance(first, _NamedDim) else None
        if known is not None and known.size == value.shape[0]:
            return f"add a feature axis: `{name}.reshape(-1, 1)`"
        return f"add a batch axis: `{name}[None, :]` or `{name}.reshape(1, -1)`"
    if value.ndim == 2 and len(dims) == 1 and 1 in value.shape:
        return f"drop the extra axis: `{name}.ravel()`"
    return None


def _report(where: str, problem: _Problem, hint: str | None) -> _Report:
    memo = problem.memo
    return _Report(
        where=where,
        argument=problem.argument,
        expected=_family_words(problem.annotation) + " " + _expected(problem.annotation, memo),
        got=describe(problem.value),
        reason=problem.reason,
        bound={k: v.size for k, v in problem.memo.items()},
        hint=hint,
    )


def explain(
    where: str,
    signature: inspect.Signature,
    hints: Mapping[str, Any],
    anchors: Sequence[str],
    args: tuple[Any, ...],
    kwargs: Mapping[str, Any],
    checker_message: str,
) -> ShapeError:
    """Build the ShapeError for a call whose jaxtyping/beartype check failed."""
    values = dict(signature.bind(*args, **kwargs).arguments)
    order = [*anchors, *(n for n in signature.parameters if n not in anchors)]
    problem = _first_problem(values, order, hints)
    if problem is not None:
        hint = _hint(problem, values, order, hints, anchors)
        return ShapeError(_report(where, problem, hint))
    for name in order:  # a non-array argument of the wrong type
        if name in hints and name in values and not is_bearable(values[name], hints[name]):
            expected = getattr(hints[name], "__name__", repr(hints[name]))
            got = describe(values[name])
            return ShapeError(_Report(where, name, expected, got, "wrong type"))
    # Every argument fits, so the function returned the wrong shape: a bug in the function.
    got = next(
        (
            line.split(":", 1)[1].strip()
            for line in checker_message.splitlines()
            if "Actual" in line
        ),
        "?",
    )
    annotation = array_annotation(hints.get("return"))
    expected = _expected(annotation, {}) if annotation is not None else str(hints.get("return"))
    reason = "the function returned the wrong shape (a bug in it, not in its arguments)"
    return ShapeError(_Report(where, "return value", expected, got, reason))


def dtype_report(
    where: str, argument: str, value: Any, reference: str, reference_dtype: np.dtype[Any]
) -> ShapeError:
    """The error for floating-point arrays of different precisions passed to one function."""
    reason = (
        f"its dtype differs from `{reference}` ({reference_dtype}); floating-point arrays "
        "passed together must share one dtype, and shapenn never upcasts silently"
    )
    return ShapeError(
        _Report(
            where=where,
            argument=argument,
            expected=f"dtype {reference_dtype}",
            got=describe(value),
            reason=reason,
            hint=f"cast with `{argument}.astype(np.{reference_dtype})`",
        )
    )
