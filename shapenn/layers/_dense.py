"""The fully connected layer: ``outputs = inputs @ weights + biases``, weights (in, out)."""

from collections.abc import Mapping
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from .._args import array as _array
from .._args import fits_memory, positive, shown
from ..shapes import ArgumentError, Array2D, ArrayND, Batched, Floating, ShapeError, shapechecked
from . import _init as init_
from ._init import torch_dtype as _torch_dtype
from ._regularization import Regularized
from ._rows import column_sums

__all__ = ["Dense", "affine", "dense_backward", "dense_forward", "dense_parameter_gradients"]

D = TypeVar("D", bound="Dense")


@shapechecked(anchors=("weights", "biases"))
def dense_forward(
    inputs: Floating[Batched, "batch *positions in"],
    weights: Floating[Array2D, "in out"],
    biases: Floating[Array2D, "1 out"],
) -> Floating[Batched, "batch *positions out"]:
    """Affine map of the last axis: ``outputs = inputs @ weights + biases``.

    Any axes between the batch and the features (sequence positions, …) are carried through,
    as ``torch.nn.Linear`` and Keras's ``Dense`` do.

    Shape:
        inputs: (batch, *positions, in); weights: (in, out); biases: (1, out)
        → outputs: (batch, *positions, out).
    """
    outputs: Floating[Batched, "batch *positions out"] = affine(inputs, weights, biases)
    return outputs


def affine(inputs: Any, weights: Any, biases: Any) -> Any:
    """``inputs @ weights + biases`` over the last axis, unchecked: one GEMM over every row
    (batch · positions, in), not a batch of them, and the bias added in place (one large
    temporary fewer, bit for bit the same)."""
    rows = _rows(inputs) @ weights
    if np.result_type(rows, biases) == rows.dtype:
        rows += biases
    else:  # biases of a wider dtype than the product (a call of the kernel of one's own)
        rows = rows + biases
    return rows.reshape(*inputs.shape[:-1], weights.shape[1])


@shapechecked(anchors=("inputs", "weights"))
def dense_backward(
    dvalues: Floating[Batched, "batch *positions out"],
    inputs: Floating[ArrayND, "batch *positions in"],
    weights: Floating[Array2D, "in out"],
) -> tuple[
    Floating[Batched, "batch *positions in"],
    Floating[Array2D, "in out"],
    Floating[Array2D, "1 out"],
]:
    """Gradients of ``inputs @ weights + biases`` given the gradient of its outputs.

    ``dinputs = dvalues @ weightsᵀ``, ``dweights = inputsᵀ @ dvalues``,
    ``dbiases = Σ_batch dvalues`` (sums over every position too).

    Shape:
        dvalues: (batch, *positions, out); inputs: (batch, *positions, in) from the forward
        pass; weights: (in, out) → (dinputs: (batch, *positions, in), dweights: (in, out),
        dbiases: (1, out)).
    """
    rows, columns = _rows(dvalues), _rows(inputs)
    dinputs: Floating[Batched, "batch *positions in"] = (rows @ weights.T).reshape(inputs.shape)
    dweights: Floating[Array2D, "in out"] = columns.T @ rows
    dbiases: Floating[Array2D, "1 out"] = _bias_sums(rows, dvalues.ndim)
    return dinputs, dweights, dbiases


@shapechecked(anchors=("inputs", "weights"))
def dense_parameter_gradients(
    dvalues: Floating[ArrayND, "batch *positions out"],
    inputs: Floating[ArrayND, "batch *positions in"],
    weights: Floating[Array2D, "in out"],
) -> tuple[Floating[Array2D, "in out"], Floating[Array2D, "1 out"]]:
    """The parameter gradients alone — for a first layer, whose input gradient nobody needs.
    (``weights`` is only read for its shape, which ties ``dvalues`` to the layer's ``out``.)

    Shape:
        dvalues: (batch, *positions, out); inputs: (batch, *positions, in); weights: (in, out)
        → (dweights: (in, out), dbiases: (1, out)).
    """
    rows = _rows(dvalues)
    dweights: Floating[Array2D, "in out"] = _rows(inputs).T @ rows
    dbiases: Floating[Array2D, "1 out"] = _bias_sums(rows, dvalues.ndim)
    return dweights, dbiases


def _rows(values: Any) -> Any:
    """(batch, *positions, features) as rows (batch · positions, features): a view."""
    return values if values.ndim == 2 else values.reshape(-1, values.shape[-1])


def _bias_sums(rows: Any, ndim: int) -> Any:
    """The sums of the gradient's ``rows`` (1, out), from an array of ``ndim`` axes: NumPy's
    sum for a batch of vectors, bit for bit the book's; over positions too, one product with
    ones (2048 rows of 64 to 256: 50-85 µs → 16-47 µs)."""
    return rows.sum(axis=0, keepdims=True) if ndim == 2 else column_sums(rows)[None]


@shapechecked(anchors=("biases",))
def _dense_parameters(
    weights: Floating[Array2D, "in out"], biases: Floating[Array2D, "1 out"]
) -> None:
    """Check that hand-written weights and biases form one layer (biases bind ``out``)."""


