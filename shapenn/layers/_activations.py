"""Activation functions: elementwise (ReLU, Sigmoid, Tanh, Linear) and over the last axis
(Softmax).

Each is a pair of pure kernels — forward and backward — and a thin class that caches what the
backward pass needs. They take any rank with a batch axis first, so they follow a Dense layer
``(batch, features)``, a sequence ``(batch, seq, features)`` or a convolution ``(batch,
channels, height, width)`` alike; Softmax normalizes the last axis, ``(batch, *positions,
classes)``.
"""

import functools
from collections.abc import Callable
from typing import Any, ClassVar, TypeAlias

import numpy as np

from ..shapes import ArgumentError, ArrayND, Batched, Floating, shapechecked
from ._layer import Layer

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

Values: TypeAlias = Floating[ArrayND, "*shape"]
#: An elementwise activation's kernels: forward, backward, and the cache backward reads.
Kernels: TypeAlias = tuple[Callable[[Values], Values], Callable[[Values, Values], Values], str]


@shapechecked
def relu_forward(inputs: Floating[ArrayND, "*shape"]) -> Floating[ArrayND, "*shape"]:
    """``max(inputs, 0)`` elementwise.

    Shape:
        inputs: any shape → outputs: the same shape.
    """
    outputs: Values = np.maximum(inputs, _zeros_as(inputs))
    return outputs


#: Zeros kept per dtype for `_zeros_as`: read-only, never written, so most of it stays the
#: kernel's shared zero page (no resident memory).
_ZEROS: dict[np.dtype[Any], Any] = {}
_ZEROS_MIN, _ZEROS_MAX = 1 << 15, 1 << 24  # values: arrays outside take the scalar


def _zeros_as(array: Any) -> Any:
    """Zeros laid out in memory as ``array`` is (a view of a kept buffer), or the scalar 0.

    NumPy's ``maximum`` of an array and a scalar runs a scalar loop, about 3x slower than
    between two arrays of one layout (measured: 221,184 float32 values, 108 vs 37 us)."""
    size, itemsize = array.size, array.itemsize
    if not _ZEROS_MIN <= size <= _ZEROS_MAX:
        return 0  # below _ZEROS_MIN finding the layout costs more than the loop saves
    dense = (
        all(stride > 0 for stride in array.strides)
        and itemsize
        + sum((n - 1) * stride for n, stride in zip(array.shape, array.strides, strict=True))
        == size * itemsize
    )  # a permutation of C order: no gaps, no overlap
    if not dense:
        return 0
    zeros = _ZEROS.get(array.dtype)
    if zeros is None or zeros.size < size:
        zeros = np.zeros(max(size, 1 << 16), array.dtype)
        zeros.flags.writeable = False
        _ZEROS[array.dtype] = zeros
    return np.lib.stride_tricks.as_strided(zeros, array.shape, array.strides, writeable=False)


@shapechecked(anchors=("inputs",))
def relu_backward(
    dvalues: Floating[ArrayND, "*shape"], inputs: Floating[ArrayND, "*shape"]
) -> Floating[ArrayND, "*shape"]:
    """Pass the gradient where the input was positive, zero elsewhere.

    Written as ``dvalues · (inputs > 0)``: a product with the mask runs as straight-line SIMD,
    about 8× faster than selecting (``np.where``) on a mask that flips at random. A NaN or
    infinite gradient at a dead unit therefore gives NaN, not 0; training stops at it anyway.

    Shape:
        dvalues, inputs: one shape → dinputs: the same shape.
    """
    dinputs: Values = np.multiply(dvalues, inputs > 0, dtype=dvalues.dtype)
    return dinputs


@shapechecked
def softmax_forward(
    inputs: Floating[Batched, "batch *positions classes"],
) -> Floating[Batched, "batch *positions classes"]:
    """``exp(x) / Σ exp(x)`` over the last axis, computed as ``exp(x - max x)`` so it never
    overflows.

    Differences below ``log(tiny · classes)`` (about −85 for 10 classes in float32) are raised
    to it, so no probability is a subnormal, whose arithmetic would slow every later product:
    such a probability is about 1e-38 instead of smaller, which no loss or gradient can tell
    apart (cross-entropy clips at 1e-7). A ``-inf`` input (a masked class) gets that smallest
    probability, as long as its row has a finite largest value.

    Shape:
        inputs: (batch, *positions, classes) → probabilities of the same shape, summing to 1
        over ``classes``.

    Raises:
        ArgumentError: a row holding NaN or ``+inf``, or only ``-inf``: its softmax is
            undefined (NumPy would give a row of NaN).
    """
    probabilities: Floating[Batched, "batch *positions classes"] = _softmax(
        inputs, "softmax_forward"
    )
    return probabilities


