"""Turn a failed check into a ShapeError that says what went wrong, in the dim model's words.

The verdict is jaxtyping's and beartype's (see `_check`). This module runs only after a check
has failed: it binds the same annotations again, with the dim model, over the same values in
blame order — trusted values first (a layer's parameters, its config, the last forward) — to
find the first argument that does not fit, say why in plain words and suggest a fix. It is
never on the hot path.
"""

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

import numpy as np
from beartype.door import is_bearable

from ._dims import (
    ArraySpec,
    Bindings,
    Fixed,
    Mismatch,
    Named,
    Variadic,
    bind,
    claim,
    empty_axis,
    evaluate,
    format_shape,
    is_known,
    names_in,
    render_spec,
    specs_of,
)
from ._errors import Report, ShapeError

__all__ = [
    "Item",
    "argument_error",
    "array_rule_error",
    "describe",
    "dtype_error",
    "explain",
    "explain_return",
    "first_problem",
    "return_dtype_error",
    "shape_error",
]


@dataclass(frozen=True)
class Item:
    """A value to check: its label in messages, its annotation, the value, and whether it is
    trusted (an anchor: blamed last, never suggested to be transposed)."""

    label: str
    hint: Any
    value: Any
    anchor: bool = False


def _shape_of(value: Any) -> tuple[int, ...] | None:
    """The shape of an array, or of what NumPy would make of a list; None for neither."""
    if isinstance(value, np.ndarray):
        return tuple(value.shape)
    array = _as_array(value) if value is not None else None
    return None if array is None else tuple(array.shape)


def describe(value: Any) -> str:
    """``(3, 4) float32`` for an array, ``a list`` for anything else."""
    if isinstance(value, np.ndarray):
        return f"{format_shape(value.shape)} {value.dtype}"
    return f"a {type(value).__name__}"


class Problem(NamedTuple):
    item: Item
    spec: ArraySpec
    reason: str
    mismatch: Mismatch | None
    bindings: Bindings  # the dims bound before this item


def _allows_none(hint: Any) -> bool:
    try:
        return bool(is_bearable(None, hint))
    except Exception:
        return False


def _closest(specs: list[ArraySpec], value: np.ndarray[Any, np.dtype[Any]]) -> ArraySpec:
    """Of a union's specs, the one to explain against: same rank and dtype first."""

    def score(spec: ArraySpec) -> tuple[bool, bool]:
        same_rank = spec.rank == value.ndim or (
            spec.variadic is not None and value.ndim >= spec.rank
        )
        return (not same_rank, not spec.accepts_dtype(value.dtype))

    return min(specs, key=score)


def _as_array(value: Any) -> np.ndarray[Any, np.dtype[Any]] | None:
    """``value`` (a list, a tuple, a number) as NumPy would read it, if it is a rectangular
    block of real numbers; None otherwise (ragged lists, strings, objects)."""
    try:
        array = np.asarray(value)
    except (ValueError, TypeError):
        return None
    return array if array.dtype.kind in "biuf" else None


def _check_item(item: Item, bindings: Bindings) -> tuple[Problem | None, Bindings]:
    """Bind one item; return its problem (if any) and the bindings after it.

    Every problem of the item is named at once — not an array, the wrong dtype, the wrong
    shape — so that one fix repairs it."""
    specs = specs_of(item.hint)
    value = item.value
    if not specs or (value is None and _allows_none(item.hint)):
        return None, bindings
    reasons = []
    array: np.ndarray[Any, np.dtype[Any]] | None = value
    if not isinstance(value, np.ndarray):
        array = _as_array(value)
        reasons.append("a NumPy array is needed")
        if array is None:
            return Problem(item, specs[0], reasons[0], None, bindings), bindings
    assert array is not None
    fitting = [s for s in specs if s.accepts_dtype(array.dtype)]
    if isinstance(value, np.ndarray):
        for spec in fitting:
            trial = dict(bindings)
            if bind(spec, tuple(value.shape), trial) is None:
                return None, claim(trial, item.label)
    spec = _closest(specs, array)
    if spec not in fitting:
        whose = "its dtype" if isinstance(value, np.ndarray) else "as one, its dtype"
        reasons.append(f"{whose} {array.dtype} is not {spec.dtype_words}")
    mismatch = bind(spec, tuple(array.shape), dict(bindings))
    if mismatch is not None:
        reasons.append(mismatch.reason)
    if len(reasons) > 1:
        reasons[-1] = "and " + reasons[-1]
    return Problem(item, spec, "; ".join(reasons), mismatch, bindings), bindings


