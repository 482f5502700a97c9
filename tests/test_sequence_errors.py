"""The ten sequence mistakes of docs/sequences.md: each is refused with the right error class,
in words that name what is wrong and how to fix it, and in a few lines (the message is what a
user reads)."""

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from jaxtyping import Float

import shapenn as sn
from shapenn.shapes import Array2D, Array3D
from shapenn.testing import DependencyError

VOCAB, SEQ, D_MODEL, HEADS = 11, 6, 8, 2
MAX_LINES = 6


class HandAttention(sn.Layer):
    """Causal self-attention by hand; ``transpose_back=False`` merges the heads by a reshape
    alone, the classic bug."""

    def __init__(self, d_model: int, heads: int, *, transpose_back: bool) -> None:
        self.heads, self.transpose_back = heads, transpose_back
        self.qkv = sn.Dense(d_model, 3 * d_model, seed=0)

    def __repr__(self) -> str:
        return f"HandAttention(heads={self.heads})"

    def forward(self, inputs: Float[Array3D, "batch seq d"]) -> Float[Array3D, "batch seq d"]:
        batch, seq, d = inputs.shape
        rows: Any = inputs  # Dense takes any rank; its static type says 2-D
        split = self.qkv.forward(rows).reshape(batch, seq, 3, self.heads, d // self.heads)
        q, k, v = split.transpose(2, 0, 3, 1, 4)
        scores = q @ k.transpose(0, 1, 3, 2) / (d // self.heads) ** 0.5
        scores[..., np.triu(np.ones((seq, seq), dtype=bool), k=1)] = -np.inf
        weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
        heads = weights / weights.sum(axis=-1, keepdims=True) @ v
        if self.transpose_back:
            heads = heads.transpose(0, 2, 1, 3)
        self.output: npt.NDArray[Any] = heads.reshape(batch, seq, d)
        return self.output


class LastPosition(sn.Layer):
    """(batch, seq, features) → (batch, features): the last position's features."""

    def forward(self, inputs: Float[Array3D, "batch seq f"]) -> Float[Array2D, "batch f"]:
        self.inputs = inputs
        return inputs[:, -1]

    def backward(self, dvalues: Float[Array2D, "batch f"]) -> Float[Array3D, "batch seq f"]:
        self.dinputs = np.zeros_like(self.inputs)
        self.dinputs[:, -1] = dvalues
        return self.dinputs


def _ids(batch: int = 4, seq: int = SEQ, seed: int = 0) -> npt.NDArray[np.int64]:
    return np.random.default_rng(seed).integers(0, VOCAB, size=(batch, seq))


def _gpt(*pooling: sn.Layer) -> sn.Model:
    """A tiny causal transformer from ids to a distribution per position (or, with a pooling
    layer, per sequence)."""
    return sn.Model(
        [
            sn.Embedding(VOCAB, D_MODEL, seed=0),
            sn.PositionalEmbedding(SEQ, D_MODEL, seed=1),
            sn.TransformerBlock(D_MODEL, HEADS, 16, causal=True, seed=2),
            *pooling,
            sn.Dense(D_MODEL, VOCAB, seed=3),
            sn.Softmax(),
        ],
        loss=sn.CategoricalCrossentropy(),
        optimizer=sn.Adam(),
    )


def _features() -> tuple[sn.MultiHeadAttention, npt.NDArray[np.float32], npt.NDArray[np.bool_]]:
    """An attention layer, a padded batch's features (2, 6, d_model) and its padding mask."""
    batch = np.array([[5, 9, 2, 7, 0, 0], [3, 3, 8, 1, 4, 6]])
    features = sn.Embedding(VOCAB, D_MODEL, seed=0).forward(batch)
    return sn.MultiHeadAttention(D_MODEL, HEADS, seed=0), features, batch != 0


def _lstm_classifier() -> sn.Model:
    return sn.Model(
        [sn.LSTM(8, 16, seed=0), sn.Dense(16, 3, seed=1), sn.Softmax()],
        loss=sn.CategoricalCrossentropy(),
        optimizer=sn.Adam(),
    )


def heads_merged_without_the_transpose() -> None:
    model = sn.Model(
        [
            sn.Embedding(VOCAB, D_MODEL, seed=0),
            HandAttention(D_MODEL, HEADS, transpose_back=False),
            sn.Dense(D_MODEL, VOCAB, seed=1),
            sn.Softmax(),
        ]
    )
    sn.testing.assert_causal(model, _ids())


def d_model_not_divisible_by_heads() -> None:
    sn.TransformerBlock(64, 6, 256, causal=True)


def time_major_input_to_an_lstm() -> None:
    time_major = np.zeros((20, 100, 8), dtype=np.float32)
    _lstm_classifier().fit(time_major, np.zeros(100, dtype=np.int64), epochs=1, verbose=0)


def rows_without_a_time_axis_to_an_lstm() -> None:
    rows = np.zeros((100, 8), dtype=np.float32)
    _lstm_classifier().fit(rows, np.zeros(100, dtype=np.int64), epochs=1, verbose=0)


def one_hot_labels_of_another_vocabulary() -> None:
    labels = np.eye(VOCAB - 1, dtype=np.float32)[_ids() % (VOCAB - 1)]
    _gpt().fit(_ids(), labels, epochs=1, verbose=0)


def labels_transposed() -> None:
    _gpt().fit(_ids(), _ids().T, epochs=1, verbose=0)


def a_padding_mask_of_the_wrong_length() -> None:
    attention, features, _ = _features()
    attention.forward(features, mask=np.ones((2, 8), dtype=bool))


def an_additive_float_mask() -> None:
    attention, features, mask = _features()
    attention.forward(features, mask=np.where(mask, 0.0, -np.inf).astype(np.float32))


def a_mask_laid_out_seq_by_batch() -> None:
    attention, features, mask = _features()
    attention.forward(features, mask=mask.T)


def sequences_longer_than_max_len() -> None:
    _gpt().predict(_ids(seq=2 * SEQ))


def float_ids() -> None:
    _gpt().predict(_ids().astype(np.float32))


def an_id_outside_the_vocabulary() -> None:
    _gpt().predict(np.array([[1, 2, VOCAB]]))


def classification_without_pooling() -> None:
    _gpt().fit(_ids(), np.zeros(4, dtype=np.int64), epochs=1, verbose=0)


# (mistake, the error class, words the message must hold)
CASES: list[tuple[Callable[[], None], type[Exception], list[str]]] = [
    (
        heads_merged_without_the_transpose,
        DependencyError,
        ["outputs see later positions", "HandAttention(heads=2)", "transpose(0, 2, 1, 3)"],
    ),
    (
        d_model_not_divisible_by_heads,
        sn.ArgumentError,
        ["d_model (64) must be divisible by heads (6)", "heads may be 1, 2, 4, 8, 16, 32 or 64"],
    ),
    (
        time_major_input_to_an_lstm,
        sn.ShapeError,
        ["`y` expected", "`batch` is 100 here but 20 in `X`", "one row per sample"],
    ),
    (
        rows_without_a_time_axis_to_an_lstm,
        sn.ShapeError,
        ["batch-first", "add a time axis", "`X[:, None, :]`", "X.transpose(1, 0, 2)"],
    ),
    (
        one_hot_labels_of_another_vocabulary,
        sn.ShapeError,
        ["`y` expected", f"`classes` is {VOCAB - 1} here but {VOCAB}", "Softmax()"],
    ),
    (labels_transposed, sn.ShapeError, ["`y` looks transposed: pass `y.T`"]),
    (
        a_padding_mask_of_the_wrong_length,
        sn.ShapeError,
        ["`mask` expected boolean (batch=2, seq=6)", "`seq` is 8 here but 6 in `inputs`"],
    ),
    (an_additive_float_mask, sn.ShapeError, ["`mask`", "float32 is not boolean"]),
    (a_mask_laid_out_seq_by_batch, sn.ShapeError, ["`mask` looks transposed: pass `mask.T`"]),
    (
        sequences_longer_than_max_len,
        sn.ShapeError,
        [
            "PositionalEmbedding(max_len=6",
            f"more than `max_len` = {SEQ}",
            f"PositionalEmbedding({2 * SEQ}, {D_MODEL})",
        ],
    ),
    (
        float_ids,
        sn.ShapeError,
        ["integer token ids", "a float is never an id", "X.astype(np.int64)"],
    ),
    (
        an_id_outside_the_vocabulary,
        sn.LabelError,
        [f"Embedding({VOCAB} → {D_MODEL})", f"in [0, {VOCAB})", f"got {VOCAB} at index (0, 2)"],
    ),
    (
        classification_without_pooling,
        sn.ShapeError,
        ["`y` expected integer (batch=4, *positions=(6,))", "Softmax()"],
    ),
]


@pytest.mark.parametrize(
    ("mistake", "error", "words"), CASES, ids=[case[0].__name__ for case in CASES]
)
def test_a_sequence_mistake_is_refused_in_a_few_lines(
    mistake: Callable[[], None], error: type[Exception], words: list[str]
) -> None:
    with pytest.raises(error) as caught:
        mistake()
    message = str(caught.value)
    for word in words:
        assert word in message, f"{word!r} not in:\n{message}"
    assert len(message.splitlines()) <= MAX_LINES, message


def test_the_fixes_pass() -> None:
    """What each message says to do works: the transpose back is causal, pooling the last
    position fits one label per sequence, the right mask and a time axis are taken."""
    fixed = sn.Model(
        [
            sn.Embedding(VOCAB, D_MODEL, seed=0),
            HandAttention(D_MODEL, HEADS, transpose_back=True),
            sn.Dense(D_MODEL, VOCAB, seed=1),
            sn.Softmax(),
        ]
    )
    sn.testing.assert_causal(fixed, _ids())
    attention, features, mask = _features()
    assert attention.forward(features, mask=mask).shape == features.shape
    rows = np.zeros((100, 8), dtype=np.float32)
    history = _lstm_classifier().fit(
        rows[:, None, :], np.zeros(100, dtype=np.int64), epochs=1, verbose=0
    )
    assert len(history.loss) == 1
    assert _gpt().predict(_ids().astype(np.float32).astype(np.int64)).shape == (4, SEQ, VOCAB)
    pooled = _gpt(LastPosition())
    history = pooled.fit(_ids(), np.zeros(4, dtype=np.int64), epochs=1, verbose=0)
    assert pooled.predict(_ids()).shape == (4, VOCAB) and len(history.loss) == 1
