"""The book's classes computing in the dtypes the book's code computes in, where a float64
array meets a float32 network: the float64 ``sine_data()`` of Chapter 17, the float64
dropout mask of Chapters 15 and 18.

After ``nnfs.init()`` the book's ``np.dot`` rounds every product to float32, so a float64
array turns into float32 at the next dense layer, and on the way back a float64 gradient
reaches the optimizer only as a bias gradient. These classes check every shape as
``shapenn.book``'s do (on a float32 copy where the book's array is float64), then compute
from the float64 values as the book does. The chapter modules export them.
"""

from collections.abc import Callable
from typing import Any

import numpy as np

from .. import book as _book


class Layer_Dense(_book.Layer_Dense):
    """The book's dense layer; float64 inputs or gradients on float32 weights are taken as
    the book takes them.

    Shape:
        forward: inputs (batch, in) → (batch, out); backward: (batch, out) → (batch, in).
    """

    book_inputs: Any = None

    def backward(self, dvalues: Any) -> Any:
        """The book's gradients, float64 ``dvalues`` taken as the book takes them.

        Shape: dvalues (batch, out) → (batch, in)
        """
        if not _wider(dvalues, self.weights):
            return super().backward(dvalues)
        super().backward(dvalues.astype(self.weights.dtype))  # the shapes checked
        self._book_parameters(dvalues)
        self.dinputs = dinputs = _dot(dvalues, self.weights.T)
        return dinputs

    def backward_parameters(self, dvalues: Any) -> None:
        """``dweights`` and ``dbiases`` as the book computes them.

        Shape: dvalues (batch, out)
        """
        wide = _wider(dvalues, self.weights)
        super().backward_parameters(dvalues.astype(self.weights.dtype) if wide else dvalues)
        if wide or getattr(self, "book_inputs", None) is not None:
            self._book_parameters(dvalues)

    def _book_parameters(self, dvalues: Any) -> None:
        """The gradients again from the float64 values (the parent has checked the shapes),
        as the book's np.dot and np.sum compute them: a float64 ``dbiases`` stays float64."""
        inputs = getattr(self, "book_inputs", None)
        inputs = self.inputs if inputs is None else inputs
        self.dweights[...] = _dot(inputs.T, dvalues)
        self.dbiases = np.sum(dvalues, axis=0, keepdims=True)
        for l1, l2, value, name in (
            (self.weight_regularizer_l1, self.weight_regularizer_l2, self.weights, "dweights"),
            (self.bias_regularizer_l1, self.bias_regularizer_l2, self.biases, "dbiases"),
        ):
            gradient = getattr(self, name)
            if l1 > 0:
                dl1 = np.ones_like(value)
                dl1[value < 0] = -1
                gradient += l1 * dl1
            if l2 > 0:
                gradient += 2 * l2 * value


def _wide_forward(
    checked: Callable[..., Any], self: Layer_Dense, inputs: Any, training: Any
) -> Any:
    """The book's ``forward``, float64 inputs on float32 weights taken as the book's."""
    __tracebackhide__ = True  # pytest: the caller's line is what matters
    if not _wider(inputs, self.weights):
        self.book_inputs = None
        return checked(self, inputs, training)
    # Checked and cached in the weights' dtype; the output computed from the float64 values,
    # as the book's np.dot computes it, and those kept for dweights.
    checked(self, inputs.astype(self.weights.dtype), training)
    output = _dot(inputs, self.weights) + self.biases
    self.book_inputs = inputs
    self.output = output
    return output


_book.around_forward(Layer_Dense, _wide_forward)


class Activation_Linear(_book.Activation_Linear):
    """The book's linear activation; float64 ``dvalues`` (a float64 loss's) pass through."""

    def backward(self, dvalues: Any) -> Any:
        if not _wider(dvalues, self.inputs):
            return super().backward(dvalues)
        super().backward(dvalues.astype(self.inputs.dtype))  # the shapes checked
        self.dinputs = dvalues.copy()
        return self.dinputs


