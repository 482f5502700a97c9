"""Embedding: integer ids (token ids, class ids) to learned vectors, ``weights[ids]``."""

from typing import Any

import numpy as np
import numpy.typing as npt
from jaxtyping import Integer

from .._args import fits_memory, generator, positive
from ..shapes import Array2D, ArrayND, Floating, LabelError, shapechecked
from . import _init as init
from ._init import torch_dtype as _torch_dtype
from ._layer import Layer

__all__ = ["Embedding", "embedding_backward", "embedding_forward"]


def _check_ids(ids: Any, vocab: int) -> None:
    """Every id in ``[0, vocab)``; NumPy would read -1 as the last row, without a word."""
    if ids.size == 0:
        return
    low, high = int(ids.min()), int(ids.max())
    if low < 0 or high >= vocab:
        bad = low if low < 0 else high
        where = tuple(int(i) for i in np.argwhere(ids == bad)[0])
        raise LabelError(
            f"ids must be in [0, {vocab}) for a vocabulary of {vocab}, got {bad} at index "
            f"{where[0] if len(where) == 1 else where}"
        )


@shapechecked(anchors=("weights",))
def embedding_forward(
    ids: Integer[ArrayND, " batch *positions"], weights: Floating[Array2D, "vocab dim"]
) -> Floating[ArrayND, " batch *positions dim"]:
    """The row of ``weights`` for each id: ``outputs[..., :] = weights[ids[...]]``.

    Shape:
        ids: (batch, *positions) integers in [0, vocab); weights: (vocab, dim)
        → (batch, *positions, dim).
    """
    _check_ids(ids, weights.shape[0])
    outputs: Floating[ArrayND, " batch *positions dim"] = weights[ids]
    return outputs


@shapechecked(anchors=("ids", "weights"))
def embedding_backward(
    dvalues: Floating[ArrayND, " batch *positions dim"],
    ids: Integer[ArrayND, " batch *positions"],
    weights: Floating[Array2D, "vocab dim"],
) -> Floating[Array2D, "vocab dim"]:
    """The gradient of the weights: each id's row gets the sum of the gradients where it was
    looked up (rows never looked up get zero).

    Sorted once and summed by ``np.add.reduceat``: one pass over the gradients, where
    ``np.add.at`` would be many times slower.

    Shape:
        dvalues: (batch, *positions, dim); ids: (batch, *positions); weights: (vocab, dim)
        → dweights: (vocab, dim).
    """
    flat_ids = ids.reshape(-1)
    rows = dvalues.reshape(-1, weights.shape[1])
    dweights: Floating[Array2D, "vocab dim"] = np.zeros_like(weights)
    if flat_ids.size:
        order = np.argsort(flat_ids, kind="stable")
        sorted_ids = flat_ids[order]
        starts = np.flatnonzero(np.r_[True, sorted_ids[1:] != sorted_ids[:-1]])
        dweights[sorted_ids[starts]] = np.add.reduceat(rows[order], starts, axis=0)
    return dweights


class Embedding(Layer):
    """Learned vectors for integer ids (PyTorch's ``nn.Embedding``, Keras's ``Embedding``):
    a token id becomes a row of ``weights``.

    Args:
        vocab_size: how many ids there are (``vocab``): ids are in ``[0, vocab_size)``.
        dim: the size of each vector (``dim``).
        seed: seed or ``numpy.random.Generator`` for the initial weights.
        dtype: float32 (default) or float64, the dtype of the vectors.

    Attributes:
        weights: (vocab, dim), drawn from N(0, 1) as PyTorch's are.
        dweights: their gradient after ``backward``.

    Shape:
        forward: inputs, the ids (batch, *positions), integers → (batch, *positions, dim).
        backward: dvalues (batch, *positions, dim) → the weights' gradient; ids have none, so
        an Embedding is a model's first layer.

    An id outside ``[0, vocab_size)`` is a LabelError naming it (NumPy would quietly read -1
    as the last row); float ids are a ShapeError (a float is never an id).

    Example::

        >>> layer = Embedding(50, 8, seed=0)
        >>> layer.forward(np.array([[3, 1, 4]])).shape
        (1, 3, 8)
    """

    kernels_keyed = True

    weights: Floating[Array2D, "vocab dim"]

    def __init__(
        self,
        vocab_size: int,
        dim: int,
        *,
        seed: int | np.random.Generator | None = None,
        dtype: npt.DTypeLike = np.float32,
    ) -> None:
        shape = (positive("Embedding", "vocab_size", vocab_size), positive("Embedding", "dim", dim))
        float_dtype = init.float_dtype(dtype, "Embedding")
        rng = generator("Embedding", seed)
        fits_memory(
            "Embedding",
            f"vocab_size={shape[0]} and dim={shape[1]} make weights",
            shape,
            float_dtype,
        )
        self.weights = init.normal(shape, 1.0, rng, float_dtype)
        self.dweights: Floating[Array2D, "vocab dim"] = init.zeros(shape, float_dtype)

    @property
    def vocab_size(self) -> int:
        return int(self.weights.shape[0])

    @property
    def dim(self) -> int:
        return int(self.weights.shape[1])

    @property
    def dtype(self) -> np.dtype[Any]:
        return self.weights.dtype

    def __repr__(self) -> str:
        return f"Embedding({self.vocab_size} → {self.dim})"

    def resized(self, dims: dict[str, int]) -> str:
        """This layer's constructor call with ``vocab``/``dim`` changed, for error hints."""
        return f"Embedding({dims.get('vocab', self.vocab_size)}, {dims.get('dim', self.dim)})"

    def forward(
        self, inputs: Integer[ArrayND, " batch *positions"]
    ) -> Floating[ArrayND, " batch *positions dim"]:
        """Look up each id's vector; remember the ids for ``backward``.

        Shape: inputs (batch, *positions) → (batch, *positions, dim)
        """
        output = embedding_forward(inputs, self.weights)
        self._cache(inputs=inputs, output=output)
        return output

    def backward(self, dvalues: Floating[ArrayND, " batch *positions dim"]) -> None:
        """Store ``dweights``; ids have no gradient, so nothing is returned.

        Shape: dvalues (batch, *positions, dim)
        """
        self.dweights = embedding_backward(dvalues, self.inputs, self.weights)

    def export_onnx(self, graph: Any, inputs: str) -> str:
        return str(graph.add("Gather", [graph.constant("weights", self.weights), inputs], axis=0))

    def export_torch(self, torch: Any) -> Any:
        embedding = torch.nn.Embedding(self.vocab_size, self.dim, dtype=_torch_dtype(torch, self))
        with torch.no_grad():
            embedding.weight.copy_(torch.from_numpy(self.weights.copy()))
        return embedding
