"""Losses: per-sample values, their mean, and their gradient with respect to the predictions.

Each loss is a set of pure kernels plus a thin class. Predictions are clipped to
``[1e-7, 1 - 1e-7]`` before any logarithm, as the nnfs book does; the gradients use the same
clipped values, so they never divide by zero.
"""

from collections.abc import Callable
from typing import Any, ClassVar, TypeAlias, cast

import numpy as np
from jaxtyping import Integer, Real

from ._data import check_class_targets, check_labels, check_value_targets
from ._registry import Registered
from .layers import Layer, Softmax
from .layers._activations import softmax_forward
from .shapes import (
    ArgumentError,
    Array1D,
    Array2D,
    ArrayND,
    Floating,
    LabelError,
    OneHot,
    ShapeError,
    shapechecked,
)
from .shapes import SparseLabels as Sparse
from .shapes._check import check_methods
from .shapes._dims import Size

__all__ = [
    "BinaryCrossentropy",
    "CategoricalCrossentropy",
    "Loss",
    "MeanAbsoluteError",
    "MeanSquaredError",
    "SoftmaxCategoricalCrossentropy",
]

EPSILON = 1e-7

Probabilities: TypeAlias = Floating[Array2D, "batch classes"]
SampleLosses: TypeAlias = Floating[Array1D, " batch"]
ClassTargets: TypeAlias = Sparse | OneHot
Predictions: TypeAlias = Floating[Array2D, "batch outputs"]
Targets: TypeAlias = Real[Array2D, "batch outputs"]


def _clip(values: np.ndarray[Any, np.dtype[Any]]) -> np.ndarray[Any, np.dtype[Any]]:
    clipped: np.ndarray[Any, np.dtype[Any]] = np.clip(values, EPSILON, 1 - EPSILON)
    return clipped


def _sparse(y_true: "ClassTargets") -> Sparse | None:
    """``y_true`` as integer labels if it is 1-D (the kernel checks the rest), else None."""
    return cast(Sparse, y_true) if np.ndim(y_true) == 1 else None


def _like(
    targets: np.ndarray[Any, np.dtype[Any]], predictions: np.ndarray[Any, np.dtype[Any]]
) -> np.ndarray[Any, np.dtype[Any]]:
    """Integer or boolean targets in the predictions' dtype: NumPy would promote
    float32 × int64 to float64 and upcast the loss and every gradient after it."""
    same: np.ndarray[Any, np.dtype[Any]] = targets.astype(predictions.dtype, copy=False)
    return same


# --- categorical cross-entropy -------------------------------------------------------------


@shapechecked(anchors=("y_pred",))
def categorical_crossentropy_sparse(
    y_pred: Floating[Array2D, "batch classes"], y_true: Integer[Array1D, " batch"]
) -> Floating[Array1D, " batch"]:
    """``-log p[i, y_i]`` for each sample, from integer labels.

    Shape:
        y_pred: (batch, classes); y_true: (batch,) integers in [0, classes) → (batch,).
    """
    check_labels(y_true, y_pred.shape[1])
    picked = _clip(y_pred[np.arange(y_true.shape[0]), y_true])
    losses: SampleLosses = -np.log(picked)
    return losses


@shapechecked(anchors=("y_pred",))
def categorical_crossentropy_onehot(
    y_pred: Floating[Array2D, "batch classes"], y_true: Real[Array2D, "batch classes"]
) -> Floating[Array1D, " batch"]:
    """``-log Σ_c p[i, c] y[i, c]`` for each sample, from one-hot targets.

    Shape:
        y_pred: (batch, classes); y_true: (batch, classes) one-hot → (batch,).
    """
    confidences = (_clip(y_pred) * _like(y_true, y_pred)).sum(axis=1)
    losses: SampleLosses = -np.log(confidences)
    return losses