def first_problem(items: Sequence[Item], bindings: Bindings) -> Problem | None:
    """Walk ``items`` in order, binding dims; return the first that does not fit."""
    for item in items:
        problem, bindings = _check_item(item, bindings)
        if problem is not None:
            return problem
    return None


def bind_all(items: Sequence[Item], bindings: Bindings) -> Bindings:
    """The bindings after all items (which are known to fit)."""
    for item in items:
        _, bindings = _check_item(item, bindings)
    return bindings


def _float_target(items: Sequence[Item]) -> str:
    """The dtype to cast to: that of the first array of the call in an allowed float dtype."""
    for item in items:
        value = item.value
        if not (isinstance(value, np.ndarray) and value.dtype.kind == "f"):
            continue
        if any(s.accepts_dtype(value.dtype) for s in specs_of(item.hint)):
            return f"np.{value.dtype}"
    return "np.float32"


# --- hints --------------------------------------------------------------------------------------
#
# A hint is code the reader can paste. Each is built as a `Fix` — words, and the code as a
# function of the array's expression — so that fixes compose (convert, then add a batch axis)
# and so that every hint is *tried* on the array it is given for before it is shown: a hint
# whose result would not fit is never given.

_PLACEHOLDER = "__shapenn_value__"
_TRIED_UP_TO = 1 << 20  # values; larger arrays (a memory-mapped X) are not copied to try a hint


class Fix(NamedTuple):
    """A repair of an array's shape: what it does, and the code for an array ``expr``."""

    words: str
    forms: tuple[Callable[[str], str], ...]


def _fits(array: Any, spec: ArraySpec, bindings: Bindings | None) -> bool:
    """Whether ``array`` has a dtype ``spec`` allows and (unless ``bindings`` is None) a shape
    that fits it."""
    return (
        isinstance(array, np.ndarray)
        and spec.accepts_dtype(array.dtype)
        and (bindings is None or bind(spec, tuple(array.shape), dict(bindings)) is None)
    )


def _tried(code: str, value: Any, spec: ArraySpec, bindings: Bindings | None) -> bool:
    """Whether ``code`` (written in terms of `_PLACEHOLDER`) turns ``value`` into an array that
    fits ``spec`` (its dtype only, when ``bindings`` is None: a fix of the dtype alone, for a
    shape no fix is known for)."""
    size = value.size if isinstance(value, np.ndarray) else np.size(value)
    if size > _TRIED_UP_TO:
        return True
    try:
        with np.errstate(all="ignore"):
            result = eval(code, {"np": np, _PLACEHOLDER: value})  # our own templates only
    except Exception:
        return False
    return _fits(result, spec, bindings)


