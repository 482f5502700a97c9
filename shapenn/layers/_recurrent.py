"""Recurrent layers: LSTM and GRU over batch-first sequences ``(batch, time, features)``.

The gates follow PyTorch's ``nn.LSTM`` and ``nn.GRU`` exactly — their order, their two bias
vectors, GRU's reset gate applied after the recurrent product — so that a layer exports to
PyTorch by copying its arrays. The weights are kept in shapenn's orientation, ``(in, out)``
as in Dense, with the gates side by side along the second axis: ``weights_ih`` is
``(features, 4·hidden)`` for an LSTM (gates i, f, g, o), PyTorch's ``weight_ih_l0``
transposed.

Backpropagation through time loops over the time steps only; every step is vectorized over
the batch, and the input projections of all the steps are one matrix product.
"""

import functools
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from .._args import fits_memory, generator, positive, shown
from ..shapes import (
    ArgumentError,
    Array1D,
    Array2D,
    Array3D,
    Floating,
    ShapeError,
    Size,
    infer_output,
    shapechecked,
)
from . import _init as init
from ._dense import affine
from ._init import torch_dtype as _torch_dtype
from ._layer import Layer

__all__ = ["GRU", "LSTM", "gru_backward", "gru_forward", "lstm_backward", "lstm_forward"]

# PyTorch stacks an LSTM's gates as (i, f, g, o) and a GRU's as (r, z, n); ONNX as (i, o, f, c)
# and (z, r, h). Each tuple lists, for each ONNX gate in turn, the PyTorch gate it is.
_ONNX_LSTM_ORDER = (0, 3, 1, 2)
_ONNX_GRU_ORDER = (1, 0, 2)


def _sigmoid(values: Any) -> Any:
    """``1 / (1 + exp(-x))`` written with tanh: no overflow warning for large ``|x|``, and
    the dtype of ``values`` kept."""
    return 0.5 * (1 + np.tanh(0.5 * values))


def _previous(states: Any) -> Any:
    """The state before each step, ``(h_0 = 0, h_1, …, h_(T-1))``, as (batch · time, hidden)
    rows: the inputs of the recurrent product, whose weight gradient is one GEMM."""
    before = np.zeros_like(states)
    before[:, 1:] = states[:, :-1]
    return before.reshape(-1, states.shape[2])


# --- LSTM -----------------------------------------------------------------------------------


@shapechecked(anchors=("weights_hh", "weights_ih", "biases_ih", "biases_hh"))
def lstm_forward(
    inputs: Floating[Array3D, "batch time features"],
    weights_ih: Floating[Array2D, "features 4*hidden"],
    weights_hh: Floating[Array2D, "hidden 4*hidden"],
    biases_ih: Floating[Array1D, " 4*hidden"],
    biases_hh: Floating[Array1D, " 4*hidden"],
) -> tuple[
    Floating[Array3D, "batch time hidden"],
    Floating[Array3D, "batch time hidden"],
    Floating[Array3D, "batch time 4*hidden"],
]:
    """Run an LSTM over every time step, from zero hidden and cell states (PyTorch's
    equations): with ``a = x_t W_ih + b_ih + h_(t-1) W_hh + b_hh`` split into (i, f, g, o),
    ``c_t = σ(f) c_(t-1) + σ(i) tanh(g)`` and ``h_t = σ(o) tanh(c_t)``.

    Returns the hidden states ``h_1 … h_T``, the cell states ``c_1 … c_T`` and the gates
    after their nonlinearities, side by side (i, f, g, o), which the backward pass reuses.

    Shape:
        inputs: (batch, time, features); weights_ih: (features, 4·hidden); weights_hh:
        (hidden, 4·hidden); biases_ih, biases_hh: (4·hidden,) → (hidden states and cell
        states: (batch, time, hidden), gates: (batch, time, 4·hidden)).
    """
    batch, time, _ = inputs.shape
    size = weights_hh.shape[0]
    projected = affine(inputs, weights_ih, biases_ih + biases_hh)
    hidden_states = np.empty((batch, time, size), dtype=inputs.dtype)
    cells = np.empty((batch, time, size), dtype=inputs.dtype)
    gates = np.empty((batch, time, 4 * size), dtype=inputs.dtype)
    hidden = np.zeros((batch, size), dtype=inputs.dtype)
    cell = np.zeros((batch, size), dtype=inputs.dtype)
    for step in range(time):
        activations = projected[:, step] + hidden @ weights_hh
        # i, f and o are sigmoids and g a tanh: σ on the whole row, then g redone in place.
        gate = _sigmoid(activations)
        gate[:, 2 * size : 3 * size] = np.tanh(activations[:, 2 * size : 3 * size])
        i, f, g, o = (gate[:, k * size : (k + 1) * size] for k in range(4))
        cell = f * cell + i * g
        hidden = o * np.tanh(cell)
        hidden_states[:, step], cells[:, step], gates[:, step] = hidden, cell, gate
    return hidden_states, cells, gates


