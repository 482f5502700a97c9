"""Losses: per-sample values, their mean, and their gradient with respect to the predictions.

Each loss is a set of pure kernels plus a thin class. Predictions are ``(batch, *positions,
classes)`` (or ``outputs``): a sequence model's ``(batch, seq, vocab)`` is scored at every
position, and a sample's loss is the mean over its positions, so the batch's mean loss is the
mean over every position of every sample. Predictions are clipped to ``[1e-7, 1 - 1e-7]``
before any logarithm, as the nnfs book does; the gradients use the same clipped values, so they
never divide by zero.

A model checks its targets against its loss's own ``forward`` annotation (`Loss.targets`), so
``y`` gets the same words as any argument of a layer; what annotations cannot say — a label
beyond the classes, a one-hot row that is no distribution, a NaN — each loss checks in
`Loss.check_targets`. Called directly, the cross-entropies check the range of ``y_true`` in
``forward``, ``backward`` and ``calculate`` too (a LabelError naming the loss): a BCE target
of 2 or a one-hot row ``[5, -4]`` would give a loss that means nothing, without a word. The
kernels themselves compute their formula for any values.
"""

from collections.abc import Callable
from typing import Any, ClassVar, TypeAlias

import numpy as np
from jaxtyping import Integer, Real

from ._registry import Registered
from ._values import (
    as_array,
    check_labels,
    check_probability_rows,
    check_unit_interval,
    finite,
)
from .layers import Layer, Softmax
from .layers._activations import _softmax
from .shapes import (
    ArgumentError,
    Array1D,
    ArrayND,
    Bound,
    Floating,
    LabelError,
    ShapeError,
    Size,
    argument_error,
    bind,
    check_methods,
    shapechecked,
    signature,
    specs_of,
)

__all__ = [
    "BinaryCrossentropy",
    "CategoricalCrossentropy",
    "Loss",
    "MeanAbsoluteError",
    "MeanSquaredError",
    "SoftmaxCategoricalCrossentropy",
]

EPSILON = 1e-7

Probabilities: TypeAlias = Floating[ArrayND, "batch *positions classes"]
SampleLosses: TypeAlias = Floating[Array1D, " batch"]
Labels: TypeAlias = Integer[ArrayND, " batch *positions"]
OneHotRows: TypeAlias = Real[ArrayND, "batch *positions classes"]
ClassTargets: TypeAlias = Labels | OneHotRows
Predictions: TypeAlias = Floating[ArrayND, "batch *positions outputs"]
Targets: TypeAlias = Real[ArrayND, "batch *positions outputs"]

Array = np.ndarray[Any, np.dtype[Any]]


def _clip(values: Array) -> Array:
    clipped: Array = np.clip(values, EPSILON, 1 - EPSILON)
    return clipped


def _sparse(y_pred: Any, y_true: Any) -> Labels | None:
    """``y_true`` as integer labels when it has one axis fewer than the predictions (the
    kernel checks the rest), else None: one-hot rows."""
    labels: Labels | None = y_true if np.ndim(y_true) == np.ndim(y_pred) - 1 else None
    return labels


def _like(targets: Array, predictions: Array) -> Array:
    """Integer or boolean targets in the predictions' dtype: NumPy would promote
    float32 × int64 to float64 and upcast the loss and every gradient after it."""
    same: Array = targets.astype(predictions.dtype, copy=False)
    return same


def _rows(values: Array) -> Array:
    """(batch, *positions, k) as rows (batch · positions, k): a view."""
    return values if values.ndim == 2 else values.reshape(-1, values.shape[-1])