def _shape_fix(spec: ArraySpec, before: Bindings, shape: tuple[int, ...]) -> Fix | None:
    """How to give an array of ``shape`` the shape ``spec`` needs, keeping each sample's
    values where they belong; None when no such fix is known."""
    if spec.variadic is not None:
        variadic = spec.dims[spec.variadic]
        bound = before.get(f"*{variadic.name}") if isinstance(variadic, Variadic) else None
        if bound is not None and isinstance(bound.size, tuple) and is_known(bound.size):
            # Its axes are known already (the predictions' positions): spell them out.
            sizes = tuple(Fixed(int(size)) for size in bound.size)
            dims = (*spec.dims[: spec.variadic], *sizes, *spec.dims[spec.variadic + 1 :])
            spec = replace(spec, dims=dims)
        else:
            # At its simplest, with no axes in the variadic: a 1-D sample for (batch, *, in).
            simplest = [d for d in spec.dims if not isinstance(d, Variadic)]
            if len(shape) >= len(simplest):
                return None
            spec = replace(spec, dims=tuple(simplest))
    dims = spec.dims
    expected: list[int] = []  # the sizes the spec needs after its first axis, where known
    for dim in dims[1:]:
        known = before.get(dim.name) if isinstance(dim, Named) else None
        if isinstance(dim, Fixed):
            expected.append(dim.size)
        elif known is not None and isinstance(known.size, int):
            expected.append(known.size)
        else:
            break
    complete = len(expected) == len(dims) - 1
    if complete and len(shape) == len(dims) >= 3 and shape[1:] != tuple(expected):
        order = _permutation(shape[1:], expected)
        if order is not None:  # the same axes in another order: channels last, say
            axes = ", ".join(str(a) for a in (0, *order))
            return Fix("its axes are in another order", (lambda e: f"{e}.transpose({axes})",))
    if (
        complete
        and len(shape) >= 2
        and len(shape) != len(dims)
        and len(expected) >= 2
        and math.prod(shape[1:]) == math.prod(expected)
    ):
        target = ", ".join(str(s) for s in expected)
        return Fix("reshape it", (lambda e: f"{e}.reshape(-1, {target})",))
    square = _square_fix(spec, expected, shape)
    if square is not None:
        return square
    if len(shape) == 1 and len(dims) == 2:
        first = _known_size(dims[0], before)
        last = expected[0] if expected else None
        if first == shape[0] and last in (None, 1):
            return Fix("add a feature axis", (lambda e: f"{e}.reshape(-1, 1)",))
        if last == shape[0] or (last is None and first is None):
            return Fix(
                "add a batch axis", (lambda e: f"{e}[None, :]", lambda e: f"{e}.reshape(1, -1)")
            )
        if last == 1:
            return Fix("add a feature axis", (lambda e: f"{e}.reshape(-1, 1)",))
        return None
    if len(shape) == 2 and len(dims) == 1 and 1 in shape:
        return Fix("drop the extra axis", (lambda e: f"{e}.ravel()",))
    return None


def _known_size(dim: Any, bindings: Bindings) -> int | None:
    if isinstance(dim, Fixed):
        return dim.size
    known = bindings.get(dim.name) if isinstance(dim, Named) else None
    return known.size if known is not None and isinstance(known.size, int) else None


def _permutation(got: tuple[int, ...], wanted: list[int]) -> tuple[int, ...] | None:
    """The axes of ``got`` (numbered from 1) that, taken in order, give ``wanted``; equal sizes
    keep their order. None if ``got`` holds other sizes."""
    if sorted(got) != sorted(wanted):
        return None
    free = list(range(len(got)))
    order = []
    for size in wanted:
        axis = next(a for a in free if got[a] == size)
        free.remove(axis)
        order.append(axis + 1)
    return tuple(order)


def _square_fix(spec: ArraySpec, known: list[int], shape: tuple[int, ...]) -> Fix | None:
    """For flat rows where the last two axes are sizes nothing has fixed yet (an image's
    height and width): the reshape that makes each row a square image, when one does."""
    unknown = spec.dims[1 + len(known) :]
    if spec.variadic is not None or len(shape) != 2 or len(unknown) != 2 or not known:
        return None
    if not all(isinstance(dim, Named) for dim in unknown):
        return None
    per_image, left = divmod(shape[1], math.prod(known))
    side = math.isqrt(per_image)
    if left or side < 2 or side * side != per_image:
        return None
    target = ", ".join(str(s) for s in (*known, side, side))
    return Fix(
        "if each row is a square image, reshape it", (lambda e: f"{e}.reshape(-1, {target})",)
    )


