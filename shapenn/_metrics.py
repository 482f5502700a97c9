"""Accuracy metrics: categorical (sparse or one-hot), binary, and the book's regression accuracy."""

from typing import Any, ClassVar

import numpy as np
from jaxtyping import Integer, Real

from ._losses import ClassTargets, Predictions, Probabilities, Targets, _sparse
from ._registry import Registered
from ._values import check_labels
from .shapes import ArrayND, Floating, NotReadyError, check_methods, shapechecked

__all__ = [
    "Accuracy",
    "BinaryAccuracy",
    "CategoricalAccuracy",
    "RegressionAccuracy",
    "binary_accuracy",
    "categorical_accuracy_onehot",
    "categorical_accuracy_sparse",
    "regression_accuracy",
]


@shapechecked(anchors=("y_pred",))
def categorical_accuracy_sparse(
    y_pred: Floating[ArrayND, "batch *positions classes"],
    y_true: Integer[ArrayND, " batch *positions"],
) -> float:
    """Fraction of positions whose largest prediction is at the label.

    Shape:
        y_pred: (batch, *positions, classes); y_true: (batch, *positions) → a scalar.
    """
    check_labels(y_true, y_pred.shape[-1])
    return float(np.mean(np.argmax(y_pred, axis=-1) == y_true))


@shapechecked(anchors=("y_pred",))
def categorical_accuracy_onehot(
    y_pred: Floating[ArrayND, "batch *positions classes"],
    y_true: Real[ArrayND, "batch *positions classes"],
) -> float:
    """Fraction of positions whose largest prediction is at the one-hot row's 1.

    Shape:
        y_pred, y_true: (batch, *positions, classes) → a scalar.
    """
    return float(np.mean(np.argmax(y_pred, axis=-1) == np.argmax(y_true, axis=-1)))


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
    return float(np.mean((y_pred > threshold) == (y_true > 0.5)))


@shapechecked(anchors=("y_pred",))
def regression_accuracy(
    y_pred: Floating[ArrayND, "batch *positions outputs"],
    y_true: Real[ArrayND, "batch *positions outputs"],
    precision: float,
) -> float:
    """Fraction of outputs within ``precision`` of the target: ``|ŷ − y| < precision``.

    Shape:
        y_pred, y_true: (batch, *positions, outputs) → a scalar.
    """
    return float(np.mean(np.abs(y_pred - y_true) < precision))


class Accuracy(Registered):
    """A metric: ``calculate(y_pred, y_true)`` gives the fraction right in a batch.

    ``init(y)`` is called once with all training targets before training (the book's protocol).
    Subclasses annotate ``calculate`` and are checked like layers.
    """

    registry_kind: ClassVar[str] = "metric"
    name = "accuracy"
    #: Whether the metric counts classes right (False for a regression's tolerance).
    classifies: ClassVar[bool] = True

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

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class CategoricalAccuracy(Accuracy):
    """Argmax accuracy for integer labels (batch, *positions) or one-hot targets (batch,
    *positions, classes), over every position."""

    def calculate(self, y_pred: Probabilities, y_true: ClassTargets) -> float:
        """The fraction of positions whose largest prediction is the true class.

        Shape: y_pred (batch, *positions, classes), y_true (batch, *positions) or (batch,
        *positions, classes)
        """
        if (labels := _sparse(y_pred, y_true)) is not None:
            return categorical_accuracy_sparse(y_pred, labels)
        return categorical_accuracy_onehot(y_pred, y_true)


class BinaryAccuracy(Accuracy):
    """Accuracy of independent binary outputs, each thresholded at ``threshold``."""

    def __init__(self, threshold: float = 0.5) -> None:
        self.threshold: float = float(threshold)

    def calculate(self, y_pred: Predictions, y_true: Targets) -> float:
        """The fraction of outputs on the right side of ``threshold``.

        Shape: y_pred (batch, *positions, outputs), y_true (batch, *positions, outputs)
        """
        return binary_accuracy(y_pred, y_true, self.threshold)


class RegressionAccuracy(Accuracy):
    """The book's regression accuracy: the fraction of predictions within ``precision``.

    Args:
        precision: the tolerance; None (default) sets it at ``init`` to ``std(y) / divisor``.
        divisor: 250, the book's choice.
    """

    classifies = False

    def __init__(self, precision: float | None = None, divisor: float = 250.0) -> None:
        self.precision = precision
        self.divisor: float = float(divisor)
        self._fixed = precision is not None

    @property
    def initialized(self) -> bool:
        return self.precision is not None

    def init(self, y: Any) -> None:
        """Set ``precision`` to ``std(y) / divisor``, unless it was given."""
        if not self._fixed:
            self.precision = float(np.std(y)) / self.divisor

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
