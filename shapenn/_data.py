"""Checks of the data a user gives a model, once, at the public boundary (fit/evaluate/predict).

Layers check every array through their annotations. Here the questions are about the whole
data set, which no layer sees: does X fit the first layer, do X and y have as many samples, is
y the kind of target the loss needs (labels, one-hot rows or values), are there NaN/inf values,
is it empty. Each loss says which kind of targets it takes by calling one of these helpers.
"""

from typing import Any

import numpy as np
import numpy.typing as npt

from .shapes import ArgumentError, LabelError, ShapeError
from .shapes._dims import ArraySpec, Bindings, Size
from .shapes._errors import Report
from .shapes._explain import describe, shape_error

__all__ = ["check_class_targets", "check_inputs", "check_labels", "check_value_targets", "finite"]

_CHUNK_BYTES = 1 << 22  # 4 MiB per NaN/inf scan, so a memory-mapped X is never loaded whole


def as_array(value: npt.ArrayLike) -> npt.NDArray[Any]:
    """``value`` as an ndarray; ndarrays (and np.memmap) as they are: casting happens batch by
    batch."""
    return value if isinstance(value, np.ndarray) else np.asarray(value)


def finite(
    array: npt.NDArray[Any], name: str, where: str, dtype: np.dtype[Any] | None = None
) -> None:
    """Raise ValueError if ``array`` holds NaN or infinite values, or values that would
    overflow when cast to ``dtype`` (1e300 is finite in float64, infinite in float32); the
    scan goes a chunk at a time, so a memory-mapped array is never loaded whole."""
    if array.dtype.kind not in "fc":
        return
    limit = None
    if dtype is not None and dtype.kind == "f" and dtype.itemsize < array.dtype.itemsize:
        limit = float(np.finfo(dtype).max)
    row_bytes = max(1, array[:1].nbytes)
    rows = max(1, _CHUNK_BYTES // row_bytes)
    count = overflow = 0
    first = first_overflow = -1
    for start in range(0, array.shape[0], rows):
        chunk = np.asarray(array[start : start + rows])
        bad = ~np.isfinite(chunk)
        if bad.any():
            count += int(bad.sum())
            first = first if first >= 0 else start + int(np.argwhere(bad)[0][0])
        if limit is not None:
            huge = np.abs(np.where(bad, 0, chunk)) > limit
            if huge.any():
                overflow += int(huge.sum())
                first_overflow = (
                    first_overflow if first_overflow >= 0 else start + int(np.argwhere(huge)[0][0])
                )
    if count:
        values = "value" if count == 1 else "values"
        raise ArgumentError(
            f"{where}: `{name}` contains {count} NaN or infinite {values} (the first in row "
            f"{first}); remove or impute them before training"
        )
    if overflow:
        values = "value" if overflow == 1 else "values"
        raise ArgumentError(
            f"{where}: `{name}` has {overflow} {values} too large for {dtype} (the first in row "
            f"{first_overflow}), which would become infinite: scale the data to about unit size"
        )


def check_inputs(
    X: npt.ArrayLike,
    spec: ArraySpec | None,
    bindings: Bindings,
    *,
    where: str,
    dtype: np.dtype[Any] | None = None,
) -> npt.NDArray[Any]:
    """X as a real-valued, finite, non-empty array that fits ``spec`` (the first layer's input
    annotation) under ``bindings`` (what the model knows of its input), and whose values fit
    ``dtype``, the model's.

    Raises:
        ShapeError: wrong rank, size or dtype, a masked array. ValueError: empty, NaN, inf, or
        values that overflow ``dtype``.
    """
    array = as_array(X)
    if isinstance(array, np.ma.MaskedArray):
        raise ShapeError(
            Report(
                where,
                "X",
                "a plain NumPy array",
                f"a MaskedArray {array.shape} {array.dtype}",
                "the mask would be ignored",
                hint="fill or drop the masked values: `X.filled(0.0)`",
                located=True,
            )
        )
    if array.dtype.kind not in "iuf":
        raise ShapeError(
            Report(
                where,
                "X",
                "real-valued data",
                describe(array),
                f"its dtype {array.dtype} is not real-valued",
                hint="cast with `X.astype(np.float32)`",
                located=True,
            )
        )
    if spec is not None:
        error = shape_error(where, "X", spec, array, bindings)
        if error is not None:
            raise error
    if array.ndim == 0 or array.shape[0] == 0:
        raise ArgumentError(f"{where}: `X` is empty (0 samples); give at least one sample")
    finite(array, "X", where, dtype)
    return array


def check_labels(labels: npt.NDArray[Any], classes: int) -> None:
    """Raise LabelError unless every label is in ``[0, classes)``.

    Not a shape check but a value check: NumPy would read label -1 as the last class and
    label ``classes`` as an IndexError far from the cause.
    """
    if labels.size == 0:
        return
    low, high = int(labels.min()), int(labels.max())
    if low < 0 or high >= classes:
        bad = low if low < 0 else high
        index = int(np.flatnonzero(labels == bad)[0])
        raise LabelError(
            f"labels must be in [0, {classes}) for {classes} classes, got {bad} at index {index}"
            f": the predictions have {classes} columns, so a label must name one of them"
        )


class _Targets:
    """What the target checks share: the array, its expected length and how to word errors."""

    def __init__(self, y: npt.ArrayLike, samples: int, where: str, what: str, outputs: Size):
        self.array, self.samples, self.where = as_array(y), samples, where
        self.bound: dict[str, Any] = {"samples": samples}
        if isinstance(outputs, int):
            self.bound[what] = outputs

    def error(self, expected: str, reason: str, hint: str | None = None) -> ShapeError:
        report = Report(
            self.where, "y", expected, describe(self.array), reason, self.bound, hint, located=True
        )
        return ShapeError(report)

    def common(self) -> npt.NDArray[Any]:
        array, samples = self.array, self.samples
        if array.dtype.kind not in "iufb":
            raise self.error("real-valued targets", f"its dtype {array.dtype} is not real-valued")
        if array.ndim == 0 or array.shape[0] != samples:
            got = array.shape[0] if array.ndim else "a scalar"
            raise self.error(
                f"(samples={samples}, ...)",
                f"`samples` is {got} here but {samples} in `X`",
                "X and y must have one row per sample, in the same order",
            )
        return array


def check_class_targets(
    y: npt.ArrayLike, samples: int, classes: Size, dtype: np.dtype[Any], *, where: str, loss: str
) -> npt.NDArray[Any]:
    """Integer labels (samples,) in [0, classes), returned as int64, or one-hot rows
    (samples, classes), returned in the model's dtype.

    Raises:
        ShapeError: wrong length, rank or dtype. LabelError: labels out of range.
        ValueError: NaN or inf.
    """
    targets = _Targets(y, samples, where, "classes", classes)
    array = targets.common()
    if array.ndim == 1:
        if array.dtype.kind not in "iu":
            raise targets.error(
                f"integer labels (samples={samples},) for {loss}",
                f"its dtype {array.dtype} is not integer",
                "labels must be integers: cast with `y.astype(np.int64)`; for regression "
                "targets use MeanSquaredError",
            )
        labels = array.astype(np.int64, copy=False)
        if isinstance(classes, int):
            try:
                check_labels(labels, classes)
            except LabelError as err:
                raise LabelError(f"`y` {err.message}", where=where) from None
        return labels
    expected = f"(samples={samples}, classes={classes}) for {loss}"
    if array.ndim != 2:
        raise targets.error(expected, f"it is {array.ndim}-D but 1-D or 2-D is needed")
    if array.shape[1] != classes:
        hint = None
        if array.shape[1] == 1:
            hint = "for integer labels pass `y.ravel()`; for regression use MeanSquaredError"
        raise targets.error(
            expected, f"`classes` is {array.shape[1]} here but the model outputs {classes}", hint
        )
    finite(array, "y", where)
    _probability_rows(array, where, loss)
    return array.astype(dtype, copy=False)


def _probability_rows(array: npt.NDArray[Any], where: str, loss: str) -> None:
    """Refuse rows that are not a distribution over the classes: one-hot rows, or soft targets
    in [0, 1] that sum to 1. An all-zero row, ``5 * onehot`` or regression values would give a
    meaningless (even negative) cross-entropy, and then a DivergenceError blaming the rate."""
    values = np.asarray(array, dtype=np.float64)
    outside = np.flatnonzero(((values < 0) | (values > 1)).any(axis=1))
    sums = values.sum(axis=1)
    unnormalized = np.flatnonzero(np.abs(sums - 1) > 1e-3)
    if outside.size or unnormalized.size:
        row = int(outside[0] if outside.size else unnormalized[0])
        what = (
            f"has values outside [0, 1]: {np.round(values[row][:6], 3).tolist()}"
            if outside.size
            else f"sums to {sums[row]:g}, not 1"
        )
        raise LabelError(
            f"{where}: `y` row {row} {what}. {loss} takes one-hot rows (one 1 per row), soft "
            "targets that sum to 1, or integer labels; for values to predict use "
            "MeanSquaredError, for independent 0/1 outputs BinaryCrossentropy"
        )


def check_value_targets(
    y: npt.ArrayLike,
    samples: int,
    outputs: Size,
    dtype: np.dtype[Any],
    *,
    where: str,
    loss: str,
    low: float | None = None,
    high: float | None = None,
) -> npt.NDArray[Any]:
    """Targets (samples, outputs) of real values (in [low, high] when given), returned in the
    model's dtype.

    Raises:
        ShapeError: wrong length, rank or dtype. LabelError: a value out of [low, high].
        ValueError: NaN or inf.
    """
    targets = _Targets(y, samples, where, "outputs", outputs)
    array = targets.common()
    expected = f"(samples={samples}, outputs={outputs}) for {loss}"
    if array.ndim != 2:
        hint = None
        if array.ndim == 1 and outputs == 1:
            hint = "add an output axis: `y.reshape(-1, 1)` (NumPy would broadcast (n,) to (n, n))"
        elif array.ndim == 1 and array.dtype.kind in "iu":
            hint = "these look like class labels: use CategoricalCrossentropy with a Softmax output"
        raise targets.error(expected, f"it is {array.ndim}-D but 2-D is needed", hint)
    if array.shape[1] != outputs:
        raise targets.error(
            expected, f"`outputs` is {array.shape[1]} here but the model outputs {outputs}"
        )
    finite(array, "y", where)
    if low is not None and high is not None:
        outside = np.flatnonzero((array < low) | (array > high))
        if outside.size:
            row = int(outside[0]) // max(1, array.shape[1])
            raise LabelError(
                f"{where}: `y` for {loss} must be in [{low:g}, {high:g}], got "
                f"{array.reshape(-1)[outside[0]]} in row {row}"
            )
    return array.astype(dtype, copy=False)