def _per_sample(values: Array, batch: int) -> Array:
    """Each sample's loss: the mean of its ``values`` (one per position, or per output), which
    come in sample order; for 2-D predictions, one value per sample is returned as it is."""
    if values.ndim == 1 and values.shape[0] == batch:
        return values
    per_sample: Array = values.reshape(batch, values.size // batch if batch else 0).mean(axis=1)
    return per_sample


# --- categorical cross-entropy -------------------------------------------------------------


@shapechecked(anchors=("y_pred",))
def categorical_crossentropy_sparse(
    y_pred: Floating[ArrayND, "batch *positions classes"],
    y_true: Integer[ArrayND, " batch *positions"],
) -> Floating[Array1D, " batch"]:
    """``-log p[..., y]`` at each position, averaged over a sample's positions.

    Shape:
        y_pred: (batch, *positions, classes); y_true: (batch, *positions) integers in
        [0, classes) → (batch,).
    """
    check_labels(y_true, y_pred.shape[-1])
    rows, labels = _rows(y_pred), y_true.reshape(-1)
    picked = _clip(rows[np.arange(labels.shape[0]), labels])
    losses: SampleLosses = _per_sample(-np.log(picked), y_pred.shape[0])
    return losses


@shapechecked(anchors=("y_pred",))
def categorical_crossentropy_onehot(
    y_pred: Floating[ArrayND, "batch *positions classes"],
    y_true: Real[ArrayND, "batch *positions classes"],
) -> Floating[Array1D, " batch"]:
    """``-log Σ_c p[..., c] y[..., c]`` at each position, averaged over a sample's positions.

    Shape:
        y_pred: (batch, *positions, classes); y_true: the same shape, one-hot → (batch,).
    """
    confidences = (_clip(_rows(y_pred)) * _like(_rows(y_true), y_pred)).sum(axis=1)
    losses: SampleLosses = _per_sample(-np.log(confidences), y_pred.shape[0])
    return losses


@shapechecked(anchors=("y_pred",))
def categorical_crossentropy_sparse_backward(
    y_pred: Floating[ArrayND, "batch *positions classes"],
    y_true: Integer[ArrayND, " batch *positions"],
) -> Floating[ArrayND, "batch *positions classes"]:
    """Gradient of the mean loss: ``-1 / p[..., y] / n`` at the true class, 0 elsewhere, with
    ``n`` the number of positions in the batch (its size for 2-D predictions).

    Shape:
        y_pred: (batch, *positions, classes); y_true: (batch, *positions) → dinputs: the
        predictions' shape.
    """
    check_labels(y_true, y_pred.shape[-1])
    rows, labels = _rows(y_pred), y_true.reshape(-1)
    index = np.arange(labels.shape[0])
    gradient = np.zeros_like(rows)
    gradient[index, labels] = -1.0 / _clip(rows[index, labels]) / labels.shape[0]
    dinputs: Probabilities = gradient.reshape(y_pred.shape)
    return dinputs


@shapechecked(anchors=("y_pred",))
def categorical_crossentropy_onehot_backward(
    y_pred: Floating[ArrayND, "batch *positions classes"],
    y_true: Real[ArrayND, "batch *positions classes"],
) -> Floating[ArrayND, "batch *positions classes"]:
    """Gradient of the mean loss: ``-y / p / n``, ``n`` the number of positions.

    Shape:
        y_pred, y_true: (batch, *positions, classes) → dinputs: the same shape.
    """
    positions = max(_rows(y_pred).shape[0], 1)
    dinputs: Probabilities = -_like(y_true, y_pred) / _clip(y_pred) / positions
    return dinputs


@shapechecked(anchors=("probabilities",))
def softmax_crossentropy_sparse_backward(
    probabilities: Floating[ArrayND, "batch *positions classes"],
    y_true: Integer[ArrayND, " batch *positions"],
) -> Floating[ArrayND, "batch *positions classes"]:
    """Gradient of softmax followed by cross-entropy, w.r.t. the logits: ``(p - onehot) / n``,
    ``n`` the number of positions.

    Shape:
        probabilities: (batch, *positions, classes) softmax outputs; y_true: (batch,
        *positions) → the probabilities' shape.
    """
    check_labels(y_true, probabilities.shape[-1])
    labels = y_true.reshape(-1)
    gradient = _rows(probabilities).copy()
    gradient[np.arange(labels.shape[0]), labels] -= 1
    gradient /= labels.shape[0]
    dinputs: Probabilities = gradient.reshape(probabilities.shape)
    return dinputs


@shapechecked(anchors=("probabilities",))
def softmax_crossentropy_onehot_backward(
    probabilities: Floating[ArrayND, "batch *positions classes"],
    y_true: Real[ArrayND, "batch *positions classes"],
) -> Floating[ArrayND, "batch *positions classes"]:
    """Gradient of softmax followed by cross-entropy, w.r.t. the logits: ``(p - y) / n``.

    Shape:
        probabilities, y_true: (batch, *positions, classes) → the same shape.
    """
    positions = max(_rows(probabilities).shape[0], 1)
    dinputs: Probabilities = (probabilities - _like(y_true, probabilities)) / positions
    return dinputs


def softmax_crossentropy_backward(
    probabilities: Probabilities, y_true: ClassTargets
) -> Probabilities:
    """The fused gradient ``(p − y) / n`` for integer labels or one-hot targets.

    Shape:
        probabilities: (batch, *positions, classes); y_true: (batch, *positions) or the
        probabilities' shape → the probabilities' shape.
    """
    if (labels := _sparse(probabilities, y_true)) is not None:
        return softmax_crossentropy_sparse_backward(probabilities, labels)
    return softmax_crossentropy_onehot_backward(probabilities, y_true)


def softmax_crossentropy(logits: Probabilities, y_true: ClassTargets) -> SampleLosses:
    """Per-sample cross-entropy of ``softmax(logits)``, from the logits: the loss whose exact
    gradient is the fused ``(p − y) / n`` of `softmax_crossentropy_backward`, at every input.

    Computed as ``log Σ exp(z − max z) − (z − max z)[y]``: no probability is formed, so none is
    rounded to 0, and nothing is clipped. The clip at 1e-7 of `categorical_crossentropy_sparse`
    keeps a *reported* loss finite; where it is active (a true class with a probability below
    1e-7 or above 1 − 1e-7) the clipped loss is flat while the fused gradient is not.
    `shapenn.gradcheck` differentiates this loss for a model that ends with Softmax and
    CategoricalCrossentropy, after checking the arrays with the loss's own ``calculate``
    (this function does not check them), so a saturated classifier is judged by the objective
    its gradient belongs to.

    Shape:
        logits: (batch, *positions, classes); y_true: (batch, *positions) integer labels or
        the logits' shape → (batch,).
    """
    shifted = logits - logits.max(axis=-1, keepdims=True)
    log_probabilities = _rows(shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True)))
    if (labels := _sparse(logits, y_true)) is not None:
        flat = labels.reshape(-1)
        picked = -log_probabilities[np.arange(flat.shape[0]), flat]
    else:
        picked = -(log_probabilities * _like(_rows(y_true), logits)).sum(axis=1)
    losses: SampleLosses = _per_sample(picked, logits.shape[0])
    return losses