@shapechecked(anchors=("y_pred",))
def categorical_crossentropy_sparse_backward(
    y_pred: Floating[Array2D, "batch classes"], y_true: Integer[Array1D, " batch"]
) -> Floating[Array2D, "batch classes"]:
    """Gradient of the mean loss: ``-1 / p[i, y_i] / batch`` at the true class, 0 elsewhere.

    Shape:
        y_pred: (batch, classes); y_true: (batch,) → dinputs: (batch, classes).
    """
    check_labels(y_true, y_pred.shape[1])
    rows = np.arange(y_true.shape[0])
    dinputs: Probabilities = np.zeros_like(y_pred)
    dinputs[rows, y_true] = -1.0 / _clip(y_pred[rows, y_true]) / y_true.shape[0]
    return dinputs


@shapechecked(anchors=("y_pred",))
def categorical_crossentropy_onehot_backward(
    y_pred: Floating[Array2D, "batch classes"], y_true: Real[Array2D, "batch classes"]
) -> Floating[Array2D, "batch classes"]:
    """Gradient of the mean loss: ``-y / p / batch``.

    Shape:
        y_pred, y_true: (batch, classes) → dinputs: (batch, classes).
    """
    dinputs: Probabilities = -_like(y_true, y_pred) / _clip(y_pred) / y_pred.shape[0]
    return dinputs


@shapechecked(anchors=("probabilities",))
def softmax_crossentropy_sparse_backward(
    probabilities: Floating[Array2D, "batch classes"], y_true: Integer[Array1D, " batch"]
) -> Floating[Array2D, "batch classes"]:
    """Gradient of softmax followed by cross-entropy, w.r.t. the logits: ``(p - onehot) / batch``.

    Shape:
        probabilities: (batch, classes) softmax outputs; y_true: (batch,) → (batch, classes).
    """
    check_labels(y_true, probabilities.shape[1])
    dinputs: Probabilities = probabilities.copy()
    dinputs[np.arange(y_true.shape[0]), y_true] -= 1
    dinputs /= y_true.shape[0]
    return dinputs


@shapechecked(anchors=("probabilities",))
def softmax_crossentropy_onehot_backward(
    probabilities: Floating[Array2D, "batch classes"], y_true: Real[Array2D, "batch classes"]
) -> Floating[Array2D, "batch classes"]:
    """Gradient of softmax followed by cross-entropy, w.r.t. the logits: ``(p - y) / batch``.

    Shape:
        probabilities, y_true: (batch, classes) → (batch, classes).
    """
    dinputs: Probabilities = (probabilities - _like(y_true, probabilities)) / probabilities.shape[0]
    return dinputs


def softmax_crossentropy_backward(
    probabilities: Probabilities, y_true: ClassTargets
) -> Probabilities:
    """The fused gradient ``(p − y) / batch`` for integer labels or one-hot targets.

    Shape:
        probabilities: (batch, classes); y_true: (batch,) or (batch, classes) → (batch, classes).
    """
    if (labels := _sparse(y_true)) is not None:
        return softmax_crossentropy_sparse_backward(probabilities, labels)
    return softmax_crossentropy_onehot_backward(probabilities, cast(OneHot, y_true))


# --- binary cross-entropy and regression losses --------------------------------------------


@shapechecked(anchors=("y_pred",))
def binary_crossentropy(
    y_pred: Floating[Array2D, "batch outputs"], y_true: Real[Array2D, "batch outputs"]
) -> Floating[Array1D, " batch"]:
    """Mean over outputs of ``-(y log p + (1 - y) log(1 - p))``, for each sample.

    Shape:
        y_pred, y_true: (batch, outputs) → (batch,).
    """
    p, y = _clip(y_pred), _like(y_true, y_pred)
    losses: SampleLosses = -(y * np.log(p) + (1 - y) * np.log(1 - p)).mean(axis=1)
    return losses


