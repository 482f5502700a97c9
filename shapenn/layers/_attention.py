"""Multi-head self-attention over sequences ``(batch, seq, d_model)``.

Each position's features are projected to a query, a key and a value (one fused matrix,
``inputs @ in_weights + in_biases``, in the Dense convention); each is split into ``heads``
heads of ``d_head = d_model / heads`` features, the reshape (batch, seq, heads, d_head) and the
transpose to (batch, heads, seq, d_head); each head attends with
``softmax(q · kᵀ / √d_head) · v``; the heads are transposed back and merged, and projected by
``out_weights`` and ``out_biases``.

**Masks.** A key may be hidden from a query: by ``mask`` (batch, seq), False for a padding
key, and with ``causal`` for every key after the query. A hidden key's score is −∞ before the
softmax, so its weight is exactly 0 (never a small number: a later position changes nothing
of an earlier one's output). A query that sees no key at all (every key of its sequence
masked) attends to nothing: its weights are all 0 and its output row is 0, never NaN.
"""

import functools
import importlib
import math
from typing import Any

import numpy as np
import numpy.typing as npt
from jaxtyping import Bool

from .._args import fits_memory, generator, positive, shown
from ..shapes import (
    ArgumentError,
    Array2D,
    Array3D,
    Array4D,
    Array5D,
    Dim,
    Floating,
    shapechecked,
)
from . import _init as init_
from ._dense import affine, dense_backward
from ._init import torch_dtype as _torch_dtype
from ._layer import Layer
from ._rows import row_sums

__all__ = [
    "MultiHeadAttention",
    "attention_backward",
    "attention_forward",
    "check_heads",
    "flag",
]

QKV = 3  # the parts of the fused input projection: queries, keys, values


def flag(owner: str, name: str, value: object) -> bool:
    """``value`` if it is True or False (NumPy's too); an ArgumentError naming it otherwise
    (a 1 or a "yes" is not a switch)."""
    if isinstance(value, bool | np.bool_):
        return bool(value)
    raise ArgumentError(f"{owner}: {name} must be True or False, got {shown(value)}")


def check_heads(owner: str, d_model: int, heads: int) -> int:
    """``d_model / heads``, the features of each head; an ArgumentError naming both numbers
    when ``heads`` does not divide ``d_model``."""
    if d_model % heads == 0:
        return d_model // heads
    # The heads that would fit, when there are few enough to list.
    divisors = [n for n in range(1, d_model + 1) if d_model % n == 0] if d_model <= 4096 else []
    fits = f": for d_model={d_model}, heads may be {_listed(divisors)}" if divisors else ""
    raise ArgumentError(
        f"{owner}: d_model ({d_model}) must be divisible by heads ({heads}), each head taking "
        f"d_model / heads features{fits}; or make d_model a multiple of {heads}"
    )


def _listed(numbers: list[int]) -> str:
    words = [str(n) for n in numbers]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def check_scores_fit(owner: str, shape: tuple[int, ...], heads: int, dtype: Any) -> None:
    """Refuse, before anything is allocated, inputs whose attention scores (batch, heads, seq,
    seq) would not fit in the machine's memory."""
    batch, seq = int(shape[0]), int(shape[1])
    fits_memory(
        owner,
        f"inputs of shape {tuple(int(s) for s in shape)} with {heads} heads make attention "
        "scores of shape",
        (batch, heads, seq, seq),
        dtype,
        fix="attend over shorter sequences, or fewer at a time (a smaller batch_size)",
    )


