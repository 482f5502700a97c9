"""Sequence layers: GELU, MultiHeadAttention, PositionalEmbedding and TransformerBlock. What
each computes (against the definitions, and against PyTorch where installed), their gradients
against finite differences, alone and in a model that trains, their state saved and loaded,
their export, and their errors.

Sizes are distinct on purpose (batch 3, seq 5, d_model 12, heads 4, d_ff 20), so that a
transposed axis or a head split the wrong way cannot pass by chance.
"""

import io
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from jaxtyping import Bool

import shapenn as sn
from shapenn import export
from shapenn.layers._attention import MultiHeadAttention
from shapenn.layers._gelu import GELU, erf
from shapenn.layers._positional import PositionalEmbedding
from shapenn.layers._transformer import TransformerBlock
from shapenn.shapes import Array2D, Array3D, Floating

BATCH, SEQ, D_MODEL, HEADS, D_FF, VOCAB = 3, 5, 12, 4, 20, 11
F32, F64 = np.float32, np.float64
TOLERANCE = 1e-5


def _inputs(seed: int = 0, dtype: Any = F32, shape: tuple[int, ...] = (BATCH, SEQ, D_MODEL)) -> Any:
    return np.random.default_rng(seed).normal(size=shape).astype(dtype)


def _attention(causal: bool = False, dtype: Any = F32, seed: int = 0) -> MultiHeadAttention:
    """A layer whose biases are not zero, so that the parity tests see them."""
    layer = MultiHeadAttention(D_MODEL, HEADS, causal, seed=seed, dtype=dtype)
    rng = np.random.default_rng(seed + 100)
    layer.in_biases[...] = rng.normal(size=layer.in_biases.shape)
    layer.out_biases[...] = rng.normal(size=layer.out_biases.shape)
    return layer


def _padding() -> Any:
    """(batch, seq): True where a key may be attended to; the first sequence padded after 3
    positions, the last one with a hole."""
    mask = np.ones((BATCH, SEQ), bool)
    mask[0, 3:] = False
    mask[2, 1] = False
    return mask


def _reference_attention(layer: MultiHeadAttention, x: Any, mask: Any, causal: bool) -> Any:
    """Multi-head attention written out head by head with loops, in float64."""
    x = x.astype(F64)
    w_in, b_in = layer.in_weights.astype(F64), layer.in_biases.astype(F64)[0]
    q, k, v = np.split(x @ w_in + b_in, 3, axis=-1)
    d_head = D_MODEL // HEADS
    out = np.zeros_like(x)
    for b in range(x.shape[0]):
        for h in range(HEADS):
            cols = slice(h * d_head, (h + 1) * d_head)
            scores = q[b, :, cols] @ k[b, :, cols].T / math.sqrt(d_head)
            allowed = np.ones_like(scores, bool)
            if mask is not None:
                allowed &= mask[b][None, :]
            if causal:
                allowed &= np.tri(x.shape[1], dtype=bool)
            scores = np.where(allowed, scores, -np.inf)
            weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
            out[b, :, cols] = (weights / weights.sum(axis=-1, keepdims=True)) @ v[b, :, cols]
    return out @ layer.out_weights.astype(F64) + layer.out_biases.astype(F64)


# --- GELU -----------------------------------------------------------------------------------


def test_erf_matches_the_standard_library_to_float64_precision() -> None:
    x = np.concatenate([np.linspace(-7, 7, 20001), [0.0, 1e-300, 2.0, -2.0, 6.0, 40.0]])
    expected = np.array([math.erf(v) for v in x])
    np.testing.assert_allclose(erf(x), expected, rtol=2e-15, atol=0)
    np.testing.assert_array_equal(erf(np.array([np.inf, -np.inf])), [1.0, -1.0])
    assert np.isnan(erf(np.array([np.nan]))).all()
    single = erf(x.astype(F32))
    assert single.dtype == F32
    np.testing.assert_allclose(single, expected.astype(F32), rtol=4e-7, atol=1e-7)