@shapechecked(anchors=("y_pred",))
def binary_crossentropy_backward(
    y_pred: Floating[Array2D, "batch outputs"], y_true: Real[Array2D, "batch outputs"]
) -> Floating[Array2D, "batch outputs"]:
    """Gradient of the mean loss: ``-(y / p - (1 - y) / (1 - p)) / outputs / batch``.

    Shape:
        y_pred, y_true: (batch, outputs) → dinputs: (batch, outputs).
    """
    p, y = _clip(y_pred), _like(y_true, y_pred)
    dinputs: Predictions = -(y / p - (1 - y) / (1 - p)) / max(y_pred.size, 1)
    return dinputs


@shapechecked(anchors=("y_pred",))
def mean_squared_error(
    y_pred: Floating[Array2D, "batch outputs"], y_true: Real[Array2D, "batch outputs"]
) -> Floating[Array1D, " batch"]:
    """Mean over outputs of ``(y - ŷ)²``, for each sample.

    Shape:
        y_pred, y_true: (batch, outputs) → (batch,).
    """
    error = _like(y_true, y_pred) - y_pred
    losses: SampleLosses = (error * error).mean(axis=1)
    return losses


@shapechecked(anchors=("y_pred",))
def mean_squared_error_backward(
    y_pred: Floating[Array2D, "batch outputs"], y_true: Real[Array2D, "batch outputs"]
) -> Floating[Array2D, "batch outputs"]:
    """Gradient of the mean loss: ``-2 (y - ŷ) / outputs / batch``.

    Shape:
        y_pred, y_true: (batch, outputs) → dinputs: (batch, outputs).
    """
    dinputs: Predictions = (y_pred - _like(y_true, y_pred)) * (2 / max(y_pred.size, 1))
    return dinputs


@shapechecked(anchors=("y_pred",))
def mean_absolute_error(
    y_pred: Floating[Array2D, "batch outputs"], y_true: Real[Array2D, "batch outputs"]
) -> Floating[Array1D, " batch"]:
    """Mean over outputs of ``|y - ŷ|``, for each sample.

    Shape:
        y_pred, y_true: (batch, outputs) → (batch,).
    """
    losses: SampleLosses = np.abs(_like(y_true, y_pred) - y_pred).mean(axis=1)
    return losses


@shapechecked(anchors=("y_pred",))
def mean_absolute_error_backward(
    y_pred: Floating[Array2D, "batch outputs"], y_true: Real[Array2D, "batch outputs"]
) -> Floating[Array2D, "batch outputs"]:
    """Gradient of the mean loss: ``sign(ŷ - y) / outputs / batch``.

    Shape:
        y_pred, y_true: (batch, outputs) → dinputs: (batch, outputs).
    """
    dinputs: Predictions = np.sign(y_pred - _like(y_true, y_pred)) / max(y_pred.size, 1)
    return dinputs


# --- classes ---------------------------------------------------------------------------------


def _mean(losses: SampleLosses, loss: object) -> float:
    """The mean of per-sample losses, accumulated in float64 (a deliberate upcast: a float32
    sum over a large batch loses digits)."""
    if losses.shape[0] == 0:
        raise ArgumentError(f"{loss!r}: got an empty batch (0 samples); the mean loss is undefined")
    return float(np.mean(losses, dtype=np.float64))