@shapechecked(anchors=("weights_hh", "weights_ih", "inputs", "hidden_states", "cells", "gates"))
def lstm_backward(
    dhidden: Floating[Array3D, "batch time hidden"],
    inputs: Floating[Array3D, "batch time features"],
    hidden_states: Floating[Array3D, "batch time hidden"],
    cells: Floating[Array3D, "batch time hidden"],
    gates: Floating[Array3D, "batch time 4*hidden"],
    weights_ih: Floating[Array2D, "features 4*hidden"],
    weights_hh: Floating[Array2D, "hidden 4*hidden"],
) -> tuple[
    Floating[Array3D, "batch time features"],
    Floating[Array2D, "features 4*hidden"],
    Floating[Array2D, "hidden 4*hidden"],
    Floating[Array1D, " 4*hidden"],
    Floating[Array1D, " 4*hidden"],
]:
    """Backpropagation through time of `lstm_forward`, given the gradient of every hidden
    state ``h_t`` (zeros where a state is not an output).

    Walking back from the last step, the gradient reaching ``h_t`` is its own plus what
    ``h_(t+1)`` sends back through ``W_hh``; the cell's is what ``c_(t+1)`` sends back
    through the forget gate plus what ``h_t`` sends through ``tanh(c_t)``. The gradients of
    the gates' pre-activations, gathered for all the steps, then give the weight gradients
    and the input gradient in one GEMM each; both biases get their sum.

    Shape:
        dhidden, hidden_states, cells: (batch, time, hidden); inputs: (batch, time,
        features); gates: (batch, time, 4·hidden); weights_ih: (features, 4·hidden);
        weights_hh: (hidden, 4·hidden) → (dinputs: (batch, time, features), dweights_ih,
        dweights_hh: the weights' shapes, dbiases_ih, dbiases_hh: (4·hidden,)).
    """
    batch, time, _ = inputs.shape
    size = weights_hh.shape[0]
    dactivations = np.empty_like(gates)
    dnext = np.zeros((batch, size), dtype=inputs.dtype)  # from h_(t+1) through W_hh
    dcell_next = np.zeros((batch, size), dtype=inputs.dtype)  # from c_(t+1) through f
    for step in range(time - 1, -1, -1):
        gate = gates[:, step]
        i, f, g, o = (gate[:, k * size : (k + 1) * size] for k in range(4))
        squashed = np.tanh(cells[:, step])
        before = cells[:, step - 1] if step else np.zeros_like(dcell_next)
        dh = dhidden[:, step] + dnext
        dcell = dh * o * (1 - squashed * squashed) + dcell_next
        da = dactivations[:, step]
        da[:, :size] = dcell * g * i * (1 - i)
        da[:, size : 2 * size] = dcell * before * f * (1 - f)
        da[:, 2 * size : 3 * size] = dcell * i * (1 - g * g)
        da[:, 3 * size :] = dh * squashed * o * (1 - o)
        dcell_next = dcell * f
        dnext = da @ weights_hh.T
    rows = dactivations.reshape(batch * time, -1)
    dinputs: Floating[Array3D, "batch time features"] = (rows @ weights_ih.T).reshape(inputs.shape)
    dweights_ih: Floating[Array2D, "features 4*hidden"] = inputs.reshape(batch * time, -1).T @ rows
    dweights_hh: Floating[Array2D, "hidden 4*hidden"] = _previous(hidden_states).T @ rows
    dbiases_ih: Floating[Array1D, " 4*hidden"] = rows.sum(axis=0)
    return dinputs, dweights_ih, dweights_hh, dbiases_ih, dbiases_ih.copy()


# --- GRU ------------------------------------------------------------------------------------