class Dense(Regularized):
    """A fully connected layer, the book's ``Layer_Dense``.

    Args:
        n_inputs: size of each input sample (``in``).
        n_neurons: number of neurons, the size of each output sample (``out``).
        seed: seed or ``numpy.random.Generator`` for the initial weights; None draws fresh
            entropy. NumPy's global random state is never used.
        dtype: float32 (default) or float64. Inputs must have the same dtype.
        init: how the weights are drawn: ``"he_normal"`` (the default, ``N(0, 2 / in)``),
            ``"he_uniform"``, ``"glorot_uniform"``, ``"glorot_normal"``, ``"book"`` (the book's
            ``0.01 · N(0, 1)``) or a function ``init(shape, rng, dtype) → array``.
        weight_scale: instead of ``init``, draw ``weight_scale · N(0, 1)`` (the book's
            regression chapter uses 0.1).
        weight_regularizer_l1, weight_regularizer_l2, bias_regularizer_l1, bias_regularizer_l2:
            L1/L2 penalty factors (the book's), added to the loss by ``regularization_loss`` and
            to ``dweights``/``dbiases`` by ``backward``.

    Attributes:
        weights: (in, out), drawn by ``init`` (He's normal by default).
        biases: (1, out), initialised to zeros.
        dweights, dbiases: gradients of the last ``backward`` (zeros before the first), same
            shapes as the parameters.

    Shape:
        forward: inputs (batch, *positions, in) → outputs (batch, *positions, out): the
        last axis is mapped, any axes between the batch and it are carried through.
        backward: dvalues (batch, *positions, out) → dinputs (batch, *positions, in), with
        the shape of the last forward.

    The dims come from the annotations: ``weights`` declares ``in out``, ``forward`` declares
    ``batch *positions in → batch *positions out``; the checks, the error words and
    ``Model.summary`` all read them.

    Example::

        >>> layer = Dense(2, 3, seed=0)
        >>> layer
        Dense(2 → 3)
        >>> layer.forward(np.ones((5, 2), dtype=np.float32)).shape
        (5, 3)
    """

    kernels_keyed = True

    weights: Floating[Array2D, "in out"]
    biases: Floating[Array2D, "1 out"]

    def __init__(
        self,
        n_inputs: int,
        n_neurons: int,
        *,
        seed: int | np.random.Generator | None = None,
        dtype: npt.DTypeLike = np.float32,
        init: "str | init_.Initializer | None" = None,
        weight_scale: float | None = None,
        weight_regularizer_l1: float = 0.0,
        weight_regularizer_l2: float = 0.0,
        bias_regularizer_l1: float = 0.0,
        bias_regularizer_l2: float = 0.0,
    ) -> None:
        sizes = (positive("Dense", "n_inputs", n_inputs), positive("Dense", "n_neurons", n_neurons))
        self._set_regularizers(
            weight_regularizer_l1, weight_regularizer_l2, bias_regularizer_l1, bias_regularizer_l2
        )
        float_dtype = init_.float_dtype(dtype, "Dense")
        fits_memory(
            "Dense",
            f"n_inputs={shown(sizes[0])} and n_neurons={shown(sizes[1])} make weights of shape",
            sizes,
            float_dtype,
        )
        self.weights = self._initial_weights(init, weight_scale, sizes, sizes, seed, float_dtype)
        self.biases = init_.zeros((1, sizes[1]), float_dtype)
        # Gradients start at zero even when built to be loaded: they are read before backward.
        self.dweights: Floating[Array2D, "in out"] = np.zeros(sizes, float_dtype)
        self.dbiases: Floating[Array2D, "1 out"] = np.zeros((1, sizes[1]), float_dtype)

    @classmethod
    def from_arrays(
        cls: type[D],
        weights: npt.ArrayLike,
        biases: npt.ArrayLike | None = None,
        *,
        dtype: Any = None,
        weight_regularizer_l1: float = 0.0,
        weight_regularizer_l2: float = 0.0,
        bias_regularizer_l1: float = 0.0,
        bias_regularizer_l2: float = 0.0,
    ) -> D:
        """Build a layer from hand-written weights of shape (in, out) and biases.

        Python lists are accepted here (and only here, as the book writes them). Weights of
        shape ``(in,)`` are a single neuron, ``(in, 1)``. Biases may be a scalar (one neuron),
        ``(out,)`` or ``(1, out)``; None means zeros. The dtype is ``dtype`` if given, else the
        weights' own floating dtype, else float32.

        Raises:
            ShapeError: if the arrays do not form a layer, e.g. weights written as
                (neurons, inputs): "weights looks transposed: pass weights.T".
        """
        raw = _real("weights", weights)
        own = raw.dtype if isinstance(weights, np.ndarray) and raw.dtype.kind == "f" else None
        float_dtype = init_.float_dtype(
            dtype if dtype is not None else own or np.float32, f"{cls.__name__}.from_arrays"
        )
        w = _cast("weights", raw, float_dtype)
        if w.ndim == 1:  # the book's single neuron: one weight per input
            w = w.reshape(-1, 1)
        b = (
            np.zeros((1, w.shape[-1] if w.ndim else 0), float_dtype)
            if biases is None
            else _cast("biases", _real("biases", biases), float_dtype)
        )
        if b.ndim < 2:  # a scalar bias (one neuron) or one bias per neuron
            b = b.reshape(1, -1)
        try:
            _dense_parameters(w, b)
        except ShapeError as err:
            raise err.located_at(f"{cls.__name__}.from_arrays").with_traceback(None) from None
        with init_.uninitialized():  # the weights are these arrays: draw none
            layer = cls(
                w.shape[0],
                w.shape[1],
                dtype=float_dtype,
                weight_regularizer_l1=weight_regularizer_l1,
                weight_regularizer_l2=weight_regularizer_l2,
                bias_regularizer_l1=bias_regularizer_l1,
                bias_regularizer_l2=bias_regularizer_l2,
            )
        layer.weights, layer.biases = w, b
        layer.dweights, layer.dbiases = np.zeros_like(w), np.zeros_like(b)
        return layer

    @property
    def n_inputs(self) -> int:
        return int(self.weights.shape[0])

    @property
    def n_neurons(self) -> int:
        return int(self.weights.shape[1])

    @property
    def dtype(self) -> np.dtype[Any]:
        return self.weights.dtype

    def __repr__(self) -> str:
        return f"Dense({self.n_inputs} → {self.n_neurons})"

    def resized(self, dims: Mapping[str, int]) -> str:
        """This layer's constructor call with dims ``in``/``out`` changed, for error hints."""
        return f"Dense({dims.get('in', self.n_inputs)}, {dims.get('out', self.n_neurons)})"

    def export_onnx(self, graph: Any, inputs: str) -> str:
        # MatMul over the last axis, whatever the rank, with the weights as shapenn keeps
        # them, (in, out).
        weights = graph.constant("weights", self.weights)
        biases = graph.constant("biases", self.biases.reshape(-1))
        return str(graph.add("Add", [graph.add("MatMul", [inputs, weights]), biases]))

    def export_torch(self, torch: Any) -> Any:
        # nn.Linear keeps (out, in): the transpose of shapenn's.
        linear = torch.nn.Linear(self.n_inputs, self.n_neurons, dtype=_torch_dtype(torch, self))
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(self.weights.T.copy()))
            linear.bias.copy_(torch.from_numpy(self.biases.reshape(-1).copy()))
        return linear

    def forward(
        self, inputs: Floating[Batched, "batch *positions in"]
    ) -> Floating[Batched, "batch *positions out"]:
        """Compute ``inputs @ weights + biases`` and remember ``inputs`` for ``backward``.

        Shape: inputs (batch, *positions, in) → (batch, *positions, out)
        """
        output = dense_forward(inputs, self.weights, self.biases)
        self._cache(inputs=inputs, output=output)
        return output

    def backward(
        self, dvalues: Floating[Batched, "batch *positions out"]
    ) -> Floating[Batched, "batch *positions in"]:
        """Store ``dweights`` and ``dbiases``; return the gradient for the previous layer.

        Shape: dvalues (batch, *positions, out) → (batch, *positions, in)
        """
        dinputs, dweights, dbiases = dense_backward(dvalues, self.inputs, self.weights)
        self.dweights = dweights
        self.dbiases = dbiases
        self._regularize()
        self._cache(dinputs=dinputs)
        return dinputs

    def backward_parameters(self, dvalues: Floating[Batched, "batch *positions out"]) -> None:
        """``backward`` without the input gradient, which nobody needs for a first layer:
        a (batch, out) × (out, in) product saved. ``dinputs`` is left as it was.

        Shape: dvalues (batch, *positions, out)
        """
        dweights, dbiases = dense_parameter_gradients(dvalues, self.inputs, self.weights)
        self.dweights = dweights
        self.dbiases = dbiases
        self._regularize()


def _real(name: str, values: npt.ArrayLike) -> npt.NDArray[Any]:
    """``values`` as a real-valued array: complex numbers would lose their imaginary part,
    booleans and strings are not weights."""
    array = _array("Dense.from_arrays", name, values)
    if array.dtype.kind not in "iuf":
        raise ArgumentError(
            f"Dense.from_arrays: `{name}` must hold real numbers, got dtype {array.dtype}"
            + (
                ": complex values would lose their imaginary part"
                if array.dtype.kind == "c"
                else ""
            )
        )
    return array


def _cast(name: str, array: npt.NDArray[Any], dtype: np.dtype[Any]) -> npt.NDArray[Any]:
    """``array`` in ``dtype``, refusing values that are not finite there."""
    with np.errstate(over="ignore", invalid="ignore"):
        cast = array.astype(dtype)
    if not np.isfinite(cast).all():
        raise ArgumentError(
            f"Dense.from_arrays: `{name}` has values that are not finite in {dtype}"
        )
    return cast
