"""The book's own names, shape-checked: ``from shapenn.book import *``, and the code of
*Neural Networks from Scratch* runs as printed, with every shape mistake a ``ShapeError``.

``Layer_Dense``, ``Layer_Dropout``, ``Layer_Input``, the ``Activation_*``, ``Loss_*`` and
``Optimizer_*`` classes, ``Activation_Softmax_Loss_CategoricalCrossentropy``,
``Accuracy_Categorical``, ``Accuracy_Regression`` and ``Model`` (``add``, ``set``,
``finalize``, ``train``, ``evaluate``, ``predict``, ``save``/``load``,
``get_parameters``/``set_parameters``) keep the book's names, arguments and attributes; they
are thin subclasses and wrappers of shapenn's classes, checked by the same annotations.

**NumPy's global generator.** This module is shapenn's one exception to never touching NumPy's
global random state: like the book, ``Layer_Dense`` draws its initial weights as ``0.01 *
np.random.randn(n_inputs, n_neurons)`` and ``Layer_Dropout`` its masks with
``np.random.binomial``, from NumPy's global generator, so that after ``nnfs.init()`` the
book's code prints the book's numbers. Importing it changes nothing in NumPy.

**The book's arithmetic.** Where the book's rounding differs from shapenn's, these classes
compute as the book does: a dense layer's products go through ``np.dot`` (which ``nnfs.init()``
reroutes through float64), its L1/L2 gradients are added term by term, and a loss is the
``np.mean`` of its sample losses, a NumPy scalar of the data's dtype (so it prints as the book
prints it, ``1.0986104``).

Two things differ on purpose: a dropout mask has the dtype of its input (the book's float64
mask turns the rest of a float32 network into float64, which shapenn refuses to do silently;
the first dropout prints one line on stderr saying so), and ``Model.save`` writes shapenn's
checked file format instead of a pickle.

**Chapters printed differently.** Three chapters' classes differ from the others', and have
a module to paste instead: ``from shapenn.book.chapter15 import *`` (the float64 dropout
mask), ``chapter17`` (``Layer_Dense`` draws ``0.1 * np.random.randn``; float64
``sine_data()``) and ``chapter18`` (``Model.train`` prints every ``print_every`` epochs and
validates once). With them, those chapters print the book's numbers.
"""

import functools
import math
import os
import sys
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt
from jaxtyping import Real, Shaped

from .._args import array as _array
from .._args import optional_positive, positive
from .._args import shown as _shown
from .._files import as_path, open_regular
from .._io import ModelFileError
from .._io import load as _load
from .._io import save as _save
from .._losses import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    MeanAbsoluteError,
    MeanSquaredError,
    SoftmaxCategoricalCrossentropy,
    _like,
)
from .._metrics import BinaryAccuracy, CategoricalAccuracy, RegressionAccuracy
from ..layers import Dense, Dropout, Layer, Linear, ReLU, Sigmoid, Softmax
from ..layers import _init as init
from ..layers._activations import softmax_backward
from ..model import Model as _Model
from ..model._chain import check_layers
from ..model._data import as_batch
from ..model._fit import Loop, Measured
from ..optim import SGD, Adagrad, Adam, Optimizer, RMSprop
from ..shapes import (
    ArgumentError,
    Array1D,
    Array2D,
    ArrayND,
    Batched,
    Biases,
    Floating,
    Inputs,
    NotReadyError,
    Outputs,
    PathError,
    ShapeError,
    Weights,
    shapechecked,
)

#: The book's losses are 2-D: it divides their gradients by ``shape[1]`` and ``shape[0]``.
BookPredictions: TypeAlias = Floating[Array2D, "batch outputs"]
BookTargets: TypeAlias = Real[Array2D, "batch outputs"]

__all__ = [
    "Accuracy_Categorical",
    "Accuracy_Regression",
    "Activation_Linear",
    "Activation_ReLU",
    "Activation_Sigmoid",
    "Activation_Softmax",
    "Activation_Softmax_Loss_CategoricalCrossentropy",
    "Layer_Dense",
    "Layer_Dropout",
    "Layer_Input",
    "Loss_BinaryCrossentropy",
    "Loss_CategoricalCrossentropy",
    "Loss_MeanAbsoluteError",
    "Loss_MeanSquaredError",
    "Model",
    "Optimizer_Adagrad",
    "Optimizer_Adam",
    "Optimizer_RMSprop",
    "Optimizer_SGD",
]


# The optimizers already are the book's — the same arguments, the pre_update_params /
# update_params / post_update_params protocol, bitwise the book's formulas — and only take
# the book's names.


class Optimizer_SGD(SGD):
    """The book's SGD, with decay and momentum."""


class Optimizer_Adagrad(Adagrad):
    """The book's Adagrad."""


class Optimizer_RMSprop(RMSprop):
    """The book's RMSprop."""


class Optimizer_Adam(Adam):
    """The book's Adam."""


# --- layers ------------------------------------------------------------------------------------


@shapechecked(anchors=("weights", "biases"))
def book_dense_forward(inputs: Inputs, weights: Weights, biases: Biases) -> Outputs:
    """``np.dot(inputs, weights) + biases``, as the book writes it: after ``nnfs.init()`` the
    product is computed in float64 and rounded once, which shapenn's ``@`` does not do.

    Shape:
        inputs: (batch, in); weights: (in, out); biases: (1, out) → outputs: (batch, out).
    """
    outputs: Outputs = np.dot(inputs, weights) + biases
    return outputs


def _float(value: Any) -> Any:
    """An int as a float (the book writes ``=0``), anything else as it is, for Dense's check."""
    return float(value) if isinstance(value, int) and not isinstance(value, bool) else value