class Loss(Registered):
    """A loss: ``forward`` gives per-sample losses, ``calculate`` their mean, ``backward`` the
    gradient of that mean with respect to the predictions (stored as ``dinputs``).

    Subclasses annotate ``forward`` and ``backward`` with named dims and are checked like
    layers; they register themselves, so a model using one saves and loads.

    Attributes:
        labels: whether the targets are class labels (predictions are then read as classes).
        fusions: for a last layer of one of these types, the gradient of the loss with
            respect to that layer's *inputs*, used instead of backpropagating through it
            (softmax then cross-entropy: ``(p − y) / batch``).
    """

    registry_kind: ClassVar[str] = "loss"
    #: Whether the targets are class labels (so predictions are read as classes).
    labels: ClassVar[bool] = False
    fusions: ClassVar[dict[type[Layer], Callable[[Any, Any], Any]]] = {}

    dinputs: np.ndarray[Any, np.dtype[Any]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        check_methods(cls, scoped=False, anchors=("y_pred",))

    def forward(self, y_pred: Any, y_true: Any) -> SampleLosses:
        """Per-sample losses."""
        raise NotImplementedError

    def backward(self, y_pred: Any, y_true: Any) -> Any:
        """Gradient of the mean loss with respect to ``y_pred``."""
        raise NotImplementedError

    def calculate(self, y_pred: ArrayND, y_true: ArrayND) -> float:
        """The mean loss over the batch, as a Python float."""
        __tracebackhide__ = True
        try:
            losses = self.forward(y_pred, y_true)
        except (ShapeError, LabelError) as err:  # reported where the caller called
            raise err.located_at(f"{self!r}.calculate").with_traceback(None) from None
        return _mean(losses, self)

    __call__ = calculate

    def targets(
        self, y: Any, *, samples: int, outputs: Size, dtype: np.dtype[Any], where: str
    ) -> np.ndarray[Any, np.dtype[Any]]:
        """``y`` checked for this loss, for a model with ``outputs`` outputs, and converted
        once: real values (samples, outputs) in the model's dtype unless a loss says otherwise.

        Raises:
            ShapeError, LabelError, ValueError: targets this loss cannot take.
        """
        name = type(self).__name__
        return check_value_targets(y, samples, outputs, dtype, where=where, loss=name)

    def check_predictions(self, y_pred: ArrayND, *, where: str, last: str) -> None:
        """Refuse predictions this loss cannot score, before a model trains on them (nothing
        by default). ``last`` names the layer that made them, for the message.

        Raises:
            ArgumentError: e.g. cross-entropy given rows that are not probabilities.
        """

    def fused_backward(self, last: Layer) -> Callable[[Any, Any], Any] | None:
        """The gradient with respect to ``last``'s inputs when this loss follows it, if the
        pair has a shorter form than backpropagating through ``last`` (see ``fusions``)."""
        # By the class or a base: the book's Activation_Softmax is a Softmax too.
        return next((self.fusions[c] for c in type(last).__mro__ if c in self.fusions), None)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class CategoricalCrossentropy(Loss):
    """Cross-entropy of class probabilities, the book's ``Loss_CategoricalCrossentropy``.

    Targets are integer labels of shape (batch,) or one-hot rows of shape (batch, classes).
    After a Softmax layer, a Model uses the fused gradient ``(p − y) / batch``.

    Shape:
        forward: y_pred (batch, classes), y_true (batch,) or (batch, classes) → (batch,).
        backward: → dinputs (batch, classes).
    """

    labels = True
    fusions: ClassVar[dict[type[Layer], Callable[[Any, Any], Any]]] = {
        Softmax: softmax_crossentropy_backward
    }

    def targets(
        self, y: Any, *, samples: int, outputs: Size, dtype: np.dtype[Any], where: str
    ) -> np.ndarray[Any, np.dtype[Any]]:
        """Integer labels (samples,), returned as int64, or one-hot rows (samples, classes)."""
        name = type(self).__name__
        return check_class_targets(y, samples, outputs, dtype, where=where, loss=name)

    def check_predictions(self, y_pred: ArrayND, *, where: str, last: str) -> None:
        """Refuse rows that are not probability distributions (a model without Softmax last,
        whose loss would fall towards zero while it learns nothing)."""
        rows = np.asarray(y_pred, dtype=np.float64).reshape(-1, np.shape(y_pred)[-1])
        sums = rows.sum(axis=1)
        outside = ((rows < 0) | (rows > 1)).any(axis=1)
        if outside.any() or np.abs(sums - 1).max(initial=0.0) > 1e-3:
            # The row furthest from a distribution shows the problem best.
            index = int(np.argmax(np.abs(sums - 1) + outside))
            shown = ", ".join(f"{v:.3g}" for v in rows[index][:4])
            more = ", ..." if rows.shape[1] > 4 else ""
            raise ArgumentError(
                f"{where}: {self!r} takes class probabilities (rows in [0, 1] that sum to 1), "
                f"but {last} outputs rows such as [{shown}{more}] (sum {sums[index]:.3g}): "
                "end the model with Softmax(); the model then uses the short softmax–cross-"
                "entropy gradient, as the book's SoftmaxCategoricalCrossentropy does"
            )

    def forward(self, y_pred: Probabilities, y_true: ClassTargets) -> SampleLosses:
        """Per-sample losses.

        Shape: y_pred (batch, classes), y_true (batch,) or (batch, classes) → (batch,)
        """
        if (labels := _sparse(y_true)) is not None:
            return categorical_crossentropy_sparse(y_pred, labels)
        return categorical_crossentropy_onehot(y_pred, cast(OneHot, y_true))

    def backward(self, y_pred: Probabilities, y_true: ClassTargets) -> Probabilities:
        """The gradient of the mean loss with respect to ``y_pred``, kept as ``dinputs``.

        Shape: y_pred (batch, classes), y_true (batch,) or (batch, classes) → (batch, classes)
        """
        if (labels := _sparse(y_true)) is not None:
            dinputs = categorical_crossentropy_sparse_backward(y_pred, labels)
        else:
            dinputs = categorical_crossentropy_onehot_backward(y_pred, cast(OneHot, y_true))
        self.dinputs = dinputs
        return dinputs


class BinaryCrossentropy(Loss):
    """Cross-entropy of independent sigmoid outputs, the book's ``Loss_BinaryCrossentropy``.

    Targets have the predictions' shape: a target vector ``y`` of shape (batch,) must be given
    as ``y.reshape(-1, 1)`` — NumPy would otherwise broadcast it to (batch, batch).

    Shape:
        forward: y_pred, y_true (batch, outputs) → (batch,); backward → (batch, outputs).
    """

    def targets(
        self, y: Any, *, samples: int, outputs: Size, dtype: np.dtype[Any], where: str
    ) -> np.ndarray[Any, np.dtype[Any]]:
        """Targets (samples, outputs) in [0, 1]."""
        name = type(self).__name__
        return check_value_targets(
            y, samples, outputs, dtype, where=where, loss=name, low=0.0, high=1.0
        )

    def check_predictions(self, y_pred: ArrayND, *, where: str, last: str) -> None:
        """Refuse values outside [0, 1]: each output is the probability of a 1."""
        values = np.asarray(y_pred)
        outside = np.flatnonzero((values < 0) | (values > 1))
        if outside.size:
            value = values.reshape(-1)[outside[0]]
            raise ArgumentError(
                f"{where}: {self!r} takes probabilities in [0, 1], one per output, but {last} "
                f"outputs {value:.3g}: end the model with Sigmoid()"
            )

    def forward(self, y_pred: Predictions, y_true: Targets) -> SampleLosses:
        """Per-sample losses.

        Shape: y_pred (batch, outputs), y_true (batch, outputs) → (batch,)
        """
        return binary_crossentropy(y_pred, y_true)

    def backward(self, y_pred: Predictions, y_true: Targets) -> Predictions:
        """The gradient of the mean loss with respect to ``y_pred``, kept as ``dinputs``.

        Shape: y_pred (batch, outputs), y_true (batch, outputs) → (batch, outputs)
        """
        dinputs = binary_crossentropy_backward(y_pred, y_true)
        self.dinputs = dinputs
        return dinputs


class MeanSquaredError(Loss):
    """Mean squared error, the book's ``Loss_MeanSquaredError``.

    Shape:
        forward: y_pred, y_true (batch, outputs) → (batch,); backward → (batch, outputs).
    """

    def forward(self, y_pred: Predictions, y_true: Targets) -> SampleLosses:
        """Per-sample losses.

        Shape: y_pred (batch, outputs), y_true (batch, outputs) → (batch,)
        """
        return mean_squared_error(y_pred, y_true)

    def backward(self, y_pred: Predictions, y_true: Targets) -> Predictions:
        """The gradient of the mean loss with respect to ``y_pred``, kept as ``dinputs``.

        Shape: y_pred (batch, outputs), y_true (batch, outputs) → (batch, outputs)
        """
        dinputs = mean_squared_error_backward(y_pred, y_true)
        self.dinputs = dinputs
        return dinputs


class MeanAbsoluteError(Loss):
    """Mean absolute error, the book's ``Loss_MeanAbsoluteError``.

    Shape:
        forward: y_pred, y_true (batch, outputs) → (batch,); backward → (batch, outputs).
    """

    def forward(self, y_pred: Predictions, y_true: Targets) -> SampleLosses:
        """Per-sample losses.

        Shape: y_pred (batch, outputs), y_true (batch, outputs) → (batch,)
        """
        return mean_absolute_error(y_pred, y_true)

    def backward(self, y_pred: Predictions, y_true: Targets) -> Predictions:
        """The gradient of the mean loss with respect to ``y_pred``, kept as ``dinputs``.

        Shape: y_pred (batch, outputs), y_true (batch, outputs) → (batch, outputs)
        """
        dinputs = mean_absolute_error_backward(y_pred, y_true)
        self.dinputs = dinputs
        return dinputs


class SoftmaxCategoricalCrossentropy:
    """Softmax and categorical cross-entropy in one step, with the short gradient
    ``(softmax - onehot) / batch`` — the book's
    ``Activation_Softmax_Loss_CategoricalCrossentropy``, for hand-written training loops.

    (A Model does the same by itself when a Softmax layer is followed by
    CategoricalCrossentropy.)

    Shape:
        forward: logits (batch, classes), y_true (batch,) or (batch, classes) → mean loss;
        ``output`` holds the probabilities (batch, classes).
        backward: probabilities (batch, classes), y_true → dinputs (batch, classes).
    """

    #: What a Model says when this is given as its loss.
    model_advice: ClassVar[str] = (
        "it is the book's combined activation and loss for hand-written loops; in a Model, "
        "end with Softmax() and use loss=CategoricalCrossentropy(), and the Model uses the "
        "same short gradient"
    )

    def __init__(self) -> None:
        self.loss: CategoricalCrossentropy = CategoricalCrossentropy()
        self.inputs: Probabilities
        self.output: Probabilities
        self.dinputs: Probabilities

    def __repr__(self) -> str:
        return "SoftmaxCategoricalCrossentropy()"

    def forward(self, inputs: Probabilities, y_true: ClassTargets) -> float:
        """Softmax the logits into ``output`` and return the mean cross-entropy.

        Shape: inputs (batch, classes), y_true (batch,) or (batch, classes)
        """
        probabilities = softmax_forward(inputs)
        loss = self.loss.calculate(probabilities, y_true)
        self.inputs = inputs
        self.output = probabilities
        return loss

    def backward(self, dvalues: Probabilities, y_true: ClassTargets) -> Probabilities:
        """Gradient w.r.t. the logits; ``dvalues`` are the softmax outputs of ``forward``.

        Shape: dvalues (batch, classes), y_true (batch,) or (batch, classes) → (batch, classes)
        """
        dinputs = softmax_crossentropy_backward(dvalues, y_true)
        self.dinputs = dinputs
        return dinputs


check_methods(SoftmaxCategoricalCrossentropy, scoped=False, anchors=("inputs", "dvalues"))
