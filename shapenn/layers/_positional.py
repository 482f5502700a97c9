"""Learned positional embedding: a vector for each position of a sequence, added to the
features there, ``inputs + positions[:seq]``."""

import dataclasses
import functools
import importlib
from typing import Any

import numpy as np
import numpy.typing as npt

from .._args import fits_memory, generator, positive, shown
from ..shapes import Array2D, Array3D, Floating, ShapeError, Size, format_shape, shapechecked
from . import _init as init
from ._init import torch_dtype as _torch_dtype
from ._layer import Layer

__all__ = ["PositionalEmbedding", "positional_backward", "positional_forward"]


def too_long(
    where: str,
    shape: tuple[Size, ...],
    got: str,
    max_len: int,
    d_model: int,
    source: str,
    *,
    hint: str | None = None,
) -> ShapeError:
    """The ShapeError for a sequence longer than the positions learned: ``seq`` of ``shape``
    is more than ``max_len`` (the rows of ``source``). It blames the dim ``max_len`` (axis 1),
    so a model's error can suggest the layer that would fit."""
    error = ShapeError.create(
        where,
        "inputs",
        f"floating-point (batch, seq, d_model={d_model}) with seq <= max_len={max_len}",
        got,
        f"`seq` is {shape[1]} here, more than `max_len` = {max_len} in `{source}`: there is a "
        f"learned vector for each of {max_len} positions only",
        bound={"max_len": max_len, "d_model": d_model},
        hint=hint
        or f"cut the sequences to {max_len} positions (`inputs[:, :{max_len}]`), or build the "
        f"layer with max_len >= {shape[1]}",
    )
    return ShapeError(dataclasses.replace(error.report, dim="max_len", axis=1, needed=max_len))


@shapechecked(anchors=("positions",))
def positional_forward(
    inputs: Floating[Array3D, "batch seq d_model"],
    positions: Floating[Array2D, "max_len d_model"],
) -> Floating[Array3D, "batch seq d_model"]:
    """``inputs + positions[:seq]``: position ``t`` of every sequence gets ``positions[t]``.

    Shape:
        inputs: (batch, seq, d_model), seq <= max_len; positions: (max_len, d_model)
        → (batch, seq, d_model).

    Raises:
        ShapeError: ``seq`` is more than ``max_len``, naming both.
    """
    seq = inputs.shape[1]
    max_len, d_model = positions.shape
    if seq > max_len:
        got = f"{format_shape(inputs.shape)} {inputs.dtype}"
        raise too_long("positional_forward", inputs.shape, got, max_len, d_model, "positions")
    outputs: Floating[Array3D, "batch seq d_model"] = inputs + positions[:seq]
    return outputs


@shapechecked(anchors=("positions",))
def positional_backward(
    dvalues: Floating[Array3D, "batch seq d_model"],
    positions: Floating[Array2D, "max_len d_model"],
) -> tuple[Floating[Array3D, "batch seq d_model"], Floating[Array2D, "max_len d_model"]]:
    """The gradients of ``inputs + positions[:seq]``: ``dvalues`` itself for the inputs, its
    sum over the batch for the positions used (0 for the rows past ``seq``).

    Shape:
        dvalues: (batch, seq, d_model); positions: (max_len, d_model) → (dinputs: (batch,
        seq, d_model), dpositions: (max_len, d_model)).
    """
    dpositions: Floating[Array2D, "max_len d_model"] = np.zeros_like(positions)
    dvalues.sum(axis=0, out=dpositions[: dvalues.shape[1]])
    return dvalues, dpositions


@functools.cache
def _torch_positional(torch: Any) -> Any:
    """A torch module class adding learned positions to (batch, seq, d_model)."""

    class TorchPositionalEmbedding(torch.nn.Module):  # type: ignore[misc]
        """``inputs + positions[:seq]``, ``positions`` a (max_len, d_model) parameter."""

        def __init__(self, positions: Any) -> None:
            super().__init__()
            self.positions = torch.nn.Parameter(positions)

        def forward(self, inputs: Any) -> Any:
            return inputs + self.positions[: inputs.shape[1]]

    # Named as the module's own attribute (see __getattr__), so that pickle finds it.
    TorchPositionalEmbedding.__qualname__ = "TorchPositionalEmbedding"
    return TorchPositionalEmbedding


