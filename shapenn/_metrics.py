"""Metrics: accuracy (categorical, binary, the book's regression accuracy), precision, recall
and F1, top-k accuracy and the confusion matrix.

Each metric is a thin class over small pure kernels. Predictions are ``(batch, *positions,
classes)``, scored at every position; class targets are integer labels ``(batch, *positions)``
or one-hot rows of the predictions' shape. A model with one sigmoid output, ``(batch,
*positions, 1)``, has two classes for precision, recall, F1, top-k and the confusion matrix:
class 1 where the output is above 0.5, and its targets are 0 or 1 (a column like the
predictions, or labels).

Two ways to score:

* ``calculate(y_pred, y_true)``: one batch's figure (the book's protocol).
* ``reset()``, then ``update(y_pred, y_true)`` for each batch, then ``result()``: the figure
  over every batch since ``reset``, exactly. The accuracies keep a sum weighted by the batch
  size; top-k accuracy counts its hits; precision, recall, F1 and the confusion matrix add up
  one confusion matrix and read their figure off it at the end, never as a mean of batch
  figures. ``name`` is the metric's key in a History.
"""

import math
import numbers
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
from jaxtyping import Integer, Real

from ._args import real
from ._losses import ClassTargets, Predictions, Probabilities, Targets, _rows, _sparse
from ._registry import Registered
from ._values import check_labels, finite
from .shapes import (
    ArgumentError,
    Array1D,
    Array2D,
    ArrayND,
    Floating,
    LabelError,
    NotReadyError,
    ShapeError,
    check_methods,
    describe,
    shapechecked,
)

__all__ = [
    "F1",
    "Accuracy",
    "BinaryAccuracy",
    "CategoricalAccuracy",
    "ConfusionMatrix",
    "Precision",
    "Recall",
    "RegressionAccuracy",
    "TopKAccuracy",
    "binary_accuracy",
    "categorical_accuracy_onehot",
    "categorical_accuracy_sparse",
    "confusion_counts",
    "confusion_counts_onehot",
    "confusion_counts_sparse",
    "f1_per_class",
    "precision_per_class",
    "recall_per_class",
    "regression_accuracy",
    "top_k_hits",
    "top_k_hits_onehot",
    "top_k_hits_sparse",
]

Counts = npt.NDArray[np.int64]
Scores = npt.NDArray[np.float64]


# --- accuracy kernels ----------------------------------------------------------------------


def _scored(y_pred: npt.NDArray[Any], where: str) -> None:
    """Refuse predictions with nothing to score: no position (an empty batch), whose fraction
    right is undefined (NumPy's mean would be NaN), or no class, which no argmax can pick."""
    if y_pred.size == 0:
        raise ArgumentError(
            f"{where}: `y_pred` {describe(y_pred)} has nothing to score (no "
            f"{'position' if y_pred.shape[-1] else 'class'}): a fraction of none is undefined"
        )


def _fraction(right: npt.NDArray[np.bool_]) -> float:
    """The fraction of ``right`` that is True: np.mean's figure, counted instead of summed as
    floats (5 us against 0.5 on a batch of 32, 114 against 11 on 211,000 values)."""
    return int(np.count_nonzero(right)) / right.size  # a Python float, as np.mean's was


def _classes(y_pred: npt.NDArray[Any], where: str) -> None:
    """Refuse predictions of no class, which no argmax can pick (counting no position is
    fine: nothing is counted)."""
    if y_pred.shape[-1] == 0:
        raise ArgumentError(
            f"{where}: `y_pred` {describe(y_pred)} has no class (its last axis is empty), so "
            "no prediction can be read from it"
        )


def _top(k: object, where: str) -> int:
    """``k`` as an int >= 1; an ArgumentError naming it otherwise."""
    if isinstance(k, bool | np.bool_) or not isinstance(k, numbers.Integral | np.integer) or k < 1:
        raise ArgumentError(f"{where}: k must be an integer >= 1, got {k!r}")
    return int(k)


