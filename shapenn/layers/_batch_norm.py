"""Batch normalization: each channel to zero mean and unit variance over the batch (and the
pixels of an image), scaled and shifted by learned ``gamma`` and ``beta``; in inference, by the
running statistics kept as buffers.

``BatchNorm1D`` normalizes the features of (batch, features); ``BatchNorm2D`` the channels of
NCHW images. The kernels serve both: their statistics run over every axis but the channels'.
"""

from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from .._args import nonnegative, positive
from .._registry import JSONValue
from ..shapes import (
    ArgumentError,
    Array1D,
    Array2D,
    Array4D,
    ArrayND,
    Batched,
    Buffer,
    Floating,
    shapechecked,
)
from . import _init as init
from ._init import torch_dtype as _torch_dtype
from ._layer import Layer

__all__ = [
    "BatchNorm1D",
    "BatchNorm2D",
    "batch_norm_backward",
    "batch_norm_forward",
    "batch_norm_inference",
]


def _axes(values: Any) -> tuple[int, ...]:
    """The axes a channel's statistics run over: the batch and any after the channels."""
    return (0, *range(2, values.ndim))


def _per_channel(values: Any, ndim: int) -> Any:
    """(channels,) shaped to broadcast against (batch, channels, *spatial)."""
    return values.reshape(1, -1, *([1] * (ndim - 2)))


@shapechecked(anchors=("gamma", "beta"))
def batch_norm_forward(
    inputs: Floating[Batched, "batch channels *spatial"],
    gamma: Floating[Array1D, " channels"],
    beta: Floating[Array1D, " channels"],
    eps: float,
) -> tuple[
    Floating[Batched, "batch channels *spatial"],
    Floating[Batched, "batch channels *spatial"],
    Floating[Array1D, " channels"],
    Floating[Array1D, " channels"],
    Floating[Array1D, " channels"],
]:
    """Normalize with the batch's own statistics: ``gamma · (x − mean) / √(var + eps) + beta``,
    mean and (biased) variance per channel.

    Returns the outputs, the normalized inputs ``x̂``, ``1 / √(var + eps)`` per channel, and
    the batch's mean and unbiased variance per channel (for the running statistics, as
    PyTorch keeps them).

    Shape:
        inputs: (batch, channels, *spatial); gamma, beta: (channels,) → (outputs, x̂: the
        inputs' shape; inv_std, mean, variance: (channels,)).
    """
    axes, ndim = _axes(inputs), inputs.ndim
    mean: Floating[Array1D, " channels"] = inputs.mean(axis=axes)
    centered = inputs - _per_channel(mean, ndim)
    variance = (centered * centered).mean(axis=axes)
    inv_std: Floating[Array1D, " channels"] = 1 / np.sqrt(variance + inputs.dtype.type(eps))
    normalized: Floating[Batched, "batch channels *spatial"] = centered * _per_channel(
        inv_std, ndim
    )
    outputs: Floating[Batched, "batch channels *spatial"] = normalized * _per_channel(
        gamma, ndim
    ) + _per_channel(beta, ndim)
    count = inputs.size // max(inputs.shape[1], 1)
    unbiased: Floating[Array1D, " channels"] = variance * inputs.dtype.type(
        count / max(count - 1, 1)
    )
    return outputs, normalized, inv_std, mean, unbiased


@shapechecked(anchors=("gamma", "beta", "mean", "variance"))
def batch_norm_inference(
    inputs: Floating[Batched, "batch channels *spatial"],
    gamma: Floating[Array1D, " channels"],
    beta: Floating[Array1D, " channels"],
    mean: Floating[Array1D, " channels"],
    variance: Floating[Array1D, " channels"],
    eps: float,
) -> tuple[
    Floating[Batched, "batch channels *spatial"],
    Floating[Batched, "batch channels *spatial"],
    Floating[Array1D, " channels"],
]:
    """Normalize with given (running) statistics: ``gamma · (x − mean) / √(var + eps) + beta``.

    Returns the outputs, ``x̂`` and ``1 / √(var + eps)`` per channel.

    Shape:
        inputs: (batch, channels, *spatial); gamma, beta, mean, variance: (channels,)
        → (outputs, x̂: the inputs' shape; inv_std: (channels,)).
    """
    ndim = inputs.ndim
    inv_std: Floating[Array1D, " channels"] = 1 / np.sqrt(variance + inputs.dtype.type(eps))
    normalized: Floating[Batched, "batch channels *spatial"] = (
        inputs - _per_channel(mean, ndim)
    ) * _per_channel(inv_std, ndim)
    outputs: Floating[Batched, "batch channels *spatial"] = normalized * _per_channel(
        gamma, ndim
    ) + _per_channel(beta, ndim)
    return outputs, normalized, inv_std