def _literal(array: np.ndarray[Any, np.dtype[Any]], fix: Fix | None, dtype: str) -> str | None:
    """The fixed array written out, ``np.array([[1, 2, 3]], dtype=np.float32)``, for a short
    list typed by hand; None for anything longer than a line."""
    if array.size > 12:
        return None
    fixed = array
    if fix is not None:
        fixed = eval(fix.forms[0](_PLACEHOLDER), {"np": np, _PLACEHOLDER: array})
    return f"np.array({fixed.tolist()!r}, dtype={dtype})"


def _hint(problem: Problem, items: Sequence[Item], bindings: Bindings) -> str | None:
    item, value = problem.item, problem.item.value
    array = value if isinstance(value, np.ndarray) else _as_array(value)
    if array is None:
        return None
    if isinstance(value, np.ndarray) and problem.spec.accepts_dtype(array.dtype):
        transposed = _transposed(item, items, bindings)
        if transposed:
            return transposed
    # The spec the error was explained against first, then a union's other members (integer
    # labels (batch,) when one-hot rows (batch, classes) were explained).
    others = [s for s in specs_of(item.hint) if s is not problem.spec]
    for spec in [problem.spec, *others]:
        hint = _fix_for(spec, problem, array, items)
        if hint is not None:
            return hint
    return None


def _fix_for(
    spec: ArraySpec,
    problem: Problem,
    array: np.ndarray[Any, np.dtype[Any]],
    items: Sequence[Item],
) -> str | None:
    """The hint that makes ``problem``'s value fit ``spec``, tried on the value; None if there
    is none that would."""
    name, value, before = problem.item.label, problem.item.value, problem.bindings
    shape_fits = bind(spec, tuple(array.shape), dict(before)) is None
    dtype_fits = isinstance(value, np.ndarray) and spec.accepts_dtype(array.dtype)
    fix = None if shape_fits else _shape_fix(spec, before, tuple(array.shape))
    if dtype_fits and fix is None:
        return None
    if fix is None and spec is not problem.spec:
        return None  # another member of a union: only a shape fix makes it worth naming
    target = "np.int64" if spec.family == "Integer" else _float_target(items)
    words: list[str] = []
    base = _PLACEHOLDER
    literal = None
    if not isinstance(value, np.ndarray):
        words.append("convert it")
        base = f"np.asarray({_PLACEHOLDER}, dtype={target})"
        literal = _literal(array, fix, target) if fix is not None else None
    elif not dtype_fits:
        words.append("labels must be integers: cast" if spec.family == "Integer" else "cast")
        base = f"{_PLACEHOLDER}.astype({target})"
    if fix is not None:
        words.append(fix.words)
    forms = [base] if fix is None else [form(base) for form in fix.forms]
    if literal is not None:
        forms = [literal]
    within = before if fix is not None or shape_fits else None
    shown = [
        code.replace(_PLACEHOLDER, name) for code in forms if _tried(code, value, spec, within)
    ]
    if not shown:
        return None
    joined = " or ".join(f"`{code}`" for code in shown)
    if len(words) == 1 and (words[0] in ("convert it", "cast") or words[0].startswith("labels")):
        return f"{words[0]} with {joined}"
    return f"{' and '.join(words)}: {joined}"


def _transposed(item: Item, items: Sequence[Item], bindings: Bindings) -> str | None:
    """ "`x` looks transposed: pass `x.T`", for each 2-D array of the call whose transpose
    makes every argument fit: the culprit first, then the other untrusted arrays (and, when
    the culprit is itself trusted — a layer's parameters disagreeing among themselves — the
    other trusted ones)."""
    found = [
        f"`{candidate.label}` looks transposed: pass `{candidate.label}.T`"
        for candidate in [
            item,
            *(i for i in items if i is not item and (item.anchor or not i.anchor)),
        ]
        if isinstance(array := candidate.value, np.ndarray)
        and array.ndim == 2
        and array.shape[0] != array.shape[1]
        and first_problem(
            [
                Item(i.label, i.hint, array.T if i is candidate else i.value, i.anchor)
                for i in items
            ],
            bindings,
        )
        is None
    ]
    return "; or ".join(found) or None