def __getattr__(name: str) -> Any:
    """``TorchPositionalEmbedding``, the torch module class PositionalEmbedding exports to,
    built on first use (importing shapenn never imports torch): how ``torch.load`` finds it
    in a model saved with ``torch.save``."""
    if name == "TorchPositionalEmbedding":
        return _torch_positional(importlib.import_module("torch"))
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class PositionalEmbedding(Layer):
    """Learned positions (BERT's and GPT-2's): a vector for each position of a sequence,
    added to the features there, so that the layers after it can tell positions apart
    (attention alone cannot).

    Args:
        max_len: the longest sequence it takes (``max_len``): one vector per position.
        d_model: the features of each position (``d_model``).
        seed: seed or ``numpy.random.Generator`` for the initial vectors.
        dtype: float32 (default) or float64.

    Attributes:
        positions: (max_len, d_model), drawn from N(0, 1) as an Embedding's (and PyTorch's
            ``nn.Embedding``'s) vectors.

    Shape:
        forward: (batch, seq, d_model), seq <= max_len → (batch, seq, d_model).
        backward: dvalues (batch, seq, d_model) → the same; ``dpositions`` gets the sum over
        the batch (0 for the positions past seq).

    A sequence longer than ``max_len`` is a ShapeError naming ``max_len``.

    Example::

        >>> layer = PositionalEmbedding(16, 8, seed=0)
        >>> layer.forward(np.zeros((2, 5, 8), np.float32)).shape
        (2, 5, 8)
    """

    positions: Floating[Array2D, "max_len d_model"]

    def __init__(
        self,
        max_len: int,
        d_model: int,
        *,
        seed: int | np.random.Generator | None = None,
        dtype: npt.DTypeLike = np.float32,
    ) -> None:
        owner = "PositionalEmbedding"
        shape = (positive(owner, "max_len", max_len), positive(owner, "d_model", d_model))
        float_dtype = init.float_dtype(dtype, owner)
        fits_memory(
            owner,
            f"max_len={shown(shape[0])} and d_model={shown(shape[1])} make positions of shape",
            shape,
            float_dtype,
        )
        rng = generator(owner, seed)
        self.positions = init.normal(shape, 1.0, rng, float_dtype)
        self.dpositions: Floating[Array2D, "max_len d_model"] = init.zeros(shape, float_dtype)

    @property
    def max_len(self) -> int:
        return int(self.positions.shape[0])

    @property
    def d_model(self) -> int:
        return int(self.positions.shape[1])

    @property
    def dtype(self) -> np.dtype[Any]:
        return self.positions.dtype

    def __repr__(self) -> str:
        return f"PositionalEmbedding(max_len={self.max_len}, d_model={self.d_model})"

    def resized(self, dims: dict[str, int]) -> str:
        """This layer's constructor call with ``max_len``/``d_model`` changed, for error
        hints."""
        max_len, d_model = dims.get("max_len", self.max_len), dims.get("d_model", self.d_model)
        return f"PositionalEmbedding({max_len}, {d_model})"

    def compute_output_shape(self, input_shape: tuple[Size, ...]) -> tuple[Size, ...] | None:
        """The output shape (the input's), once a sequence longer than ``max_len`` is refused:
        a model then says so when it is built, before any data flows."""
        seq = input_shape[1] if len(input_shape) == 3 else None
        if isinstance(seq, int) and seq > self.max_len:
            error = too_long(
                f"{self!r}.forward",
                input_shape,
                format_shape(input_shape),
                self.max_len,
                self.d_model,
                "self.positions",
                hint=self._hint(seq),
            )
            raise ShapeError(dataclasses.replace(error.report, located=True))
        return super().compute_output_shape(input_shape)

    def _hint(self, seq: int) -> str:
        return (
            f"cut the sequences to {self.max_len} positions (`inputs[:, :{self.max_len}]`), "
            f"or make it {self.resized({'max_len': seq})}"
        )

    def forward(
        self, inputs: Floating[Array3D, "batch seq d_model"]
    ) -> Floating[Array3D, "batch seq d_model"]:
        """Add each position's vector to the features there.

        Shape: inputs (batch, seq, d_model) → (batch, seq, d_model)
        """
        if inputs.shape[1] > self.max_len:
            got = f"{format_shape(inputs.shape)} {inputs.dtype}"
            error = too_long(
                f"{self!r}.forward",
                inputs.shape,
                got,
                self.max_len,
                self.d_model,
                "self.positions",
                hint=self._hint(inputs.shape[1]),
            )
            raise ShapeError(dataclasses.replace(error.report, located=True))
        output = positional_forward(inputs, self.positions)
        self._cache(inputs=inputs, output=output)
        return output

    def backward(
        self, dvalues: Floating[Array3D, "batch seq d_model"]
    ) -> Floating[Array3D, "batch seq d_model"]:
        """Store ``dpositions``; return the gradient for the previous layer (``dvalues``).

        Shape: dvalues (batch, seq, d_model) → (batch, seq, d_model)
        """
        dinputs, self.dpositions = positional_backward(dvalues, self.positions)
        self._cache(dinputs=dinputs)
        return dinputs

    def export_onnx(self, graph: Any, inputs: str) -> str:
        # positions[:seq], seq read from the input's shape: the sequence stays symbolic.
        seq = graph.add("Shape", [inputs], start=1, end=2)
        zero = graph.add("Constant", [], value_ints=[0])
        used = graph.add("Slice", [graph.constant("positions", self.positions), zero, seq, zero])
        return str(graph.add("Add", [inputs, used]))

    def export_torch(self, torch: Any) -> Any:
        positions = torch.tensor(self.positions, dtype=_torch_dtype(torch, self))
        return _torch_positional(torch)(positions)