@shapechecked(anchors=("weights_hh", "weights_ih", "biases_ih", "biases_hh"))
def gru_forward(
    inputs: Floating[Array3D, "batch time features"],
    weights_ih: Floating[Array2D, "features 3*hidden"],
    weights_hh: Floating[Array2D, "hidden 3*hidden"],
    biases_ih: Floating[Array1D, " 3*hidden"],
    biases_hh: Floating[Array1D, " 3*hidden"],
) -> tuple[
    Floating[Array3D, "batch time hidden"],
    Floating[Array3D, "batch time 3*hidden"],
    Floating[Array3D, "batch time hidden"],
]:
    """Run a GRU over every time step from a zero hidden state (PyTorch's equations): with
    ``a = x_t W_ih + b_ih`` and ``b = h_(t-1) W_hh + b_hh`` split into (r, z, n),
    ``r = σ(a_r + b_r)``, ``z = σ(a_z + b_z)``, ``n = tanh(a_n + r ⊙ b_n)`` and
    ``h_t = (1 − z) ⊙ n + z ⊙ h_(t-1)``.

    Returns the hidden states ``h_1 … h_T``, the gates (r, z, n) side by side, and the
    recurrent part of the candidate ``b_n``, which the backward pass reuses.

    Shape:
        inputs: (batch, time, features); weights_ih: (features, 3·hidden); weights_hh:
        (hidden, 3·hidden); biases_ih, biases_hh: (3·hidden,) → (hidden states: (batch,
        time, hidden), gates: (batch, time, 3·hidden), recurrent candidates: (batch, time,
        hidden)).
    """
    batch, time, _ = inputs.shape
    size = weights_hh.shape[0]
    projected = affine(inputs, weights_ih, biases_ih)
    hidden_states = np.empty((batch, time, size), dtype=inputs.dtype)
    gates = np.empty((batch, time, 3 * size), dtype=inputs.dtype)
    candidates = np.empty((batch, time, size), dtype=inputs.dtype)
    hidden = np.zeros((batch, size), dtype=inputs.dtype)
    for step in range(time):
        a = projected[:, step]
        b = hidden @ weights_hh + biases_hh
        reset_update = _sigmoid(a[:, : 2 * size] + b[:, : 2 * size])
        r, z = reset_update[:, :size], reset_update[:, size:]
        n = np.tanh(a[:, 2 * size :] + r * b[:, 2 * size :])
        hidden = n + z * (hidden - n)  # (1 − z) n + z h, with one product fewer
        hidden_states[:, step] = hidden
        gates[:, step, : 2 * size], gates[:, step, 2 * size :] = reset_update, n
        candidates[:, step] = b[:, 2 * size :]
    return hidden_states, gates, candidates


@shapechecked(
    anchors=("weights_hh", "weights_ih", "inputs", "hidden_states", "gates", "candidates")
)
def gru_backward(
    dhidden: Floating[Array3D, "batch time hidden"],
    inputs: Floating[Array3D, "batch time features"],
    hidden_states: Floating[Array3D, "batch time hidden"],
    gates: Floating[Array3D, "batch time 3*hidden"],
    candidates: Floating[Array3D, "batch time hidden"],
    weights_ih: Floating[Array2D, "features 3*hidden"],
    weights_hh: Floating[Array2D, "hidden 3*hidden"],
) -> tuple[
    Floating[Array3D, "batch time features"],
    Floating[Array2D, "features 3*hidden"],
    Floating[Array2D, "hidden 3*hidden"],
    Floating[Array1D, " 3*hidden"],
    Floating[Array1D, " 3*hidden"],
]:
    """Backpropagation through time of `gru_forward`, given the gradient of every hidden
    state ``h_t`` (zeros where a state is not an output).

    The input side and the recurrent side of the gates differ only in the candidate: the
    reset gate scales ``b_n``, so the recurrent pre-activation of ``n`` gets ``r`` times
    the gradient its input pre-activation gets. Each side's gradients, gathered for all the
    steps, give its weight and bias gradients in one GEMM and one sum.

    Shape:
        dhidden, hidden_states, candidates: (batch, time, hidden); inputs: (batch, time,
        features); gates: (batch, time, 3·hidden); weights_ih: (features, 3·hidden);
        weights_hh: (hidden, 3·hidden) → (dinputs: (batch, time, features), dweights_ih,
        dweights_hh: the weights' shapes, dbiases_ih, dbiases_hh: (3·hidden,)).
    """
    batch, time, _ = inputs.shape
    size = weights_hh.shape[0]
    dinput_side = np.empty_like(gates)  # of a = x W_ih + b_ih
    drecurrent_side = np.empty_like(gates)  # of b = h W_hh + b_hh
    dnext = np.zeros((batch, size), dtype=inputs.dtype)
    for step in range(time - 1, -1, -1):
        gate = gates[:, step]
        r, z, n = gate[:, :size], gate[:, size : 2 * size], gate[:, 2 * size :]
        before = hidden_states[:, step - 1] if step else np.zeros_like(dnext)
        dh = dhidden[:, step] + dnext
        dn = dh * (1 - z) * (1 - n * n)
        da, db = dinput_side[:, step], drecurrent_side[:, step]
        da[:, :size] = dn * candidates[:, step] * r * (1 - r)
        da[:, size : 2 * size] = dh * (before - n) * z * (1 - z)
        da[:, 2 * size :] = dn
        db[:, : 2 * size] = da[:, : 2 * size]
        db[:, 2 * size :] = dn * r
        dnext = dh * z + db @ weights_hh.T
    rows = dinput_side.reshape(batch * time, -1)
    recurrent_rows = drecurrent_side.reshape(batch * time, -1)
    dinputs: Floating[Array3D, "batch time features"] = (rows @ weights_ih.T).reshape(inputs.shape)
    dweights_ih: Floating[Array2D, "features 3*hidden"] = inputs.reshape(batch * time, -1).T @ rows
    dweights_hh: Floating[Array2D, "hidden 3*hidden"] = _previous(hidden_states).T @ recurrent_rows
    dbiases_ih: Floating[Array1D, " 3*hidden"] = rows.sum(axis=0)
    dbiases_hh: Floating[Array1D, " 3*hidden"] = recurrent_rows.sum(axis=0)
    return dinputs, dweights_ih, dweights_hh, dbiases_ih, dbiases_hh