def test_erf_in_float32_is_within_a_few_units_odd_and_never_beyond_one() -> None:
    x = np.concatenate([np.linspace(-7, 7, 400_001), np.geomspace(1e-30, 1e-3, 1000)])
    x = x.astype(F32)
    expected = np.array([math.erf(v) for v in x.astype(F64)])
    units = np.abs(erf(x) - expected) / np.spacing(np.abs(expected).astype(F32))
    assert units.max() <= 6 and units.mean() <= 1
    # Every float32 from 3.5 to 4.5, where the rational function meets 1 and is clamped.
    near_one = np.arange(F32(3.5).view(np.int32), F32(4.5).view(np.int32)).view(F32)
    assert erf(near_one).max() == 1 and erf(-near_one).min() == -1
    np.testing.assert_array_equal(erf(-x), -erf(x))
    special = erf(np.array([np.inf, -np.inf, np.nan, 0.0, -0.0], dtype=F32))
    assert special.dtype == F32
    np.testing.assert_array_equal(special[:2], [1, -1])
    assert np.isnan(special[2]) and special[3] == 0 and np.signbit(special[4])


def test_gelu_is_x_times_the_normal_cdf_in_the_inputs_dtype() -> None:
    x = _inputs(1, F64) * 3
    expected = x * np.vectorize(lambda v: 0.5 * (1 + math.erf(v / math.sqrt(2))))(x)
    layer = GELU()
    np.testing.assert_allclose(layer.forward(x), expected, rtol=1e-13, atol=1e-300)
    assert layer.forward(x.astype(F32)).dtype == F32  # computed in float32, not upcast
    assert repr(layer) == "GELU()"


def test_gelu_in_float32_is_float32_rounding_away_from_the_exact_function() -> None:
    x = np.linspace(-12, 12, 100_001).astype(F32).astype(F64)  # each one a float32
    cdf = 0.5 * np.array([math.erfc(-v / math.sqrt(2)) for v in x])
    layer = GELU()
    outputs = layer.forward(x.astype(F32)[:, None])[:, 0]
    assert outputs.dtype == F32 and layer.cdf.dtype == F32
    # Φ within a few units of float32's spacing near 1 (6e-8), so x · Φ within |x| times that.
    np.testing.assert_allclose(layer.cdf[:, 0], cdf, rtol=0, atol=2.5e-7)
    np.testing.assert_allclose(outputs, x * cdf, rtol=4e-7, atol=1.5e-6)
    assert layer.cdf.min() >= 0 and layer.cdf.max() <= 1


def test_gelu_gradient_matches_finite_differences() -> None:
    assert sn.gradcheck(GELU(), _inputs(2, F64) * 3).ok


@pytest.mark.torch
def test_gelu_computes_what_torch_computes() -> None:
    torch = pytest.importorskip("torch")
    x = _inputs(3) * 3
    expected = torch.nn.GELU()(torch.from_numpy(x)).numpy()
    # 1 + erf(x/√2) cancels for x < -3 in float32 (as in PyTorch): there only the absolute
    # error is small.
    np.testing.assert_allclose(GELU().forward(x), expected, rtol=TOLERANCE, atol=1e-6)
    x64 = x.astype(F64)
    expected64 = torch.nn.GELU()(torch.from_numpy(x64)).numpy()
    np.testing.assert_allclose(GELU().forward(x64), expected64, rtol=1e-12, atol=1e-14)


# --- MultiHeadAttention ---------------------------------------------------------------------


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("masked", [False, True])
def test_attention_matches_the_definition_head_by_head(causal: bool, masked: bool) -> None:
    layer = _attention(causal, F64)
    x = _inputs(4, F64)
    mask = _padding() if masked else None
    np.testing.assert_allclose(
        layer.forward(x, mask), _reference_attention(layer, x, mask, causal), rtol=1e-12
    )
    weights = layer.attention_weights
    assert weights.shape == (BATCH, HEADS, SEQ, SEQ)
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, rtol=1e-12)
    if masked:
        assert not weights[0, :, :, 3:].any()  # padding keys: weight exactly 0
    if causal:
        assert not np.triu(weights, k=1).any()  # later keys: weight exactly 0