# --- binary cross-entropy and regression losses --------------------------------------------


@shapechecked(anchors=("y_pred",))
def binary_crossentropy(
    y_pred: Floating[ArrayND, "batch *positions outputs"],
    y_true: Real[ArrayND, "batch *positions outputs"],
) -> Floating[Array1D, " batch"]:
    """Mean over a sample's outputs of ``-(y log p + (1 - y) log(1 - p))``.

    Shape:
        y_pred, y_true: (batch, *positions, outputs) → (batch,).
    """
    p, y = _clip(y_pred), _like(y_true, y_pred)
    elementwise = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    losses: SampleLosses = _per_sample(elementwise, y_pred.shape[0])
    return losses


@shapechecked(anchors=("y_pred",))
def binary_crossentropy_backward(
    y_pred: Floating[ArrayND, "batch *positions outputs"],
    y_true: Real[ArrayND, "batch *positions outputs"],
) -> Floating[ArrayND, "batch *positions outputs"]:
    """Gradient of the mean loss: ``-(y / p - (1 - y) / (1 - p)) / size``.

    Shape:
        y_pred, y_true: (batch, *positions, outputs) → dinputs: the same shape.
    """
    p, y = _clip(y_pred), _like(y_true, y_pred)
    dinputs: Predictions = -(y / p - (1 - y) / (1 - p)) / max(y_pred.size, 1)
    return dinputs