def empty_output_error(
    where: str, item: Item, expected: str, got: str, returns: Any, bindings: Bindings
) -> ShapeError | None:
    """The error for an input too small for its function: an axis of the output, computed
    from the dims it bound (``(h-kh)//stride+1``), would be below 1. None if none would."""
    for spec in specs_of(returns):
        found = empty_axis(spec, bindings)
        if found is None:
            continue
        axis, derived = found
        reason = (
            f"it is too small: axis {axis} of the output would be {derived.text} = "
            f"{derived.worked} = {derived.value}"
        )
        least = _least(derived.text, bindings, item.label)
        if least is not None:
            reason += f"; `{least[0]}` must be at least {least[1]} here"
        return ShapeError(
            Report(where, item.label, expected, got, reason, bound_sizes(bindings, spec))
        )
    return None


def _least(text: str, bindings: Bindings, label: str) -> tuple[str, int] | None:
    """The dim of ``label``'s array in expression ``text``, and the smallest size of it that
    makes ``text`` at least 1 with everything else as bound (None if there is no such dim)."""
    for name in sorted(names_in(text)):
        bound = bindings.get(name)
        if bound is None or bound.source not in ("", label) or not isinstance(bound.size, int):
            continue
        for size in range(bound.size + 1, bound.size + 4097):
            value = evaluate(text, {**bindings, name: bound._replace(size=size)})
            if value is not None and value >= 1:
                return name, size
    return None


def bound_sizes(bindings: Bindings, spec: ArraySpec | None = None) -> dict[str, Any]:
    """The sizes an error lists as "dims bound so far": all of them, except settings (a
    stride, a padding) that ``spec`` does not mention, which would only be noise."""
    mentioned = spec.mentions() if spec is not None else set()
    return {
        k: v.size
        for k, v in bindings.items()
        if (not v.config or k in mentioned) and not isinstance(v.size, str) and v.size != ()
    }


def explain(
    where: str, items: Sequence[Item], bindings: Bindings, checker: str | None
) -> ShapeError:
    """The ShapeError for a call whose check failed on one of ``items``.

    ``bindings`` holds the dims known before any item (a layer's config, its last forward).
    When the dim model finds nothing wrong, jaxtyping's and beartype's own words are used.
    """
    problem = first_problem(items, bindings)
    if problem is not None:
        return _problem_error(where, problem, items, bindings, checker=checker)
    for item in items:  # a non-array argument of the wrong type
        if not specs_of(item.hint) and not _bearable(item.value, item.hint):
            expected = getattr(item.hint, "__name__", repr(item.hint))
            report = Report(where, item.label, expected, describe(item.value), "wrong type")
            return ShapeError(Report(**{**vars(report), "checker": checker}))
    return _fallback(where, "arguments", checker)


def _problem_error(
    where: str,
    problem: Problem,
    items: Sequence[Item],
    bindings: Bindings,
    *,
    checker: str | None = None,
    located: bool = False,
) -> ShapeError:
    spec = problem.spec
    shape = _shape_of(problem.item.value)
    expected = " ".join(
        filter(None, [spec.family_words, render_spec(spec, problem.bindings, shape)])
    )
    report = Report(
        where=where,
        argument=problem.item.label,
        expected=expected,
        got=describe(problem.item.value),
        reason=problem.reason,
        bound=bound_sizes(problem.bindings, problem.spec),
        hint=_hint(problem, items, bindings),
        checker=checker,
        located=located,
        dim=problem.mismatch.dim if problem.mismatch else None,
        axis=problem.mismatch.axis if problem.mismatch else None,
        needed=problem.mismatch.expected if problem.mismatch else None,
    )
    return ShapeError(report)