@pytest.mark.torch
@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("dtype", [F32, F64])
def test_attention_computes_what_torch_multihead_attention_computes(
    causal: bool, masked: bool, dtype: Any
) -> None:
    torch = pytest.importorskip("torch")
    layer = _attention(causal, dtype)
    reference = torch.nn.MultiheadAttention(
        D_MODEL, HEADS, batch_first=True, dtype=getattr(torch, np.dtype(dtype).name)
    )
    with torch.no_grad():  # PyTorch keeps (out, in): the transposes of shapenn's
        reference.in_proj_weight.copy_(torch.from_numpy(layer.in_weights.T.copy()))
        reference.in_proj_bias.copy_(torch.from_numpy(layer.in_biases[0].copy()))
        reference.out_proj.weight.copy_(torch.from_numpy(layer.out_weights.T.copy()))
        reference.out_proj.bias.copy_(torch.from_numpy(layer.out_biases[0].copy()))
    x = _inputs(5, dtype)
    mask = _padding() if masked else None
    future = torch.triu(torch.ones(SEQ, SEQ, dtype=torch.bool), diagonal=1) if causal else None
    tensor = torch.from_numpy(x)
    with torch.no_grad():
        expected, weights = reference(
            tensor,
            tensor,
            tensor,
            key_padding_mask=None if mask is None else torch.from_numpy(~mask),  # True: ignore
            attn_mask=future,
            average_attn_weights=False,
        )
    output = layer.forward(x, mask)
    assert output.dtype == dtype
    rtol, atol = (1e-5, 1e-6) if dtype == F32 else (1e-12, 1e-14)
    np.testing.assert_allclose(output, expected.numpy(), rtol=rtol, atol=atol)
    np.testing.assert_allclose(layer.attention_weights, weights.numpy(), rtol=rtol, atol=atol)