@shapechecked(anchors=("normalized", "inv_std", "gamma"))
def batch_norm_backward(
    dvalues: Floating[Batched, "batch channels *spatial"],
    normalized: Floating[ArrayND, "batch channels *spatial"],
    inv_std: Floating[Array1D, " channels"],
    gamma: Floating[Array1D, " channels"],
    training: bool,
) -> tuple[
    Floating[Batched, "batch channels *spatial"],
    Floating[Array1D, " channels"],
    Floating[Array1D, " channels"],
]:
    """Gradients of batch normalization. With ``g = dvalues · gamma``: in training (the
    statistics depend on the batch) ``dinputs = inv_std · (g − mean(g) − x̂ · mean(g · x̂))``,
    means per channel; in inference ``dinputs = inv_std · g``. Always ``dgamma = Σ dvalues ·
    x̂`` and ``dbeta = Σ dvalues`` per channel.

    Shape:
        dvalues, normalized: (batch, channels, *spatial); inv_std, gamma: (channels,)
        → (dinputs: the inputs' shape, dgamma, dbeta: (channels,)).
    """
    axes, ndim = _axes(dvalues), dvalues.ndim
    scaled = dvalues * _per_channel(gamma, ndim)
    if training:
        scaled = (
            scaled
            - scaled.mean(axis=axes, keepdims=True)
            - normalized * (scaled * normalized).mean(axis=axes, keepdims=True)
        )
    dinputs: Floating[Batched, "batch channels *spatial"] = scaled * _per_channel(inv_std, ndim)
    dgamma: Floating[Array1D, " channels"] = (dvalues * normalized).sum(axis=axes)
    dbeta: Floating[Array1D, " channels"] = dvalues.sum(axis=axes)
    return dinputs, dgamma, dbeta


class _BatchNorm(Layer):
    """What the two batch normalizations share: parameters, running statistics (buffers), the
    update of those in training, and the kernels' calls."""

    kernels_keyed = True

    gamma: Floating[Array1D, " channels"]
    beta: Floating[Array1D, " channels"]
    running_mean: Buffer[Floating[Array1D, " channels"]]
    running_var: Buffer[Floating[Array1D, " channels"]]

    #: The name of the channel dim in the subclass's annotations, and its torch module.
    dim_name: ClassVar[str]
    torch_module: ClassVar[str]

    def __init__(
        self,
        size: int,
        *,
        momentum: float = 0.1,
        eps: float = 1e-5,
        dtype: npt.DTypeLike = np.float32,
    ) -> None:
        owner = type(self).__name__
        channels = positive(owner, self.dim_name, size)
        self.momentum: float = nonnegative(owner, "momentum", momentum)
        if self.momentum > 1:
            raise ArgumentError(f"{owner}: momentum must be in [0, 1], got {momentum!r}")
        self.eps: float = nonnegative(owner, "eps", eps)
        float_dtype = init.float_dtype(dtype)
        self.gamma = init.ones((channels,), float_dtype)
        self.beta = init.zeros((channels,), float_dtype)
        self.running_mean = init.zeros((channels,), float_dtype)
        self.running_var = init.ones((channels,), float_dtype)
        self.dgamma: Floating[Array1D, " channels"] = init.zeros((channels,), float_dtype)
        self.dbeta: Floating[Array1D, " channels"] = init.zeros((channels,), float_dtype)

    @property
    def size(self) -> int:
        return int(self.gamma.shape[0])

    @property
    def dtype(self) -> np.dtype[Any]:
        return self.gamma.dtype

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.size})"

    def get_config(self) -> dict[str, JSONValue]:
        return {
            self.dim_name: self.size,
            "momentum": self.momentum,
            "eps": self.eps,
            "dtype": str(self.dtype),
        }

    def resized(self, dims: dict[str, int]) -> str:
        """This layer's constructor call with its channels changed, for error hints."""
        return f"{type(self).__name__}({dims.get(self.dim_name, self.size)})"

    def _normalize(self, inputs: Any) -> Any:
        if self.training:
            if inputs.size // max(inputs.shape[1], 1) < 2:
                raise ArgumentError(
                    f"{self!r}.forward: a batch's statistics need more than one value per "
                    f"channel in training, got inputs of shape {inputs.shape}: train on batches "
                    "of at least 2 samples"
                )
            output, normalized, inv_std, mean, variance = batch_norm_forward(
                inputs, self.gamma, self.beta, self.eps
            )
            # The running statistics, updated in place: the buffers stay the same arrays.
            keep = self.dtype.type(1 - self.momentum)
            step = self.dtype.type(self.momentum)
            self.running_mean *= keep
            self.running_mean += step * mean
            self.running_var *= keep
            self.running_var += step * variance
        else:
            output, normalized, inv_std = batch_norm_inference(
                inputs, self.gamma, self.beta, self.running_mean, self.running_var, self.eps
            )
        self._cache(inputs=inputs, output=output, normalized=normalized, inv_std=inv_std)
        self.normalized_in_training: bool = self.training
        return output

    def _gradients(self, dvalues: Any) -> Any:
        dinputs, dgamma, dbeta = batch_norm_backward(
            dvalues, self.normalized, self.inv_std, self.gamma, self.normalized_in_training
        )
        self.dgamma, self.dbeta = dgamma, dbeta
        self._cache(dinputs=dinputs)
        return dinputs

    def export_onnx(self, graph: Any, inputs: str) -> str:
        return str(
            graph.add(
                "BatchNormalization",
                [
                    inputs,
                    graph.constant("gamma", self.gamma),
                    graph.constant("beta", self.beta),
                    graph.constant("running_mean", self.running_mean),
                    graph.constant("running_var", self.running_var),
                ],
                epsilon=self.eps,
            )
        )

    def export_torch(self, torch: Any) -> Any:
        module = getattr(torch.nn, self.torch_module)(
            self.size, eps=self.eps, momentum=self.momentum, dtype=_torch_dtype(torch, self)
        )
        with torch.no_grad():
            module.weight.copy_(torch.from_numpy(self.gamma.copy()))
            module.bias.copy_(torch.from_numpy(self.beta.copy()))
            module.running_mean.copy_(torch.from_numpy(self.running_mean.copy()))
            module.running_var.copy_(torch.from_numpy(self.running_var.copy()))
        return module