@shapechecked(anchors=("y_pred",))
def categorical_accuracy_sparse(
    y_pred: Floating[ArrayND, "batch *positions classes"],
    y_true: Integer[ArrayND, " batch *positions"],
) -> float:
    """Fraction of positions whose largest prediction is at the label.

    Shape:
        y_pred: (batch, *positions, classes); y_true: (batch, *positions) → a scalar.
    """
    _scored(y_pred, "categorical_accuracy_sparse")
    check_labels(y_true, y_pred.shape[-1])
    return _fraction(np.argmax(y_pred, axis=-1) == y_true)


@shapechecked(anchors=("y_pred",))
def categorical_accuracy_onehot(
    y_pred: Floating[ArrayND, "batch *positions classes"],
    y_true: Real[ArrayND, "batch *positions classes"],
) -> float:
    """Fraction of positions whose largest prediction is at the one-hot row's 1.

    Shape:
        y_pred, y_true: (batch, *positions, classes) → a scalar.
    """
    _scored(y_pred, "categorical_accuracy_onehot")
    return _fraction(np.argmax(y_pred, axis=-1) == np.argmax(y_true, axis=-1))


@shapechecked(anchors=("y_pred",))
def binary_accuracy(
    y_pred: Floating[ArrayND, "batch *positions outputs"],
    y_true: Real[ArrayND, "batch *positions outputs"],
    threshold: float,
) -> float:
    """Fraction of outputs where ``(y_pred > threshold)`` equals the 0/1 target.

    Shape:
        y_pred, y_true: (batch, *positions, outputs) → a scalar.
    """
    _scored(y_pred, "binary_accuracy")
    return _fraction((y_pred > threshold) == (y_true > 0.5))


@shapechecked(anchors=("y_pred",))
def regression_accuracy(
    y_pred: Floating[ArrayND, "batch *positions outputs"],
    y_true: Real[ArrayND, "batch *positions outputs"],
    precision: float,
) -> float:
    """Fraction of outputs within ``precision`` of the target: ``|ŷ − y| < precision``, or
    equal to it, so that with ``precision`` 0 exact matches count (and a perfect fit scores 1).

    Shape:
        y_pred, y_true: (batch, *positions, outputs) → a scalar.
    """
    _scored(y_pred, "regression_accuracy")
    error = np.abs(y_pred - y_true)
    return _fraction((error < precision) | (error == 0))


# --- counting kernels: confusion counts, top-k hits, and the figures read off the counts ----


def _confusion(labels: npt.NDArray[Any], predicted: npt.NDArray[Any], classes: int) -> Counts:
    """``counts[t, p]``: how many positions of true class ``t`` were predicted as ``p``."""
    pairs = labels.reshape(-1).astype(np.int64) * classes + predicted.reshape(-1)
    counts: Counts = np.bincount(pairs, minlength=classes * classes).astype(np.int64)
    return counts.reshape(classes, classes)


@shapechecked(anchors=("y_pred",))
def confusion_counts_sparse(
    y_pred: Floating[ArrayND, "batch *positions classes"],
    y_true: Integer[ArrayND, " batch *positions"],
) -> Integer[Array2D, "classes classes"]:
    """How many positions of each true class (row) were predicted as each class (column), the
    prediction being the argmax: ``counts[t, p]``, as scikit-learn's ``confusion_matrix``.

    Shape:
        y_pred: (batch, *positions, classes); y_true: (batch, *positions) integers in
        [0, classes) → (classes, classes).
    """
    _classes(y_pred, "confusion_counts_sparse")
    check_labels(y_true, y_pred.shape[-1])
    return _confusion(y_true, np.argmax(y_pred, axis=-1), y_pred.shape[-1])


@shapechecked(anchors=("y_pred",))
def confusion_counts_onehot(
    y_pred: Floating[ArrayND, "batch *positions classes"],
    y_true: Real[ArrayND, "batch *positions classes"],
) -> Integer[Array2D, "classes classes"]:
    """``counts[t, p]`` with the true class ``t`` at each one-hot row's 1.

    Shape:
        y_pred, y_true: (batch, *positions, classes) → (classes, classes).
    """
    _classes(y_pred, "confusion_counts_onehot")
    classes = y_pred.shape[-1]
    return _confusion(np.argmax(y_true, axis=-1), np.argmax(y_pred, axis=-1), classes)