class Layer_Dense(Dense):
    """The book's dense layer: weights ``0.01 * np.random.randn(n_inputs, n_neurons)`` from
    NumPy's global generator (as the book), in its dtype (float32 after ``nnfs.init()``),
    biases zeros; L1/L2 factors as the book's.

    Shape:
        forward: inputs (batch, in) → (batch, out); backward: (batch, out) → (batch, in).
    """

    #: The factor of the initial draw: 0.01 in every chapter but 17 (``shapenn.book.chapter17``).
    scale: float = 0.01

    def __init__(
        self,
        n_inputs: int,
        n_neurons: int,
        weight_regularizer_l1: float = 0.0,
        weight_regularizer_l2: float = 0.0,
        bias_regularizer_l1: float = 0.0,
        bias_regularizer_l2: float = 0.0,
    ) -> None:
        shape = (
            positive("Layer_Dense", "n_inputs", n_inputs),
            positive("Layer_Dense", "n_neurons", n_neurons),
        )
        # The one read of NumPy's global generator in shapenn: the book's own draw.
        weights = self.scale * np.random.randn(*shape)  # noqa: NPY002
        dtype = weights.dtype if weights.dtype in (np.float32, np.float64) else np.dtype(np.float64)
        with init.uninitialized():
            super().__init__(
                *shape,
                dtype=dtype,
                # The book writes these as ints (``=0``); as floats for the checks of
                # jaxtyping's import hook, which refuse an int where a float is declared.
                weight_regularizer_l1=_float(weight_regularizer_l1),
                weight_regularizer_l2=_float(weight_regularizer_l2),
                bias_regularizer_l1=_float(bias_regularizer_l1),
                bias_regularizer_l2=_float(bias_regularizer_l2),
            )
        self.built = shape
        drawn: Weights = weights.astype(dtype, copy=False)
        zeros: Biases = np.zeros((1, shape[1]), dtype=dtype)
        self.weights = drawn
        self.biases = zeros

    def __repr__(self) -> str:
        # As the reader built it, whatever weights were set by hand since.
        n_inputs, n_neurons = getattr(self, "built", (self.n_inputs, self.n_neurons))
        return f"Layer_Dense({n_inputs}, {n_neurons})"

    def resized(self, dims: Any) -> str:
        return f"Layer_Dense({dims.get('in', self.n_inputs)}, {dims.get('out', self.n_neurons)})"

    # The book's layer is 2-D (np.dot of a 3-D array is another product), so its methods take
    # (batch, in) where Dense takes any rank.
    def forward(  # type: ignore[override]
        self, inputs: Inputs, training: bool | None = None
    ) -> Outputs:
        """``np.dot(inputs, weights) + biases``, the book's ``forward`` (``training`` is the
        book's Model's argument, unused here).

        Shape: inputs (batch, in) → (batch, out)
        """
        output = book_dense_forward(inputs, self.weights, self.biases)
        self.inputs = inputs
        self.output = output
        return output

    def _check_weights(self) -> None:
        """Refuse weights set by hand in the other orientation, blaming them (the check of
        the product would blame the biases, which are right)."""
        built = getattr(self, "built", None)
        shape = np.shape(self.weights)
        if built is None or shape == built or shape != built[::-1]:
            return
        raise ShapeError.create(
            f"{self!r}.forward",
            "self.weights",
            f"(in={built[0]}, out={built[1]})",
            f"{shape}",
            "the weights are transposed: the book's are (n_inputs, n_neurons)",
            hint="set `weights.T` (or draw them as np.random.randn(n_inputs, n_neurons))",
            located=True,
        ).with_traceback(None)

    def _restated(self, err: ShapeError, inputs: Any) -> ShapeError:
        """``err`` of the checked forward, with the fix in the book's terms."""
        report = err.report
        hint = report.hint
        got = np.shape(inputs)
        if report.argument == "inputs" and report.dim == "in" and len(got) == 2:
            # The previous layer's width: this layer resized to take it.
            hint = f"make it {self.resized({'in': got[1]})}"
        elif (
            report.argument == "inputs"
            and len(got) == 2
            and got[1] == self.n_inputs
            and np.asarray(inputs).dtype == np.float64
        ):
            # Only the dtype is refused: Chapter 17's float64 sine_data(), most likely.
            hint = (
                f"{hint}; to run Chapter 17 as the book prints it (float64 sine_data()), "
                "`from shapenn.book.chapter17 import *`"
            )
        elif report.argument == "inputs" and len(got) > 2:
            hint = f"flatten it: `inputs.reshape({got[0]}, -1)`"
        return ShapeError(replace(report, hint=hint))

    def backward(self, dvalues: Outputs) -> Inputs:  # type: ignore[override]
        """The book's gradients: ``np.dot`` products, then each regularizer's term added.

        Shape: dvalues (batch, out) → (batch, in)
        """
        self.backward_parameters(dvalues)
        dinputs: Inputs = np.dot(dvalues, self.weights.T)
        self.dinputs = dinputs
        return dinputs

    def backward_parameters(self, dvalues: Outputs) -> None:  # type: ignore[override]
        """``dweights`` and ``dbiases`` as the book computes them.

        Shape: dvalues (batch, out)
        """
        dweights: Weights = np.dot(self.inputs.T, dvalues)
        dbiases: Biases = np.sum(dvalues, axis=0, keepdims=True)
        self.dweights = dweights
        self.dbiases = dbiases
        for value, gradient, l1, l2 in (
            (self.weights, dweights, self.weight_regularizer_l1, self.weight_regularizer_l2),
            (self.biases, dbiases, self.bias_regularizer_l1, self.bias_regularizer_l2),
        ):
            if l1 > 0:
                dl1 = np.ones_like(value)
                dl1[value < 0] = -1
                gradient += l1 * dl1
            if l2 > 0:
                gradient += 2 * l2 * value

    def get_parameters(self) -> tuple[Weights, Biases]:
        """``(weights, biases)``, the book's ``get_parameters``."""
        return self.weights, self.biases

    def set_parameters(self, weights: Weights, biases: Biases) -> None:
        """Replace both, the book's ``set_parameters``: the new arrays must have the layer's
        shapes (the book's own ``get_parameters`` output, say).

        Shape: weights (in, out), biases (1, out)
        """
        # Into the arrays the layer holds (an optimizer may hold views of them); the shapes
        # and dtypes were checked against them on the way in.
        np.copyto(self.weights, weights)
        np.copyto(self.biases, biases)


def around_forward(cls: type, around: Callable[..., Any]) -> None:
    """Make ``cls.forward`` call ``around(checked, self, inputs, training)``, ``checked`` being
    the checked ``forward``: ``around`` sees its ShapeError, and the annotations stay the
    checked one's (a Model reads them to check the chain at ``finalize``)."""
    checked = cls.forward  # type: ignore[attr-defined]

    @functools.wraps(checked)
    def forward(self: Any, inputs: Any, training: bool | None = None) -> Any:
        __tracebackhide__ = True  # pytest: the caller's line is what matters
        return around(checked, self, inputs, training)

    cls.forward = forward  # type: ignore[attr-defined]