# --- the layers -----------------------------------------------------------------------------


def _with_sequence_hint(forward: Callable[..., Any]) -> Callable[..., Any]:
    """The checked ``forward``, whose ShapeError for an input of the wrong rank carries
    `_Recurrent.input_hint` (add a time axis), which the engine cannot guess: nothing in a
    (batch, features) array says how many steps its rows hold."""

    @functools.wraps(forward)
    def hinted(self: "_Recurrent", inputs: Any, *args: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True  # pytest: the caller's line is what matters
        try:
            return forward(self, inputs, *args, **kwargs)
        except ShapeError as err:
            hint = None
            if err.argument == "inputs" and isinstance(inputs, np.ndarray):
                hint = self.input_hint(inputs.shape, err.argument)
            raise (err if hint is None else err.with_hint(hint)).with_traceback(None) from None

    return hinted


class _Recurrent(Layer):
    """What LSTM and GRU share: arguments, sizes, the output of each step or the last,
    hints for inputs that are not sequences, and export."""

    #: How many gates the cell stacks along the weights' second axis (4 for an LSTM).
    gate_count: ClassVar[int]
    #: PyTorch's gate order → ONNX's, see _ONNX_LSTM_ORDER.
    onnx_order: ClassVar[tuple[int, ...]]

    # The subclasses declare the parameters with their dims; here, for the shared code, in
    # the same order (the declaration order of a base comes first in the annotations read).
    weights_hh: Any
    weights_ih: Any
    biases_ih: Any
    biases_hh: Any
    # Their gradients, set by backward (not declared state: nothing saves them).
    dweights_ih: npt.NDArray[Any]
    dweights_hh: npt.NDArray[Any]
    dbiases_ih: npt.NDArray[Any]
    dbiases_hh: npt.NDArray[Any]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)  # the engine checks the methods: forward is wrapped
        forward = vars(cls).get("forward")
        if callable(forward) and getattr(forward, "__shapenn_checker__", None) is not None:
            setattr(cls, "forward", _with_sequence_hint(forward))  # noqa: B010

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        return_sequences: bool = False,
        *,
        dtype: npt.DTypeLike = np.float32,
        seed: int | np.random.Generator | None = None,
    ) -> None:
        owner = type(self).__name__
        features = positive(owner, "input_size", input_size)
        size = positive(owner, "hidden_size", hidden_size)
        if not isinstance(return_sequences, bool | np.bool_):
            raise ArgumentError(
                f"{owner}: return_sequences must be a bool (True: the output of every step, "
                f"(batch, time, hidden); False: the last step's, (batch, hidden)), got "
                f"{shown(return_sequences)}"
            )
        self.return_sequences: bool = bool(return_sequences)
        float_dtype = init.float_dtype(dtype, owner)
        stacked = self.gate_count * size
        sizes = f"input_size={shown(features)} and hidden_size={shown(size)}"
        for name, shape in (("weights_ih", (features, stacked)), ("weights_hh", (size, stacked))):
            fits_memory(owner, f"{sizes} make {name} of shape", shape, float_dtype)
        rng = generator(owner, seed)
        # PyTorch's initialization: every weight and bias from U(−1/√hidden, 1/√hidden),
        # drawn in its order (weight_ih, weight_hh, bias_ih, bias_hh).
        bound = 1.0 / math.sqrt(size)
        self.weights_ih = _uniform((features, stacked), bound, rng, float_dtype, owner)
        self.weights_hh = _uniform((size, stacked), bound, rng, float_dtype, owner)
        self.biases_ih = _uniform((stacked,), bound, rng, float_dtype, owner)
        self.biases_hh = _uniform((stacked,), bound, rng, float_dtype, owner)
        self.dweights_ih = init.zeros((features, stacked), float_dtype)
        self.dweights_hh = init.zeros((size, stacked), float_dtype)
        self.dbiases_ih = init.zeros((stacked,), float_dtype)
        self.dbiases_hh = init.zeros((stacked,), float_dtype)

    @property
    def input_size(self) -> int:
        return int(self.weights_ih.shape[0])

    @property
    def hidden_size(self) -> int:
        return int(self.weights_hh.shape[0])

    @property
    def dtype(self) -> np.dtype[Any]:
        dtype: np.dtype[Any] = self.weights_ih.dtype
        return dtype

    def __repr__(self) -> str:
        every = ", return_sequences=True" if self.return_sequences else ""
        return f"{type(self).__name__}({self.input_size} → {self.hidden_size}{every})"

    def resized(self, dims: Mapping[str, int]) -> str:
        """This layer's constructor call with ``features``/``hidden`` changed, for error
        hints."""
        every = ", return_sequences=True" if self.return_sequences else ""
        features = dims.get("features", self.input_size)
        return f"{type(self).__name__}({features}, {dims.get('hidden', self.hidden_size)}{every})"

    def input_hint(self, shape: Sequence[Size], name: str = "inputs") -> str | None:
        """How to make an input of ``shape`` a batch-first sequence (batch, time, features),
        for error hints; None when the rank is right and nothing better than the shape
        check's own words can be said.

        A time-major array (time, batch, features) has the right rank and cannot be told
        apart by its shape: it is only named here, for an input that needs a fix anyway.
        """
        features = self.input_size
        want = (
            f"{type(self).__name__} takes batch-first sequences (batch, time, features={features})"
        )
        time_major = f"; a time-major array (time, batch, features) is `{name}.transpose(1, 0, 2)`"
        if len(shape) == 3:
            if shape[1] == features and shape[2] != features:
                return (
                    f"`{name}` looks like (batch, features, time): pass `{name}.transpose(0, 2, 1)`"
                )
            return None
        if len(shape) == 2:
            width = shape[1]
            if isinstance(width, int) and width != features and width % features == 0:
                steps = width // features
                return (
                    f"{want}: if each row holds {steps} steps of {features} features one after "
                    f"the other, add a time axis with `{name}.reshape(-1, {steps}, {features})`"
                )
            return (
                f"{want}: add a time axis, `{name}[:, None, :]` (each row one time step) or "
                f"`{name}.reshape(batch, time, {features})` (rows that hold whole sequences)"
                + time_major
            )
        if len(shape) == 1:
            return (
                f"{want}: for one sequence, `{name}.reshape(1, -1, {features})`; for a batch, "
                f"`{name}.reshape(batch, time, {features})`"
            )
        return None

    def compute_output_shape(self, input_shape: tuple[Size, ...]) -> tuple[Size, ...] | None:
        """``(batch, time, hidden)`` with ``return_sequences``, else ``(batch, hidden)``.

        The input is checked against ``forward``'s annotation; the output is chosen by the
        config, which the annotation (either shape) leaves open.

        Raises:
            ShapeError: the input does not fit, with `input_hint`'s fix when it has one.
        """
        try:
            infer_output(self, input_shape)
        except ShapeError as err:
            hint = self.input_hint(input_shape, err.argument)
            raise (err if hint is None else err.with_hint(hint)).with_traceback(None) from None
        batch, time = input_shape[0], input_shape[1]  # it fits: (batch, time, features)
        if self.return_sequences:
            return (batch, time, self.hidden_size)
        return (batch, self.hidden_size)

    def _outputs(self, hidden_states: Any) -> Any:
        """What ``forward`` returns: every step's hidden state, or the last one's."""
        if self.return_sequences:
            return hidden_states
        return hidden_states[:, -1].copy()  # not a view: it would keep every step alive

    def _dhidden(self, dvalues: Any) -> Any:
        """The gradient of every hidden state from ``dvalues``: itself with
        ``return_sequences``; else zeros but for the last step."""
        expected = 3 if self.return_sequences else 2
        if dvalues.ndim != expected:
            shape = "(batch, time, hidden)" if self.return_sequences else "(batch, hidden)"
            raise ShapeError.create(
                f"{self!r}.backward",
                "dvalues",
                f"floating-point {shape}, the shape of the output",
                f"{dvalues.shape} {dvalues.dtype}",
                f"it is {dvalues.ndim}-D, but the layer returned a {expected}-D output "
                f"(return_sequences={self.return_sequences})",
                located=True,
            )
        if self.return_sequences:
            return dvalues
        # Sized by dvalues, not by the forward's states: a mismatch is then the kernel's
        # ShapeError in its words, not NumPy's broadcasting error.
        steps = self.hidden_states.shape[1]
        dhidden = np.zeros((dvalues.shape[0], steps, *dvalues.shape[1:]), dtype=dvalues.dtype)
        dhidden[:, -1] = dvalues
        return dhidden

    def _store(self, gradients: Sequence[Any]) -> Any:
        dinputs, self.dweights_ih, self.dweights_hh, self.dbiases_ih, self.dbiases_hh = gradients
        self._cache(dinputs=dinputs)
        return dinputs

    # --- export -----------------------------------------------------------------------------

    def _torch_layout(self) -> tuple[Any, Any, Any, Any]:
        """weight_ih, weight_hh, bias_ih, bias_hh as PyTorch keeps them: (gates · hidden, in)."""
        return (
            np.ascontiguousarray(self.weights_ih.T),
            np.ascontiguousarray(self.weights_hh.T),
            self.biases_ih.copy(),
            self.biases_hh.copy(),
        )

    def export_torch(self, torch: Any) -> Any:
        # nn.LSTM / nn.GRU with batch_first; they return (outputs, states), so a small module
        # around them returns what this layer does.
        cls = torch.nn.LSTM if self.gate_count == 4 else torch.nn.GRU
        rnn = cls(
            self.input_size, self.hidden_size, batch_first=True, dtype=_torch_dtype(torch, self)
        )
        with torch.no_grad():
            for parameter, array in zip(
                (rnn.weight_ih_l0, rnn.weight_hh_l0, rnn.bias_ih_l0, rnn.bias_hh_l0),
                self._torch_layout(),
                strict=True,
            ):
                parameter.copy_(torch.from_numpy(array))
        return _torch_module(torch)(rnn, self.return_sequences)

    def export_onnx(self, graph: Any, inputs: str) -> str:
        # ONNX's LSTM and GRU take time-major inputs (time, batch, features) and return
        # (time, directions = 1, batch, hidden); the gates are reordered to ONNX's order.
        weight_ih, weight_hh, bias_ih, bias_hh = self._torch_layout()
        order = self.onnx_order
        size = self.hidden_size

        def reordered(array: Any) -> Any:
            return np.concatenate([array[k * size : (k + 1) * size] for k in order])

        attributes: dict[str, Any] = {"hidden_size": size}
        if self.gate_count == 3:
            attributes["linear_before_reset"] = 1  # PyTorch's n: r applied after W_hn h + b_hn
        steps_first = graph.add("Transpose", [inputs], perm=[1, 0, 2])
        every = graph.add(
            "LSTM" if self.gate_count == 4 else "GRU",
            [
                steps_first,
                graph.constant("W", reordered(weight_ih)[None]),
                graph.constant("R", reordered(weight_hh)[None]),
                graph.constant("B", np.concatenate([reordered(bias_ih), reordered(bias_hh)])[None]),
            ],
            **attributes,
        )
        # The size-1 directions axis dropped: (time, batch, hidden).
        squeezed = graph.add("Squeeze", [every, graph.add("Constant", [], value_ints=[1])])
        if self.return_sequences:
            return str(graph.add("Transpose", [squeezed], perm=[1, 0, 2]))
        last = graph.add("Constant", [], value_int=-1)  # a scalar index: the axis goes
        return str(graph.add("Gather", [squeezed, last], axis=0))