def _reference_weights(layer: MultiHeadAttention, x: Any, causal: bool) -> Any:
    """The attention weights (batch, heads, seq, seq) in float64, each row shifted by its own
    largest score."""
    q, k, _ = np.split(x.astype(F64) @ layer.in_weights.astype(F64), 3, axis=-1)
    split = [p.reshape(BATCH, SEQ, HEADS, -1).transpose(0, 2, 1, 3) for p in (q, k)]
    scores = split[0] @ split[1].swapaxes(-1, -2) / math.sqrt(D_MODEL // HEADS)
    if causal:
        scores = np.where(np.tri(SEQ, dtype=bool), scores, -np.inf)
    weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return weights / weights.sum(axis=-1, keepdims=True)


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize(("spread", "tolerance"), [(1.0, 1.5e-7), (40.0, 3e-5)])
def test_the_weights_are_the_float64_softmax_to_float32_rounding(
    causal: bool, spread: float, tolerance: float
) -> None:
    """Each row is shifted by one of its own scores before the exponential, its diagonal (by
    its largest where that overflows): with scores of order 1 every float32 weight is within
    ~1e-7 of the float64 softmax, as with a shift by the largest (a shift by an estimate ~30
    away, tried for speed, made it four times larger: the exponent's own rounding); with
    scores in the hundreds (``spread`` 40, where most rows overflow and are taken again) the
    products' rounding dominates."""
    layer = MultiHeadAttention(D_MODEL, HEADS, causal, seed=3)
    layer.in_weights *= spread
    x = _inputs(12)
    layer.forward(x)
    np.testing.assert_allclose(
        layer.attention_weights, _reference_weights(layer, x, causal), rtol=0, atol=tolerance
    )


@pytest.mark.parametrize("causal", [False, True])
def test_a_nan_stays_in_its_own_sequence(causal: bool) -> None:
    """(An earlier position gets NaN too, through a weight of exactly 0 times a NaN value.)"""
    layer = _attention(causal)
    x = _inputs(13)
    x[0, 2, 0] = np.nan  # the query, key and value of sequence 0 at position 2
    with np.errstate(invalid="ignore"):
        output = layer.forward(x)
    assert np.isfinite(output[1:]).all()
    assert np.isnan(output[0, 2:]).all()


def test_a_query_that_sees_no_key_gives_zeros_never_nan() -> None:
    layer = _attention()
    mask = np.ones((BATCH, SEQ), bool)
    mask[1] = False  # every key of the second sequence hidden
    x = _inputs(6)
    with np.errstate(all="raise"):  # no 0/0, no inf - inf on the way
        output = layer.forward(x, mask)
        assert not output[1].any()
        assert not layer.attention_weights[1].any()
        # Two sequences in place of three: BLAS may block the products differently (float32).
        np.testing.assert_allclose(output[[0, 2]], layer.forward(x[[0, 2]]), rtol=1e-5, atol=1e-6)
        layer.forward(x, mask)
        dinputs = layer.backward(np.ones_like(x))
    assert np.isfinite(dinputs).all() and not dinputs[1].any()
    # Causal, with the first key padded: the first query sees nothing, the others see the rest.
    causal = _attention(causal=True)
    first_hidden = np.ones((BATCH, SEQ), bool)
    first_hidden[:, 0] = False
    output = causal.forward(x, first_hidden)
    assert not output[:, 0].any() and np.isfinite(output).all() and output[:, 1:].all()


def test_masks_of_another_length_or_dtype_are_shape_errors_naming_seq() -> None:
    layer = _attention()
    x = _inputs(7)
    with pytest.raises(sn.ShapeError) as caught:
        layer.forward(x, np.ones((BATCH, SEQ - 1), bool))
    assert str(caught.value).splitlines()[0] == (
        "MultiHeadAttention(12, heads=4).forward: `mask` expected boolean (batch=3, seq=5), got "
        "(3, 4) bool: `seq` is 4 here but 5 in `inputs`."
    )
    with pytest.raises(sn.ShapeError, match="its dtype int64 is not boolean"):
        layer.forward(x, np.ones((BATCH, SEQ), np.int64))
    with pytest.raises(sn.ShapeError) as caught:
        layer.forward(_inputs(7, shape=(BATCH, SEQ, 10)))
    assert "`d_model` is 10 here but 12 in `self.in_weights`" in str(caught.value)
    with pytest.raises(sn.ShapeError, match="float64"):
        layer.forward(x.astype(F64))  # never upcast silently


def test_scores_too_large_for_memory_are_refused_before_anything_is_allocated() -> None:
    layer = MultiHeadAttention(D_MODEL, HEADS, seed=0)
    seq = 20_000_000  # scores of 4 · seq² float32: 6.4 PB
    inputs = np.broadcast_to(np.zeros((1, 1, D_MODEL), F32), (1, seq, D_MODEL))
    with pytest.raises(sn.ArgumentError) as caught:
        layer.forward(inputs)
    message = str(caught.value)
    assert message.startswith(
        "MultiHeadAttention(12, heads=4).forward: inputs of shape (1, 20000000, 12) with 4 heads "
        "make attention scores of shape (1, 4, 20000000, 20000000) in float32, which would need "
        "6.4 PB, more than this machine's memory"
    )


class _Padded(MultiHeadAttention):
    """A MultiHeadAttention that always applies `_padding()`, so gradcheck can check masked
    attention (gradcheck passes one input)."""

    def forward(
        self,
        inputs: Floating[Array3D, "batch seq d_model"],
        mask: Bool[Array2D, "batch seq"] | None = None,
    ) -> Floating[Array3D, "batch seq d_model"]:
        padding = _padding()
        padding[1] = False  # a sequence whose queries see nothing: no gradient
        return super().forward(inputs, padding)


@pytest.mark.parametrize("kind", ["plain", "causal", "padded", "padded causal"])
def test_attention_gradients_match_finite_differences(kind: str) -> None:
    cls = _Padded if "padded" in kind else MultiHeadAttention
    layer = cls(D_MODEL, HEADS, "causal" in kind, seed=1, dtype=F64)
    rng = np.random.default_rng(8)
    layer.in_biases[...] = rng.normal(size=layer.in_biases.shape)
    result = sn.gradcheck(layer, _inputs(9, F64))
    assert set(result.errors) == {
        "inputs",
        "in_weights",
        "in_biases",
        "out_weights",
        "out_biases",
    }
    assert result.ok


def test_causal_attention_at_a_position_ignores_later_positions() -> None:
    for layer in (_attention(causal=True), TransformerBlock(D_MODEL, HEADS, D_FF, True, seed=0)):
        x = _inputs(10)
        before = layer.forward(x).copy()
        changed = x.copy()
        changed[:, 3:] = _inputs(11)[:, 3:] * 100
        after = layer.forward(changed)
        np.testing.assert_array_equal(after[:, :3], before[:, :3])
        assert not np.allclose(after[:, 3:], before[:, 3:])
    # Not causal: every position sees every other.
    plain = _attention()
    x = _inputs(10)
    before = plain.forward(x).copy()
    x[:, 4] += 1
    assert not np.allclose(plain.forward(x)[:, 0], before[:, 0])


# --- PositionalEmbedding --------------------------------------------------------------------


def test_positional_embedding_adds_a_vector_per_position() -> None:
    layer = PositionalEmbedding(8, D_MODEL, seed=0)
    x = _inputs(12)
    np.testing.assert_array_equal(layer.forward(x), x + layer.positions[:SEQ])
    dvalues = _inputs(13)
    np.testing.assert_array_equal(layer.backward(dvalues), dvalues)
    np.testing.assert_allclose(layer.dpositions[:SEQ], dvalues.sum(axis=0), rtol=1e-6)
    assert not layer.dpositions[SEQ:].any()  # positions not used: no gradient
    assert sn.gradcheck(PositionalEmbedding(8, D_MODEL, seed=0, dtype=F64), _inputs(14, F64)).ok
    assert repr(layer) == "PositionalEmbedding(max_len=8, d_model=12)"


def test_sequences_longer_than_max_len_are_shape_errors_naming_max_len() -> None:
    layer = PositionalEmbedding(4, D_MODEL, seed=0)
    with pytest.raises(sn.ShapeError) as caught:
        layer.forward(_inputs(15))
    assert str(caught.value) == (
        "PositionalEmbedding(max_len=4, d_model=12).forward: `inputs` expected floating-point "
        "(batch, seq, d_model=12) with seq <= max_len=4, got (3, 5, 12) float32: `seq` is 5 "
        "here, more than `max_len` = 4 in `self.positions`: there is a learned vector for each "
        "of 4 positions only.\n"
        "  dims bound so far: max_len=4, d_model=12\n"
        "  hint: cut the sequences to 4 positions (`inputs[:, :4]`), or make it "
        "PositionalEmbedding(5, 12)"
    )
    model = sn.Model([sn.Embedding(VOCAB, D_MODEL, seed=0), layer])
    with pytest.raises(sn.ShapeError) as caught:
        model.predict(np.zeros((2, 7), np.int64))
    message = str(caught.value)
    assert "`seq` is 7 here, more than `max_len` = 4 in `layers[1].positions`" in message
    assert message.endswith("hint: make layers[1] PositionalEmbedding(7, 12)")
    with pytest.raises(sn.ShapeError, match="`d_model` is 10 here but 12"):
        layer.forward(_inputs(15, shape=(BATCH, 3, 10)))


# --- TransformerBlock -----------------------------------------------------------------------


def test_the_block_owns_its_layers_and_their_parameters() -> None:
    block = TransformerBlock(D_MODEL, HEADS, D_FF, dropout=0.1, seed=0)
    assert [name for name, _ in block.children()] == [
        "norm1",
        "attention",
        "dropout1",
        "norm2",
        "linear1",
        "activation",
        "linear2",
        "dropout2",
    ]
    assert [p.path for p in block.parameters()] == [
        "norm1.gamma",
        "norm1.beta",
        "attention.in_weights",
        "attention.in_biases",
        "attention.out_weights",
        "attention.out_biases",
        "norm2.gamma",
        "norm2.beta",
        "linear1.weights",
        "linear1.biases",
        "linear2.weights",
        "linear2.biases",
    ]
    count = 4 * D_MODEL + 4 * D_MODEL * D_MODEL + 4 * D_MODEL + 2 * D_MODEL * D_FF + D_FF + D_MODEL
    assert sum(p.value.size for p in block.parameters()) == count
    assert repr(block) == "TransformerBlock(12, heads=4, d_ff=20, dropout=0.1)"
    assert block.get_config() == {
        "d_model": 12,
        "heads": 4,
        "d_ff": 20,
        "causal": False,
        "dropout": 0.1,
        "dtype": "float32",
    }
    assert not [n for n, _ in TransformerBlock(D_MODEL, HEADS, D_FF).children() if "drop" in n]


def test_the_block_is_attention_then_feed_forward_each_added_back() -> None:
    block = TransformerBlock(D_MODEL, HEADS, D_FF, causal=True, seed=0, dtype=F64)
    x = _inputs(16, F64)
    y = x + block.attention.forward(block.norm1.forward(x))
    hidden = GELU().forward(block.linear1.forward(block.norm2.forward(y)))
    np.testing.assert_allclose(block.forward(x), y + block.linear2.forward(hidden), rtol=1e-12)


@pytest.mark.parametrize("causal", [False, True])
def test_block_gradients_match_finite_differences(causal: bool) -> None:
    block = TransformerBlock(D_MODEL, HEADS, D_FF, causal, dropout=0.2, seed=2, dtype=F64)
    result = sn.gradcheck(block, _inputs(17, F64), max_entries=40)
    assert "attention.in_weights" in result.errors and "linear2.weights" in result.errors
    assert result.ok


def test_dropout_acts_only_in_training() -> None:
    block = TransformerBlock(D_MODEL, HEADS, D_FF, dropout=0.5, seed=3)
    x = _inputs(18)
    block.set_training(False)
    first = block.forward(x).copy()
    np.testing.assert_array_equal(block.forward(x), first)
    block.set_training(True)
    assert not np.allclose(block.forward(x), first)


def test_a_wrong_width_names_d_model() -> None:
    block = TransformerBlock(D_MODEL, HEADS, D_FF, seed=0)
    with pytest.raises(sn.ShapeError) as caught:
        block.forward(_inputs(19, shape=(BATCH, SEQ, 10)))
    assert str(caught.value).splitlines()[0] == (
        "TransformerBlock(12, heads=4, d_ff=20).forward: `inputs` expected floating-point "
        "(batch, seq, d_model=12), got (3, 5, 10) float32: `d_model` is 10 here but 12 in "
        "`self.d_model`."
    )
    model = sn.Model([sn.Embedding(VOCAB, 10, seed=0), block])
    with pytest.raises(sn.ShapeError) as caught:
        model.predict(np.zeros((2, SEQ), np.int64))
    assert "`d_model` is 10 here but 12" in str(caught.value)
    assert "Embedding(11, 12)" in str(caught.value)  # the hint: the layer before, resized


# --- a model of them ------------------------------------------------------------------------


def _language_model(seed: int = 0, dtype: Any = F32) -> sn.Model:
    return sn.Model(
        [
            sn.Embedding(VOCAB, D_MODEL, seed=seed, dtype=dtype),
            PositionalEmbedding(8, D_MODEL, seed=seed + 1, dtype=dtype),
            TransformerBlock(D_MODEL, HEADS, D_FF, causal=True, seed=seed + 2, dtype=dtype),
            TransformerBlock(
                D_MODEL, HEADS, D_FF, causal=True, dropout=0.1, seed=seed + 3, dtype=dtype
            ),
            sn.LayerNorm(D_MODEL, dtype=dtype),
            sn.Dense(D_MODEL, VOCAB, seed=seed + 4, dtype=dtype),
            sn.Softmax(),
        ],
        loss=sn.CategoricalCrossentropy(),
        optimizer=sn.Adam(0.01),
        metric=sn.CategoricalAccuracy(),
    )


def _tokens(seed: int, count: int = 48) -> tuple[Any, Any]:
    """Random ids, each labelled with the id before it (0 at the start): a causal model must
    look one position back to learn it."""
    ids = np.random.default_rng(seed).integers(0, VOCAB, size=(count, SEQ))
    labels = np.zeros_like(ids)
    labels[:, 1:] = ids[:, :-1]
    return ids, labels


def test_a_transformer_trains_on_token_ids_with_labels_per_position() -> None:
    ids, labels = _tokens(0)
    model = _language_model()
    history = model.fit(ids, labels, epochs=25, batch_size=16, seed=0, verbose=0)
    assert history.loss[-1] < 0.5 * history.loss[0]
    assert model.predict(ids).shape == (48, SEQ, VOCAB)
    table = model.summary(print_fn=None)
    assert "TransformerBlock(12, heads=4, d_ff=20, causal=True, dropout=0.1)" in table
    assert "PositionalEmbedding(max_len=8, d_model=12)" in table
    assert f"{8 * D_MODEL:,}" in table and "(batch, 5, 12)" in table


def test_the_model_gradients_match_finite_differences() -> None:
    ids, labels = _tokens(1)
    result = sn.gradcheck(_language_model(), ids[:3], labels[:3], max_entries=12)
    assert "layers[3].attention.in_weights" in result.errors
    assert "layers[1].positions" in result.errors
    assert result.ok


def test_it_saves_and_loads_bit_for_bit_and_trains_on_the_same(tmp_path: Path) -> None:
    ids, labels = _tokens(2)
    model = _language_model()
    model.fit(ids, labels, epochs=2, batch_size=16, seed=0, verbose=0)
    loaded = sn.load(sn.save(model, tmp_path / "model.npz"))
    assert [type(layer) for layer in loaded.layers] == [type(layer) for layer in model.layers]
    np.testing.assert_array_equal(loaded.predict(ids), model.predict(ids))
    for before, after in zip(model.parameters(), loaded.parameters(), strict=True):
        assert before.path == after.path
        np.testing.assert_array_equal(before.value, after.value)
    # The dropout masks too: both go on drawing the same ones.
    model.fit(ids, labels, epochs=2, batch_size=16, seed=1, verbose=0)
    loaded.fit(ids, labels, epochs=2, batch_size=16, seed=1, verbose=0)
    np.testing.assert_array_equal(loaded.predict(ids), model.predict(ids))
    # Attention on its own keeps its config (causal, heads) and its four parameters.
    alone = sn.Model([PositionalEmbedding(8, D_MODEL, seed=0, dtype=F64), _attention(True, F64)])
    x = _inputs(23, F64)
    again = sn.load(sn.save(alone, tmp_path / "attention.npz"))
    assert repr(again.layers[1]) == "MultiHeadAttention(12, heads=4, causal=True)"
    assert again.layers[1].dtype == F64
    np.testing.assert_array_equal(again.predict(x), alone.predict(x))


def test_a_float64_model_computes_in_float64() -> None:
    ids, labels = _tokens(3)
    model = _language_model(dtype=F64)
    model.fit(ids, labels, epochs=1, batch_size=16, seed=0, verbose=0)
    assert model.predict(ids).dtype == F64
    assert all(p.value.dtype == F64 for p in model.parameters())


def test_onnxruntime_computes_predict(tmp_path: Path) -> None:
    onnx = pytest.importorskip("onnx")
    onnxruntime = pytest.importorskip("onnxruntime")
    ids, labels = _tokens(4)
    model = _language_model()
    model.fit(ids, labels, epochs=2, batch_size=16, seed=0, verbose=0)
    path = export.to_onnx(model, tmp_path / "model.onnx")
    ops = {node.op_type for node in onnx.load(str(path)).graph.node}
    assert {"MatMul", "Transpose", "Reshape", "Softmax", "Where", "Erf"} <= ops
    assert "Gelu" not in ops and "Dropout" not in ops  # opset 17 has no Gelu
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    # The batch and the sequence are symbolic: shorter sequences and other batches run.
    for batch in (ids[:7], ids[:1, :3], ids[:2, :1]):
        (output,) = session.run(None, {"input": batch})
        expected = model.predict(batch)
        assert output.dtype == F32 and output.shape == expected.shape
        np.testing.assert_allclose(output, expected, rtol=TOLERANCE, atol=1e-7)


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("dtype", [F32, F64])
def test_attention_exports_to_onnx_without_a_mask(causal: bool, dtype: Any, tmp_path: Path) -> None:
    pytest.importorskip("onnx")
    onnxruntime = pytest.importorskip("onnxruntime")
    model = sn.Model(
        [PositionalEmbedding(8, D_MODEL, seed=0, dtype=dtype), _attention(causal, dtype)]
    )
    x = _inputs(20, dtype)
    expected = model.predict(x)
    session = onnxruntime.InferenceSession(str(export.to_onnx(model, tmp_path / "m.onnx")))
    (output,) = session.run(None, {"input": x})
    np.testing.assert_allclose(output, expected, rtol=TOLERANCE, atol=1e-6)
    (output,) = session.run(None, {"input": x[:2, :4]})
    np.testing.assert_allclose(output, model.predict(x[:2, :4]), rtol=TOLERANCE, atol=1e-6)


def test_a_float64_gelu_is_refused_by_onnx_export(tmp_path: Path) -> None:
    pytest.importorskip("onnx")
    model = sn.Model([TransformerBlock(D_MODEL, HEADS, D_FF, seed=0, dtype=F64)])
    model.predict(_inputs(21, F64))
    with pytest.raises(export.ExportError, match="no float64 kernel for the ONNX Erf"):
        export.to_onnx(model, tmp_path / "m.onnx")


@pytest.mark.torch
@pytest.mark.parametrize("dtype", [F32, F64])
def test_torch_computes_predict(dtype: Any) -> None:
    torch = pytest.importorskip("torch")
    ids, labels = _tokens(5)
    model = _language_model(dtype=dtype)
    model.fit(ids, labels, epochs=2, batch_size=16, seed=0, verbose=0)
    net = export.to_torch(model)
    assert isinstance(net[3].layer, torch.nn.TransformerEncoderLayer)  # causal: wrapped
    with torch.no_grad():
        output = net(torch.from_numpy(ids)).numpy()
    assert output.dtype == dtype
    rtol, atol = (TOLERANCE, 1e-7) if dtype == F32 else (1e-10, 1e-14)
    np.testing.assert_allclose(output, model.predict(ids), rtol=rtol, atol=atol)
    # The whole module pickles: torch.load finds the wrapping classes in shapenn's modules.
    buffer = io.BytesIO()
    torch.save(net, buffer)
    buffer.seek(0)
    reloaded = torch.load(buffer, weights_only=False)
    with torch.no_grad():
        np.testing.assert_array_equal(reloaded(torch.from_numpy(ids)).numpy(), output)


@pytest.mark.torch
@pytest.mark.parametrize("causal", [False, True])
def test_each_layer_exports_to_torch_with_parity(causal: bool) -> None:
    torch = pytest.importorskip("torch")
    x = _inputs(22)
    block = TransformerBlock(D_MODEL, HEADS, D_FF, causal, dropout=0.1, seed=4)
    block.set_training(False)
    for layer in (
        _attention(causal),
        block,
        PositionalEmbedding(8, D_MODEL, seed=5),
        GELU(),
    ):
        module = layer.export_torch(torch).eval()
        with torch.no_grad():
            output = module(torch.from_numpy(x)).numpy()
        np.testing.assert_allclose(output, layer.forward(x), rtol=TOLERANCE, atol=1e-6)
    if not causal:
        assert isinstance(block.export_torch(torch), torch.nn.TransformerEncoderLayer)


# --- arguments ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "words"),
    [
        (lambda: MultiHeadAttention(10, 3), "d_model (10) must be divisible by heads (3)"),
        (lambda: MultiHeadAttention(0, 1), "MultiHeadAttention: d_model must be a positive"),
        (lambda: MultiHeadAttention(12, 0), "MultiHeadAttention: heads must be a positive"),
        (lambda: MultiHeadAttention(12, True), "heads must be a positive integer, got True"),
        (lambda: MultiHeadAttention(12.0, 4), "d_model must be a positive integer, got 12.0"),  # type: ignore[arg-type]
        (lambda: MultiHeadAttention(12, 4, 1), "causal must be True or False, got 1"),  # type: ignore[arg-type]
        (lambda: MultiHeadAttention(12, 4, dtype=np.int32), "dtype must be float32 or float64"),
        (lambda: MultiHeadAttention(12, 4, seed=-1), "seed must be an integer >= 0"),
        (lambda: PositionalEmbedding(0, 12), "PositionalEmbedding: max_len must be a positive"),
        (lambda: PositionalEmbedding(8, 0), "PositionalEmbedding: d_model must be a positive"),
        (lambda: PositionalEmbedding(False, 12), "max_len must be a positive integer, got False"),
        (lambda: TransformerBlock(0, 4, 8), "TransformerBlock: d_model must be a positive"),
        (lambda: TransformerBlock(12, 0, 8), "TransformerBlock: heads must be a positive"),
        (lambda: TransformerBlock(12, 4, 0), "TransformerBlock: d_ff must be a positive"),
        (lambda: TransformerBlock(10, 4, 8), "TransformerBlock: d_model (10) must be divisible"),
        (lambda: TransformerBlock(12, 4, 8, dropout=1.0), "dropout must be in [0, 1)"),
        (lambda: TransformerBlock(12, 4, 8, dropout=-0.1), "dropout must be in [0, 1)"),
        (lambda: TransformerBlock(12, 4, 8, dropout=True), "got True"),
        (lambda: TransformerBlock(12, 4, 8, causal="yes"), "causal must be True or False"),  # type: ignore[arg-type]
    ],
)
def test_bad_arguments_are_argument_errors_naming_them(build: Any, words: str) -> None:
    with pytest.raises(sn.ArgumentError, match=re.escape(words)):
        build()