def _dense_forward(
    checked: Callable[..., Any], self: Layer_Dense, inputs: Any, training: Any
) -> Any:
    """The checked forward, its errors restated with the fix in the book's terms."""
    __tracebackhide__ = True  # pytest: the caller's line is what matters
    self._check_weights()
    try:
        return checked(self, inputs, training)
    except ShapeError as err:
        raise self._restated(err, inputs).with_traceback(None) from None


around_forward(Layer_Dense, _dense_forward)


#: Printed once, at the first float32 dropout: why the figures differ from the book's, the fix.
_DROPOUT_DIFFERS = (
    "shapenn.book: Layer_Dropout keeps its mask float32 (the book's float64 mask makes the "
    "layers after it float64), so the figures printed differ from the book's; for the book's "
    "numbers: `from shapenn.book.chapter15 import *` (Chapter 15) or `chapter18` (Chapter 18)"
)
_said: set[str] = set()


def _say_once(line: str) -> None:
    """Print ``line`` to stderr, once per process (not between the figures on stdout)."""
    if line not in _said:
        _said.add(line)
        print(line, file=sys.stderr)


class Layer_Dropout(Dropout):
    """The book's dropout: ``rate`` is the fraction dropped; the mask is drawn with
    ``np.random.binomial`` from NumPy's global generator, as the book draws it, in the
    input's dtype (the book's float64 mask would upcast a float32 network).

    Shape:
        forward: (batch, *features) → the same shape; backward likewise.
    """

    output: ArrayND

    def forward(
        self, inputs: Floating[Batched, " batch *features"], training: bool | None = None
    ) -> Floating[Batched, " batch *features"]:
        """Drop values while training (``training``, else the layer's mode).

        Shape: inputs (batch, *features) → (batch, *features)
        """
        active = self.training if training is None else training
        self._cache(inputs=inputs)
        if not active or not self.rate:
            self.mask = None
            copied: Floating[Batched, " batch *features"] = inputs.copy()
            self.output = copied
            return copied
        keep = 1 - self.rate
        if inputs.dtype != np.float64:
            _say_once(_DROPOUT_DIFFERS)
        draws = np.random.binomial(1, keep, size=inputs.shape)  # noqa: NPY002 - the book's draw
        self.mask = np.asarray(draws / keep, dtype=inputs.dtype)
        # In the inputs' own dtype: NumPy computes a big-endian product in native order.
        dropped: Floating[Batched, " batch *features"] = (inputs * self.mask).astype(
            inputs.dtype, copy=False
        )
        self.output = dropped
        return dropped

    def __repr__(self) -> str:
        return f"Layer_Dropout({self.rate:g})"


class Layer_Input(Layer):
    """The book's input layer: its output is its input."""

    def forward(
        self, inputs: Floating[Batched, " batch *features"], training: bool | None = None
    ) -> Floating[Batched, " batch *features"]:
        """The inputs, unchanged.

        Shape: inputs (batch, *features) → (batch, *features)
        """
        self._cache(inputs=inputs, output=inputs)
        return inputs

    def backward(
        self, dvalues: Floating[Batched, " batch *features"]
    ) -> Floating[Batched, " batch *features"]:
        """The gradient, unchanged.

        Shape: dvalues (batch, *features) → (batch, *features)
        """
        self._cache(dinputs=dvalues)
        return dvalues


class _Predicting:
    """The book's ``training`` argument and ``predictions`` on top of a shapenn activation."""

    def forward(self, inputs: Any, training: bool | None = None) -> Any:
        return super().forward(inputs)  # type: ignore[misc]

    def predictions(self, outputs: Any) -> Any:
        return outputs


class Activation_ReLU(_Predicting, ReLU):
    """The book's ReLU."""


class Activation_Linear(_Predicting, Linear):
    """The book's linear activation (a regression output)."""


class Activation_Softmax(_Predicting, Softmax):
    """The book's softmax; ``predictions`` is the argmax of each row. Its ``backward`` reads
    ``output`` however it was set (the book's Chapter 9 assigns it to check the gradient)."""

    def backward(self, dvalues: Any) -> Any:
        try:
            dinputs = softmax_backward(dvalues, self.output)
        except ShapeError as err:
            raise err.located_at(f"{self!r}.backward").with_traceback(None) from None
        self.dinputs = dinputs
        return dinputs

    def predictions(self, outputs: Any) -> Any:
        return np.argmax(outputs, axis=1)


@shapechecked
def book_sigmoid_forward(
    inputs: Floating[Batched, " batch *features"],
) -> Floating[Batched, " batch *features"]:
    """``1 / (1 + exp(-inputs))``, the book's form (shapenn's ``sigmoid_forward`` uses
    ``tanh``, which never overflows but rounds differently). NumPy warns of an overflow for
    inputs below about -88 in float32; the result there is 0, as it should be.

    Shape:
        inputs: (batch, *features) → the same shape.
    """
    with np.errstate(over="ignore"):
        outputs: Floating[Batched, " batch *features"] = 1 / (1 + np.exp(-inputs))  # pyright: ignore[reportAssignmentType]
    return outputs


class Activation_Sigmoid(_Predicting, Sigmoid):
    """The book's sigmoid, ``1 / (1 + exp(-x))``; ``predictions`` is ``outputs > 0.5`` as 0
    or 1."""

    def forward(
        self, inputs: Floating[Batched, " batch *features"], training: bool | None = None
    ) -> Floating[Batched, " batch *features"]:
        """The sigmoid of every value; cache ``inputs`` and ``output``.

        Shape: inputs (batch, *features) → (batch, *features)
        """
        output = book_sigmoid_forward(inputs)
        self._cache(inputs=inputs, output=output)
        return output

    def predictions(self, outputs: Any) -> Any:
        return (outputs > 0.5) * 1


# --- losses ------------------------------------------------------------------------------------


