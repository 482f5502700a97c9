"""Inverted dropout: in training, zero a fraction ``rate`` of the values and scale the rest."""

from typing import Any

import numpy as np

from .._args import generator, real
from .._registry import JSONValue
from ..shapes import ArrayND, Batched, Floating, shapechecked
from ._activations import identity_backward, identity_forward
from ._layer import Layer

__all__ = ["Dropout", "dropout_backward", "dropout_forward"]


@shapechecked
def dropout_forward(
    inputs: Floating[ArrayND, "*shape"], rate: float, rng: np.random.Generator
) -> tuple[Floating[ArrayND, "*shape"], Floating[ArrayND, "*shape"]]:
    """Keep each value with probability ``1 − rate`` and scale it by ``1 / (1 − rate)``.

    Returns the outputs ``inputs · mask`` and the mask (0 or ``1 / (1 − rate)``).

    Shape:
        inputs: any shape → (outputs, mask): the same shape each.
    """
    keep = 1.0 - rate
    # Drawn in the native byte order (NumPy draws no other), returned in the inputs' own.
    native = inputs.dtype.newbyteorder("=")
    draws = rng.random(inputs.shape, dtype=native)
    mask: Floating[ArrayND, "*shape"] = ((draws < keep) / np.asarray(keep, native)).astype(
        inputs.dtype, copy=False
    )
    outputs: Floating[ArrayND, "*shape"] = (inputs * mask).astype(inputs.dtype, copy=False)
    return outputs, mask


@shapechecked(anchors=("mask",))
def dropout_backward(
    dvalues: Floating[ArrayND, "*shape"], mask: Floating[ArrayND, "*shape"]
) -> Floating[ArrayND, "*shape"]:
    """``dvalues · mask``: the gradient flows only where the value was kept.

    Shape:
        dvalues, mask: one shape → the same shape.
    """
    # In the gradient's own dtype: NumPy computes a big-endian product in native order.
    dinputs: Floating[ArrayND, "*shape"] = (dvalues * mask).astype(dvalues.dtype, copy=False)
    return dinputs


class Dropout(Layer):
    """Inverted dropout, the book's ``Layer_Dropout``; active only while ``training`` is True.

    Args:
        rate: fraction of values dropped, in [0, 1).
        seed: seed or ``numpy.random.Generator`` for the masks.

    Shape:
        forward: (batch, *features) → the same shape; backward likewise.
    """

    kernels_keyed = True

    def __init__(self, rate: float, *, seed: int | np.random.Generator | None = None) -> None:
        self.rate: float = real(
            type(self).__name__, "rate", rate, low=0.0, high=1.0, high_open=True
        )
        self.rng: np.random.Generator = generator(type(self).__name__, seed)
        self.mask: Floating[ArrayND, " batch *features"] | None = None

    def __repr__(self) -> str:
        return f"Dropout({self.rate:g})"

    def forward(
        self, inputs: Floating[Batched, " batch *features"]
    ) -> Floating[Batched, " batch *features"]:
        """Drop values in training; pass ``inputs`` through unchanged otherwise.

        Shape: inputs (batch, *features) → (batch, *features)
        """
        if self.training and self.rate:
            output, mask = dropout_forward(inputs, self.rate, self.rng)
        else:
            output, mask = identity_forward(inputs), None
        self._cache(inputs=inputs, output=output)
        self.mask = mask
        return output  # pyright: ignore[reportReturnType]

    def backward(
        self, dvalues: Floating[Batched, " batch *features"]
    ) -> Floating[Batched, " batch *features"]:
        """The gradient where values were kept (all of it outside training).

        Shape: dvalues (batch, *features) → (batch, *features)
        """
        if self.mask is None:  # not in training: the identity
            dinputs = identity_backward(dvalues, self.inputs)
        else:
            dinputs = dropout_backward(dvalues, self.mask)
        self.dinputs = dinputs
        return dinputs  # pyright: ignore[reportReturnType]

    def export_onnx(self, graph: Any, inputs: str) -> str:
        return inputs  # inference keeps every value: nothing to compute

    def export_torch(self, torch: Any) -> Any:
        return torch.nn.Dropout(p=self.rate)  # kept: training may go on in PyTorch

    def get_state(self) -> dict[str, JSONValue]:
        """The random generator's state, so resumed training draws the same masks."""
        return {"rng": dict(self.rng.bit_generator.state)}

    def set_state(self, state: dict[str, JSONValue]) -> None:
        self.rng.bit_generator.state = state["rng"]
