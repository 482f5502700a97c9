"""Build-time inference: the output shape of an object's ``forward`` for a symbolic input shape,
read from the same annotations that are checked at run time.

``Dense(2, 64)`` declares ``weights: Float[Array2D, "in out"]`` and
``forward(inputs: Float[Array2D, "batch in"]) -> Float[Array2D, "batch out"]``. For the input
shape ``(batch, 2)``, its parameters bind ``in=2, out=64``, the input binds ``batch`` and
checks ``in``, and the return annotation gives ``(batch, 64)``. A mismatch is the same
ShapeError, in the same words, as the run-time check would raise.
"""

from dataclasses import replace
from typing import Any, NamedTuple

from ._check import Signature, signature
from ._dims import (
    Bindings,
    Bound,
    Derived,
    Size,
    Variadic,
    bind,
    claim,
    config_size,
    format_shape,
    output_shape,
    render_spec,
    specs_of,
)
from ._errors import Report, ShapeError
from ._explain import Item, bind_all, bound_sizes, describe, empty_output_error, first_problem

__all__ = ["Inferred", "infer_output", "input_spec", "output_dim"]


class Inferred(NamedTuple):
    """What inference found: the output shape and the arithmetic that gave it."""

    shape: tuple[Size, ...]
    derived: list[Derived]


def _parts(obj: Any) -> tuple[Any, Signature] | None:
    checker = getattr(getattr(type(obj), "forward", None), "__shapenn_checker__", None)
    if checker is None:
        return None
    return checker, signature(type(obj))


def _known(obj: Any, spec: Signature, where: str) -> Bindings:
    """The dims an object's config, parameters and buffers bind."""
    bindings: Bindings = {}
    for dim in spec.dims:
        size = config_size(getattr(obj, dim, None))
        if size is not None:
            bindings[dim] = Bound(size, f"self.{dim}", config=True)
    items = [Item(f"self.{d.name}", d.hint, getattr(obj, d.name, None), True) for d in spec.state]
    problem = first_problem(items, bindings)
    if problem is not None:
        raise ShapeError(
            Report(
                where,
                problem.item.label,
                render_spec(
                    problem.spec, problem.bindings, getattr(problem.item.value, "shape", None)
                ),
                describe(problem.item.value),
                problem.reason,
                located=True,
            )
        )
    return bind_all(items, bindings)


def input_spec(obj: Any) -> tuple[str, Any, Bindings] | None:
    """The name and spec of ``forward``'s input, and the dims known before any data; None if
    ``forward`` is not annotated with exactly one array argument."""
    parts = _parts(obj)
    if parts is None:
        return None
    checker, spec = parts
    arrays = [a for a in checker.arguments if specs_of(checker.hints[a])]
    if len(arrays) != 1 or len(specs_of(checker.hints[arrays[0]])) != 1:
        return None
    name = arrays[0]
    known = _known(obj, spec, f"{obj!r}")
    return name, specs_of(checker.hints[name])[0], known


def infer_output(obj: Any, input_shape: tuple[Size, ...]) -> Inferred | None:
    """``obj.forward``'s output shape for ``input_shape``, from its annotations alone.

    Returns None when the annotations do not determine it (no annotated forward, or a return
    dim bound by nothing before the data). Raises the run-time check's ShapeError, reported at
    ``<obj>.forward``, when ``input_shape`` does not fit.
    """
    parts = _parts(obj)
    found = input_spec(obj)
    if parts is None or found is None:
        return None
    checker, _ = parts
    name, spec, known = found
    trial = dict(known)
    mismatch = bind(spec, input_shape, trial)
    if mismatch is not None:
        expected = render_spec(spec, known, input_shape)  # before data: no dtype to speak of
        raise ShapeError(
            Report(
                where=f"{obj!r}.forward",
                argument=name,
                expected=expected,
                got=format_shape(input_shape),
                reason=mismatch.reason,
                bound=bound_sizes(known, spec),
                located=True,
                dim=mismatch.dim,
                axis=mismatch.axis,
                needed=mismatch.expected,
            )
        )
    empty = empty_output_error(
        f"{obj!r}.forward",
        Item(name, checker.hints[name], None),
        render_spec(spec, known, input_shape),
        format_shape(input_shape),
        checker.returns,
        claim(trial, name),
    )
    if empty is not None:
        raise ShapeError(replace(empty.report, located=True))
    returns = specs_of(checker.returns)
    if len(returns) != 1:
        return None
    result = output_shape(returns[0], claim(trial, name))
    if result is None:
        return None
    return Inferred(*result)


def output_dim(obj: Any, axis: int, rank: int) -> str | None:
    """The name of the dim at ``axis`` of ``obj.forward``'s output of ``rank`` axes, if it is
    a plain named dim that the object's parameters or config bind (``out`` for Dense)."""
    parts = _parts(obj)
    if parts is None:
        return None
    _, spec = parts
    returns = specs_of(spec.output)
    if len(returns) != 1 or not 0 <= axis < rank:
        return None
    dims, where = returns[0].dims, returns[0].variadic
    if where is None:
        dim = dims[axis] if rank == len(dims) else None
    elif axis < where:
        dim = dims[axis]
    elif axis >= rank - (len(dims) - where - 1):
        dim = dims[len(dims) - (rank - axis)]
    else:
        dim = None  # inside the variadic axes
    name = getattr(dim, "name", None) if not isinstance(dim, Variadic) else None
    owned = {n for d in spec.state for s in specs_of(d.hint) for n in s.names()}
    return name if isinstance(name, str) and (name in owned or name in spec.dims) else None