class Loss_MeanSquaredError(_book.Loss_MeanSquaredError):
    """The book's mean squared error; with float64 targets (``sine_data()``'s) on float32
    predictions, computed in float64 as the book computes it."""

    def forward(self, y_pred: Any, y_true: Any) -> Any:
        losses = super().forward(y_pred, y_true)  # the shapes checked
        if not _wider(y_true, y_pred):
            return losses
        return np.mean((y_true - y_pred) ** 2, axis=-1)

    def backward(self, y_pred: Any, y_true: Any) -> Any:
        dinputs = super().backward(y_pred, y_true)
        if not _wider(y_true, y_pred):
            return dinputs
        outputs, samples = y_pred.shape[1], len(y_pred)
        self.dinputs = dinputs = -2 * (y_true - y_pred) / outputs / samples
        return dinputs


class Activation_ReLU(_book.Activation_ReLU):
    """The book's ReLU; float64 ``dvalues`` (through a float64 dropout mask) pass as the
    book's do."""

    def backward(self, dvalues: Any) -> Any:
        if not _wider(dvalues, self.inputs):
            return super().backward(dvalues)
        super().backward(dvalues.astype(self.inputs.dtype))  # the shapes checked
        dinputs = dvalues.copy()
        dinputs[self.inputs <= 0] = 0
        self.dinputs = dinputs
        return dinputs


class Layer_Dropout(_book.Layer_Dropout):
    """The book's dropout with the book's float64 mask, ``binomial(...) / (1 - rate)``: its
    output and gradient are float64, as the book's."""

    book_mask: Any = None

    def forward(self, inputs: Any, training: bool | None = None) -> Any:
        _book._said.add(_book._DROPOUT_DIFFERS)  # this one computes as the book does
        output = super().forward(inputs, training)  # the shapes checked, the book's draw
        if self.mask is None:
            self.book_mask = None
            return output
        # The draws are 0 or 1: the float32 mask's non-zeros are the book's ones.
        self.book_mask = (self.mask != 0) / (1 - self.rate)
        self.output = inputs * self.book_mask
        return self.output

    def backward(self, dvalues: Any) -> Any:
        wide = _wider(dvalues, self.mask)
        dinputs = super().backward(dvalues.astype(np.float32) if wide else dvalues)
        if self.book_mask is None:
            return dinputs
        self.dinputs = dvalues * self.book_mask
        return self.dinputs


def _wider(inputs: Any, weights: Any) -> bool:
    """Whether ``inputs`` are float64 on float32 weights (the book's float64 data)."""
    return (
        isinstance(inputs, np.ndarray)
        and inputs.dtype == np.float64
        and weights.dtype == np.float32
    )


def _dot(a: Any, b: Any) -> Any:
    """``np.dot`` in float64, rounded to float32: ``nnfs.init()``'s product."""
    return np.dot(a.astype(np.float64), b.astype(np.float64)).astype(np.float32)


class Optimizer_Adam(_book.Optimizer_Adam):
    """The book's Adam; a layer with float64 bias gradients (the last layer, under a float64
    loss) is updated as the book updates it, its bias moments then float64 as the book's."""

    def update_params(self, layer: Any) -> None:
        if not _wider(getattr(layer, "dbiases", None), getattr(layer, "biases", None)):
            super().update_params(layer)
            return
        # The book's update, in the dtypes NumPy gives its expressions (float64 moments of a
        # float64 gradient), which shapenn's flat float32 state cannot hold.
        if not hasattr(layer, "weight_cache"):
            layer.weight_momentums = np.zeros_like(layer.weights)
            layer.weight_cache = np.zeros_like(layer.weights)
            layer.bias_momentums = np.zeros_like(layer.biases)
            layer.bias_cache = np.zeros_like(layer.biases)
        b1, b2, step = self.beta_1, self.beta_2, self.iterations + 1
        for kind, gradient in (("weight", layer.dweights), ("bias", layer.dbiases)):
            momentums = b1 * getattr(layer, f"{kind}_momentums") + (1 - b1) * gradient
            cache = b2 * getattr(layer, f"{kind}_cache") + (1 - b2) * gradient**2
            setattr(layer, f"{kind}_momentums", momentums)
            setattr(layer, f"{kind}_cache", cache)
            corrected = momentums / (1 - b1**step)
            scale = np.sqrt(cache / (1 - b2**step)) + self.epsilon
            values = layer.weights if kind == "weight" else layer.biases
            values += -self.current_learning_rate * corrected / scale