def _split_heads(projected: Any, parts: int, heads: int) -> Any:
    """(batch, seq, parts · d_model) → (parts, batch, heads, seq, d_head): each part's features
    split into heads, (batch, seq, heads, d_head), then transposed to (batch, heads, seq,
    d_head), contiguous for the products that follow."""
    batch, seq, width = projected.shape
    split = projected.reshape(batch, seq, parts, heads, width // (parts * heads))
    return np.ascontiguousarray(split.transpose(2, 0, 3, 1, 4))


def _allowed(mask: Any, causal: bool, seq: int) -> Any:
    """Which keys each query may see, (batch or 1, 1, seq, seq), or None for all of them."""
    allowed = np.tri(seq, dtype=bool)[None, None] if causal else None
    if mask is not None:
        keys = mask[:, None, None, :]
        allowed = keys if allowed is None else allowed & keys
    return allowed


def _bounds(allowed: Any, low: Any) -> tuple[Any, Any]:
    """Two arrays of ``allowed``'s shape that mask by plain elementwise minimum and maximum
    (one pass each, where a ``where=`` or a ``copyto`` is three times slower): ``upper`` is
    +∞ where a key is allowed and −∞ where it is hidden, ``lower`` is ``low`` where allowed
    and −∞ where hidden."""
    dtype = low.dtype
    hidden = dtype.type(-np.inf)
    return np.where(allowed, dtype.type(np.inf), hidden), np.where(allowed, low, hidden)


def _scores(queries: Any, keys_t: Any, scale: Any, upper: Any) -> Any:
    """``q · kᵀ / √d_head`` (``scale`` is 1/√d_head), −∞ where ``upper`` (of `_bounds`, or
    None: nothing hidden) hides a key."""
    scores = queries @ keys_t
    scores *= scale
    if upper is not None:
        np.fmin(scores, upper, out=scores)  # fmin: a NaN score of a hidden key is hidden too
    return scores


def _exponentials(scores: Any, lower: Any, shifts: Any) -> Any:
    """``exp(scores − shifts)`` in place, one shift per row, no value below ``lower`` (the
    floor, −∞ for hidden keys); returns the row totals (…, 1)."""
    scores -= shifts
    np.maximum(scores, lower, out=scores)
    np.exp(scores, out=scores)
    return row_sums(scores)


def _peaks(scores: Any) -> Any:
    """Each row's largest score (…, 1); 0 for a row that sees no key (only −∞), whose
    exponentials then stay 0."""
    peaks = scores.max(axis=-1, keepdims=True)
    peaks[np.isneginf(peaks)] = 0
    return peaks


def _retake(
    scores: Any, totals: Any, queries: Any, keys_t: Any, scale: Any, upper: Any, lower: Any
) -> None:
    """The rows whose total is not finite, scored again from their queries and the keys and
    shifted by their largest score, head by head (a view of each head's keys, no copy);
    ``upper`` and ``lower`` as of a causal mask or none, the same for every sequence."""
    batch_index, head_index, row_index = np.nonzero(~np.isfinite(totals[..., 0]))
    heads = head_index + batch_index * scores.shape[1]
    for head in np.unique(heads):
        b, h = divmod(int(head), scores.shape[1])
        rows = row_index[heads == head]
        hidden = None if upper is None else upper[0, 0, rows]
        raw = _scores(queries[b, h, rows], keys_t[b, h], scale, hidden)
        totals[b, h, rows] = _exponentials(
            raw, lower if np.ndim(lower) == 0 else lower[0, 0, rows], _peaks(raw)
        )
        scores[b, h, rows] = raw


@shapechecked(anchors=("in_weights", "in_biases", "out_weights", "out_biases"))
def attention_forward(
    inputs: Floating[Array3D, "batch seq d_model"],
    in_weights: Floating[Array2D, "d_model 3*d_model"],
    in_biases: Floating[Array2D, "1 3*d_model"],
    out_weights: Floating[Array2D, "d_model d_model"],
    out_biases: Floating[Array2D, "1 d_model"],
    heads: int,
    causal: bool = False,
    mask: Bool[Array2D, "batch seq"] | None = None,
) -> tuple[
    Floating[Array3D, "batch seq d_model"],
    Floating[Array5D, "3 batch heads seq d_head"],
    Floating[Array4D, "batch heads seq seq"],
    Floating[Array3D, "batch seq d_model"],
]:
    """Multi-head self-attention: ``softmax(q · kᵀ / √d_head) · v`` for each head, the heads
    merged and projected.

    ``mask`` is True where a key may be attended to (False for padding); ``causal`` hides each
    query's later keys. A hidden key gets weight exactly 0; a query that sees no key gets
    weights of 0 and an output row of 0.

    Returns the outputs and what the backward pass reuses: the queries, keys and values
    split into heads, the attention weights, and the merged context (the output
    projection's input).

    Shape:
        inputs: (batch, seq, d_model); in_weights: (d_model, 3·d_model); in_biases: (1,
        3·d_model); out_weights: (d_model, d_model); out_biases: (1, d_model); mask: (batch,
        seq) booleans or None → (outputs: (batch, seq, d_model), qkv: (3, batch, heads, seq,
        d_head), weights: (batch, heads, seq, seq), context: (batch, seq, d_model)).

    Raises:
        ArgumentError: ``heads`` does not divide d_model, or the scores (batch, heads, seq,
            seq) would not fit in memory.
    """
    dtype = inputs.dtype
    _, seq, d_model = inputs.shape
    d_head = check_heads("attention_forward", d_model, heads)
    check_scores_fit("attention_forward", inputs.shape, heads, dtype)
    qkv: Floating[Array5D, "3 batch heads seq d_head"] = _split_heads(
        affine(inputs, in_weights, in_biases), QKV, heads
    )
    queries, keys, values = qkv
    # The keys transposed into a copy of their own: a product with a transposed view of
    # (seq, d_head) matrices runs at half the speed, and the copy is a quarter of the scores.
    keys_t = np.ascontiguousarray(keys.swapaxes(-1, -2))
    scale = dtype.type(1 / math.sqrt(d_head))
    allowed = _allowed(mask, causal, seq)
    # As the Softmax layer does: no weight below ~1e-38 (a subnormal, whose arithmetic is slow);
    # hidden keys stay at -inf, so their weight is exactly 0.
    floor = dtype.type(math.log(float(np.finfo(dtype).tiny) * seq) + 0.5)
    upper, lower = (None, floor) if allowed is None else _bounds(allowed, floor)
    scores = _scores(queries, keys_t, scale, upper)
    if mask is None:
        # Every query sees its own key: each row is shifted by that key's score rather than
        # by its largest, which NumPy finds at about 50 ns a row (8,192 rows of 64: 430 µs).
        # Any shift at or below the largest gives the same weights (the largest term at least
        # 1), and it depends on the row alone: a later position changes nothing of an
        # earlier one. A row whose total overflows (a score 88 or more above its own) or is
        # NaN is taken again with its largest.
        shifts = np.diagonal(scores, axis1=-2, axis2=-1)[..., None].copy()
        with np.errstate(over="ignore", invalid="ignore"):
            totals = _exponentials(scores, lower, shifts)
        if not np.isfinite(totals).all():
            _retake(scores, totals, queries, keys_t, scale, upper, lower)
    else:  # a padded query does not see its own key
        totals = _exponentials(scores, lower, _peaks(scores))
    alive = None
    if allowed is not None:
        seen = totals[:, 0, :, 0] > 0  # (batch, seq): each query saw at least one key
        if not seen.all():
            alive = seen
            totals[totals == 0] = 1
    scores /= totals
    weights: Floating[Array4D, "batch heads seq seq"] = scores
    # Each head's context written straight into its place among the merged features (the
    # product's output a transposed view): the merge costs no copy.
    merged = np.empty((inputs.shape[0], seq, heads, d_head), dtype)
    np.matmul(weights, values, out=merged.transpose(0, 2, 1, 3))
    context: Floating[Array3D, "batch seq d_model"] = merged.reshape(inputs.shape)
    outputs: Floating[Array3D, "batch seq d_model"] = affine(context, out_weights, out_biases)
    if alive is not None:
        outputs *= alive[:, :, None]  # the output projection's bias too: nothing was seen
    return outputs, qkv, weights, context


@shapechecked(anchors=("inputs", "in_weights", "out_weights", "qkv", "weights", "context"))
def attention_backward(
    dvalues: Floating[Array3D, "batch seq d_model"],
    inputs: Floating[Array3D, "batch seq d_model"],
    in_weights: Floating[Array2D, "d_model 3*d_model"],
    out_weights: Floating[Array2D, "d_model d_model"],
    qkv: Floating[Array5D, "3 batch heads seq d_head"],
    weights: Floating[Array4D, "batch heads seq seq"],
    context: Floating[Array3D, "batch seq d_model"],
) -> tuple[
    Floating[Array3D, "batch seq d_model"],
    Floating[Array2D, "d_model 3*d_model"],
    Floating[Array2D, "1 3*d_model"],
    Floating[Array2D, "d_model d_model"],
    Floating[Array2D, "1 d_model"],
]:
    """Gradients of `attention_forward` given the gradient of its outputs.

    Through the output projection (a Dense), the merge of the heads, ``context = w · v``
    (``dw = dcontext · vᵀ``, ``dv = wᵀ · dcontext``), the softmax (``ds = w ⊙ (dw − Σ dw ⊙
    w)``, 0 where a key was hidden), the scores ``q · kᵀ / √d_head`` and the input
    projection. A query that saw no key passes no gradient.

    Shape:
        dvalues, inputs: (batch, seq, d_model); in_weights: (d_model, 3·d_model);
        out_weights: (d_model, d_model); qkv: (3, batch, heads, seq, d_head); weights:
        (batch, heads, seq, seq); context: (batch, seq, d_model) → (dinputs: (batch, seq,
        d_model), din_weights: (d_model, 3·d_model), din_biases: (1, 3·d_model),
        dout_weights: (d_model, d_model), dout_biases: (1, d_model)).
    """
    dtype = dvalues.dtype
    batch, seq, d_model = context.shape
    heads, d_head = qkv.shape[2], qkv.shape[-1]
    seen = row_sums(weights[:, 0])[..., 0] > 0  # (batch, seq); every row sums to 1 or to 0
    if not seen.all():
        dvalues = dvalues * seen[:, :, None]
    dcontext, dout_weights, dout_biases = dense_backward(dvalues, context, out_weights)
    queries, keys, values = qkv
    dheads = _split_heads(dcontext, 1, heads)[0]  # (batch, heads, seq, d_head)
    # As in the forward pass: a product with the transpose of a copy, not of a view.
    dweights = dheads @ np.ascontiguousarray(values.swapaxes(-1, -2))
    # The gradients of the queries, keys and values written into their places among the
    # input projection's features, as the forward pass merges the context.
    merged = np.empty((batch, seq, QKV, heads, d_head), qkv.dtype)
    dqkv = merged.transpose(2, 0, 3, 1, 4)  # (3, batch, heads, seq, d_head), a view
    np.matmul(weights.swapaxes(-1, -2), dheads, out=dqkv[2])
    # The softmax's Jacobian, row by row: w ⊙ (dw − Σ dw ⊙ w). The row sums Σ_j dw_ij w_ij
    # are Σ_d dheads_id · (w · v)_id, the merged context's own features (as FlashAttention
    # computes them): a product of (seq, d_head) arrays instead of (seq, seq) ones.
    sums = row_sums((dcontext * context).reshape(batch, seq, heads, d_head))[..., 0]
    dweights -= sums.transpose(0, 2, 1)[..., None]
    dweights *= weights
    np.matmul(dweights, keys, out=dqkv[0])
    np.matmul(dweights.swapaxes(-1, -2), queries, out=dqkv[1])
    # The scale of the scores, applied to their gradients' products (half the values).
    dqkv[:2] *= dtype.type(1 / math.sqrt(d_head))
    dinputs, din_weights, din_biases = dense_backward(
        merged.reshape(batch, seq, QKV * d_model), inputs, in_weights
    )
    return dinputs, din_weights, din_biases, dout_weights, dout_biases


@functools.cache
def _torch_self_attention(torch: Any) -> Any:
    """A torch module class: ``nn.MultiheadAttention`` as a module of one input, ``x ↦
    attention(x, x, x)``, causal if asked (so it fits in an ``nn.Sequential``)."""

    class TorchAttention(torch.nn.Module):  # type: ignore[misc]
        """Attention of (batch, seq, d_model) to itself by ``attention`` (batch_first); with
        ``causal``, each position attends to itself and the positions before it."""

        def __init__(self, attention: Any, causal: bool) -> None:
            super().__init__()
            self.attention = attention
            self.causal = causal

        def forward(self, inputs: Any) -> Any:
            mask = None
            if self.causal:
                size = inputs.shape[1]
                ones = torch.ones(size, size, dtype=torch.bool, device=inputs.device)
                mask = torch.triu(ones, diagonal=1)  # True: not allowed to attend
            output, _ = self.attention(inputs, inputs, inputs, attn_mask=mask, need_weights=False)
            return output

    # Named as the module's own attribute (see __getattr__), so that pickle finds it.
    TorchAttention.__qualname__ = "TorchAttention"
    return TorchAttention


def __getattr__(name: str) -> Any:
    """``TorchAttention``, the torch module class MultiHeadAttention exports to, built on first use
    (importing shapenn never imports torch): how ``torch.load`` finds it in a model saved with
    ``torch.save``."""
    if name == "TorchAttention":
        return _torch_self_attention(importlib.import_module("torch"))
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class MultiHeadAttention(Layer):
    """Multi-head self-attention over sequences (PyTorch's ``nn.MultiheadAttention`` with
    ``batch_first=True``, query, key and value all the input).

    Args:
        d_model: the features of each position (``d_model``).
        heads: the number of heads (``heads``); it must divide ``d_model``, each head taking
            ``d_head = d_model / heads`` features.
        causal: hide from each position the positions after it (a language model's mask).
        seed: seed or ``numpy.random.Generator`` for the initial weights.
        dtype: float32 (default) or float64.

    Attributes:
        in_weights: (d_model, 3·d_model), the query, key and value projections side by side,
            in the Dense convention ``inputs @ in_weights`` (PyTorch's ``in_proj_weight`` is
            its transpose); Glorot-uniform as PyTorch's. in_biases: (1, 3·d_model), zeros.
        out_weights: (d_model, d_model), the output projection (``out_proj.weight`` is its
            transpose), Glorot-uniform; out_biases: (1, d_model), zeros.

    Shape:
        forward: inputs (batch, seq, d_model) and an optional mask (batch, seq) of booleans,
        True where a key may be attended to (False for padding) → (batch, seq, d_model).
        backward: dvalues (batch, seq, d_model) → (batch, seq, d_model), and the gradients of
        all four parameters.

    A query whose keys are all masked gets an output row of 0 (never NaN). The attention
    weights of the last forward are kept as ``attention_weights`` (batch, heads, seq, seq).
    A forward whose scores (batch, heads, seq, seq) would need more memory than the machine
    has is refused before anything is allocated.

    Export: to ONNX as MatMul, Reshape, Transpose, Softmax (and, causal, a Where over a
    Range of the positions), opset 17; to PyTorch as ``nn.MultiheadAttention`` wrapped as a
    module of one input. Both compute the forward without ``mask`` (a model passes each layer
    one input): padding masks are for calls of ``forward`` of your own.

    Example::

        >>> layer = MultiHeadAttention(12, 4, seed=0)
        >>> layer.forward(np.zeros((3, 5, 12), np.float32)).shape
        (3, 5, 12)
    """

    in_weights: Floating[Array2D, "d_model 3*d_model"]
    in_biases: Floating[Array2D, "1 3*d_model"]
    out_weights: Floating[Array2D, "d_model d_model"]
    out_biases: Floating[Array2D, "1 d_model"]
    heads: Dim
    d_head: Dim

    def __init__(
        self,
        d_model: int,
        heads: int,
        causal: bool = False,
        *,
        seed: int | np.random.Generator | None = None,
        dtype: npt.DTypeLike = np.float32,
    ) -> None:
        owner = "MultiHeadAttention"
        size = positive(owner, "d_model", d_model)
        count = positive(owner, "heads", heads)
        self.d_head = check_heads(owner, size, count)
        self.heads = count
        self.causal: bool = flag(owner, "causal", causal)
        float_dtype = init_.float_dtype(dtype, owner)
        fits_memory(
            owner,
            f"d_model={shown(size)} makes in_weights of shape",
            (size, QKV * size),
            float_dtype,
        )
        rng = generator(owner, seed)
        wide, square = (size, QKV * size), (size, size)
        # PyTorch's in_proj_weight is Glorot-uniform over (3·d_model, d_model): fans (d, 3d).
        self.in_weights = init_.draw(
            "glorot_uniform", wide, wide, rng, float_dtype, hint=None, where=owner
        )
        self.in_biases = init_.zeros((1, QKV * size), float_dtype)
        self.out_weights = init_.draw(
            "glorot_uniform", square, square, rng, float_dtype, hint=None, where=owner
        )
        self.out_biases = init_.zeros((1, size), float_dtype)
        self.din_weights: Floating[Array2D, "d_model 3*d_model"] = init_.zeros(wide, float_dtype)
        self.din_biases: Floating[Array2D, "1 3*d_model"] = init_.zeros(
            (1, QKV * size), float_dtype
        )
        self.dout_weights: Floating[Array2D, "d_model d_model"] = init_.zeros(square, float_dtype)
        self.dout_biases: Floating[Array2D, "1 d_model"] = init_.zeros((1, size), float_dtype)

    @property
    def d_model(self) -> int:
        return int(self.out_weights.shape[0])

    @property
    def dtype(self) -> np.dtype[Any]:
        return self.out_weights.dtype

    def __repr__(self) -> str:
        causal = ", causal=True" if self.causal else ""
        return f"MultiHeadAttention({self.d_model}, heads={self.heads}{causal})"

    def resized(self, dims: dict[str, int]) -> str:
        """This layer's constructor call with ``d_model`` changed, for error hints ('' when
        ``heads`` would not divide it)."""
        size = dims.get("d_model", self.d_model)
        if size % self.heads:
            return ""
        causal = ", causal=True" if self.causal else ""
        return f"MultiHeadAttention({size}, {self.heads}{causal})"

    def forward(
        self,
        inputs: Floating[Array3D, "batch seq d_model"],
        mask: Bool[Array2D, "batch seq"] | None = None,
    ) -> Floating[Array3D, "batch seq d_model"]:
        """Attend from each position to the others (those ``mask`` and ``causal`` leave);
        remember what ``backward`` needs.

        Shape: inputs (batch, seq, d_model), mask (batch, seq) → (batch, seq, d_model)
        """
        check_scores_fit(f"{self!r}.forward", inputs.shape, self.heads, inputs.dtype)
        output, qkv, weights, context = attention_forward(
            inputs,
            self.in_weights,
            self.in_biases,
            self.out_weights,
            self.out_biases,
            self.heads,
            self.causal,
            mask,
        )
        self._cache(
            inputs=inputs, output=output, qkv=qkv, attention_weights=weights, context=context
        )
        return output

    def backward(
        self, dvalues: Floating[Array3D, "batch seq d_model"]
    ) -> Floating[Array3D, "batch seq d_model"]:
        """Store the gradients of the four parameters; return the gradient for the previous
        layer.

        Shape: dvalues (batch, seq, d_model) → (batch, seq, d_model)
        """
        dinputs, din_weights, din_biases, dout_weights, dout_biases = attention_backward(
            dvalues,
            self.inputs,
            self.in_weights,
            self.out_weights,
            self.qkv,
            self.attention_weights,
            self.context,
        )
        self.din_weights, self.din_biases = din_weights, din_biases
        self.dout_weights, self.dout_biases = dout_weights, dout_biases
        self._cache(dinputs=dinputs)
        return dinputs

    def export_onnx(self, graph: Any, inputs: str) -> str:
        # The forward without a mask (a graph has one input). Sizes of the batch and the
        # sequence stay symbolic: Reshape's 0 copies a size from its input, and the causal
        # mask is built from the input's own length.
        d_model, heads, d_head = self.d_model, self.heads, self.d_head
        biases = self.in_biases.reshape(-1)

        def ints(*values: int) -> str:
            return str(graph.add("Constant", [], value_ints=list(values)))

        def split(part: int, name: str) -> str:
            # (batch, seq, d_model) → (batch, seq, heads, d_head) → (batch, heads, seq, d_head)
            columns = slice(part * d_model, (part + 1) * d_model)
            weights = graph.constant(f"{name}_weights", self.in_weights[:, columns])
            projected = graph.add(
                "Add",
                [
                    graph.add("MatMul", [inputs, weights]),
                    graph.constant(f"{name}_biases", biases[columns]),
                ],
            )
            heads_last = graph.add("Reshape", [projected, ints(0, 0, heads, d_head)])
            return str(graph.add("Transpose", [heads_last], perm=[0, 2, 1, 3]))

        queries, keys, values = split(0, "query"), split(1, "key"), split(2, "value")
        scores = graph.add(
            "Mul",
            [
                graph.add("MatMul", [queries, graph.add("Transpose", [keys], perm=[0, 1, 3, 2])]),
                graph.constant("scale", np.array(1 / math.sqrt(d_head))),
            ],
        )
        if self.causal:
            seq = graph.add(
                "Gather", [graph.add("Shape", [inputs]), graph.add("Constant", [], value_int=1)]
            )
            start, step = (
                graph.add("Constant", [], value_int=0),
                graph.add("Constant", [], value_int=1),
            )
            positions = graph.add("Range", [start, seq, step])
            rows = graph.add("Unsqueeze", [positions, ints(1)])
            allowed = graph.add("GreaterOrEqual", [rows, positions])  # key <= query
            # The lowest finite value rather than -inf (a graph's constants are finite): its
            # exponential after Softmax's shift is 0 all the same.
            lowest = graph.constant("hidden", np.array(np.finfo(self.dtype).min))
            scores = graph.add("Where", [allowed, scores, lowest])
        weights = graph.add("Softmax", [scores], axis=-1)
        context = graph.add(
            "Transpose", [graph.add("MatMul", [weights, values])], perm=[0, 2, 1, 3]
        )
        merged = graph.add("Reshape", [context, ints(0, 0, d_model)])
        projected = graph.add("MatMul", [merged, graph.constant("out_weights", self.out_weights)])
        return str(
            graph.add("Add", [projected, graph.constant("out_biases", self.out_biases.reshape(-1))])
        )

    def export_torch(self, torch: Any) -> Any:
        attention = self.torch_attention(torch)
        return _torch_self_attention(torch)(attention, self.causal)

    def torch_attention(self, torch: Any) -> Any:
        """This layer's parameters in a ``torch.nn.MultiheadAttention(d_model, heads,
        batch_first=True)``: ``in_proj_weight`` is ``in_weights.T`` (rows: query, key, value),
        ``out_proj.weight`` is ``out_weights.T``."""
        attention = torch.nn.MultiheadAttention(
            self.d_model, self.heads, batch_first=True, dtype=_torch_dtype(torch, self)
        )
        with torch.no_grad():
            attention.in_proj_weight.copy_(torch.from_numpy(self.in_weights.T.copy()))
            attention.in_proj_bias.copy_(torch.from_numpy(self.in_biases.reshape(-1).copy()))
            attention.out_proj.weight.copy_(torch.from_numpy(self.out_weights.T.copy()))
            attention.out_proj.bias.copy_(torch.from_numpy(self.out_biases.reshape(-1).copy()))
        return attention
