"""Hypothesis strategies that draw arrays fitting a layer or a model, and arrays that break it.

The shapes come from the same place as everything else: the target's annotations, read by the
dim model. Dims the target's parameters fix (``in`` for ``Dense(4, 3)``) take their size; the
rest (``batch``, an image's height) are drawn; arithmetic dims are computed from the others.

Needs hypothesis (``pip install 'shapenn[testing]'``).

Example::

    from hypothesis import given
    from shapenn.testing.strategies import breaking, fitting

    layer = sn.Dense(4, 3)

    @given(fitting(layer))
    def test_forward_keeps_the_batch(x):
        assert layer.forward(x).shape == (x.shape[0], 3)

    @given(breaking(layer))
    def test_a_bad_shape_is_a_shape_error(x):
        with pytest.raises(sn.ShapeError):
            layer.forward(x)
"""

from typing import Any

import numpy as np

from ..shapes import MissingDependencyError

try:
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp
except ImportError:  # pragma: no cover - the extra is not installed
    raise MissingDependencyError(
        "shapenn.testing.strategies needs hypothesis: pip install 'shapenn[testing]'"
    ) from None

from ..layers import Layer
from ..model import Model
from ..shapes import (
    Anonymous,
    ArgumentError,
    ArraySpec,
    Bindings,
    Bound,
    Expr,
    Fixed,
    Named,
    Variadic,
    bind,
    evaluate,
    input_spec,
    is_known,
)

__all__ = ["breaking", "fitting", "shapes"]

Array = np.ndarray[Any, np.dtype[Any]]


def _target(target: Layer | Model) -> tuple[ArraySpec, Bindings, np.dtype[Any]]:
    """The spec of the first input, what is known of its dims, and the dtype to draw."""
    model = target if isinstance(target, Model) else None
    layer = target.layers[0] if isinstance(target, Model) else target
    found = input_spec(layer)
    if found is None:
        raise ArgumentError(f"{layer!r}.forward has no array annotation to draw inputs from")
    _, spec, known = found
    bindings = dict(known)
    if model is not None and model.input_shape is not None:
        trial = dict(bindings)
        if bind(spec, ("batch", *model.input_shape), trial) is None:
            bindings = {k: v for k, v in trial.items() if is_known(v.size)}
    dtype = next((p.value.dtype for p in layer.parameters()), np.dtype(np.float32))
    if model is not None:
        dtype = model.dtype
    return spec, bindings, np.dtype(dtype)


@st.composite
def shapes(draw: st.DrawFn, target: Layer | Model, *, max_size: int = 8) -> tuple[int, ...]:
    """A shape that fits ``target``'s input: known dims as they are, the others drawn in
    [1, max_size], arithmetic dims computed (redrawn until they are positive)."""
    spec, known, _ = _target(target)
    if isinstance(target, Model):
        sample = target.sample_shape  # what the whole chain takes, not only its first layer
        if sample is not None and all(isinstance(size, int) for size in sample):
            batch = draw(st.integers(1, max_size))
            return (batch, *(int(size) for size in sample))
    for _ in range(50):
        bindings: Bindings = dict(known)
        shape: list[int] = []
        for dim in spec.dims:
            if isinstance(dim, Fixed):
                shape.append(dim.size)
            elif isinstance(dim, Named):
                bound = bindings.get(dim.name)
                if bound is None or not isinstance(bound.size, int):
                    size = draw(st.integers(1, max_size))
                    bindings[dim.name] = Bound(size, "")
                    shape.append(size)
                else:
                    shape.append(bound.size)
            elif isinstance(dim, Expr):
                value = evaluate(dim.text, bindings)
                shape.append(int(value) if value is not None else -1)
            elif isinstance(dim, Variadic):
                bound = bindings.get(f"*{dim.name}") if dim.name else None
                if bound is not None and isinstance(bound.size, tuple):
                    shape.extend(int(s) for s in bound.size)
                else:
                    shape.extend(draw(st.lists(st.integers(1, max_size), max_size=2)))
            elif isinstance(dim, Anonymous):
                shape.append(draw(st.integers(1, max_size)))
            else:
                shape.append(-1)
        if all(size > 0 for size in shape):
            return tuple(shape)
    raise ArgumentError(f"no positive shape fits {spec.text!r} for {target!r}")


def _values(shape: tuple[int, ...], dtype: np.dtype[Any]) -> st.SearchStrategy[Array]:
    elements = st.floats(-1, 1, width=32 if dtype == np.float32 else 64)
    return hnp.arrays(dtype, shape, elements=elements)


def fitting(target: Layer | Model, *, max_size: int = 8) -> st.SearchStrategy[Array]:
    """Arrays that ``target`` accepts: its input shape (see `shapes`), its dtype, values in
    [-1, 1]."""
    _, _, dtype = _target(target)
    return shapes(target, max_size=max_size).flatmap(lambda shape: _values(shape, dtype))


@st.composite
def _broken_shape(draw: st.DrawFn, target: Layer | Model, max_size: int) -> tuple[int, ...]:
    spec, known, _ = _target(target)
    good = draw(shapes(target, max_size=max_size))
    # The axes whose size a parameter or config fixes: changing one must break the target.
    # Dims after a variadic one are counted from the end.
    where = spec.variadic
    placed = list(enumerate(spec.dims))
    if where is not None:
        after = len(spec.dims) - where - 1
        placed = [(axis, spec.dims[axis]) for axis in range(where)] + [
            (len(good) - after + j, spec.dims[where + 1 + j]) for j in range(after)
        ]
    fixed = [
        axis
        for axis, dim in placed
        if axis < len(good)
        and (
            isinstance(dim, Fixed)
            or (
                isinstance(dim, Named)
                and isinstance(getattr(known.get(dim.name), "size", None), int)
            )
        )
    ]
    kinds = ["fewer axes", "more axes"] if spec.variadic is None else ["fewer axes"]
    if fixed:
        kinds.append("another size")
    kind = draw(st.sampled_from(kinds))
    if kind == "another size":
        axis = draw(st.sampled_from(fixed))
        delta = draw(st.sampled_from([-2, -1, 1, 2, 3]))
        size = good[axis] + delta if good[axis] + delta > 0 else good[axis] + abs(delta)
        return (*good[:axis], size, *good[axis + 1 :])
    if kind == "fewer axes":
        if spec.variadic is not None:  # a variadic dim absorbs extra axes: go below the minimum
            return good[: spec.rank - 1]
        axis = draw(st.integers(0, len(good) - 1))
        return good[:axis] + good[axis + 1 :]
    return (*good, draw(st.integers(1, 3)))


def breaking(target: Layer | Model, *, max_size: int = 8) -> st.SearchStrategy[Array]:
    """Arrays of the right dtype whose shape ``target`` refuses: an axis too few or too many,
    or another size where a parameter fixes one."""
    _, _, dtype = _target(target)
    return _broken_shape(target, max_size).flatmap(lambda shape: _values(shape, dtype))
