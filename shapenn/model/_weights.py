"""What ``Model.fit`` makes of ``callbacks``, ``validation_split``, ``sample_weight`` and
``class_weight``: the samples kept for training and one weight per sample, each checked before
training starts.
"""

import math
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from ..shapes import ArgumentError, Size


def check_callbacks(callbacks: object, protocol: type) -> None:
    """An ArgumentError unless ``callbacks`` is a list of objects with a callback's methods."""
    if not isinstance(callbacks, list | tuple):
        raise ArgumentError(
            f"Model.fit: callbacks must be a list of callbacks, got {callbacks!r}"
            + (f": write callbacks=[{callbacks!r}]" if isinstance(callbacks, protocol) else "")
        )
    for value in callbacks:
        if not isinstance(value, protocol):
            raise ArgumentError(
                f"Model.fit: {value!r} is not a callback: give an object of a subclass of "
                "shapenn.callbacks.Callback (for a function called after each epoch, "
                "pass callback=)"
            )


def split(fraction: object, n: int) -> int:
    """The number of samples kept for training when ``fraction`` of ``n`` is held out."""
    if isinstance(fraction, bool) or not isinstance(fraction, int | float | np.number):
        raise ArgumentError(
            f"Model.fit: validation_split must be a fraction in (0, 1), got {fraction!r}"
        )
    value = float(fraction)
    if not 0 < value < 1:
        raise ArgumentError(f"Model.fit: validation_split must be in (0, 1), got {fraction!r}")
    kept = n - int(n * value)  # the last ⌊fraction · n⌋ held out: 0.3 of 180 is 54
    if kept < 1 or kept >= n:
        raise ArgumentError(
            f"Model.fit: validation_split={fraction!r} of {n} samples leaves "
            f"{'no training' if kept < 1 else 'no validation'} samples"
        )
    return kept


def warn_unseen(train: npt.NDArray[Any], held: npt.NDArray[Any], fraction: float) -> None:
    """Warn when the samples ``validation_split`` held out hold classes the training samples
    never show: data sorted by class, as a file often lists it."""
    if train.ndim != 1 or train.dtype.kind not in "iu":
        return
    unseen = np.setdiff1d(np.unique(held), np.unique(train))
    if unseen.size:
        shown = ", ".join(str(c) for c in unseen[:10]) + (", …" if unseen.size > 10 else "")
        warnings.warn(
            f"Model.fit: validation_split={fraction} holds out the last samples, and they "
            f"hold classes the training samples never show ({shown}): the data is likely "
            "sorted by class; shuffle it first (sn.datasets.train_validation_split does)",
            UserWarning,
            stacklevel=4,
        )


def sample_weights(sample_weight: object, n: int) -> npt.NDArray[np.float64] | None:
    """``sample_weight`` as a float64 array of ``n`` finite weights >= 0 (None for None)."""
    if sample_weight is None:
        return None
    weights = np.asarray(sample_weight)
    if weights.dtype.kind not in "iuf":
        raise ArgumentError(
            f"Model.fit: sample_weight must hold numbers, got dtype {weights.dtype}"
        )
    if weights.shape != (n,):
        raise ArgumentError(
            f"Model.fit: sample_weight must be one weight per sample, shape ({n},), got shape "
            f"{weights.shape}"
        )
    weights = weights.astype(np.float64)
    bad = np.flatnonzero(~np.isfinite(weights) | (weights < 0))
    if bad.size:
        raise ArgumentError(
            f"Model.fit: sample_weight must be finite and >= 0, got {weights[bad[0]]} at "
            f"index {int(bad[0])}"
        )
    return weights


def class_weights(
    class_weight: object,
    y: npt.NDArray[Any],
    predictions: tuple[Size, ...],
    weights: npt.NDArray[np.float64] | None,
) -> npt.NDArray[np.float64]:
    """Each sample's weight from its class (times ``weights`` when given)."""
    classes = predictions[-1]
    if not isinstance(class_weight, Mapping) or not isinstance(classes, int):
        raise ArgumentError(
            f"Model.fit: class_weight must be a dict {{class: weight}}, got {class_weight!r}"
        )
    if y.ndim == 1 and y.dtype.kind in "iu":
        labels = y
    elif y.ndim == 2 and y.shape[1] == classes and classes > 1:
        labels = y.argmax(axis=1)
    else:
        raise ArgumentError(
            "Model.fit: class_weight needs one class label per sample (labels (samples,) or "
            f"one-hot rows), got targets of shape {y.shape}"
        )
    table = np.empty(classes, dtype=np.float64)
    missing = [c for c in range(classes) if c not in class_weight]
    extra = [c for c in class_weight if not (isinstance(c, int | np.integer) and 0 <= c < classes)]
    if missing or extra:
        problem = f"has no weight for class {missing}" if missing else f"names {extra}"
        raise ArgumentError(
            f"Model.fit: class_weight {problem}; it needs a weight for each class 0 to "
            f"{classes - 1}"
        )
    for label, value in class_weight.items():
        number = float(value) if isinstance(value, int | float | np.number) else math.nan
        if not math.isfinite(number) or number < 0:
            raise ArgumentError(
                f"Model.fit: class_weight[{label}] must be a finite number >= 0, got {value!r}"
            )
        table[int(label)] = number
    per_sample: npt.NDArray[np.float64] = table[labels]
    return per_sample * weights if weights is not None else per_sample
