"""Checks of the data a user gives a model, once, at the public boundary (fit/evaluate/predict).

Layers check every array through their annotated kernels. Here the questions are about the
whole data set, which no kernel sees: do X and y have as many samples, is y the kind of target
the loss needs (labels, one-hot rows or values), are there NaN/inf values, is it empty.
"""

from typing import Any

import numpy as np
import numpy.typing as npt

from ._errors import LabelError, ShapeError, _Report
from ._explain import describe
from ._losses import BinaryCrossentropy, CategoricalCrossentropy, Loss, check_labels

__all__ = ["check_inputs", "check_targets"]

_CHUNK_BYTES = 1 << 22  # 4 MiB per NaN/inf scan, so a memory-mapped X is never loaded whole


def _as_array(value: npt.ArrayLike) -> npt.NDArray[Any]:
    # Keep ndarrays (and np.memmap) as they are: casting happens batch by batch.
    return value if isinstance(value, np.ndarray) else np.asarray(value)


def _finite(array: npt.NDArray[Any], name: str, where: str) -> None:
    if array.dtype.kind not in "fc":
        return
    row_bytes = max(1, array[:1].nbytes)
    rows = max(1, _CHUNK_BYTES // row_bytes)
    count, first = 0, -1
    for start in range(0, array.shape[0], rows):
        bad = ~np.isfinite(np.asarray(array[start : start + rows]))
        if bad.any():
            count += int(bad.sum())
            first = first if first >= 0 else start + int(np.argwhere(bad)[0][0])
    if count:
        values = "value" if count == 1 else "values"
        raise ValueError(
            f"{where}: `{name}` contains {count} NaN or infinite {values} (the first in row "
            f"{first}); remove or impute them before training"
        )


def check_inputs(X: npt.ArrayLike, features: int, *, where: str) -> npt.NDArray[Any]:
    """X as an array of shape (samples, features) with real values, finite and non-empty.

    Raises:
        ShapeError: wrong rank, width or dtype. ValueError: empty, NaN or inf.
    """
    array = _as_array(X)
    expected = f"real-valued (samples, features={features})"

    def error(reason: str, hint: str | None = None) -> ShapeError:
        report = _Report(where, "X", expected, describe(array), reason, {"features": features})
        return ShapeError(report if hint is None else _Report(**{**vars(report), "hint": hint}))

    if array.dtype.kind not in "iuf":
        raise error(
            f"its dtype {array.dtype} is not real-valued", "cast with `X.astype(np.float32)`"
        )
    if array.ndim != 2:
        hint = None
        if array.ndim == 1:
            hint = (
                "add a feature axis: `X.reshape(-1, 1)`"
                if features == 1
                else "add a batch axis: `X[None, :]` or `X.reshape(1, -1)`"
            )
        raise error(f"it is {array.ndim}-D but 2-D is needed", hint)
    if array.shape[1] != features:
        hint = "`X` looks transposed: pass `X.T`" if array.shape[0] == features else None
        raise error(
            f"`features` is {array.shape[1]} here but the model's first layer takes {features}",
            hint,
        )
    if array.shape[0] == 0:
        raise ValueError(f"{where}: `X` is empty (0 samples); give at least one sample")
    _finite(array, "X", where)
    return array


def check_targets(
    X: npt.NDArray[Any],
    y: npt.ArrayLike,
    loss: Loss,
    outputs: int | str,
    dtype: np.dtype[Any],
    *,
    where: str,
) -> npt.NDArray[Any]:
    """y checked against X's length and the kind of target ``loss`` needs.

    Labels come back as int64, other targets in the model's dtype (a deliberate cast, once).

    Raises:
        ShapeError: wrong length, rank or dtype for the loss. LabelError: labels out of range,
        or binary targets outside [0, 1]. ValueError: NaN or inf.
    """
    array = _as_array(y)
    samples = X.shape[0]
    classification = isinstance(loss, CategoricalCrossentropy)
    bound: dict[str, int | tuple[int, ...]] = {"samples": samples}
    if isinstance(outputs, int):
        bound["classes" if classification else "outputs"] = outputs
    name = type(loss).__name__

    def error(expected: str, reason: str, hint: str | None = None) -> ShapeError:
        return ShapeError(_Report(where, "y", expected, describe(array), reason, bound, hint))

    if array.dtype.kind not in "iufb":
        raise error("real-valued targets", f"its dtype {array.dtype} is not real-valued")
    if array.ndim == 0 or array.shape[0] != samples:
        got = array.shape[0] if array.ndim else "a scalar"
        raise error(
            f"(samples={samples}, ...)",
            f"`samples` is {got} here but {samples} in `X`",
            "X and y must have one row per sample, in the same order",
        )
    if classification and array.ndim == 1:
        if array.dtype.kind not in "iu":
            raise error(
                f"integer labels (samples={samples},) for {name}",
                f"its dtype {array.dtype} is not integer",
                "labels must be integers: cast with `y.astype(np.int64)`; for regression "
                "targets use MeanSquaredError",
            )
        labels = array.astype(np.int64, copy=False)
        if isinstance(outputs, int):
            try:
                check_labels(labels, outputs)
            except LabelError as err:
                raise LabelError(f"`y` {err.message}", where=where) from None
        return labels
    expected = f"(samples={samples}, {'classes' if classification else 'outputs'}={outputs})"
    if array.ndim != 2:
        hint = None
        if array.ndim == 1 and outputs == 1:
            hint = "add an output axis: `y.reshape(-1, 1)` (NumPy would broadcast (n,) to (n, n))"
        elif array.ndim == 1 and array.dtype.kind in "iu":
            hint = "these look like class labels: use CategoricalCrossentropy with a Softmax output"
        raise error(f"{expected} for {name}", f"it is {array.ndim}-D but 2-D is needed", hint)
    if array.shape[1] != outputs:
        hint = None
        if classification and array.shape[1] == 1:
            hint = "for integer labels pass `y.ravel()`; for regression use MeanSquaredError"
        what = "classes" if classification else "outputs"
        raise error(
            f"{expected} for {name}",
            f"`{what}` is {array.shape[1]} here but the model outputs {outputs}",
            hint,
        )
    _finite(array, "y", where)
    if isinstance(loss, BinaryCrossentropy):
        outside = np.flatnonzero((array < 0) | (array > 1))
        if outside.size:
            row = int(outside[0]) // max(1, array.shape[1])
            raise LabelError(
                f"{where}: `y` for BinaryCrossentropy must be in [0, 1], got "
                f"{array.reshape(-1)[outside[0]]} in row {row}"
            )
    return array.astype(dtype, copy=False)