def _hits(rows: npt.NDArray[Any], labels: npt.NDArray[Any], k: int) -> int:
    """How many rows hold their label among their ``k`` largest values. A class is ahead of
    the label when its value is larger, or equal and its index lower: ties go as argmax's do,
    so top-1 is the categorical accuracy exactly."""
    index = np.arange(labels.shape[0])
    truth = rows[index, labels][:, None]
    lower = np.arange(rows.shape[1]) < labels[:, None]
    ahead = np.count_nonzero((rows > truth) | ((rows == truth) & lower), axis=1)
    return int(np.count_nonzero(ahead < k))


@shapechecked(anchors=("y_pred",))
def top_k_hits_sparse(
    y_pred: Floating[ArrayND, "batch *positions classes"],
    y_true: Integer[ArrayND, " batch *positions"],
    k: int,
) -> int:
    """How many positions have their label among their ``k`` largest predictions.

    Shape:
        y_pred: (batch, *positions, classes); y_true: (batch, *positions) integers in
        [0, classes) → a count.
    """
    top = _top(k, "top_k_hits_sparse")
    _classes(y_pred, "top_k_hits_sparse")
    check_labels(y_true, y_pred.shape[-1])
    return _hits(_rows(y_pred), y_true.reshape(-1), top)


@shapechecked(anchors=("y_pred",))
def top_k_hits_onehot(
    y_pred: Floating[ArrayND, "batch *positions classes"],
    y_true: Real[ArrayND, "batch *positions classes"],
    k: int,
) -> int:
    """How many positions have their one-hot row's 1 among their ``k`` largest predictions.

    Shape:
        y_pred, y_true: (batch, *positions, classes) → a count.
    """
    top = _top(k, "top_k_hits_onehot")
    _classes(y_pred, "top_k_hits_onehot")
    return _hits(_rows(y_pred), np.argmax(y_true, axis=-1).reshape(-1), top)


def _ratio(numerator: Counts, denominator: Counts) -> Scores:
    """``numerator / denominator``, 0 where the denominator is 0 (scikit-learn's
    ``zero_division=0``)."""
    out: Scores = np.zeros(numerator.shape, dtype=np.float64)
    np.divide(numerator, denominator, out=out, where=denominator > 0)
    return out


@shapechecked(anchors=("counts",))
def precision_per_class(
    counts: Integer[Array2D, "classes classes"],
) -> Floating[Array1D, " classes"]:
    """Each class's precision ``TP / (TP + FP)``: the diagonal over each column's sum (the
    positions predicted as the class); 0 for a class never predicted.

    Shape:
        counts: (classes, classes) → (classes,).
    """
    return _ratio(np.diag(counts), counts.sum(axis=0))


@shapechecked(anchors=("counts",))
def recall_per_class(
    counts: Integer[Array2D, "classes classes"],
) -> Floating[Array1D, " classes"]:
    """Each class's recall ``TP / (TP + FN)``: the diagonal over each row's sum (the positions
    of the class); 0 for a class with no positions.

    Shape:
        counts: (classes, classes) → (classes,).
    """
    return _ratio(np.diag(counts), counts.sum(axis=1))


@shapechecked(anchors=("counts",))
def f1_per_class(
    counts: Integer[Array2D, "classes classes"],
) -> Floating[Array1D, " classes"]:
    """Each class's F1, the harmonic mean of its precision and recall:
    ``2 TP / (2 TP + FP + FN)``; 0 for a class neither predicted nor present.

    Shape:
        counts: (classes, classes) → (classes,).
    """
    return _ratio(2 * np.diag(counts), counts.sum(axis=0) + counts.sum(axis=1))