class _BookLoss:
    """The book's ``Loss`` protocol on top of a shapenn loss: ``calculate`` returns
    ``np.mean`` of the sample losses (and the regularization loss with
    ``include_regularization``), and accumulates them for ``calculate_accumulated``."""

    trainable_layers: list[Layer]
    accumulated_sum: Any = 0.0
    accumulated_count: int = 0

    def remember_trainable_layers(self, trainable_layers: Iterable[Layer]) -> None:
        self.trainable_layers = list(trainable_layers)

    def regularization_loss(self, layer: Layer | None = None) -> Any:
        """The L1/L2 penalty of ``layer`` (the book's Chapter 14 form) or of every layer
        remembered (the book's Model form), as the book sums it."""
        layers = [layer] if layer is not None else getattr(self, "trainable_layers", [])
        total: Any = 0
        for each in layers:
            for name in ("weight", "bias"):
                l1 = getattr(each, f"{name}_regularizer_l1", 0)
                l2 = getattr(each, f"{name}_regularizer_l2", 0)
                value = getattr(each, "weights" if name == "weight" else "biases")
                if l1 > 0:
                    total += l1 * np.sum(np.abs(value))
                if l2 > 0:
                    total += l2 * np.sum(value * value)
        return total

    def calculate(self, y_pred: Any, y_true: Any, *, include_regularization: bool = False) -> Any:
        sample_losses = self.forward(y_pred, y_true)  # type: ignore[attr-defined]
        data_loss = np.mean(sample_losses)
        self.accumulated_sum += np.sum(sample_losses)
        self.accumulated_count += len(sample_losses)
        if not include_regularization:
            return data_loss
        return data_loss, self.regularization_loss()

    def calculate_accumulated(self, *, include_regularization: bool = False) -> Any:
        data_loss = self.accumulated_sum / self.accumulated_count
        if not include_regularization:
            return data_loss
        return data_loss, self.regularization_loss()

    def new_pass(self) -> None:
        self.accumulated_sum, self.accumulated_count = 0.0, 0


class Loss_CategoricalCrossentropy(_BookLoss, CategoricalCrossentropy):
    """The book's categorical cross-entropy."""


@shapechecked(anchors=("y_pred",))
def book_binary_crossentropy_backward(
    y_pred: BookPredictions, y_true: BookTargets
) -> BookPredictions:
    """The book's gradient: ``-(y / p - (1 - y) / (1 - p)) / outputs / batch``, dividing
    twice as the book does.

    Shape:
        y_pred, y_true: (batch, outputs) → dinputs: (batch, outputs).
    """
    clipped = np.clip(y_pred, 1e-7, 1 - 1e-7)
    y = _like(y_true, y_pred)
    dinputs: BookPredictions = -(y / clipped - (1 - y) / (1 - clipped)) / y_pred.shape[1]
    divided: BookPredictions = dinputs / y_pred.shape[0]
    return divided


@shapechecked(anchors=("y_pred",))
def book_mean_squared_error_backward(
    y_pred: BookPredictions, y_true: BookTargets
) -> BookPredictions:
    """The book's gradient: ``-2 (y - ŷ) / outputs / batch``, dividing twice as it does.

    Shape:
        y_pred, y_true: (batch, outputs) → dinputs: (batch, outputs).
    """
    dinputs: BookPredictions = -2 * (_like(y_true, y_pred) - y_pred) / y_pred.shape[1]
    divided: BookPredictions = dinputs / y_pred.shape[0]
    return divided


def _book_backward(loss: Any, kernel: Any, y_pred: Any, y_true: Any) -> Any:
    """``kernel``'s gradient kept as ``loss.dinputs``; an error reported at the loss."""
    try:
        dinputs = kernel(y_pred, y_true)
    except ShapeError as err:
        raise err.located_at(f"{loss!r}.backward").with_traceback(None) from None
    loss.dinputs = dinputs
    return dinputs


class Loss_BinaryCrossentropy(_BookLoss, BinaryCrossentropy):
    """The book's binary cross-entropy; targets are (batch, outputs), ``y.reshape(-1, 1)``."""

    def backward(self, y_pred: Any, y_true: Any) -> Any:
        """The book's gradient of the mean loss with respect to ``y_pred``.

        Shape: y_pred (batch, outputs), y_true (batch, outputs) → (batch, outputs)
        """
        return _book_backward(self, book_binary_crossentropy_backward, y_pred, y_true)


class Loss_MeanSquaredError(_BookLoss, MeanSquaredError):
    """The book's mean squared error."""

    def backward(self, y_pred: Any, y_true: Any) -> Any:
        """The book's gradient of the mean loss with respect to ``y_pred``.

        Shape: y_pred (batch, outputs), y_true (batch, outputs) → (batch, outputs)
        """
        return _book_backward(self, book_mean_squared_error_backward, y_pred, y_true)


class Loss_MeanAbsoluteError(_BookLoss, MeanAbsoluteError):
    """The book's mean absolute error."""


class Activation_Softmax_Loss_CategoricalCrossentropy(SoftmaxCategoricalCrossentropy):
    """The book's combined softmax and cross-entropy: ``forward(inputs, y_true)`` returns the
    loss as the book's loss does (a NumPy scalar) and keeps the probabilities in ``output``."""

    loss: CategoricalCrossentropy

    def __repr__(self) -> str:
        return "Activation_Softmax_Loss_CategoricalCrossentropy()"

    def __init__(self) -> None:
        super().__init__()
        self.activation: Activation_Softmax = Activation_Softmax()
        self.loss = Loss_CategoricalCrossentropy()

    def forward(self, inputs: Any, y_true: Any) -> Any:
        probabilities: Any = self.activation.forward(inputs)
        self.inputs = inputs
        self.output = probabilities
        return self.loss.calculate(self.output, y_true)


# --- accuracy ----------------------------------------------------------------------------------


@shapechecked(anchors=("predictions",))
def book_comparable_labels(
    predictions: Shaped[Array1D, " batch"], y: Shaped[Array1D, " batch"]
) -> Shaped[Array1D, " batch"]:
    """Predicted classes, once the labels have their shape.

    Shape:
        predictions, y: (batch,) → predictions: (batch,).
    """
    return predictions