def _softmax(inputs: Any, where: str) -> Any:
    """`softmax_forward`'s computation, unchecked, with ``where`` naming the caller (a kernel
    or a layer) in the error for rows that are not finite."""
    # `initial`: a row of no classes has no largest value, and an empty softmax is empty.
    peaks = inputs.max(axis=-1, keepdims=True, initial=-np.inf)
    # Only the row maxima are scanned: NaN and +inf reach the maximum, and a row of only -inf
    # has -inf as its maximum; any other -inf is a masked class, exp(-inf) = 0.
    if inputs.size and not np.isfinite(peaks).all():
        raise _not_finite(inputs, peaks, where)
    probabilities = inputs - peaks
    np.maximum(probabilities, _softmax_floor(inputs.dtype, inputs.shape[-1]), out=probabilities)
    np.exp(probabilities, out=probabilities)
    probabilities /= probabilities.sum(axis=-1, keepdims=True)
    return probabilities


def _not_finite(inputs: Any, peaks: Any, where: str) -> ArgumentError:
    """The error for rows whose softmax is undefined, in the words shapenn uses for NaN in
    ``X``, with the first such row shown."""
    bad = ~np.isfinite(peaks.reshape(-1))
    rows = inputs.reshape(-1, inputs.shape[-1])
    first = int(np.flatnonzero(bad)[0])
    row = rows[first]
    what = "NaN" if np.isnan(row).any() else "+inf" if np.isposinf(row).any() else "only -inf"
    # Rows are counted over (batch, *positions): the row's index there, (sample, position).
    index = tuple(int(i) for i in np.unravel_index(first, inputs.shape[:-1]))
    at = str(index[0]) if len(index) == 1 else str(index)
    shown = ", ".join(f"{v:g}" for v in row[:6]) + (", ..." if row.shape[0] > 6 else "")
    count = int(bad.sum())
    rows_word = "row" if count == 1 else "rows"
    return ArgumentError(
        f"{where}: `inputs` has {count} {rows_word} whose softmax is undefined (NaN): the first, "
        f"at index {at}, holds {what} "
        f"([{shown}]). Softmax needs finite inputs (a -inf is allowed beside a finite value): "
        "remove or impute NaN or infinite values in the data, or, in training, lower the "
        "learning rate or scale the inputs, since a layer before this one overflowed"
    )


@functools.cache
def _softmax_floor(dtype: np.dtype[Any], classes: int) -> float:
    """The lowest shifted input softmax_forward keeps: ``log(tiny · classes)``, with a margin
    (for no classes, any: nothing is computed)."""
    return float(np.log(float(np.finfo(dtype).tiny) * max(classes, 1))) + 0.5


@shapechecked(anchors=("outputs",))
def softmax_backward(
    dvalues: Floating[Batched, "batch *positions classes"],
    outputs: Floating[ArrayND, "batch *positions classes"],
) -> Floating[Batched, "batch *positions classes"]:
    """Multiply ``dvalues`` by the softmax Jacobian ``diag(s) - s sᵀ`` of each position.

    Done without forming the (classes, classes) Jacobians:
    ``dinputs = s * (dvalues - Σ_j dvalues_j s_j)``.

    Shape:
        dvalues, outputs: (batch, *positions, classes) → dinputs: the same shape.
    """
    dot = (dvalues * outputs).sum(axis=-1, keepdims=True)
    dinputs: Floating[Batched, "batch *positions classes"] = outputs * (dvalues - dot)
    return dinputs


@shapechecked
def sigmoid_forward(inputs: Floating[ArrayND, "*shape"]) -> Floating[ArrayND, "*shape"]:
    """``1 / (1 + exp(-x))``, written with ``tanh`` so large ``|x|`` never overflows.

    Shape:
        inputs: any shape → outputs: the same shape.
    """
    outputs: Values = 0.5 * (1 + np.tanh(0.5 * inputs))
    return outputs


@shapechecked(anchors=("outputs",))
def sigmoid_backward(
    dvalues: Floating[ArrayND, "*shape"], outputs: Floating[ArrayND, "*shape"]
) -> Floating[ArrayND, "*shape"]:
    """``dvalues * σ(x) (1 - σ(x))``, from the forward outputs.

    Shape:
        dvalues, outputs: one shape → dinputs: the same shape.
    """
    dinputs: Values = dvalues * (1 - outputs) * outputs
    return dinputs


@shapechecked
def tanh_forward(inputs: Floating[ArrayND, "*shape"]) -> Floating[ArrayND, "*shape"]:
    """``tanh(x)`` elementwise.

    Shape:
        inputs: any shape → outputs: the same shape.
    """
    outputs: Values = np.tanh(inputs)
    return outputs


@shapechecked(anchors=("outputs",))
def tanh_backward(
    dvalues: Floating[ArrayND, "*shape"], outputs: Floating[ArrayND, "*shape"]
) -> Floating[ArrayND, "*shape"]:
    """``dvalues * (1 - tanh(x)²)``, from the forward outputs.

    Shape:
        dvalues, outputs: one shape → dinputs: the same shape.
    """
    dinputs: Values = dvalues * (1 - outputs * outputs)
    return dinputs


@shapechecked
def identity_forward(inputs: Floating[ArrayND, "*shape"]) -> Floating[ArrayND, "*shape"]:
    """The linear activation's forward: the input, unchanged.

    Shape:
        inputs: any shape → outputs: the same shape.
    """
    return inputs