def _two_classes(y_pred: Any, y_true: Any) -> tuple[Any, Any]:
    """One sigmoid output as two classes: the columns ``(1 − p, p)``, whose argmax is class 1
    where ``p > 0.5``, and its 0/1 targets (a column like the predictions, or labels) as
    integer labels. Several outputs are returned as they are."""
    if np.shape(y_pred)[-1:] != (1,):  # 0-D predictions too: the kernels refuse them
        return y_pred, y_true
    values = np.asarray(y_true)
    # A column like the predictions' as labels; any other shape is left to the kernels' check.
    values = (
        values[..., 0] if values.ndim == np.ndim(y_pred) and values.shape[-1:] == (1,) else values
    )
    bad = ~((values == 0) | (values == 1))
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        raise LabelError(
            f"binary targets must be 0 or 1, got {values[index].item()!r} at index "
            f"{index[0] if len(index) == 1 else index}: the predictions have one column (a "
            "sigmoid output, class 1 above 0.5); for more classes give one column per class"
        )
    return np.concatenate((1 - y_pred, y_pred), axis=-1), values.astype(np.int64)


def confusion_counts(y_pred: Probabilities, y_true: ClassTargets) -> Counts:
    """The confusion counts of a batch, for integer labels, one-hot rows or one sigmoid output.

    Shape:
        y_pred: (batch, *positions, classes), or (batch, *positions, 1) for two classes;
        y_true: (batch, *positions) or the predictions' shape → (classes, classes).
    """
    y_pred, y_true = _two_classes(y_pred, y_true)
    if (labels := _sparse(y_pred, y_true)) is not None:
        return confusion_counts_sparse(y_pred, labels)
    return confusion_counts_onehot(y_pred, y_true)


def top_k_hits(y_pred: Probabilities, y_true: ClassTargets, k: int) -> int:
    """How many positions of a batch have their true class among their ``k`` largest
    predictions, for integer labels, one-hot rows or one sigmoid output (two classes).

    Shape:
        y_pred: (batch, *positions, classes); y_true: (batch, *positions) or the predictions'
        shape → a count.
    """
    y_pred, y_true = _two_classes(y_pred, y_true)
    if (labels := _sparse(y_pred, y_true)) is not None:
        return top_k_hits_sparse(y_pred, labels, k)
    return top_k_hits_onehot(y_pred, y_true, k)


def _finite(owner: str, name: str, value: object, *, low: float | None = None) -> float:
    """``value`` as a float if it is a finite real number (NumPy's included), and at least
    ``low`` when given; an ArgumentError naming the argument otherwise."""
    return real(owner, name, value, low=-math.inf if low is None else low)


# --- the metrics ---------------------------------------------------------------------------


class Accuracy(Registered):
    """A metric: ``calculate(y_pred, y_true)`` scores one batch; ``reset``, ``update`` and
    ``result`` score many.

    ``init(y)`` is called once with all training targets before training (the book's protocol).
    By default ``update`` adds ``calculate``'s figure weighted by the batch's size, so
    ``result`` is the size-weighted mean over the batches since ``reset``; metrics that count
    (precision, recall, F1, top-k, the confusion matrix) accumulate their counts instead.
    Subclasses annotate ``calculate`` and ``update`` and are checked like layers.

    Attributes:
        name: the metric's key in a History (``"accuracy"``).
        classifies: whether the metric counts classes right (False for a regression's
            tolerance).
    """

    registry_kind: ClassVar[str] = "metric"
    name: str = "accuracy"
    classifies: ClassVar[bool] = True

    # What update has accumulated since reset. Class defaults, so that a subclass's __init__
    # need not call this one.
    _total: float = 0.0
    _count: int = 0

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        check_methods(cls, scoped=False, anchors=("y_pred",))

    @property
    def initialized(self) -> bool:
        """Whether ``init`` has given the metric what it needs (always, by default)."""
        return True

    def init(self, y: Any) -> None:
        """Prepare from the training targets (nothing by default)."""

    def calculate(self, y_pred: ArrayND, y_true: ArrayND) -> float:
        """The fraction of ``y_pred`` that is right against ``y_true``, in [0, 1]."""
        raise NotImplementedError

    def reset(self) -> None:
        """Forget what ``update`` accumulated (before each epoch, and each evaluation)."""
        self._total, self._count = 0.0, 0

    def update(self, y_pred: ArrayND, y_true: ArrayND) -> None:
        """Accumulate one batch: ``calculate``'s figure, weighted by the batch's size."""
        try:
            figure = self.calculate(y_pred, y_true)
        except (ShapeError, LabelError) as error:
            if error.where != f"{self!r}.calculate":
                raise
            raise error.located_at(f"{self!r}.update").with_traceback(None) from None
        size = int(np.shape(y_pred)[0])
        self._total += figure * size
        self._count += size

    def result(self) -> float:
        """The figure over every batch given to ``update`` since ``reset``."""
        if not self._count:
            raise _nothing(self, "result")
        return self._total / self._count

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def _nothing(metric: Accuracy, method: str) -> NotReadyError:
    return NotReadyError(
        f"{metric!r}.{method}(): no samples were given to update() since reset(), so there "
        "is nothing to score: call update(y_pred, y_true) with a batch first"
    )