@shapechecked(anchors=("y_pred",))
def mean_squared_error(
    y_pred: Floating[ArrayND, "batch *positions outputs"],
    y_true: Real[ArrayND, "batch *positions outputs"],
) -> Floating[Array1D, " batch"]:
    """Mean over a sample's outputs of ``(y - ŷ)²``.

    Shape:
        y_pred, y_true: (batch, *positions, outputs) → (batch,).
    """
    error = _like(y_true, y_pred) - y_pred
    losses: SampleLosses = _per_sample(error * error, y_pred.shape[0])
    return losses


@shapechecked(anchors=("y_pred",))
def mean_squared_error_backward(
    y_pred: Floating[ArrayND, "batch *positions outputs"],
    y_true: Real[ArrayND, "batch *positions outputs"],
) -> Floating[ArrayND, "batch *positions outputs"]:
    """Gradient of the mean loss: ``-2 (y - ŷ) / size``.

    Shape:
        y_pred, y_true: (batch, *positions, outputs) → dinputs: the same shape.
    """
    dinputs: Predictions = (y_pred - _like(y_true, y_pred)) * (2 / max(y_pred.size, 1))
    return dinputs


@shapechecked(anchors=("y_pred",))
def mean_absolute_error(
    y_pred: Floating[ArrayND, "batch *positions outputs"],
    y_true: Real[ArrayND, "batch *positions outputs"],
) -> Floating[Array1D, " batch"]:
    """Mean over a sample's outputs of ``|y - ŷ|``.

    Shape:
        y_pred, y_true: (batch, *positions, outputs) → (batch,).
    """
    error = np.abs(_like(y_true, y_pred) - y_pred)
    losses: SampleLosses = _per_sample(error, y_pred.shape[0])
    return losses


@shapechecked(anchors=("y_pred",))
def mean_absolute_error_backward(
    y_pred: Floating[ArrayND, "batch *positions outputs"],
    y_true: Real[ArrayND, "batch *positions outputs"],
) -> Floating[ArrayND, "batch *positions outputs"]:
    """Gradient of the mean loss: ``sign(ŷ - y) / size``.

    Shape:
        y_pred, y_true: (batch, *positions, outputs) → dinputs: the same shape.
    """
    dinputs: Predictions = np.sign(y_pred - _like(y_true, y_pred)) / max(y_pred.size, 1)
    return dinputs


# --- classes ---------------------------------------------------------------------------------


def _mean(losses: SampleLosses, loss: object) -> float:
    """The mean of per-sample losses, accumulated in float64 (a deliberate upcast: a float32
    sum over a large batch loses digits)."""
    if losses.shape[0] == 0:
        raise ArgumentError(f"{loss!r}: got an empty batch (0 samples); the mean loss is undefined")
    # np.mean's sum and division, without its dispatch (half the time on a batch).
    return float(np.add.reduce(losses, dtype=np.float64)) / losses.shape[0]


