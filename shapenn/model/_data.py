"""The data a model is given, checked once at the public boundary (fit, evaluate, predict),
cast batch by batch in one place, and how much a batch of it costs.

What ``X`` must be comes from the first layer's signature: its input annotation (dims, and the
dtype family: floats, or integer token ids) with the dims the model knows; what ``y`` must be
comes from the loss's own annotation (see `Loss.targets`). Here: the questions about the whole
data set that no layer sees — is it empty, real-valued, finite, does it fit the first layer.
"""

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from .. import _args
from .._values import as_array, finite
from ..shapes import (
    ArgumentError,
    ArraySpec,
    Bindings,
    ShapeError,
    describe,
    output_dim,
    shape_error,
)
from ._chain import Step

__all__ = [
    "PREDICT_BATCH",
    "PREDICT_BYTES",
    "Gather",
    "as_batch",
    "check_inputs",
    "default_batch",
    "layer_hint",
    "work",
]

PREDICT_BATCH = 1024  # rows per batch when predict/evaluate are given no batch_size …
PREDICT_BYTES = 64 * 2**20  # … unless their activations would take more than this


def layer_hint(error: ShapeError, layer: object, X: object) -> ShapeError:
    """``error`` (X does not fit the first layer) with the first layer's own fix for its input,
    when it has one (its ``input_hint``: a recurrent layer's "add a time axis") and the shape
    check gave none."""
    better = getattr(layer, "input_hint", None)
    shape = getattr(X, "shape", None)
    hint = better(tuple(shape), "X") if callable(better) and shape is not None else None
    if error.hint is None and isinstance(hint, str):
        return error.with_hint(hint).with_traceback(None)
    return error.with_traceback(None)


def work(steps: Sequence[Step], batch: int) -> int:
    """About how many multiply-adds a batch of ``batch`` samples takes through the built
    ``steps``: each parameter is used once per output position — a Dense layer's once per
    sample (and per sequence position), a convolution's once per pixel of its output — as far
    as the built shapes tell. A position is an output axis that the layer's parameters do not
    size."""
    per_sample = 0
    for step in steps:
        params = sum(p.value.size for p in step.layer.parameters())
        if not params or step.output is None:
            continue
        rank = len(step.output)
        positions = math.prod(
            size
            for axis, size in enumerate(step.output[1:], start=1)
            if isinstance(size, int) and output_dim(step.layer, axis, rank) is None
        )
        per_sample += params * positions
    return batch * per_sample


def default_batch(steps: Sequence[Step], dtype: np.dtype[Any]) -> int:
    """The rows per batch of ``predict`` and ``evaluate`` when none is given: up to
    PREDICT_BATCH, as many as keep a batch's activations within PREDICT_BYTES — every layer's
    output counted twice, for scratch such as a convolution's unrolled patches."""
    values = sum(
        math.prod(size for size in step.output[1:] if isinstance(size, int))
        for step in steps
        if step.output is not None
    )
    return max(1, min(PREDICT_BATCH, PREDICT_BYTES // max(1, 2 * values * dtype.itemsize)))


def as_batch(rows: Any, dtype: np.dtype[Any]) -> npt.NDArray[Any]:
    """A batch of samples in the dtype the first layer takes: the model's one cast of data.

    Floats for a model of floats (X of any real dtype, as Keras casts); int64 token ids for a
    model that starts with integer inputs (an Embedding), never floats.
    """
    return np.asarray(rows, dtype=dtype)


class Gather:
    """The batches of one epoch of training: the rows of ``X`` in the dtype the first layer
    takes (`as_batch`).

    Shuffled rows of an array already in that dtype are copied into two buffers of
    ``size`` rows used in turn (a batch stays intact while the next step starts), not into a
    new array per batch: a new array of 512 rows of 784 float32 values is 1.6 MB, which the
    allocator maps afresh at each step, and its page faults cost more than the copy.
    """

    def __init__(self, X: npt.NDArray[Any], dtype: np.dtype[Any], size: int | None) -> None:
        self.X, self.dtype = X, dtype
        self.size = size if type(X) is np.ndarray and X.dtype == dtype else None
        self.buffers: list[npt.NDArray[Any]] = []

    def __call__(self, rows: slice | npt.NDArray[np.intp]) -> npt.NDArray[Any]:
        if isinstance(rows, slice) or self.size is None:
            return as_batch(self.X[rows], self.dtype)
        if not self.buffers:
            shape = (self.size, *self.X.shape[1:])
            self.buffers = [np.empty(shape, self.dtype), np.empty(shape, self.dtype)]
        self.buffers.reverse()
        # mode="clip": the rows are a permutation's, always in range; with the default
        # "raise", take copies through a buffer of its own (as slow as a new array).
        return np.take(self.X, rows, axis=0, out=self.buffers[0][: len(rows)], mode="clip")


def check_inputs(
    X: npt.ArrayLike,
    spec: ArraySpec | None,
    bindings: Bindings,
    *,
    where: str,
    dtype: np.dtype[Any],
) -> npt.NDArray[Any]:
    """X as an array that fits ``spec`` (the first layer's input annotation) under ``bindings``
    (what the model knows of its input), whose values fit ``dtype`` (the first layer's):
    real-valued and finite for floats, integers for integer inputs.

    Raises:
        ShapeError: wrong rank, size or dtype, a masked array. ArgumentError: empty, NaN, inf,
        or values that overflow ``dtype``.
    """
    array = as_array(_args.array(where, "X", X))
    if isinstance(array, np.ma.MaskedArray):
        raise ShapeError.create(
            where,
            "X",
            "a plain NumPy array",
            f"a MaskedArray {array.shape} {array.dtype}",
            "the mask would be ignored",
            hint="fill or drop the masked values: `X.filled(0.0)`",
            located=True,
        )
    integers = dtype.kind in "iu"
    allowed = "iu" if integers else "iuf"
    if array.dtype.kind not in allowed:
        what = "integer token ids" if integers else "real-valued data"
        hint = "cast with `X.astype(np.int64)`" if integers else "cast with `X.astype(np.float32)`"
        reason = f"its dtype {array.dtype} is not " + ("integer" if integers else "real-valued")
        if integers and array.dtype.kind == "f":
            reason += ": the first layer takes integers (ids), and a float is never an id"
            hint = "if these are ids, cast them with `X.astype(np.int64)`"
        raise ShapeError.create(where, "X", what, describe(array), reason, hint=hint, located=True)
    if spec is not None:
        error = shape_error(where, "X", spec, array, bindings)
        if error is not None:
            raise error
    if array.ndim == 0 or array.shape[0] == 0:
        raise ArgumentError(f"{where}: `X` is empty (0 samples); give at least one sample")
    finite(array, "X", where, dtype)
    return array