class CategoricalAccuracy(Accuracy):
    """Argmax accuracy for integer labels (batch, *positions) or one-hot targets (batch,
    *positions, classes), over every position."""

    kernels_keyed = True

    def calculate(self, y_pred: Probabilities, y_true: ClassTargets) -> float:
        """The fraction of positions whose largest prediction is the true class.

        Shape: y_pred (batch, *positions, classes), y_true (batch, *positions) or (batch,
        *positions, classes)
        """
        if (labels := _sparse(y_pred, y_true)) is not None:
            return categorical_accuracy_sparse(y_pred, labels)
        return categorical_accuracy_onehot(y_pred, y_true)


class BinaryAccuracy(Accuracy):
    """Accuracy of independent binary outputs, each thresholded at ``threshold``.

    Args:
        threshold: an output above it counts as 1 (default 0.5); a finite number.
    """

    kernels_keyed = True

    def __init__(self, threshold: float = 0.5) -> None:
        self.threshold: float = _finite("BinaryAccuracy", "threshold", threshold)

    def calculate(self, y_pred: Predictions, y_true: Targets) -> float:
        """The fraction of outputs on the right side of ``threshold``.

        Shape: y_pred (batch, *positions, outputs), y_true (batch, *positions, outputs)
        """
        return binary_accuracy(y_pred, y_true, self.threshold)


class RegressionAccuracy(Accuracy):
    """The book's regression accuracy: the fraction of predictions within ``precision`` of
    their target (``|ŷ − y| < precision``); a prediction equal to its target always counts,
    so a tolerance of 0 scores exact matches.

    Args:
        precision: the tolerance, a finite number >= 0; None (default) sets it at ``init``
            to ``std(y) / divisor`` — or, for constant targets (whose spread is 0), to
            ``mean(|y|) / divisor``: the targets' size stands in for their spread, so a fit
            within float rounding of a constant still counts (0 for targets all 0: exact
            matches only).
        divisor: a finite number > 0; 250 (default) is the book's choice.
    """

    kernels_keyed = True

    classifies = False

    def __init__(self, precision: float | None = None, divisor: float = 250.0) -> None:
        owner = "RegressionAccuracy"
        self.precision = (
            None if precision is None else _finite(owner, "precision", precision, low=0.0)
        )
        self.divisor: float = _finite(owner, "divisor", divisor)
        if self.divisor <= 0:
            raise ArgumentError(f"{owner}: divisor must be a finite number > 0, got {divisor!r}")
        self._fixed = precision is not None

    @property
    def initialized(self) -> bool:
        return self.precision is not None

    def init(self, y: Any) -> None:
        """Set ``precision`` to ``std(y) / divisor`` (``mean(|y|) / divisor`` for constant
        targets), unless it was given.

        Raises:
            ArgumentError: ``y`` is not finite real numbers, or is empty.
        """
        if self._fixed:
            return
        values = np.asarray(y)
        if values.dtype.kind not in "biuf" or values.size == 0:
            raise ArgumentError(
                f"{self!r}.init: `y` must be a non-empty array of real numbers (the training "
                f"targets), got {describe(values)}"
            )
        finite(values, "y", f"{self!r}.init")
        spread = float(np.std(values, dtype=np.float64))
        scale = spread if spread > 0 else float(np.mean(np.abs(values), dtype=np.float64))
        self.precision = scale / self.divisor

    def calculate(self, y_pred: Predictions, y_true: Targets) -> float:
        """The fraction of outputs within ``precision`` of the target.

        Shape: y_pred (batch, *positions, outputs), y_true (batch, *positions, outputs)
        """
        if self.precision is None:
            raise NotReadyError(
                "RegressionAccuracy: precision is not set; call init(y) with the training "
                "targets first, or pass precision=..."
            )
        return regression_accuracy(y_pred, y_true, self.precision)