def _uniform(
    shape: tuple[int, ...],
    bound: float,
    rng: np.random.Generator,
    dtype: np.dtype[Any],
    owner: str,
) -> np.ndarray[Any, np.dtype[Any]]:
    """``U(−bound, bound)`` in ``dtype``, drawn in float64 and cast once; nothing drawn (and
    nothing touched) when the layer is built to be loaded (`init.uninitialized`)."""

    def draw(
        shape: tuple[int, ...], rng: np.random.Generator, dtype: np.dtype[Any]
    ) -> np.ndarray[Any, np.dtype[Any]]:
        return rng.uniform(-bound, bound, size=shape).astype(dtype)

    hint = Floating[Array2D, "rows columns"] if len(shape) == 2 else Floating[Array1D, " columns"]
    fans = (shape[0], shape[-1])  # not read: the draw is a function
    return init.draw(draw, shape, fans, rng, dtype, hint=hint, where=f"{owner}(...)")


@functools.cache
def _torch_module(torch: Any) -> Any:
    """The torch module class that runs an ``nn.LSTM``/``nn.GRU`` and keeps the output of
    every step or of the last (one class per imported torch)."""

    class RecurrentOutputs(torch.nn.Module):  # type: ignore[misc]
        """An ``nn.LSTM`` or ``nn.GRU`` (batch first) returning every step's hidden state,
        (batch, time, hidden), or with ``return_sequences=False`` the last step's."""

        def __init__(self, rnn: Any, return_sequences: bool) -> None:
            super().__init__()
            self.rnn = rnn
            self.return_sequences = return_sequences

        def forward(self, inputs: Any) -> Any:
            outputs, _ = self.rnn(inputs)
            return outputs if self.return_sequences else outputs[:, -1]

        def extra_repr(self) -> str:
            return f"return_sequences={self.return_sequences}"

    return RecurrentOutputs


