"""The transformer block (pre-norm, as GPT-2 and PyTorch's ``norm_first=True``): attention and
a feed-forward network, each read through a LayerNorm and added back to its input.

``y = x + Dropout(Attention(LayerNorm₁(x)))``, then
``z = y + Dropout(Dense₂(GELU(Dense₁(LayerNorm₂(y)))))``. The block owns its sub-layers as
attributes, so their parameters are its state (``norm1.gamma``, ``attention.in_weights``, …)
and the optimizer, saving, gradient checks and summaries find them.
"""

import functools
import importlib
from typing import Any

import numpy as np
import numpy.typing as npt

from .._args import generator, positive, real
from ..shapes import Array3D, Dim, Floating
from . import _init as init
from ._attention import MultiHeadAttention, check_heads, flag
from ._dense import Dense
from ._dropout import Dropout
from ._gelu import GELU
from ._init import torch_dtype as _torch_dtype
from ._layer import Layer
from ._layer_norm import LayerNorm

__all__ = ["TransformerBlock"]


@functools.cache
def _torch_causal(torch: Any) -> Any:
    """A torch module class: an ``nn.TransformerEncoderLayer`` called with the causal mask."""

    class TorchCausalEncoderLayer(torch.nn.Module):  # type: ignore[misc]
        """``layer(x)`` where each position attends to itself and the positions before it."""

        def __init__(self, layer: Any) -> None:
            super().__init__()
            self.layer = layer

        def forward(self, inputs: Any) -> Any:
            size = inputs.shape[1]
            ones = torch.ones(size, size, dtype=torch.bool, device=inputs.device)
            return self.layer(inputs, src_mask=torch.triu(ones, diagonal=1))

    # Named as the module's own attribute (see __getattr__), so that pickle finds it.
    TorchCausalEncoderLayer.__qualname__ = "TorchCausalEncoderLayer"
    return TorchCausalEncoderLayer