class TopKAccuracy(Accuracy):
    """The fraction of positions whose true class is among the ``k`` largest predictions
    (scikit-learn's ``top_k_accuracy_score``); top-1 is the categorical accuracy.

    Equal predictions are ranked as argmax ranks them, the lower class first. One sigmoid
    output counts as two classes.

    Args:
        k: how many of the largest predictions may hold the true class (default 5); an
            integer >= 1, and at most the number of classes (checked at ``update``).

    Attributes:
        name: ``"top_{k}_accuracy"``, e.g. ``"top_5_accuracy"``.
    """

    _hits: int = 0

    def __init__(self, k: int = 5) -> None:
        if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1:
            raise ArgumentError(
                f"TopKAccuracy: k must be an integer >= 1 (how many of the largest predictions "
                f"may hold the true class), got {k!r}"
            )
        self.k: int = int(k)
        self.name: str = f"top_{self.k}_accuracy"

    def _count_hits(self, y_pred: Probabilities, y_true: ClassTargets) -> int:
        classes = max(y_pred.shape[-1], 2)
        if self.k > classes:
            raise ArgumentError(
                f"{self!r}: k={self.k} is more than the {classes} classes of the predictions "
                f"{describe(y_pred)} (their last axis), so every position would count as "
                f"right; pass k <= {classes}"
            )
        return top_k_hits(y_pred, y_true, self.k)

    def calculate(self, y_pred: Probabilities, y_true: ClassTargets) -> float:
        """The fraction of the batch's positions whose true class is among their ``k``
        largest predictions.

        Shape: y_pred (batch, *positions, classes), y_true (batch, *positions) or (batch,
        *positions, classes)
        """
        hits, positions = self._count_hits(y_pred, y_true), int(np.prod(y_pred.shape[:-1]))
        if not positions:
            raise ArgumentError(f"{self!r}.calculate: the batch has no samples to score")
        return hits / positions

    def reset(self) -> None:
        self._hits, self._count = 0, 0

    def update(self, y_pred: Probabilities, y_true: ClassTargets) -> None:
        """Count the batch's positions and those whose true class is in their top ``k``.

        Shape: y_pred (batch, *positions, classes), y_true (batch, *positions) or (batch,
        *positions, classes)
        """
        self._hits += self._count_hits(y_pred, y_true)
        self._count += int(np.prod(y_pred.shape[:-1]))

    def result(self) -> float:
        """The fraction of every position since ``reset`` whose true class was in its top
        ``k``."""
        if not self._count:
            raise _nothing(self, "result")
        return self._hits / self._count

    def __repr__(self) -> str:
        return f"TopKAccuracy(k={self.k})"


class _Counted(Accuracy):
    """A metric read off the confusion matrix of its batches, added up since ``reset``:
    subclasses say how (``_score``)."""

    _counts: Counts | None = None

    def _score(self, counts: Counts) -> float:
        raise NotImplementedError

    def _accumulated(self, method: str, *, samples: bool = True) -> Counts:
        if self._counts is None or (samples and not self._counts.any()):
            raise _nothing(self, method)
        return self._counts

    def calculate(self, y_pred: Probabilities, y_true: ClassTargets) -> float:
        """The figure of one batch, from its confusion counts.

        Shape: y_pred (batch, *positions, classes), y_true (batch, *positions) or (batch,
        *positions, classes)
        """
        counts = confusion_counts(y_pred, y_true)
        if not counts.any():
            raise ArgumentError(f"{self!r}.calculate: the batch has no samples to score")
        return self._score(counts)

    def reset(self) -> None:
        self._counts = None

    def update(self, y_pred: Probabilities, y_true: ClassTargets) -> None:
        """Add the batch's confusion counts to those accumulated since ``reset``.

        Shape: y_pred (batch, *positions, classes), y_true (batch, *positions) or (batch,
        *positions, classes)
        """
        counts = confusion_counts(y_pred, y_true)
        if self._counts is None:
            self._counts = counts
        elif self._counts.shape == counts.shape:
            self._counts += counts
        else:
            before, now = self._counts.shape[0], counts.shape[0]
            raise ShapeError.create(
                f"{self!r}.update",
                "y_pred",
                f"(batch, *positions, classes={before})",
                describe(y_pred),
                f"it scores {now} classes, but the batches given since reset() scored {before}",
                hint="call reset() before scoring predictions of another number of classes",
                located=True,
            )

    def result(self) -> float:
        """The figure over every batch given to ``update`` since ``reset``."""
        return self._score(self._accumulated("result"))


