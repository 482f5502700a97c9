"""Layer normalization: each position's features to zero mean and unit variance, then scaled
and shifted by learned ``gamma`` and ``beta``."""

from typing import Any

import numpy as np
import numpy.typing as npt

from .._args import nonnegative, positive
from ..shapes import Array1D, ArrayND, Batched, Floating, shapechecked
from . import _init as init
from ._init import torch_dtype as _torch_dtype
from ._layer import Layer
from ._rows import column_sums, row_means

__all__ = ["LayerNorm", "layer_norm_backward", "layer_norm_forward"]


@shapechecked(anchors=("gamma", "beta"))
def layer_norm_forward(
    inputs: Floating[Batched, "batch *positions features"],
    gamma: Floating[Array1D, " features"],
    beta: Floating[Array1D, " features"],
    eps: float,
) -> tuple[
    Floating[Batched, "batch *positions features"],
    Floating[Batched, "batch *positions features"],
    Floating[ArrayND, "batch *positions 1"],
]:
    """``gamma · (x − mean) / √(var + eps) + beta`` over the last axis (the biased variance,
    as PyTorch and Keras).

    Returns the outputs, the normalized inputs ``x̂`` and ``1 / √(var + eps)``, which the
    backward pass reuses.

    Shape:
        inputs: (batch, *positions, features); gamma, beta: (features,) → (outputs and x̂: the
        inputs' shape, inv_std: (batch, *positions, 1)).
    """
    mean = row_means(inputs)
    # In place where it changes no rounding: each large temporary costs its page faults or
    # cache misses again. The centered inputs become the normalized ones.
    normalized: Floating[Batched, "batch *positions features"] = inputs - mean
    variance = row_means(np.square(normalized))
    inv_std: Floating[ArrayND, "batch *positions 1"] = 1 / np.sqrt(
        variance + inputs.dtype.type(eps)
    )
    normalized *= inv_std
    outputs: Floating[Batched, "batch *positions features"] = normalized * gamma
    outputs += beta
    return outputs, normalized, inv_std


@shapechecked(anchors=("normalized", "inv_std", "gamma"))
def layer_norm_backward(
    dvalues: Floating[Batched, "batch *positions features"],
    normalized: Floating[ArrayND, "batch *positions features"],
    inv_std: Floating[ArrayND, "batch *positions 1"],
    gamma: Floating[Array1D, " features"],
) -> tuple[
    Floating[Batched, "batch *positions features"],
    Floating[Array1D, " features"],
    Floating[Array1D, " features"],
]:
    """Gradients of layer normalization: with ``g = dvalues · gamma``,
    ``dinputs = inv_std · (g − mean(g) − x̂ · mean(g · x̂))`` (means over the features),
    ``dgamma = Σ dvalues · x̂``, ``dbeta = Σ dvalues`` (sums over every position).

    Shape:
        dvalues, normalized: (batch, *positions, features); inv_std: (batch, *positions, 1);
        gamma: (features,) → (dinputs: the inputs' shape, dgamma, dbeta: (features,)).
    """
    scaled = dvalues * gamma
    mean_scaled = row_means(scaled)
    mean_product = row_means(scaled * normalized)
    # inv_std · (g − mean(g) − x̂ · mean(g · x̂)), evaluated in that order, in place.
    np.subtract(scaled, mean_scaled, out=scaled)
    scaled -= normalized * mean_product
    scaled *= inv_std
    dinputs: Floating[Batched, "batch *positions features"] = scaled
    rows = dvalues.reshape(-1, dvalues.shape[-1])
    dgamma: Floating[Array1D, " features"] = column_sums(rows * normalized.reshape(rows.shape))
    dbeta: Floating[Array1D, " features"] = column_sums(rows)
    return dinputs, dgamma, dbeta


class LayerNorm(Layer):
    """Layer normalization over the last axis (PyTorch's ``nn.LayerNorm(features)``, Keras's
    ``LayerNormalization``): each position's features are normalized by their own mean and
    variance, so it acts the same in training and inference, whatever the batch.

    Args:
        features: the size of the last axis (``features``).
        eps: added to the variance, 1e-5 as PyTorch.
        dtype: float32 (default) or float64.

    Attributes:
        gamma: (features,), ones at first; beta: (features,), zeros at first.

    Shape:
        forward: (batch, *positions, features) → the same shape; backward likewise.
    """

    kernels_keyed = True

    gamma: Floating[Array1D, " features"]
    beta: Floating[Array1D, " features"]

    def __init__(
        self, features: int, *, eps: float = 1e-5, dtype: npt.DTypeLike = np.float32
    ) -> None:
        size = positive("LayerNorm", "features", features)
        self.eps: float = nonnegative("LayerNorm", "eps", eps)
        float_dtype = init.float_dtype(dtype, "LayerNorm")
        self.gamma = init.ones((size,), float_dtype)
        self.beta = init.zeros((size,), float_dtype)
        self.dgamma: Floating[Array1D, " features"] = init.zeros((size,), float_dtype)
        self.dbeta: Floating[Array1D, " features"] = init.zeros((size,), float_dtype)

    @property
    def features(self) -> int:
        return int(self.gamma.shape[0])

    @property
    def dtype(self) -> np.dtype[Any]:
        return self.gamma.dtype

    def __repr__(self) -> str:
        return f"LayerNorm({self.features})"

    def resized(self, dims: dict[str, int]) -> str:
        """This layer's constructor call with ``features`` changed, for error hints."""
        return f"LayerNorm({dims.get('features', self.features)})"

    def forward(
        self, inputs: Floating[Batched, "batch *positions features"]
    ) -> Floating[Batched, "batch *positions features"]:
        """Normalize each position's features; remember what ``backward`` needs.

        Shape: inputs (batch, *positions, features) → (batch, *positions, features)
        """
        output, normalized, inv_std = layer_norm_forward(inputs, self.gamma, self.beta, self.eps)
        self._cache(inputs=inputs, output=output, normalized=normalized, inv_std=inv_std)
        return output

    def backward(
        self, dvalues: Floating[Batched, "batch *positions features"]
    ) -> Floating[Batched, "batch *positions features"]:
        """Store ``dgamma`` and ``dbeta``; return the gradient for the previous layer.

        Shape: dvalues (batch, *positions, features) → (batch, *positions, features)
        """
        dinputs, dgamma, dbeta = layer_norm_backward(
            dvalues, self.normalized, self.inv_std, self.gamma
        )
        self.dgamma, self.dbeta = dgamma, dbeta
        self._cache(dinputs=dinputs)
        return dinputs

    def export_onnx(self, graph: Any, inputs: str) -> str:
        return str(
            graph.add(
                "LayerNormalization",
                [inputs, graph.constant("gamma", self.gamma), graph.constant("beta", self.beta)],
                axis=-1,
                epsilon=self.eps,
            )
        )

    def export_torch(self, torch: Any) -> Any:
        norm = torch.nn.LayerNorm(self.features, eps=self.eps, dtype=_torch_dtype(torch, self))
        with torch.no_grad():
            norm.weight.copy_(torch.from_numpy(self.gamma.copy()))
            norm.bias.copy_(torch.from_numpy(self.beta.copy()))
        return norm