class Loss(Registered):
    """A loss: ``forward`` gives per-sample losses, ``calculate`` their mean, ``backward`` the
    gradient of that mean with respect to the predictions (stored as ``dinputs``).

    Subclasses annotate ``forward(y_pred, y_true)`` and ``backward`` with named dims and are
    checked like layers; a model checks its targets against that ``y_true`` annotation. They
    register themselves, so a model using one saves and loads.

    Attributes:
        labels: whether the targets are class labels (predictions are then read as classes).
        fusions: for a last layer of one of these types, the gradient of the loss with
            respect to that layer's *inputs*, used instead of backpropagating through it
            (softmax then cross-entropy: ``(p − y) / n``).
        fused_losses: for the same layer types, the per-sample loss as a function of that
            layer's *inputs* whose gradient ``fusions`` gives (softmax then cross-entropy: the
            cross-entropy of the logits, unclipped); what `shapenn.gradcheck` differentiates.
    """

    registry_kind: ClassVar[str] = "loss"
    #: Whether the targets are class labels (so predictions are read as classes).
    labels: ClassVar[bool] = False
    fusions: ClassVar[dict[type[Layer], Callable[[Any, Any], Any]]] = {}
    fused_losses: ClassVar[dict[type[Layer], Callable[[Any, Any], Any]]] = {}

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
        self,
        y: Any,
        *,
        predictions: tuple[Size, ...],
        dtype: np.dtype[Any],
        where: str,
        source: str = "the model's output",
    ) -> np.ndarray[Any, np.dtype[Any]]:
        """``y`` checked, once, for predictions of shape ``predictions`` (its first axis the
        number of samples; sizes only data can tell as symbols), and converted: integer labels
        to int64, anything else to ``dtype``.

        The shape check is this loss's own ``forward`` annotation of ``y_true``, with the dims
        the predictions bind (``batch``, ``classes``, …); the values are `check_targets`'s.

        Raises:
            ShapeError: ``y`` does not fit the annotation. LabelError, ArgumentError: values
                this loss cannot take (see `check_targets`).
        """
        array = as_array(y)
        found = signature(type(self)).inputs
        if len(found) >= 2:
            bindings: dict[str, Bound] = {}
            for spec in specs_of(found[0].hint):
                trial: dict[str, Bound] = {}
                if bind(spec, predictions, trial) is None:
                    bindings = {
                        name: Bound(b.size, "`X`" if name == "batch" else source)
                        for name, b in trial.items()
                    }
                    break
            error = argument_error(where, "y", found[1].hint, array, bindings)
            if error is not None:
                advice = (
                    "X and y must have one row per sample, in the same order"
                    if error.dim == "batch"
                    else self.advice(array, predictions)
                )
                if advice:
                    error = error.with_hint(f"{error.hint}; {advice}" if error.hint else advice)
                raise error
        self.check_targets(array, predictions=predictions, where=where)
        if array.dtype.kind in "iu" and self.labels:
            return array.astype(np.int64, copy=False)
        return array.astype(dtype, copy=False)

    def advice(self, y: ArrayND, predictions: tuple[Size, ...]) -> str | None:
        """What to say, beyond the fix, when targets ``y`` do not fit: which loss they look
        made for (none by default)."""
        return None

    def check_targets(self, y: ArrayND, *, predictions: tuple[Size, ...], where: str) -> None:
        """Refuse target values this loss cannot take, whose shape already fits: NaN or
        infinite values by default.

        Raises:
            ArgumentError, LabelError: naming ``where`` and ``y``.
        """
        finite(y, "y", where)

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

    def fused_loss(self, last: Layer) -> Callable[[Any, Any], Any] | None:
        """The per-sample loss as a function of ``last``'s *inputs* whose gradient
        `fused_backward` gives, when this loss follows ``last`` (see ``fused_losses``); None
        when there is no fused gradient, or no such loss is declared beside it (a subclass
        that declares its own ``fusions`` declares its own ``fused_losses`` too, or has none).
        """
        if self.fused_backward(last) is None:
            return None
        owners = [
            next(k for k in type(self).__mro__ if name in vars(k))
            for name in ("fusions", "fused_losses")
        ]
        if owners[0] is not owners[1]:
            return None
        found = (self.fused_losses[c] for c in type(last).__mro__ if c in self.fused_losses)
        return next(found, None)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class CategoricalCrossentropy(Loss):
    """Cross-entropy of class probabilities, the book's ``Loss_CategoricalCrossentropy``.

    Targets are integer labels ``(batch, *positions)`` or one-hot rows of the predictions'
    shape. After a Softmax layer, a Model uses the fused gradient ``(p − y) / n``.

    Shape:
        forward: y_pred (batch, *positions, classes), y_true (batch, *positions) or (batch,
        *positions, classes) → (batch,).
        backward: → dinputs (batch, *positions, classes).
    """

    kernels_keyed = True

    labels = True
    fusions: ClassVar[dict[type[Layer], Callable[[Any, Any], Any]]] = {
        Softmax: softmax_crossentropy_backward
    }
    fused_losses: ClassVar[dict[type[Layer], Callable[[Any, Any], Any]]] = {
        Softmax: softmax_crossentropy
    }

    def advice(self, y: ArrayND, predictions: tuple[Size, ...]) -> str | None:
        """Values to predict are not labels."""
        if y.dtype.kind == "f" and y.ndim == len(predictions) - 1:
            return "for values to predict (regression) use MeanSquaredError"
        return None

    def check_targets(self, y: ArrayND, *, predictions: tuple[Size, ...], where: str) -> None:
        """Labels within the classes; one-hot (or soft) rows that are distributions."""
        classes = predictions[-1]
        if y.dtype.kind in "iu" and y.ndim == len(predictions) - 1:
            if isinstance(classes, int):
                try:
                    check_labels(y, classes)
                except LabelError as err:
                    raise LabelError(f"`y` {err.message}", where=where) from None
            return
        finite(y, "y", where)
        check_probability_rows(y, "y", where, type(self).__name__)

    def _check_rows(self, y_true: OneHotRows) -> None:
        """One-hot (or soft) rows given to ``forward`` or ``backward`` directly: a LabelError
        that this method's check names the loss in."""
        check_probability_rows(y_true, "y_true", None, type(self).__name__)

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

        Shape: y_pred (batch, *positions, classes), y_true (batch, *positions) or (batch,
        *positions, classes) → (batch,)
        """
        if (labels := _sparse(y_pred, y_true)) is not None:
            return categorical_crossentropy_sparse(y_pred, labels)
        self._check_rows(y_true)
        return categorical_crossentropy_onehot(y_pred, y_true)

    def backward(self, y_pred: Probabilities, y_true: ClassTargets) -> Probabilities:
        """The gradient of the mean loss with respect to ``y_pred``, kept as ``dinputs``.

        Shape: y_pred (batch, *positions, classes), y_true (batch, *positions) or (batch,
        *positions, classes) → (batch, *positions, classes)
        """
        if (labels := _sparse(y_pred, y_true)) is not None:
            dinputs = categorical_crossentropy_sparse_backward(y_pred, labels)
        else:
            self._check_rows(y_true)
            dinputs = categorical_crossentropy_onehot_backward(y_pred, y_true)
        self.dinputs: Predictions = dinputs
        return dinputs


#: A loss's pair of kernels: per-sample losses, and the gradient of their mean.
Kernels = tuple[Callable[[Any, Any], Any], Callable[[Any, Any], Any]]


class _OfOutputs(Loss):
    """A loss of predictions (batch, *positions, outputs) against targets of their shape,
    computed by a pair of kernels: per-sample losses and the gradient of their mean."""

    kernels_keyed = True

    kernels: ClassVar[Kernels]

    def _check_values(self, y_true: Targets) -> None:
        """Refuse ``y_true`` values the loss cannot take, in a direct call (none by default):
        a LabelError, which this method's check names the loss in."""

    def forward(self, y_pred: Predictions, y_true: Targets) -> SampleLosses:
        """Per-sample losses.

        Shape: y_pred (batch, *positions, outputs), y_true (batch, *positions, outputs) →
        (batch,)
        """
        self._check_values(y_true)
        losses: SampleLosses = self.kernels[0](y_pred, y_true)
        return losses

    def backward(self, y_pred: Predictions, y_true: Targets) -> Predictions:
        """The gradient of the mean loss with respect to ``y_pred``, kept as ``dinputs``.

        Shape: y_pred (batch, *positions, outputs), y_true (batch, *positions, outputs) →
        (batch, *positions, outputs)
        """
        self._check_values(y_true)
        dinputs: Predictions = self.kernels[1](y_pred, y_true)
        self.dinputs: Predictions = dinputs
        return dinputs


