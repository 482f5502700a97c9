"""Inverted dropout: in training, zero a fraction ``rate`` of the values and scale the rest."""

import numpy as np
from jaxtyping import Float

from ._activations import identity_backward, identity_forward
from ._layer import Layer, not_called
from ._shapes import Array2D, located, shapechecked

__all__ = ["Dropout", "dropout_backward", "dropout_forward"]


@shapechecked
def dropout_forward(
    inputs: Float[Array2D, "batch features"], rate: float, rng: np.random.Generator
) -> tuple[Float[Array2D, "batch features"], Float[Array2D, "batch features"]]:
    """Keep each value with probability ``1 − rate`` and scale it by ``1 / (1 − rate)``.

    Returns the outputs ``inputs · mask`` and the mask (0 or ``1 / (1 − rate)``).

    Shape:
        inputs: (batch, features) → (outputs, mask): (batch, features) each.
    """
    keep = 1.0 - rate
    draws = rng.random(inputs.shape, dtype=inputs.dtype)
    mask: Float[Array2D, "batch features"] = (draws < keep) / np.asarray(keep, inputs.dtype)
    return inputs * mask, mask


@shapechecked(anchors=("mask",))
def dropout_backward(
    dvalues: Float[Array2D, "batch features"], mask: Float[Array2D, "batch features"]
) -> Float[Array2D, "batch features"]:
    """``dvalues · mask``: the gradient flows only where the value was kept.

    Shape:
        dvalues, mask: (batch, features) → (batch, features).
    """
    dinputs: Float[Array2D, "batch features"] = dvalues * mask
    return dinputs


class Dropout(Layer):
    """Inverted dropout, the book's ``Layer_Dropout``; active only while ``training`` is True.

    Args:
        rate: fraction of values dropped, in [0, 1).
        seed: seed or ``numpy.random.Generator`` for the masks.

    Shape:
        forward: (batch, features) → (batch, features); backward likewise.
    """

    def __init__(self, rate: float, *, seed: int | np.random.Generator | None = None) -> None:
        if not (isinstance(rate, int | float) and 0.0 <= rate < 1.0):
            raise ValueError(f"Dropout: rate must be in [0, 1), got {rate!r}")
        self.rate = float(rate)
        self.rng = np.random.default_rng(seed)
        self.mask: Float[Array2D, "batch features"] | None = None

    def __repr__(self) -> str:
        return f"Dropout({self.rate:g})"

    @located
    def forward(self, inputs: Float[Array2D, "batch features"]) -> Float[Array2D, "batch features"]:
        """Drop values in training; pass ``inputs`` through unchanged otherwise."""
        if self.training and self.rate:
            output, mask = dropout_forward(inputs, self.rate, self.rng)
        else:
            output, mask = identity_forward(inputs), None
        self.inputs, self.output, self.mask = inputs, output, mask
        return output

    @located
    def backward(
        self, dvalues: Float[Array2D, "batch features"]
    ) -> Float[Array2D, "batch features"]:
        if self.inputs is None:
            raise not_called(self, "backward")
        if self.mask is None:  # not in training: the identity
            self.dinputs = identity_backward(dvalues, self.inputs)
        else:
            self.dinputs = dropout_backward(dvalues, self.mask)
        return self.dinputs