class BatchNorm1D(_BatchNorm):
    """Batch normalization of (batch, features) (PyTorch's ``nn.BatchNorm1d`` on 2-D inputs):
    in training, each feature is normalized by the batch's mean and variance and the running
    statistics are updated (``running = (1 − momentum) · running + momentum · batch``, the
    variance unbiased, as PyTorch); in inference, the running statistics are used.

    Args:
        features: the size of the last axis (``features``).
        momentum: the weight of each batch in the running statistics, 0.1 as PyTorch.
        eps: added to the variance, 1e-5 as PyTorch.
        dtype: float32 (default) or float64.

    Attributes:
        gamma: (features,), ones at first; beta: (features,), zeros at first.
        running_mean: (features,) buffer, zeros at first; running_var: (features,) buffer,
            ones at first. Saved with the model, never trained.

    Shape:
        forward: (batch, features) → (batch, features); backward likewise.
    """

    gamma: Floating[Array1D, " features"]
    beta: Floating[Array1D, " features"]
    running_mean: Buffer[Floating[Array1D, " features"]]
    running_var: Buffer[Floating[Array1D, " features"]]
    dim_name = "features"
    torch_module = "BatchNorm1d"

    def __init__(
        self,
        features: int,
        *,
        momentum: float = 0.1,
        eps: float = 1e-5,
        dtype: npt.DTypeLike = np.float32,
    ) -> None:
        super().__init__(features, momentum=momentum, eps=eps, dtype=dtype)

    def forward(
        self, inputs: Floating[Array2D, "batch features"]
    ) -> Floating[Array2D, "batch features"]:
        """Normalize each feature (by the batch in training, the running statistics else).

        Shape: inputs (batch, features) → (batch, features)
        """
        output: Floating[Array2D, "batch features"] = self._normalize(inputs)
        return output

    def backward(
        self, dvalues: Floating[Array2D, "batch features"]
    ) -> Floating[Array2D, "batch features"]:
        """Store ``dgamma`` and ``dbeta``; return the gradient for the previous layer.

        Shape: dvalues (batch, features) → (batch, features)
        """
        dinputs: Floating[Array2D, "batch features"] = self._gradients(dvalues)
        return dinputs


class BatchNorm2D(_BatchNorm):
    """Batch normalization of NCHW images (PyTorch's ``nn.BatchNorm2d``): each channel is
    normalized over the batch and the pixels, with running statistics as ``BatchNorm1D``.

    Args:
        channels: the channels of each image (``channels``).
        momentum, eps, dtype: as for ``BatchNorm1D``.

    Attributes:
        gamma, beta: (channels,). running_mean, running_var: (channels,) buffers.

    Shape:
        forward: (batch, channels, h, w) → the same shape; backward likewise.
    """

    gamma: Floating[Array1D, " channels"]
    beta: Floating[Array1D, " channels"]
    running_mean: Buffer[Floating[Array1D, " channels"]]
    running_var: Buffer[Floating[Array1D, " channels"]]
    dim_name = "channels"
    torch_module = "BatchNorm2d"

    def __init__(
        self,
        channels: int,
        *,
        momentum: float = 0.1,
        eps: float = 1e-5,
        dtype: npt.DTypeLike = np.float32,
    ) -> None:
        super().__init__(channels, momentum=momentum, eps=eps, dtype=dtype)

    def forward(
        self, inputs: Floating[Array4D, "batch channels h w"]
    ) -> Floating[Array4D, "batch channels h w"]:
        """Normalize each channel (by the batch in training, the running statistics else).

        Shape: inputs (batch, channels, h, w) → (batch, channels, h, w)
        """
        output: Floating[Array4D, "batch channels h w"] = self._normalize(inputs)
        return output

    def backward(
        self, dvalues: Floating[Array4D, "batch channels h w"]
    ) -> Floating[Array4D, "batch channels h w"]:
        """Store ``dgamma`` and ``dbeta``; return the gradient for the previous layer.

        Shape: dvalues (batch, channels, h, w) → (batch, channels, h, w)
        """
        dinputs: Floating[Array4D, "batch channels h w"] = self._gradients(dvalues)
        return dinputs