def __getattr__(name: str) -> Any:
    """``TorchCausalEncoderLayer``, the torch module class a causal TransformerBlock exports to,
    built on first use (importing shapenn never imports torch): how ``torch.load`` finds it
    in a model saved with ``torch.save``."""
    if name == "TorchCausalEncoderLayer":
        return _torch_causal(importlib.import_module("torch"))
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class TransformerBlock(Layer):
    """A pre-norm transformer block (PyTorch's ``nn.TransformerEncoderLayer(d_model, heads,
    d_ff, activation="gelu", batch_first=True, norm_first=True)``, without the dropout inside
    its feed-forward network and on the attention weights).

    Args:
        d_model: the features of each position (``d_model``).
        heads: the attention heads; they must divide ``d_model``.
        d_ff: the width of the feed-forward network's hidden layer (``d_ff``; 4·d_model is
            usual).
        causal: each position attends only to itself and the positions before it.
        dropout: the rate of the Dropout after the attention and after the feed-forward
            network, in [0, 1); active only in training. 0 (the default) adds no Dropout.
        seed: seed or ``numpy.random.Generator`` for the initial weights (and the dropout
            masks); each sub-layer draws from its own stream spawned from it.
        dtype: float32 (default) or float64.

    Attributes (the layers it owns, in order):
        norm1: LayerNorm(d_model); attention: MultiHeadAttention(d_model, heads, causal);
        dropout1: Dropout(dropout), only when dropout > 0; norm2: LayerNorm(d_model);
        linear1: Dense(d_model, d_ff); activation: GELU(); linear2: Dense(d_ff, d_model);
        dropout2: Dropout(dropout), only when dropout > 0.

    Shape:
        forward: (batch, seq, d_model) → (batch, seq, d_model); backward likewise.

    Export: to ONNX through its sub-layers' rules, with Add for the residual connections
    (no Dropout: inference keeps every value); to PyTorch as ``nn.TransformerEncoderLayer``
    with the weights copied (its inner dropouts set to nothing, as here), wrapped to pass the
    causal mask when ``causal``.
    """

    d_model: Dim

    def __init__(
        self,
        d_model: int,
        heads: int,
        d_ff: int,
        causal: bool = False,
        dropout: float = 0.0,
        *,
        seed: int | np.random.Generator | None = None,
        dtype: npt.DTypeLike = np.float32,
    ) -> None:
        owner = "TransformerBlock"
        self.d_model: int = positive(owner, "d_model", d_model)
        self.heads: int = positive(owner, "heads", heads)
        check_heads(owner, self.d_model, self.heads)
        self.d_ff: int = positive(owner, "d_ff", d_ff)
        self.causal: bool = flag(owner, "causal", causal)
        self.dropout: float = real(owner, "dropout", dropout, low=0.0, high=1.0, high_open=True)
        float_dtype = init.float_dtype(dtype, owner)
        # One stream per sub-layer, so that each Dropout saves and restores its own.
        streams = iter(generator(owner, seed).spawn(5))
        size = self.d_model
        self.norm1: LayerNorm = LayerNorm(size, dtype=float_dtype)
        self.attention: MultiHeadAttention = MultiHeadAttention(
            size, self.heads, self.causal, seed=next(streams), dtype=float_dtype
        )
        if self.dropout:
            self.dropout1: Dropout = Dropout(self.dropout, seed=next(streams))
        self.norm2: LayerNorm = LayerNorm(size, dtype=float_dtype)
        self.linear1: Dense = Dense(size, self.d_ff, seed=next(streams), dtype=float_dtype)
        self.activation: GELU = GELU()
        self.linear2: Dense = Dense(self.d_ff, size, seed=next(streams), dtype=float_dtype)
        if self.dropout:
            self.dropout2: Dropout = Dropout(self.dropout, seed=next(streams))

    @property
    def dtype(self) -> np.dtype[Any]:
        return self.attention.dtype

    def __repr__(self) -> str:
        extras = (", causal=True" if self.causal else "") + (
            f", dropout={self.dropout:g}" if self.dropout else ""
        )
        return f"TransformerBlock({self.d_model}, heads={self.heads}, d_ff={self.d_ff}{extras})"

    def resized(self, dims: dict[str, int]) -> str:
        """This block's constructor call with ``d_model`` changed, for error hints ('' when
        ``heads`` would not divide it)."""
        size = dims.get("d_model", self.d_model)
        if size % self.heads:
            return ""
        extras = (", causal=True" if self.causal else "") + (
            f", dropout={self.dropout:g}" if self.dropout else ""
        )
        return f"TransformerBlock({size}, {self.heads}, {self.d_ff}{extras})"

    def _dropped(self, name: str, values: Any) -> Any:
        """``values`` through the Dropout ``name`` if the block has one."""
        layer = vars(self).get(name)
        return values if layer is None else layer.forward(values)

    def _undropped(self, name: str, dvalues: Any) -> Any:
        layer = vars(self).get(name)
        return dvalues if layer is None else layer.backward(dvalues)

    def forward(
        self, inputs: Floating[Array3D, "batch seq d_model"]
    ) -> Floating[Array3D, "batch seq d_model"]:
        """Attention, then the feed-forward network, each added back to its input.

        Shape: inputs (batch, seq, d_model) → (batch, seq, d_model)
        """
        attended = self.attention.forward(self.norm1.forward(inputs))
        middle = inputs + self._dropped("dropout1", attended)
        hidden = self.activation.forward(self.linear1.forward(self.norm2.forward(middle)))
        output: Floating[Array3D, "batch seq d_model"] = middle + self._dropped(
            "dropout2", self.linear2.forward(hidden)
        )
        self._cache(inputs=inputs, output=output)
        return output

    def backward(
        self, dvalues: Floating[Array3D, "batch seq d_model"]
    ) -> Floating[Array3D, "batch seq d_model"]:
        """The gradients of every sub-layer's parameters; return the gradient for the
        previous layer (each residual connection passes ``dvalues`` straight through too).

        Shape: dvalues (batch, seq, d_model) → (batch, seq, d_model)
        """
        hidden = self.linear2.backward(self._undropped("dropout2", dvalues))
        dmiddle = dvalues + self.norm2.backward(
            self.linear1.backward(self.activation.backward(hidden))
        )
        attended = self.attention.backward(self._undropped("dropout1", dmiddle))
        dinputs: Floating[Array3D, "batch seq d_model"] = dmiddle + self.norm1.backward(attended)
        self._cache(dinputs=dinputs)
        return dinputs

    def export_onnx(self, graph: Any, inputs: str) -> str:
        prefix = graph.prefix

        def through(name: str, layer: Layer, tensor: str) -> str:
            # Each sub-layer's constants and nodes under its own name (layers.2.norm1.gamma):
            # two LayerNorms would otherwise both store `gamma`.
            graph.prefix = f"{prefix}.{name}"
            try:
                return layer.export_onnx(graph, tensor)
            finally:
                graph.prefix = prefix

        attended = through("attention", self.attention, through("norm1", self.norm1, inputs))
        middle = graph.add("Add", [inputs, attended])
        hidden = through("linear1", self.linear1, through("norm2", self.norm2, middle))
        fed = through("linear2", self.linear2, through("activation", self.activation, hidden))
        return str(graph.add("Add", [middle, fed]))

    def export_torch(self, torch: Any) -> Any:
        layer = torch.nn.TransformerEncoderLayer(
            self.d_model,
            self.heads,
            self.d_ff,
            dropout=self.dropout,
            activation="gelu",
            layer_norm_eps=self.norm1.eps,
            batch_first=True,
            norm_first=True,
            dtype=_torch_dtype(torch, self),
        )
        # This block drops out after the attention and after the feed-forward network only.
        # PyTorch's layer also drops inside the network and on the attention weights (its
        # nn.MultiheadAttention is built with the dropout): neither here.
        layer.dropout = torch.nn.Identity()
        layer.self_attn = self.attention.torch_attention(torch)
        for name, dense in (("linear1", self.linear1), ("linear2", self.linear2)):
            setattr(layer, name, dense.export_torch(torch))
        layer.norm1 = self.norm1.export_torch(torch)
        layer.norm2 = self.norm2.export_torch(torch)
        return _torch_causal(torch)(layer) if self.causal else layer
