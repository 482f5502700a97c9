"""Checks of values (not shapes) that data must pass: finite numbers that fit the model's dtype,
labels naming a class, rows that are distributions. Shapes are the engine's business; these are
what no annotation can say. Imports only the shape vocabulary, for its errors."""

from typing import Any

import numpy as np
import numpy.typing as npt

from .shapes import ArgumentError, LabelError

__all__ = ["as_array", "check_labels", "check_probability_rows", "check_unit_interval", "finite"]

_CHUNK_BYTES = 1 << 22  # 4 MiB per NaN/inf scan, so a memory-mapped X is never loaded whole


def as_array(value: npt.ArrayLike) -> npt.NDArray[Any]:
    """``value`` as an ndarray; ndarrays (and np.memmap) as they are: casting happens batch by
    batch."""
    return value if isinstance(value, np.ndarray) else np.asarray(value)


def finite(
    array: npt.NDArray[Any], name: str, where: str, dtype: np.dtype[Any] | None = None
) -> None:
    """Raise ArgumentError if ``array`` holds NaN or infinite values, or values that would
    overflow when cast to ``dtype`` (1e300 is finite in float64, infinite in float32); the
    scan goes a chunk at a time, so a memory-mapped array is never loaded whole."""
    if array.dtype.kind not in "fc" or array.ndim == 0:
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


def check_labels(labels: npt.NDArray[Any], classes: int) -> None:
    """Raise LabelError unless every label is in ``[0, classes)``.

    Not a shape check but a value check: NumPy would read label -1 as the last class and
    label ``classes`` as an IndexError far from the cause.
    """
    if labels.size == 0:
        return
    # One reduction where two would do: read as unsigned, a negative label is larger than any
    # number of classes. (This runs several times a training step; each reduction of a
    # batch's labels costs about 3 us, most of it the call.)
    kind = labels.dtype.kind
    if kind in "iu":
        unsigned = labels.view(f"u{labels.dtype.itemsize}") if kind == "i" else labels
        if int(unsigned.max()) < classes:
            return
    low, high = int(labels.min()), int(labels.max())
    if low < 0 or high >= classes:
        bad = low if low < 0 else high
        index = tuple(int(i) for i in np.argwhere(labels == bad)[0])
        at = index[0] if len(index) == 1 else index
        raise LabelError(
            f"labels must be in [0, {classes}) for {classes} classes, got {bad} at index {at}"
            f": the predictions have {classes} columns, so a label must name one of them"
        )


def check_probability_rows(
    array: npt.NDArray[Any], name: str, where: str | None, loss: str
) -> None:
    """Refuse rows (the last axis) that are not a distribution over the classes: one-hot rows,
    or soft targets in [0, 1] that sum to 1 (within 1e-3). An all-zero row, ``5 * onehot`` or
    regression values would give a meaningless (even negative) cross-entropy, and then a
    DivergenceError blaming the rate. NaN is outside [0, 1].

    ``where`` heads the message; None leaves it to the caller (a checked method names itself).
    """
    if array.size == 0:
        return
    # The common case (a check per batch when a loss is called) costs a few reductions and no
    # copy; the message is built on failure. NaN fails every comparison.
    sums = np.add.reduce(array, axis=-1, dtype=np.float64)
    if (
        np.minimum.reduce(array, axis=None) >= 0
        and np.maximum.reduce(array, axis=None) <= 1
        and np.minimum.reduce(sums, axis=None) >= 1 - 1e-3
        and np.maximum.reduce(sums, axis=None) <= 1 + 1e-3
    ):
        return
    values = np.asarray(array, dtype=np.float64).reshape(-1, array.shape[-1])
    outside = np.flatnonzero((~((values >= 0) & (values <= 1))).any(axis=1))
    sums = values.sum(axis=1)
    unnormalized = np.flatnonzero(~(np.abs(sums - 1) <= 1e-3))
    row = int(outside[0] if outside.size else unnormalized[0])
    what = (
        f"has values outside [0, 1]: {np.round(values[row][:6], 3).tolist()}"
        if outside.size
        else f"sums to {sums[row]:g}, not 1"
    )
    raise LabelError(
        f"`{name}` row {row} {what}. {loss} takes one-hot rows (one 1 per row), "
        "soft targets that sum to 1, or integer labels; for values to predict use "
        "MeanSquaredError, for independent 0/1 outputs BinaryCrossentropy",
        where=where,
    )


def check_unit_interval(array: npt.NDArray[Any], name: str, where: str | None, loss: str) -> None:
    """Refuse values outside [0, 1] (NaN among them): the targets of a binary cross-entropy,
    each the probability of a 1. ``where`` heads the message, as for `check_probability_rows`.
    """
    if array.size == 0:
        return
    if np.minimum.reduce(array, axis=None) >= 0 and np.maximum.reduce(array, axis=None) <= 1:
        return  # NaN fails both comparisons
    flat = array.reshape(-1)
    first = int(np.flatnonzero(~((flat >= 0) & (flat <= 1)))[0])
    row = int(np.unravel_index(first, array.shape)[0])
    raise LabelError(
        f"`{name}` for {loss} must be in [0, 1], got {flat[first].item()!r} in row {row}: each "
        "target is the probability of a 1 (0/1 labels, or soft targets); for values to predict "
        "use MeanSquaredError",
        where=where,
    )