class LSTM(_Recurrent):
    """A long short-term memory layer over batch-first sequences (PyTorch's
    ``nn.LSTM(input_size, hidden_size, batch_first=True)``, Keras's ``LSTM``).

    Inputs are **batch first**, ``(batch, time, features)``: axis 0 is the sample, axis 1 the
    time step. A time-major array ``(time, batch, features)`` has the same rank and cannot be
    told apart by its shape; transpose it first, ``X.transpose(1, 0, 2)``. A 2-D input is a
    ShapeError whose hint adds a time axis (``X[:, None, :]``: each row one step).

    Each step, from zero states at the start of every sequence::

        i, f, g, o = split(x_t @ weights_ih + biases_ih + h_(t-1) @ weights_hh + biases_hh)
        c_t = σ(f) · c_(t-1) + σ(i) · tanh(g)
        h_t = σ(o) · tanh(c_t)

    Args:
        input_size: the features of each time step (``features``).
        hidden_size: the size of the hidden and cell states (``hidden``).
        return_sequences: True: the hidden state of every step, (batch, time, hidden), as
            Keras's ``return_sequences``; False (the default): the last step's,
            (batch, hidden).
        dtype: float32 (default) or float64. Inputs must have the same dtype.
        seed: seed or ``numpy.random.Generator`` for the initial weights; None draws fresh
            entropy.

    Attributes:
        weights_ih: (features, 4·hidden), the four gates (i, f, g, o) side by side: PyTorch's
            ``weight_ih_l0`` transposed. weights_hh: (hidden, 4·hidden), likewise.
        biases_ih, biases_hh: (4·hidden,), PyTorch's two bias vectors. All drawn from
            U(−1/√hidden, 1/√hidden), as PyTorch's.
        dweights_ih, dweights_hh, dbiases_ih, dbiases_hh: their gradients after ``backward``.

    Shape:
        forward: (batch, time, features) → (batch, time, hidden) with ``return_sequences``,
        else (batch, hidden). backward: the output's shape → (batch, time, features).

    Example::

        >>> layer = LSTM(8, 16, seed=0)
        >>> layer
        LSTM(8 → 16)
        >>> layer.forward(np.zeros((2, 5, 8), dtype=np.float32)).shape
        (2, 16)
    """

    gate_count: ClassVar[int] = 4
    onnx_order: ClassVar[tuple[int, ...]] = _ONNX_LSTM_ORDER

    # weights_hh first: it binds `hidden`, which the others' `4*hidden` is computed from.
    weights_hh: Floating[Array2D, "hidden 4*hidden"]
    weights_ih: Floating[Array2D, "features 4*hidden"]
    biases_ih: Floating[Array1D, " 4*hidden"]
    biases_hh: Floating[Array1D, " 4*hidden"]

    def forward(
        self, inputs: Floating[Array3D, "batch time features"]
    ) -> Floating[Array3D, "batch time hidden"] | Floating[Array2D, "batch hidden"]:
        """Run the LSTM over the sequences; remember what ``backward`` needs.

        Shape: inputs (batch, time, features) → (batch, time, hidden) or (batch, hidden)
        """
        hidden_states, cells, gates = lstm_forward(
            inputs, self.weights_ih, self.weights_hh, self.biases_ih, self.biases_hh
        )
        output: Floating[Array3D, "batch time hidden"] | Floating[Array2D, "batch hidden"] = (
            self._outputs(hidden_states)
        )
        self._cache(
            inputs=inputs, output=output, hidden_states=hidden_states, cells=cells, gates=gates
        )
        return output

    def backward(
        self,
        dvalues: Floating[Array3D, "batch time hidden"] | Floating[Array2D, "batch hidden"],
    ) -> Floating[Array3D, "batch time features"]:
        """Store the four parameter gradients; return the gradient of the inputs.

        Shape: dvalues (batch, time, hidden) or (batch, hidden) → (batch, time, features)
        """
        gradients = lstm_backward(
            self._dhidden(dvalues),
            self.inputs,
            self.hidden_states,
            self.cells,
            self.gates,
            self.weights_ih,
            self.weights_hh,
        )
        dinputs: Floating[Array3D, "batch time features"] = self._store(gradients)
        return dinputs