class _Averaged(_Counted):
    """Precision, recall or F1: a figure per class, and their mean over the classes (macro)."""

    def __init__(self, average: str | None = "macro") -> None:
        if not (average is None or (isinstance(average, str) and average == "macro")):
            raise ArgumentError(
                f"{type(self).__name__}: average must be 'macro' (the mean over the classes) "
                f"or None (the same mean from result(), with per_class() for each class's "
                f"figure), got {average!r}"
            )
        self.average = average

    def _per_class(self, counts: Counts) -> Scores:
        raise NotImplementedError

    def _score(self, counts: Counts) -> float:
        return float(np.mean(self._per_class(counts)))

    def per_class(self) -> Scores:
        """Each class's figure over every batch since ``reset``: float64, one per class (two
        for one sigmoid output)."""
        return self._per_class(self._accumulated("per_class"))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(average={self.average!r})"


class Precision(_Averaged):
    """Precision, ``TP / (TP + FP)`` per class, and its mean over the classes (macro), from
    the true and false positives counted over every batch since ``reset``.

    Every class of the predictions' last axis counts in the mean; a class never predicted
    counts as 0 (scikit-learn's ``precision_score(..., labels=range(classes),
    average="macro", zero_division=0)``). One sigmoid output counts as two classes.

    Args:
        average: ``"macro"`` (default) or None; either way ``result()`` is the macro mean and
            ``per_class()`` each class's precision.
    """

    name = "precision"

    def _per_class(self, counts: Counts) -> Scores:
        return precision_per_class(counts)


class Recall(_Averaged):
    """Recall, ``TP / (TP + FN)`` per class, and its mean over the classes (macro), from the
    counts of every batch since ``reset``.

    Every class of the predictions' last axis counts in the mean; a class with no positions
    counts as 0 (scikit-learn's ``zero_division=0``). One sigmoid output counts as two classes.

    Args:
        average: ``"macro"`` (default) or None; either way ``result()`` is the macro mean and
            ``per_class()`` each class's recall.
    """

    name = "recall"

    def _per_class(self, counts: Counts) -> Scores:
        return recall_per_class(counts)


class F1(_Averaged):
    """F1, ``2 TP / (2 TP + FP + FN)`` per class (the harmonic mean of its precision and
    recall), and its mean over the classes (macro), from the counts of every batch since
    ``reset``.

    Every class of the predictions' last axis counts in the mean; a class neither predicted
    nor present counts as 0 (scikit-learn's ``zero_division=0``). One sigmoid output counts as
    two classes.

    Args:
        average: ``"macro"`` (default) or None; either way ``result()`` is the macro mean and
            ``per_class()`` each class's F1.
    """

    name = "f1"

    def _per_class(self, counts: Counts) -> Scores:
        return f1_per_class(counts)


class ConfusionMatrix(_Counted):
    """The confusion matrix of every batch since ``reset``: ``matrix()[t, p]`` counts the
    positions of true class ``t`` predicted as ``p`` (scikit-learn's ``confusion_matrix``,
    over every class of the predictions' last axis; one sigmoid output counts as two classes).

    ``result()`` is a float, so that it fits a History: the accuracy, the matrix's trace over
    its total. ``shapenn.plots.plot_confusion_matrix`` draws the matrix.
    """

    name = "confusion_matrix"

    def _score(self, counts: Counts) -> float:
        return float(np.trace(counts) / counts.sum())

    def matrix(self) -> Counts:
        """The counts since ``reset``: int64 (classes, classes), rows the true class, columns
        the predicted one."""
        return self._accumulated("matrix", samples=False).copy()