@shapechecked(anchors=("predictions",))
def book_comparable_outputs(
    predictions: Shaped[Array2D, "batch outputs"], y: Shaped[Array2D, "batch outputs"]
) -> Shaped[Array2D, "batch outputs"]:
    """Predicted outputs (a sigmoid's 0/1, a regression's values), once the targets have their
    shape: NumPy would compare a (batch, 1) column with (batch,) labels as a (batch, batch)
    table and report a wrong accuracy.

    Shape:
        predictions, y: (batch, outputs) → predictions: (batch, outputs).
    """
    return predictions


def _same_shape(predictions: Any, y: Any, owner: object) -> Any:
    predictions, y = np.asarray(predictions), np.asarray(y)
    check = book_comparable_labels if predictions.ndim == 1 else book_comparable_outputs
    try:
        return check(predictions, y)
    except ShapeError as err:
        raise err.located_at(f"{owner!r}.compare").with_traceback(None) from None


class _BookAccuracy:
    """The book's ``Accuracy``: ``calculate(predictions, y)`` is the mean of ``compare``,
    accumulated for ``calculate_accumulated``."""

    accumulated_sum: Any = 0
    accumulated_count: int = 0

    def init(self, y: Any, reinit: bool = False) -> None:
        """Prepare from the targets (nothing by default)."""

    def compare(self, predictions: Any, y: Any) -> Any:
        raise NotImplementedError

    def calculate(self, predictions: Any, y: Any) -> Any:
        comparisons = self.compare(predictions, y)
        self.accumulated_sum += np.sum(comparisons)
        self.accumulated_count += len(comparisons)
        return np.mean(comparisons)

    def calculate_accumulated(self) -> Any:
        return self.accumulated_sum / self.accumulated_count

    def new_pass(self) -> None:
        self.accumulated_sum, self.accumulated_count = 0, 0


class Accuracy_Categorical(_BookAccuracy):
    """Predicted classes against labels (or one-hot rows); ``binary=True`` for sigmoid
    outputs, compared element by element."""

    def __init__(self, *, binary: bool = False) -> None:
        self.binary = binary

    def __repr__(self) -> str:
        return f"Accuracy_Categorical(binary={self.binary})"

    def compare(self, predictions: Any, y: Any) -> Any:
        if not self.binary and np.ndim(y) == 2:
            y = np.argmax(y, axis=1)
        return _same_shape(predictions, y, self) == y


class Accuracy_Regression(_BookAccuracy):
    """The book's regression accuracy: within ``std(y) / 250`` of the target."""

    precision: Any = None

    def __repr__(self) -> str:
        return "Accuracy_Regression()"

    def init(self, y: Any, reinit: bool = False) -> None:
        if self.precision is None or reinit:
            self.precision = np.std(y) / 250

    def compare(self, predictions: Any, y: Any) -> Any:
        return np.absolute(_same_shape(predictions, y, self) - y) < self.precision


# --- model -------------------------------------------------------------------------------------

_METRICS: list[tuple[type, Any, Any]] = [
    # (book accuracy, to shapenn's metric, back): a saved model keeps its accuracy this way.
    (
        Accuracy_Regression,
        lambda a: RegressionAccuracy(a.precision),
        lambda m: Accuracy_Regression(),
    ),
    (Accuracy_Categorical, lambda a: BinaryAccuracy() if a.binary else CategoricalAccuracy(), None),
]


class _BookLoop(Loop):
    """shapenn's training loop, measuring and printing as the book's ``Model.train``: the
    book's loss (``np.mean`` of the sample losses, and its regularization sum) and accuracy,
    a line every ``print_every`` steps and each epoch's accumulated figures."""

    def __init__(
        self,
        book: "Model",
        model: _Model,
        steps: int,
        print_every: int,
        validation: tuple[Any, Any] | None,
        batch_size: int | None,
    ) -> None:
        super().__init__(model, verbose=0, where="train")
        self.book, self.steps, self.print_every = book, steps, print_every
        self.validation, self.batch_size = validation, batch_size

    def before_epoch(self, epoch: int) -> None:
        print(f"epoch: {epoch}")
        self.book.loss.new_pass()
        self.book.accuracy.new_pass()

    def measure(self, output: Any, y: Any, weights: Any = None) -> Measured:
        data_loss, regularization = self.book.loss.calculate(output, y, include_regularization=True)
        predictions = self.book.output_layer_activation.predictions(output)
        return Measured(data_loss, regularization, self.book.accuracy.calculate(predictions, y))

    def after_step(self, epoch: int, step: int, measured: Measured) -> None:
        index = step - 1  # the book counts steps from 0
        if not index % self.print_every or index == self.steps - 1:
            data_loss, regularization, accuracy = measured
            print(
                f"step: {index}, acc: {accuracy:.3f}, loss: {data_loss + regularization:.3f} "
                f"(data_loss: {data_loss:.3f}, reg_loss: {regularization:.3f}), lr: "
                f"{self.optimizer.current_learning_rate}"
            )

    def after_epoch(self, epoch: int, figures: dict[str, float]) -> None:
        data_loss, regularization = self.book.loss.calculate_accumulated(
            include_regularization=True
        )
        accuracy = self.book.accuracy.calculate_accumulated()
        print(
            f"training, acc: {accuracy:.3f}, loss: {data_loss + regularization:.3f} "
            f"(data_loss: {data_loss:.3f}, reg_loss: {regularization:.3f}), lr: "
            f"{self.optimizer.current_learning_rate}"
        )
        if self.validation is not None:
            self.book.evaluate(*self.validation, batch_size=self.batch_size)


