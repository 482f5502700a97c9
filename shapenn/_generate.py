"""Autoregressive sampling from a sequence model: each new id is drawn from the model's
distribution at the last position, then fed back as input.

The model takes ids ``(batch, seq)`` and gives probabilities ``(batch, seq, vocab)`` — an
`Embedding` first, a `Softmax` last. It is run with ``predict`` (inference mode: Dropout off),
on the last ``context`` ids only: a model with learned positions (a layer with a ``max_len``,
such as a positional embedding) cannot take more.
"""

from typing import Any

import numpy as np
import numpy.typing as npt

from ._args import generator, integer, real, shown
from .layers import Embedding
from .model import Model
from .shapes import ArgumentError, LabelError

__all__ = ["generate"]

#: How far a row of the model's output may sum from 1 and still be taken as probabilities
#: (float32 softmax rows sum to 1 within a few 1e-7 each).
SUM_TOLERANCE = 1e-3


def _max_len(model: Model) -> tuple[int, str] | None:
    """The shortest ``max_len`` among the model's layers and the layers they own (a positional
    embedding's), with the layer's name; None if no layer has one."""
    found: tuple[int, str] | None = None
    for index, top in enumerate(model.layers):
        for path, layer in top.named_layers():
            value = getattr(layer, "max_len", None)
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
                continue
            name = f"layers[{index}]{'.' + path if path else ''} {layer!r}"
            if found is None or int(value) < found[0]:
                found = (int(value), name)
    return found


def _context(owner: str, model: Model, context: object) -> int | None:
    """How many of the last ids to feed: ``context`` if given (at most the model's
    ``max_len``), else the model's ``max_len``, else None (all of them)."""
    limit = _max_len(model)
    if context is None:
        return None if limit is None else limit[0]
    size = integer(owner, "context", context, minimum=1)
    if limit is not None and size > limit[0]:
        raise ArgumentError(
            f"{owner}: context={size} is longer than {limit[1]} takes (max_len={limit[0]}); "
            f"give context <= {limit[0]}, or leave it out to use {limit[0]}"
        )
    return size


def _prompt(owner: str, prompt_ids: npt.ArrayLike, vocab: int | None) -> npt.NDArray[np.int64]:
    """The prompt as 1-D int64 ids, at least one, in ``[0, vocab)`` when vocab is known."""
    try:
        array = np.asarray(prompt_ids)
    except (ValueError, TypeError) as err:
        raise ArgumentError(f"{owner}: prompt_ids must be a 1-D sequence of ids ({err})") from None
    if array.ndim == 1 and array.size == 0:  # before the dtype: [] is float64 to NumPy
        raise ArgumentError(
            f"{owner}: prompt_ids is empty; give at least one id to start from (a newline's, say)"
        )
    if array.ndim != 1 or array.dtype.kind not in "iu":
        raise ArgumentError(
            f"{owner}: prompt_ids must be a 1-D sequence of integer ids (tokenizer.encode gives "
            f"one), got shape {array.shape} {array.dtype}"
        )
    low, high = int(array.min()), int(array.max())
    if low < 0 or (vocab is not None and high >= vocab):
        bad = low if low < 0 else high
        where = int(np.flatnonzero(array == bad)[0])
        bound = f"[0, {vocab})" if vocab is not None else "[0, vocab)"
        raise LabelError(f"{owner}: prompt_ids holds the id {bad} at {where}, not in {bound}")
    return array.astype(np.int64)


def _distribution(
    owner: str, output: npt.NDArray[Any], length: int, vocab: int | None
) -> npt.NDArray[np.float64]:
    """The last position's probabilities from the model's output ``(1, length, vocab)``,
    checked: an output of another shape, or rows that are not distributions, is refused."""
    if output.ndim != 3 or output.shape[:2] != (1, length):
        raise ArgumentError(
            f"{owner}: the model must give (batch, seq, vocab) probabilities, one row per "
            f"position; for ids (1, {length}) it gave {output.shape}: end it with a Dense to "
            "the vocabulary and a Softmax, per position"
        )
    if vocab is not None and output.shape[2] != vocab:
        raise ArgumentError(
            f"{owner}: the model gives {output.shape[2]} probabilities per position, but its "
            f"Embedding takes {vocab} ids: each sampled id is fed back, so both must be the "
            "same vocabulary"
        )
    row: npt.NDArray[np.float64] = output[0, -1].astype(np.float64)
    total = float(row.sum())
    if not (np.isfinite(row).all() and row.min() >= 0 and abs(total - 1) <= SUM_TOLERANCE):
        raise ArgumentError(
            f"{owner}: the model's output at the last position is not a probability "
            f"distribution (its entries sum to {total:.4g}, the smallest is {row.min():.3g}): "
            "end the model with sn.Softmax()"
        )
    return row