class BinaryCrossentropy(_OfOutputs):
    """Cross-entropy of independent sigmoid outputs, the book's ``Loss_BinaryCrossentropy``.

    Targets have the predictions' shape: a target vector ``y`` of shape (batch,) must be given
    as ``y.reshape(-1, 1)`` — NumPy would otherwise broadcast it to (batch, batch).

    Shape:
        forward: y_pred, y_true (batch, *positions, outputs) → (batch,); backward → the
        predictions' shape.
    """

    kernels: ClassVar[Kernels] = (binary_crossentropy, binary_crossentropy_backward)

    def check_targets(self, y: ArrayND, *, predictions: tuple[Size, ...], where: str) -> None:
        """Targets in [0, 1]: each is the probability of a 1."""
        finite(y, "y", where)
        check_unit_interval(y, "y", where, type(self).__name__)

    def _check_values(self, y_true: Targets) -> None:
        """Targets in [0, 1] in a direct call too (NaN is not in it)."""
        check_unit_interval(y_true, "y_true", None, type(self).__name__)

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


class _Regression(_OfOutputs):
    """A loss of values to predict (MeanSquaredError, MeanAbsoluteError)."""

    def advice(self, y: ArrayND, predictions: tuple[Size, ...]) -> str | None:
        """Integer labels one axis short of the predictions are class labels."""
        outputs = predictions[-1]
        if y.dtype.kind in "iu" and y.ndim == len(predictions) - 1 and outputs != 1:
            return "these look like class labels: use CategoricalCrossentropy with a Softmax output"
        return None