class Model:
    """The book's ``Model``: ``add`` layers, ``set(loss=, optimizer=, accuracy=)``,
    ``finalize()``, then ``train``, ``evaluate`` and ``predict``, printing as the book prints.

    ``finalize`` builds a shapenn ``Model`` of the same layers, so a layer that does not fit
    the one before it is a ShapeError there, before any data, with the fix; ``train`` checks
    X and y as ``Model.fit`` does and casts X to the layers' dtype. Batches are taken in
    order, as in the book.
    """

    def __init__(self) -> None:
        self.layers: list[Layer] = []
        self.loss: Any = None
        self.optimizer: Any = None
        self.accuracy: Any = None
        self.input_layer: Layer_Input = Layer_Input()
        self.trainable_layers: list[Layer] = []
        self.output_layer_activation: Any = None
        self._model: _Model | None = None

    def add(self, layer: Layer) -> None:
        """Append a layer.

        Raises:
            ArgumentError: ``layer`` is not a layer (a class, a string), or the very object
                already added (each place needs its own instance).
        """
        check_layers([*self.layers, layer], "Model.add")
        self.layers.append(layer)
        self._model = None

    def set(self, *, loss: Any = None, optimizer: Any = None, accuracy: Any = None) -> None:
        """Set the loss, optimizer and accuracy (any may be left as it is).

        Raises:
            ArgumentError: one of them is not the book's kind (a shapenn loss where the book's
                ``Loss_*`` is needed, a class instead of an instance).
        """
        for name, value, kind, examples in (
            ("loss", loss, _BookLoss, "Loss_CategoricalCrossentropy()"),
            ("optimizer", optimizer, Optimizer, "Optimizer_Adam()"),
            ("accuracy", accuracy, _BookAccuracy, "Accuracy_Categorical()"),
        ):
            if value is None or isinstance(value, kind):
                continue
            advice = (
                f"pass an instance, {value.__name__}()"
                if isinstance(value, type) and issubclass(value, kind)
                else f"give one of the book's, such as {examples}"
            )
            raise ArgumentError(f"Model.set: {name} got {_shown(value)}: {advice}")
        self.loss = loss if loss is not None else self.loss
        self.optimizer = optimizer if optimizer is not None else self.optimizer
        self.accuracy = accuracy if accuracy is not None else self.accuracy
        self._model = None

    def finalize(self) -> None:
        """Check the chain of layers and prepare training (the book's ``finalize``).

        Raises:
            NotReadyError: the model has no layers yet.
            ArgumentError: an item is not a layer, or one layer object is added twice.
            ShapeError: a layer does not take the previous layer's output.
        """
        if not self.layers:
            raise NotReadyError(
                "Model.finalize: the model has no layers: add some first, "
                "model.add(Layer_Dense(2, 64)) and so on"
            )
        check_layers(self.layers, "Model.finalize")
        self._model = _Model(self.layers, loss=self.loss, optimizer=self.optimizer)
        self.trainable_layers = self._model.trainable_layers
        self.output_layer_activation = self.layers[-1]
        if self.loss is not None:
            self.loss.remember_trainable_layers(self.trainable_layers)

    def _ready(self, where: str, *, optimizer: bool) -> _Model:
        """The finalized model, once it has what ``where`` needs: a loss, an accuracy, an
        optimizer (for ``train``) and a last layer with the book's ``predictions``."""
        model = self._built(where)
        needs = [("loss", "loss=Loss_CategoricalCrossentropy()")]
        needs += [("optimizer", "optimizer=Optimizer_Adam()")] if optimizer else []
        needs += [("accuracy", "accuracy=Accuracy_Categorical()")]
        for name, example in needs:
            if getattr(self, name) is None:
                raise NotReadyError(
                    f"Model.{where}: the model has no {name}: call model.set({example}) and "
                    "then model.finalize()"
                )
        if not callable(getattr(self.output_layer_activation, "predictions", None)):
            raise NotReadyError(
                f"Model.{where}: the last layer, {self.output_layer_activation!r}, has no "
                "`predictions` for the accuracy: end the model with one of the book's "
                "activations (Activation_Softmax, Activation_Sigmoid, Activation_Linear)"
            )
        return model

    def _built(self, where: str) -> _Model:
        if self._model is None or self._model.layers != self.layers:
            raise NotReadyError(f"Model.{where}: call model.finalize() first")
        return self._model

    def forward(self, X: Any, training: bool) -> Any:
        """The outputs of every layer in turn, in training mode or not."""
        model = self._built("forward")
        model.set_training(training)
        self.input_layer.forward(X, training)
        return model.forward(X)

    def backward(self, output: Any, y: Any) -> None:
        """Backpropagate (softmax and cross-entropy together, as the book's Model does)."""
        self._built("backward").backward(output, y)

    def train(
        self,
        X: Any,
        y: Any,
        *,
        epochs: int = 1,
        batch_size: int | None = None,
        print_every: int = 1,
        validation_data: tuple[Any, Any] | None = None,
    ) -> None:
        """Train in order-kept batches, printing each ``print_every``-th step and each epoch's
        figures as the book does; evaluate on ``validation_data`` after each epoch.

        It runs shapenn's training loop (the one ``shapenn.Model.fit`` runs) with the book's
        measuring and printing."""
        model = self._ready("train", optimizer=True)
        epochs = positive("Model.train", "epochs", epochs)
        batch_size = optional_positive("Model.train", "batch_size", batch_size)
        print_every = positive("Model.train", "print_every", print_every)
        X, y = _arrays("Model.train", X, y)
        X, y = self._checked(model, X, y, "train")
        if validation_data is not None:  # refused now, not after an epoch of training
            if not (isinstance(validation_data, tuple) and len(validation_data) == 2):
                raise ArgumentError("Model.train: validation_data must be a tuple (X_val, y_val)")
            X_val, y_val = _arrays("Model.train", *validation_data, names=("X_val", "y_val"))
            validation_data = self._checked(model, X_val, y_val, "train")
        self.accuracy.init(y)
        steps = 1 if batch_size is None else max(1, math.ceil(len(X) / batch_size))
        _BookLoop(self, model, steps, print_every, validation_data, batch_size).run(
            X, y, epochs=epochs, batch_size=batch_size, shuffle=False, rng=None, validation=None
        )

    def evaluate(self, X_val: Any, y_val: Any, *, batch_size: int | None = None) -> None:
        """Print the loss and accuracy on (X_val, y_val), as the book's ``evaluate``."""
        model = self._ready("evaluate", optimizer=False)
        batch_size = optional_positive("Model.evaluate", "batch_size", batch_size)
        X_val, y_val = _arrays("Model.evaluate", X_val, y_val, names=("X_val", "y_val"))
        X_val, y_val = self._checked(model, X_val, y_val, "evaluate")
        self.accuracy.init(y_val)
        self.loss.new_pass()
        self.accuracy.new_pass()
        for batch_X, batch_y in _batches(X_val, y_val, batch_size):
            output = self.forward(as_batch(batch_X, model.input_dtype), training=False)
            self.loss.calculate(output, batch_y)
            predictions = self.output_layer_activation.predictions(output)
            self.accuracy.calculate(predictions, batch_y)
        loss, accuracy = self.loss.calculate_accumulated(), self.accuracy.calculate_accumulated()
        print(f"validation, acc: {accuracy:.3f}, loss: {loss:.3f}")

    def predict(self, X: Any, *, batch_size: int | None = None) -> Any:
        """The model's outputs for X, ``batch_size`` rows at a time."""
        model = self._built("predict")
        X = _array("Model.predict", "X", X)
        try:
            return model.predict(X, batch_size=batch_size)
        except ShapeError as err:
            raise self._data_error(err, X, one=True).with_traceback(None) from None

    def _checked(self, model: _Model, X: Any, y: Any, where: str) -> tuple[Any, Any]:
        """``model._checked``, an error about X given the fix in the book's terms."""
        try:
            return model._checked(X, y, where)
        except ShapeError as err:
            raise self._data_error(err, X, one=False).with_traceback(None) from None

    def _data_error(self, err: ShapeError, X: Any, *, one: bool) -> ShapeError:
        """``err`` with a hint when X does not fit the first layer: images to flatten, or a
        first layer to resize to the data's width (found with the layer's ``resized``)."""
        width = err.bound.get("in") if err.argument in ("X", "X_val") else None
        first = self.layers[0] if self.layers else None
        shape = np.shape(X)
        if not isinstance(width, int) or first is None or not shape:
            return err
        if one and len(shape) == 2 and math.prod(shape) == width:
            size = "×".join(map(str, shape))
            hint = f"it looks like one {size} image: flatten it: `image.reshape(1, -1)`"
        elif len(shape) > 2 and math.prod(shape[1:]) == width:
            hint = "flatten each sample: `X.reshape(len(X), -1)`"
        elif len(shape) == 2 and callable(getattr(first, "resized", None)):
            hint = f"make layers[0] {first.resized({'in': shape[1]})}"
        else:
            return err
        return err.with_hint(hint)

    # --- parameters and files ---------------------------------------------------------------

    def get_parameters(self) -> list[tuple[Any, Any]]:
        """``(weights, biases)`` of each trainable layer."""
        for layer in self.trainable_layers:
            if not callable(getattr(layer, "get_parameters", None)):
                raise ArgumentError(
                    f"Model.get_parameters: {layer!r} has no get_parameters (the book's "
                    "Layer_Dense has): read its arrays directly, or use shapenn.save"
                )
        return [layer.get_parameters() for layer in self.trainable_layers]

    def set_parameters(self, parameters: list[tuple[Any, Any]]) -> None:
        """Give each trainable layer its ``(weights, biases)``."""
        if isinstance(parameters, str | bytes) or not isinstance(parameters, list | tuple):
            raise ArgumentError(
                "Model.set_parameters: parameters must be a list of (weights, biases) pairs, "
                f"one per trainable layer (what get_parameters returns), got {_shown(parameters)}"
            )
        if len(parameters) != len(self.trainable_layers):
            raise ArgumentError(
                f"Model.set_parameters: {len(parameters)} parameter sets for "
                f"{len(self.trainable_layers)} trainable layers"
                + ("" if self.trainable_layers else ": call model.finalize() first")
            )
        for index, pair in enumerate(parameters):
            if (
                isinstance(pair, str | bytes)
                or not isinstance(pair, list | tuple)
                or len(pair) != 2
            ):
                raise ArgumentError(
                    f"Model.set_parameters: parameters[{index}] must be a pair (weights, "
                    f"biases), got {_shown(pair)}"
                )
        for (weights, biases), layer in zip(parameters, self.trainable_layers, strict=True):
            setter = getattr(layer, "set_parameters", None)
            if setter is None:
                raise ArgumentError(
                    f"Model.set_parameters: {layer!r} has no set_parameters (the book's "
                    "Layer_Dense has): set its arrays directly"
                )
            setter(weights, biases)

    def save_parameters(self, path: str | os.PathLike[str]) -> None:
        """Write the parameters to ``path`` as a NumPy ``.npz`` (the book pickles them)."""
        from .._files import write_atomically

        arrays = {
            f"{index}.{name}": value
            for index, (weights, biases) in enumerate(self.get_parameters())
            for name, value in (("weights", weights), ("biases", biases))
        }
        write_atomically(path, lambda handle: np.savez(handle, **arrays))

    def load_parameters(self, path: str | os.PathLike[str]) -> None:
        """Read parameters written by ``save_parameters`` into the trainable layers.

        Raises:
            PathError: the file is missing or cannot be read.
            ModelFileError: it is not a parameters file: a whole model (read it with
                ``Model.load``), the book's pickle (never unpickled here), or other bytes.
            ArgumentError, ShapeError: its arrays do not fit this model's layers.
        """
        source = as_path(path, "read")

        def fail(reason: str) -> Exception:
            return PathError(f"Model.load_parameters: cannot read {str(source)!r}: {reason}")

        with open_regular(source, "a parameters file", fail) as handle:
            parameters = _read_parameters(handle, str(source), self.trainable_layers)
        self.set_parameters(parameters)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the whole model with ``shapenn.save`` (a checked file, not a pickle)."""
        model = self._built("save")
        metric = next(
            (to(self.accuracy) for kind, to, _ in _METRICS if isinstance(self.accuracy, kind)), None
        )
        model.metric = metric
        try:
            _save(model, path)
        finally:
            model.metric = None

    @staticmethod
    def load(path: str | os.PathLike[str]) -> "Model":
        """A model written by ``save``, finalized and ready to evaluate and predict."""
        source = as_path(path, "read")
        with open_regular(
            source,
            "a model file",
            lambda reason: PathError(f"Model.load: cannot read {str(source)!r}: {reason}"),
        ) as handle:
            pickled = handle.read(1).startswith(_PICKLE)
        if pickled:
            raise ModelFileError(f"Model.load: {str(source)!r} {_BOOK_PICKLE}")
        loaded = _load(path)
        _check_book_model(loaded, path)
        book = Model()
        for layer in loaded.layers:
            book.add(layer)
        accuracy: Any = Accuracy_Categorical(binary=isinstance(loaded.metric, BinaryAccuracy))
        if isinstance(loaded.metric, RegressionAccuracy):
            accuracy = Accuracy_Regression()
            accuracy.precision = loaded.metric.precision
        book.set(loss=loaded.loss, optimizer=loaded.optimizer, accuracy=accuracy)
        book.finalize()
        return book

    def __setstate__(self, state: dict[str, Any]) -> None:
        # pickle.load of the book's own Model (its classes' names resolving to these) would
        # build a Model without shapenn's parts, failing later with "no attribute '_model'".
        if "_model" not in state:
            raise ModelFileError(
                "Model: this pickle holds the book's own Model (written by its Model.save), "
                "not shapenn.book's: load it with the book's code, then copy its parameters "
                "into a shapenn.book Model built the same way: "
                "model.set_parameters(book_model.get_parameters())"
            )
        self.__dict__.update(state)

    def __repr__(self) -> str:
        return "Model([" + ", ".join(map(repr, self.layers)) + "])"

    def _repr_html_(self) -> str:
        return _Model(self.layers)._repr_html_() if self.layers else "Model([])"


def _arrays(
    where: str, X: Any, y: Any, names: tuple[str, str] = ("X", "y")
) -> tuple[npt.NDArray[Any], npt.NDArray[Any]]:
    """Data as arrays, nested lists whose rows differ in length refused in shapenn's words."""
    return _array(where, names[0], X), _array(where, names[1], y)