def test_the_divisibility_error_names_both_numbers_and_what_fits() -> None:
    with pytest.raises(sn.ArgumentError) as caught:
        MultiHeadAttention(10, 3)
    assert str(caught.value) == (
        "MultiHeadAttention: d_model (10) must be divisible by heads (3), each head taking "
        "d_model / heads features: for d_model=10, heads may be 1, 2, 5 or 10; or make d_model "
        "a multiple of 3"
    )


def test_numpy_integers_and_booleans_are_accepted() -> None:
    # NumPy scalars are not ints to type checkers, but they are to shapenn.
    layer = MultiHeadAttention(np.int64(12), np.uint8(4), np.bool_(True), seed=np.int32(0))  # type: ignore[arg-type]
    assert (layer.d_model, layer.heads, layer.d_head, layer.causal) == (12, 4, 3, True)
    assert type(layer.heads) is int and type(layer.causal) is bool
    block = TransformerBlock(np.int32(12), np.int64(4), np.int16(20), dropout=np.float32(0.25))  # type: ignore[arg-type]
    assert (block.d_model, block.heads, block.d_ff, block.dropout) == (12, 4, 20, 0.25)
    positional = PositionalEmbedding(np.int64(8), np.int64(12))  # type: ignore[arg-type]
    assert positional.positions.shape == (8, 12)
    assert MultiHeadAttention(12, 4, dtype="float64").in_weights.dtype == F64
