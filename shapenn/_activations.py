"""Activation functions: elementwise (ReLU, Sigmoid, Tanh, Linear) and row-wise (Softmax).

Each is a pair of pure kernels — forward and backward — and a thin class that caches what the
backward pass needs. Shapes are (batch, features) in and out.
"""

from collections.abc import Callable
from typing import ClassVar

import numpy as np
from jaxtyping import Float

from ._layer import Layer, not_called
from ._shapes import Array2D, located, shapechecked

__all__ = [
    "Linear",
    "ReLU",
    "Sigmoid",
    "Softmax",
    "Tanh",
    "identity_backward",
    "identity_forward",
    "relu_backward",
    "relu_forward",
    "sigmoid_backward",
    "sigmoid_forward",
    "softmax_backward",
    "softmax_forward",
    "tanh_backward",
    "tanh_forward",
]

Features = Float[Array2D, "batch features"]


@shapechecked
def relu_forward(inputs: Float[Array2D, "batch features"]) -> Float[Array2D, "batch features"]:
    """``max(inputs, 0)`` elementwise.

    Shape:
        inputs: (batch, features) → outputs: (batch, features).
    """
    outputs: Features = np.maximum(inputs, 0)
    return outputs


@shapechecked(anchors=("inputs",))
def relu_backward(
    dvalues: Float[Array2D, "batch features"], inputs: Float[Array2D, "batch features"]
) -> Float[Array2D, "batch features"]:
    """Pass the gradient where the input was positive, zero elsewhere.

    Shape:
        dvalues, inputs: (batch, features) → dinputs: (batch, features).
    """
    dinputs: Features = np.where(inputs > 0, dvalues, 0).astype(dvalues.dtype, copy=False)
    return dinputs


@shapechecked
def softmax_forward(inputs: Float[Array2D, "batch classes"]) -> Float[Array2D, "batch classes"]:
    """Row-wise ``exp(x) / Σ exp(x)``, computed as ``exp(x - max x)`` so it never overflows.

    Shape:
        inputs: (batch, classes) → probabilities: (batch, classes), each row summing to 1.
    """
    exp = np.exp(inputs - inputs.max(axis=1, keepdims=True))
    probabilities: Float[Array2D, "batch classes"] = exp / exp.sum(axis=1, keepdims=True)
    return probabilities


@shapechecked(anchors=("outputs",))
def softmax_backward(
    dvalues: Float[Array2D, "batch classes"], outputs: Float[Array2D, "batch classes"]
) -> Float[Array2D, "batch classes"]:
    """Multiply ``dvalues`` by each row's softmax Jacobian ``diag(s) - s sᵀ``.

    Done without forming the (batch, classes, classes) Jacobians:
    ``dinputs = s * (dvalues - Σ_j dvalues_j s_j)``.

    Shape:
        dvalues, outputs: (batch, classes) → dinputs: (batch, classes).
    """
    dot = (dvalues * outputs).sum(axis=1, keepdims=True)
    dinputs: Float[Array2D, "batch classes"] = outputs * (dvalues - dot)
    return dinputs


@shapechecked
def sigmoid_forward(inputs: Float[Array2D, "batch features"]) -> Float[Array2D, "batch features"]:
    """``1 / (1 + exp(-x))``, written with ``tanh`` so large ``|x|`` never overflows.

    Shape:
        inputs: (batch, features) → outputs: (batch, features).
    """
    outputs: Features = 0.5 * (1 + np.tanh(0.5 * inputs))
    return outputs


@shapechecked(anchors=("outputs",))
def sigmoid_backward(
    dvalues: Float[Array2D, "batch features"], outputs: Float[Array2D, "batch features"]
) -> Float[Array2D, "batch features"]:
    """``dvalues * σ(x) (1 - σ(x))``, from the forward outputs.

    Shape:
        dvalues, outputs: (batch, features) → dinputs: (batch, features).
    """
    dinputs: Features = dvalues * (1 - outputs) * outputs
    return dinputs


@shapechecked
def tanh_forward(inputs: Float[Array2D, "batch features"]) -> Float[Array2D, "batch features"]:
    """``tanh(x)`` elementwise.

    Shape:
        inputs: (batch, features) → outputs: (batch, features).
    """
    outputs: Features = np.tanh(inputs)
    return outputs


@shapechecked(anchors=("outputs",))
def tanh_backward(
    dvalues: Float[Array2D, "batch features"], outputs: Float[Array2D, "batch features"]
) -> Float[Array2D, "batch features"]:
    """``dvalues * (1 - tanh(x)²)``, from the forward outputs.

    Shape:
        dvalues, outputs: (batch, features) → dinputs: (batch, features).
    """
    dinputs: Features = dvalues * (1 - outputs * outputs)
    return dinputs


@shapechecked
def identity_forward(inputs: Float[Array2D, "batch features"]) -> Float[Array2D, "batch features"]:
    """The linear activation's forward: the input, unchanged.

    Shape:
        inputs: (batch, features) → outputs: (batch, features).
    """
    return inputs


@shapechecked(anchors=("inputs",))
def identity_backward(
    dvalues: Float[Array2D, "batch features"], inputs: Float[Array2D, "batch features"]
) -> Float[Array2D, "batch features"]:
    """The linear activation's backward: the gradient, unchanged (its batch tied to ``inputs``).

    Shape:
        dvalues, inputs: (batch, features) → dinputs: (batch, features).
    """
    return dvalues


class _Activation(Layer):
    """An activation: a forward kernel, and a backward kernel that reads either the cached
    ``inputs`` or the cached ``output`` (whichever its derivative is written in)."""

    # (forward kernel, backward kernel, the cache the backward kernel reads: inputs or output)
    kernels: ClassVar[
        tuple[Callable[[Features], Features], Callable[[Features, Features], Features], str]
    ]

    @located
    def forward(self, inputs: Features) -> Features:
        output = self.kernels[0](inputs)
        self.inputs, self.output = inputs, output
        return output

    @located
    def backward(self, dvalues: Features) -> Features:
        _, backward, reads = self.kernels
        cached = getattr(self, reads)
        if cached is None:
            raise not_called(self, "backward")
        self.dinputs = backward(dvalues, cached)
        return self.dinputs


class ReLU(_Activation):
    """Rectified linear unit, the book's ``Activation_ReLU``: ``max(x, 0)``.

    Shape:
        forward: (batch, features) → (batch, features); backward likewise.
    """

    kernels = (relu_forward, relu_backward, "inputs")


class Softmax(_Activation):
    """Softmax over the last axis, the book's ``Activation_Softmax``; numerically stable.

    Shape:
        forward: (batch, classes) → (batch, classes), rows summing to 1; backward likewise.
    """

    kernels = (softmax_forward, softmax_backward, "output")


class Sigmoid(_Activation):
    """Logistic sigmoid, the book's ``Activation_Sigmoid``: ``1 / (1 + exp(-x))``.

    Shape:
        forward: (batch, features) → (batch, features); backward likewise.
    """

    kernels = (sigmoid_forward, sigmoid_backward, "output")


class Tanh(_Activation):
    """Hyperbolic tangent.

    Shape:
        forward: (batch, features) → (batch, features); backward likewise.
    """

    kernels = (tanh_forward, tanh_backward, "output")


class Linear(_Activation):
    """The identity, the book's ``Activation_Linear`` (a regression output).

    Shape:
        forward: (batch, features) → (batch, features); backward likewise.
    """

    kernels = (identity_forward, identity_backward, "inputs")