@shapechecked(anchors=("inputs",))
def identity_backward(
    dvalues: Floating[ArrayND, "*shape"], inputs: Floating[ArrayND, "*shape"]
) -> Floating[ArrayND, "*shape"]:
    """The linear activation's backward: the gradient, unchanged (its batch tied to ``inputs``).

    Shape:
        dvalues, inputs: one shape → dinputs: the same shape.
    """
    return dvalues


class _Elementwise(Layer):
    """An elementwise activation: a forward kernel, and a backward kernel that reads either the
    cached ``inputs`` or the cached ``output`` (whichever its derivative is written in)."""

    kernels_keyed = True

    # (forward kernel, backward kernel, the cache the backward kernel reads: inputs or output)
    kernels: ClassVar[Kernels]
    #: The same function as an ONNX operator and as a ``torch.nn`` module.
    onnx_op: ClassVar[str]
    torch_module: ClassVar[str]

    def forward(
        self, inputs: Floating[Batched, " batch *features"]
    ) -> Floating[Batched, " batch *features"]:
        """Apply the activation to every value; cache ``inputs`` and ``output``.

        Shape: inputs (batch, *features) → (batch, *features)
        """
        output = self.kernels[0](inputs)
        self._cache(inputs=inputs, output=output)
        return output  # pyright: ignore[reportReturnType]

    def backward(
        self, dvalues: Floating[Batched, " batch *features"]
    ) -> Floating[Batched, " batch *features"]:
        """Multiply ``dvalues`` by the activation's derivative at the last forward.

        Shape: dvalues (batch, *features) → (batch, *features)
        """
        _, backward, reads = self.kernels
        dinputs = backward(dvalues, getattr(self, reads))
        self.dinputs = dinputs
        return dinputs  # pyright: ignore[reportReturnType]

    def export_onnx(self, graph: Any, inputs: str) -> str:
        return str(graph.add(self.onnx_op, [inputs]))

    def export_torch(self, torch: Any) -> Any:
        return getattr(torch.nn, self.torch_module)()


class ReLU(_Elementwise):
    """Rectified linear unit, the book's ``Activation_ReLU``: ``max(x, 0)``.

    Shape:
        forward: (batch, *features) → the same shape; backward likewise.
    """

    kernels: ClassVar[Kernels] = (relu_forward, relu_backward, "inputs")
    onnx_op = "Relu"
    torch_module = "ReLU"


class Softmax(Layer):
    """Softmax over the last axis, the book's ``Activation_Softmax``; numerically stable.

    Shape:
        forward: (batch, *positions, classes) → the same shape, summing to 1 over
        ``classes``; backward likewise.
    """

    kernels_keyed = True

    def forward(
        self, inputs: Floating[Batched, "batch *positions classes"]
    ) -> Floating[Batched, "batch *positions classes"]:
        """The probabilities over the last axis; cache ``inputs`` and ``output``.

        Shape: inputs (batch, *positions, classes) → (batch, *positions, classes)
        """
        # The kernel's computation, with the error for rows that are not finite naming this
        # layer; the arrays are checked by this method's own annotations.
        output: Floating[Batched, "batch *positions classes"] = _softmax(
            inputs, f"{self!r}.forward"
        )
        self._cache(inputs=inputs, output=output)
        return output

    def backward(
        self, dvalues: Floating[Batched, "batch *positions classes"]
    ) -> Floating[Batched, "batch *positions classes"]:
        """Multiply ``dvalues`` by the softmax Jacobian at the last forward.

        Shape: dvalues (batch, *positions, classes) → (batch, *positions, classes)
        """
        dinputs: Floating[Batched, "batch *positions classes"] = softmax_backward(
            dvalues, self.output
        )
        self._cache(dinputs=dinputs)
        return dinputs

    def export_onnx(self, graph: Any, inputs: str) -> str:
        return str(graph.add("Softmax", [inputs], axis=-1))

    def export_torch(self, torch: Any) -> Any:
        return torch.nn.Softmax(dim=-1)


class Sigmoid(_Elementwise):
    """Logistic sigmoid, the book's ``Activation_Sigmoid``: ``1 / (1 + exp(-x))``.

    Shape:
        forward: (batch, *features) → the same shape; backward likewise.
    """

    kernels: ClassVar[Kernels] = (sigmoid_forward, sigmoid_backward, "output")
    onnx_op = "Sigmoid"
    torch_module = "Sigmoid"


class Tanh(_Elementwise):
    """Hyperbolic tangent.

    Shape:
        forward: (batch, *features) → the same shape; backward likewise.
    """

    kernels: ClassVar[Kernels] = (tanh_forward, tanh_backward, "output")
    onnx_op = "Tanh"
    torch_module = "Tanh"


class Linear(_Elementwise):
    """The identity, the book's ``Activation_Linear`` (a regression output).

    Shape:
        forward: (batch, *features) → the same shape; backward likewise.
    """

    kernels: ClassVar[Kernels] = (identity_forward, identity_backward, "inputs")
    onnx_op = "Identity"
    torch_module = "Identity"