def argument_error(
    where: str, label: str, hint: Any, value: Any, bindings: Bindings
) -> ShapeError | None:
    """The error for ``value`` passed as ``label`` where ``hint`` (an array annotation, or a
    union of them) is needed and ``bindings`` holds the dims known already — or None if it
    fits. For checks at a public boundary in the engine's words (a model's targets against
    its loss's annotation)."""
    items = [Item(label, hint, value)]
    problem = first_problem(items, bindings)
    if problem is None:
        return None
    return _problem_error(where, problem, items, bindings, located=True)


def _bearable(value: Any, hint: Any) -> bool:
    try:
        return bool(is_bearable(value, hint))
    except Exception:
        return True


def explain_return(
    where: str, hint: Any, value: Any, bindings: Bindings, checker: str | None
) -> ShapeError:
    """The ShapeError for a return value that does not fit its annotation: a bug in the
    function, not in its arguments."""
    reason = "the function returned the wrong shape (a bug in it, not in its arguments)"
    specs = specs_of(hint)
    values = value if isinstance(value, tuple) else (value,)
    hints = hint.__args__ if isinstance(value, tuple) and hasattr(hint, "__args__") else (hint,)
    for index, (part, part_hint) in enumerate(zip(values, hints, strict=False)):
        problem = first_problem([Item("return value", part_hint, part)], bindings)
        if problem is not None:
            label = "return value" if len(values) == 1 else f"return value [{index}]"
            spec = problem.spec
            return ShapeError(
                Report(
                    where=where,
                    argument=label,
                    expected=render_spec(spec, problem.bindings, _shape_of(part)),
                    got=describe(part),
                    reason=f"{problem.reason}; {reason}",
                    bound=bound_sizes(problem.bindings, problem.spec),
                    checker=checker,
                )
            )
    del specs
    return _fallback(where, "return value", checker)


def _fallback(where: str, what: str, checker: str | None) -> ShapeError:
    """jaxtyping's and beartype's own words, for a case the dim model does not cover."""
    words = (checker or "the check failed").strip().splitlines()
    reason = " ".join(line.strip() for line in words if line.strip())
    if len(reason) > 400:
        reason = reason[:397] + "..."
    return ShapeError(
        Report(where, what, "what its annotations say", "otherwise", reason, {}, None, (), checker)
    )


def dtype_error(where: str, item: Item, reference: Item) -> ShapeError:
    """The error for floating-point arrays of different precisions passed to one call."""
    ref_dtype = reference.value.dtype
    reason = (
        f"its dtype differs from `{reference.label}` ({ref_dtype}); floating-point arrays "
        "passed together must share one dtype, and shapenn never upcasts silently"
    )
    return ShapeError(
        Report(
            where=where,
            argument=item.label,
            expected=f"dtype {ref_dtype}",
            got=describe(item.value),
            reason=reason,
            hint=f"cast with `{item.label}.astype(np.{ref_dtype})`",
        )
    )


def return_dtype_error(where: str, item: Item, reference: Item) -> ShapeError:
    """The error for a function that returns floats of another precision than it was given
    (float64 from float32 inputs): a bug in it, which would upcast everything after it."""
    dtype, ref_dtype = item.value.dtype, reference.value.dtype
    reason = (
        f"it returned {dtype} from {ref_dtype} `{reference.label}`, which would silently turn "
        f"everything after it into {dtype} (a bug in the function, not in its arguments)"
    )
    return ShapeError(
        Report(
            where=where,
            argument=item.label,
            expected=f"dtype {ref_dtype}",
            got=describe(item.value),
            reason=reason,
            hint=(
                f"compute in the dtype of `{reference.label}`: create arrays with "
                f"`dtype={reference.label}.dtype` and write constants as "
                f"`np.{ref_dtype}(...)`"
            ),
        )
    )