def _sample(
    probabilities: npt.NDArray[np.float64],
    temperature: float,
    top_k: int | None,
    rng: np.random.Generator,
) -> int:
    """One id: the most probable at temperature 0, else drawn from ``p^(1/T)`` renormalized,
    among the ``top_k`` most probable ids when given."""
    if temperature == 0:
        return int(np.argmax(probabilities))
    # Measured from the most probable id, so the largest logit is 0 at any temperature (a tiny
    # one sends the others to -inf, not the largest too); an id of probability 0 stays
    # impossible: log 0 = -inf.
    with np.errstate(divide="ignore", over="ignore"):
        logits = (np.log(probabilities) - np.log(probabilities.max())) / temperature
    if top_k is not None and top_k < logits.size:
        # Ties at the k-th value keep the lower ids: the order of a stable sort.
        order = np.argsort(-logits, kind="stable")
        logits[order[top_k:]] = -np.inf
    weights = np.exp(logits)
    cumulative = np.cumsum(weights)
    index = int(np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right"))
    return min(index, probabilities.size - 1)


def generate(
    model: Model,
    prompt_ids: npt.ArrayLike,
    length: int,
    *,
    temperature: float = 1.0,
    seed: int | np.random.Generator | None = None,
    top_k: int | None = None,
    context: int | None = None,
) -> npt.NDArray[np.int64]:
    """Continue ``prompt_ids`` by ``length`` ids, each sampled from the model's distribution
    at the last position and fed back.

    At each step the model is given the last ``context`` ids, ``(1, ≤ context)``, and its
    output at the last position, a distribution over the vocabulary, gives the next id. The
    model is run with ``predict``, in inference mode; its weights are not changed.

    Args:
        model: a Model from ids ``(batch, seq)`` (an Embedding first) to probabilities
            ``(batch, seq, vocab)`` (a Softmax last).
        prompt_ids: the ids to start from, 1-D, at least one.
        length: how many ids to add, an integer >= 0.
        temperature: ``p^(1/T)``, renormalized: below 1 sharper, above 1 flatter; 0 takes the
            most probable id every time (greedy, no randomness). A finite number >= 0.
        seed: for the draws: an integer >= 0, a Generator, or None (fresh entropy); the same
            seed gives the same ids.
        top_k: draw only among the ``top_k`` most probable ids (None: all; a top_k at least
            the vocabulary size is all of them).
        context: how many of the last ids to feed; by default the ``max_len`` of a layer that
            has one (a positional embedding), found among the model's layers and the layers
            they own, else every id so far.

    Returns:
        The prompt followed by the ``length`` new ids, 1-D int64.

    Raises:
        ArgumentError: an argument out of its range, a model that does not take integer ids
            or does not give ``(batch, seq, vocab)`` probabilities, or a context longer than
            the model's ``max_len``.
        LabelError: a prompt id outside the vocabulary.

    Example::

        ids = generate(model, tokenizer.encode("def "), 200, temperature=0.8, seed=0)
        print(tokenizer.decode(ids))
    """
    owner = "generate"
    if not isinstance(model, Model):
        raise ArgumentError(
            f"{owner}: model must be a Model from ids to probabilities, got {shown(model)} (a "
            f"{type(model).__name__})"
        )
    if not model.layers or model.input_dtype.kind not in "iu":
        first = f"layers[0] {model.layers[0]!r} takes floats" if model.layers else "it is empty"
        raise ArgumentError(
            f"{owner}: the model must take integer ids (an Embedding first), since each sampled "
            f"id is fed back; {first}"
        )
    count = integer(owner, "length", length, minimum=0)
    warmth = real(owner, "temperature", temperature, low=0.0)
    k = None if top_k is None else integer(owner, "top_k", top_k, minimum=1)
    rng = generator(owner, seed)
    window = _context(owner, model, context)
    first_layer = model.layers[0]
    vocab = first_layer.vocab_size if isinstance(first_layer, Embedding) else None
    ids = _prompt(owner, prompt_ids, vocab)
    out = np.empty(ids.size + count, dtype=np.int64)
    out[: ids.size] = ids
    for end in range(ids.size, ids.size + count):
        fed = out[max(0, end - window) if window is not None else 0 : end]
        output = np.asarray(model.predict(fed[None, :]))
        out[end] = _sample(_distribution(owner, output, fed.size, vocab), warmth, k, rng)
    return out