# What a ``.params`` file begins with: a NumPy archive (what save_parameters writes), a pickle
# (what the book's save_parameters writes: protocol 2 and later open with 0x80).
_ZIP, _PICKLE = b"PK\x03\x04", b"\x80"


#: What a book-pickled model is and how to bring it over (Model.load, pickle.load).
_BOOK_PICKLE = (
    "is the book's Model.save format (a pickle of the book's own objects): shapenn never "
    "unpickles a file, since unpickling can run any code it holds. If you wrote it and trust "
    "it, load it with the book's code and copy its parameters into this Model built the same "
    "way: model.set_parameters(book_model.get_parameters()); then model.save(path) writes "
    "shapenn's file"
)

#: Bytes an array's .npy header may take beside its values (NumPy pads it to 64 bytes and up).
_NPY_HEADER = 1 << 16


def _read_parameters(handle: Any, path: str, layers: list[Layer]) -> list[tuple[Any, Any]]:
    """The ``(weights, biases)`` pairs of a file written by ``save_parameters``, for
    ``layers``: an archive of another number of pairs, or whose arrays are larger than the
    layers' own, is refused before any array is read (a hostile file cannot make it allocate
    more than the model holds)."""

    def fail(reason: str) -> ModelFileError:
        return ModelFileError(f"Model.load_parameters: {path!r} {reason}")

    start = handle.read(4)
    handle.seek(0)
    if start.startswith(_PICKLE):
        raise fail(
            "is a pickle (what the book's save_parameters writes): shapenn never unpickles a "
            "file, since unpickling can run any code it holds. If you wrote it and trust it: "
            "model.set_parameters(pickle.load(open(path, 'rb'))); then save_parameters writes "
            "it as a NumPy archive"
        )
    if not start.startswith(_ZIP):
        raise fail("is not a parameters file (a NumPy .npz archive written by save_parameters)")
    try:
        with np.load(handle, allow_pickle=False) as stored:
            names = set(stored.files)
            if "__shapenn__" in names:
                raise fail(
                    "is a whole model (written by Model.save or shapenn.save), not parameters: "
                    "read it with Model.load(path) or shapenn.load(path)"
                )
            count = len(names) // 2
            expected = {f"{i}.{kind}" for i in range(count) for kind in ("weights", "biases")}
            if names != expected:
                shown_names = ", ".join(sorted(names)[:6]) or "nothing"
                raise fail(
                    f"holds {shown_names}, not the pairs 0.weights, 0.biases, 1.weights, ... "
                    "that save_parameters writes"
                )
            if count != len(layers):
                raise fail(
                    f"holds {count} parameter sets, and this model has {len(layers)} trainable "
                    "layers" + ("" if layers else ": call model.finalize() first")
                )
            for index, layer in enumerate(layers):
                for kind in ("weights", "biases"):
                    own = getattr(layer, kind, None)
                    size = stored.zip.getinfo(f"{index}.{kind}.npy").file_size
                    if isinstance(own, np.ndarray) and size > own.nbytes + _NPY_HEADER:
                        raise fail(
                            f"holds {index}.{kind} of {size:,} bytes, more than the "
                            f"{own.nbytes:,} of {layer!r}'s {kind}: it is another model's"
                        )
            return [(stored[f"{i}.weights"], stored[f"{i}.biases"]) for i in range(count)]
    except ModelFileError:
        raise
    except (ValueError, OSError, EOFError, KeyError, zipfile.BadZipFile) as err:
        raise fail(f"is damaged or not written by save_parameters ({err})") from None