def shape_error(
    where: str,
    label: str,
    spec: ArraySpec,
    value: np.ndarray[Any, np.dtype[Any]],
    bindings: Bindings,
) -> ShapeError | None:
    """The error for data ``value`` whose *shape* does not fit ``spec`` (its dtype is the
    caller's business: a model casts data batch by batch), or None if it fits."""
    trial = dict(bindings)
    mismatch = bind(spec, tuple(value.shape), trial)
    if mismatch is None:
        return None
    hint = None
    square = value.ndim == 2 and value.shape[0] == value.shape[1]
    if value.ndim == 2 and not square and bind(spec, value.T.shape, dict(bindings)) is None:
        hint = f"`{label}` looks transposed: pass `{label}.T`"
    fix = _shape_fix(spec, bindings, tuple(value.shape))
    if hint is None and fix is not None:
        shown = [
            form(_PLACEHOLDER)
            for form in fix.forms
            if _fits_shape(form(_PLACEHOLDER), value, spec, bindings)
        ]
        if shown:
            codes = " or ".join(f"`{code.replace(_PLACEHOLDER, label)}`" for code in shown)
            hint = f"{fix.words}: {codes}"
    return ShapeError(
        Report(
            where=where,
            argument=label,
            expected=render_spec(spec, bindings, value.shape),
            got=describe(value),
            reason=mismatch.reason,
            bound=bound_sizes(bindings, spec),
            hint=hint,
            located=True,
        )
    )


def _fits_shape(code: str, value: Any, spec: ArraySpec, bindings: Bindings) -> bool:
    """Whether ``code`` gives ``value`` a shape that fits ``spec`` (tried on an empty array
    of ``value``'s shape: data is cast batch by batch later, and may be memory-mapped)."""
    stand_in = np.lib.stride_tricks.as_strided(
        np.zeros(1, np.float32), shape=value.shape, strides=(0,) * value.ndim
    )
    try:
        result = eval(code, {"np": np, _PLACEHOLDER: stand_in})
    except Exception:
        return False
    return isinstance(result, np.ndarray) and bind(spec, result.shape, dict(bindings)) is None


def array_rule_error(
    where: str, items: Sequence[Item], *, empty_axes: bool, empty_batch: bool = False
) -> ShapeError | None:
    """The error for an array NumPy would accept but silently mistreat: an ``np.matrix``
    (``*`` is a matrix product), a masked array (the mask is dropped), or — with
    ``empty_axes`` — an axis after the first of size 0 (nothing to compute over), or — with
    ``empty_batch`` — no samples at all (a mean over none)."""
    for item in items:
        value = item.value
        if not isinstance(value, np.ndarray) or not specs_of(item.hint):
            continue
        spec = specs_of(item.hint)[0]
        expected = " ".join(filter(None, [spec.family_words, render_spec(spec, {}, value.shape)]))
        if isinstance(value, np.matrix):
            reason = "it is an np.matrix, whose `*` is a matrix product"
            hint = f"pass a plain array: `np.asarray({item.label})`"
        elif isinstance(value, np.ma.MaskedArray):
            reason = "it is a masked array, and the mask would be ignored"
            hint = f"fill or drop the masked values: `{item.label}.filled(0.0)`"
        elif empty_axes and 0 in value.shape[1:]:
            axis = value.shape.index(0, 1)
            reason = f"axis {axis} has size 0, so there is nothing to compute"
            hint = None
        elif empty_batch and value.ndim and value.shape[0] == 0:
            reason = "it is an empty batch (0 samples), and a mean over no samples is undefined"
            hint = None
        else:
            continue
        got = describe(value) if type(value) is np.ndarray else f"an {type(value).__name__} "
        got += "" if type(value) is np.ndarray else f"{format_shape(value.shape)} {value.dtype}"
        return ShapeError(Report(where, item.label, expected, got, reason, hint=hint))
    return None