class MeanSquaredError(_Regression):
    """Mean squared error, the book's ``Loss_MeanSquaredError``.

    Shape:
        forward: y_pred, y_true (batch, *positions, outputs) → (batch,); backward → the
        predictions' shape.
    """

    kernels: ClassVar[Kernels] = (mean_squared_error, mean_squared_error_backward)


class MeanAbsoluteError(_Regression):
    """Mean absolute error, the book's ``Loss_MeanAbsoluteError``.

    Shape:
        forward: y_pred, y_true (batch, *positions, outputs) → (batch,); backward → the
        predictions' shape.
    """

    kernels: ClassVar[Kernels] = (mean_absolute_error, mean_absolute_error_backward)


class SoftmaxCategoricalCrossentropy:
    """Softmax and categorical cross-entropy in one step, with the short gradient
    ``(softmax - onehot) / n`` — the book's
    ``Activation_Softmax_Loss_CategoricalCrossentropy``, for hand-written training loops.

    (A Model does the same by itself when a Softmax layer is followed by
    CategoricalCrossentropy.)

    Shape:
        forward: logits (batch, *positions, classes), y_true (batch, *positions) or the
        logits' shape → mean loss; ``output`` holds the probabilities.
        backward: probabilities (batch, *positions, classes), y_true → dinputs of their shape.
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

        Shape: inputs (batch, *positions, classes), y_true (batch, *positions) or (batch,
        *positions, classes)
        """
        probabilities = _softmax(inputs, f"{self!r}.forward")
        loss = self.loss.calculate(probabilities, y_true)
        self.inputs = inputs
        self.output = probabilities
        return loss

    def backward(self, dvalues: Probabilities, y_true: ClassTargets) -> Probabilities:
        """Gradient w.r.t. the logits; ``dvalues`` are the softmax outputs of ``forward``.

        Shape: dvalues (batch, *positions, classes), y_true (batch, *positions) or (batch,
        *positions, classes) → (batch, *positions, classes)
        """
        if _sparse(dvalues, y_true) is None:  # labels are checked by the kernel
            check_probability_rows(y_true, "y_true", None, type(self).__name__)
        dinputs = softmax_crossentropy_backward(dvalues, y_true)
        self.dinputs = dinputs
        return dinputs


check_methods(SoftmaxCategoricalCrossentropy, scoped=False, anchors=("inputs", "dvalues"))