def _check_book_model(loaded: _Model, path: Any) -> None:
    """Refuse a model file the book's Model cannot use: one written by ``shapenn.save`` with
    shapenn's own loss or last layer (which have no ``calculate_accumulated`` or
    ``predictions``), rather than by the book Model's ``save``."""
    missing = []
    if loaded.loss is not None and not isinstance(loaded.loss, _BookLoss):
        missing.append(f"its loss {loaded.loss!r} is not one of the book's Loss_* classes")
    if loaded.layers and not callable(getattr(loaded.layers[-1], "predictions", None)):
        missing.append(f"its last layer {loaded.layers[-1]!r} is not one of the book's activations")
    plain = [layer for layer in loaded.trainable_layers if not hasattr(layer, "get_parameters")]
    if plain:
        missing.append(f"its layer {plain[0]!r} is not the book's Layer_Dense")
    if missing:
        raise ModelFileError(
            f"Model.load: {str(path)!r} holds a shapenn model, not one of the book's: "
            + "; ".join(missing)
            + ". Read it with shapenn.load(path) (a shapenn.Model, with fit, evaluate and "
            "predict), or build the book's Model and save that"
        )


def _batches(X: Any, y: Any, batch_size: int | None) -> Iterable[tuple[Any, Any]]:
    """The book's batches: in order, the last one shorter."""
    if batch_size is None:
        yield X, y
        return
    for start in range(0, len(X), batch_size):
        yield X[start : start + batch_size], y[start : start + batch_size]