class GRU(_Recurrent):
    """A gated recurrent unit layer over batch-first sequences (PyTorch's
    ``nn.GRU(input_size, hidden_size, batch_first=True)``; Keras's ``GRU`` with
    ``reset_after=True``).

    Inputs are **batch first**, ``(batch, time, features)``: axis 0 is the sample, axis 1 the
    time step. A time-major array ``(time, batch, features)`` has the same rank and cannot be
    told apart by its shape; transpose it first, ``X.transpose(1, 0, 2)``. A 2-D input is a
    ShapeError whose hint adds a time axis (``X[:, None, :]``: each row one step).

    Each step, from a zero state at the start of every sequence, as PyTorch computes it (the
    reset gate scales the recurrent part of the candidate, biases included)::

        a_r, a_z, a_n = split(x_t @ weights_ih + biases_ih)
        b_r, b_z, b_n = split(h_(t-1) @ weights_hh + biases_hh)
        r = σ(a_r + b_r);  z = σ(a_z + b_z);  n = tanh(a_n + r · b_n)
        h_t = (1 − z) · n + z · h_(t-1)

    Args:
        input_size: the features of each time step (``features``).
        hidden_size: the size of the hidden state (``hidden``).
        return_sequences: True: the hidden state of every step, (batch, time, hidden), as
            Keras's ``return_sequences``; False (the default): the last step's,
            (batch, hidden).
        dtype: float32 (default) or float64. Inputs must have the same dtype.
        seed: seed or ``numpy.random.Generator`` for the initial weights; None draws fresh
            entropy.

    Attributes:
        weights_ih: (features, 3·hidden), the three gates (r, z, n) side by side: PyTorch's
            ``weight_ih_l0`` transposed. weights_hh: (hidden, 3·hidden), likewise.
        biases_ih, biases_hh: (3·hidden,), PyTorch's two bias vectors. All drawn from
            U(−1/√hidden, 1/√hidden), as PyTorch's.
        dweights_ih, dweights_hh, dbiases_ih, dbiases_hh: their gradients after ``backward``.

    Shape:
        forward: (batch, time, features) → (batch, time, hidden) with ``return_sequences``,
        else (batch, hidden). backward: the output's shape → (batch, time, features).

    Example::

        >>> layer = GRU(8, 16, return_sequences=True, seed=0)
        >>> layer
        GRU(8 → 16, return_sequences=True)
        >>> layer.forward(np.zeros((2, 5, 8), dtype=np.float32)).shape
        (2, 5, 16)
    """

    gate_count: ClassVar[int] = 3
    onnx_order: ClassVar[tuple[int, ...]] = _ONNX_GRU_ORDER

    # weights_hh first: it binds `hidden`, which the others' `3*hidden` is computed from.
    weights_hh: Floating[Array2D, "hidden 3*hidden"]
    weights_ih: Floating[Array2D, "features 3*hidden"]
    biases_ih: Floating[Array1D, " 3*hidden"]
    biases_hh: Floating[Array1D, " 3*hidden"]

    def forward(
        self, inputs: Floating[Array3D, "batch time features"]
    ) -> Floating[Array3D, "batch time hidden"] | Floating[Array2D, "batch hidden"]:
        """Run the GRU over the sequences; remember what ``backward`` needs.

        Shape: inputs (batch, time, features) → (batch, time, hidden) or (batch, hidden)
        """
        hidden_states, gates, candidates = gru_forward(
            inputs, self.weights_ih, self.weights_hh, self.biases_ih, self.biases_hh
        )
        output: Floating[Array3D, "batch time hidden"] | Floating[Array2D, "batch hidden"] = (
            self._outputs(hidden_states)
        )
        self._cache(
            inputs=inputs,
            output=output,
            hidden_states=hidden_states,
            gates=gates,
            candidates=candidates,
        )
        return output

    def backward(
        self,
        dvalues: Floating[Array3D, "batch time hidden"] | Floating[Array2D, "batch hidden"],
    ) -> Floating[Array3D, "batch time features"]:
        """Store the four parameter gradients; return the gradient of the inputs.

        Shape: dvalues (batch, time, hidden) or (batch, hidden) → (batch, time, features)
        """
        gradients = gru_backward(
            self._dhidden(dvalues),
            self.inputs,
            self.hidden_states,
            self.gates,
            self.candidates,
            self.weights_ih,
            self.weights_hh,
        )
        dinputs: Floating[Array3D, "batch time features"] = self._store(gradients)
        return dinputs
