"""Any rank and any state, with no change to shapenn: a user's layer that owns a LayerNorm and
a Dense (a residual block), after an Embedding, trains on integer token ids with labels
(batch, seq), saves and loads bit for bit, passes gradcheck and counts its parameters."""

from pathlib import Path

import numpy as np
import pytest
from jaxtyping import Float

import shapenn as sn
from shapenn.shapes import Array3D

VOCAB, SEQ, FEATURES = 11, 7, 8


class Residual(sn.Layer):
    """``x + Dense(LayerNorm(x))``, written as a user would: the block owns its two layers."""

    def __init__(self, features: int, seed: int = 0) -> None:
        self.features = features
        self.seed = seed
        self.norm = sn.LayerNorm(features)
        self.dense = sn.Dense(features, features, seed=seed)

    def __repr__(self) -> str:
        return f"Residual({self.features})"

    def forward(
        self, inputs: Float[Array3D, "batch seq features"]
    ) -> Float[Array3D, "batch seq features"]:
        self.inputs = inputs
        self.output = inputs + self.dense.forward(self.norm.forward(inputs))
        return self.output

    def backward(
        self, dvalues: Float[Array3D, "batch seq features"]
    ) -> Float[Array3D, "batch seq features"]:
        self.dinputs = dvalues + self.norm.backward(self.dense.backward(dvalues))
        return self.dinputs


def _data(seed: int) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[type-arg]
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, VOCAB, size=(48, SEQ))
    labels = (3 * ids + 1) % VOCAB  # each token's label is its own: no layer here mixes positions
    return ids, labels


def _model() -> sn.Model:
    return sn.Model(
        [
            sn.Embedding(VOCAB, FEATURES, seed=0),
            Residual(FEATURES, seed=1),
            sn.Dense(FEATURES, VOCAB, seed=2),
            sn.Softmax(),
        ],
        loss=sn.CategoricalCrossentropy(),
        optimizer=sn.Adam(0.02),
        metric=sn.CategoricalAccuracy(),
    )


def test_the_block_owns_its_layers_and_their_parameters() -> None:
    model = _model()
    block = model.layers[1]
    assert [p.path for p in block.parameters()] == [
        "norm.gamma",
        "norm.beta",
        "dense.weights",
        "dense.biases",
    ]
    assert [p.path for p in model.parameters()][1:5] == [
        "layers.1.norm.gamma",
        "layers.1.norm.beta",
        "layers.1.dense.weights",
        "layers.1.dense.biases",
    ]
    assert model.count_params() == VOCAB * FEATURES + 2 * FEATURES + FEATURES * FEATURES + (
        FEATURES + FEATURES * VOCAB + VOCAB
    )
    table = model.summary(print_fn=None)
    assert (
        f"Residual({FEATURES})" in table
        and f"{2 * FEATURES + FEATURES * FEATURES + FEATURES:,}" in table
    )


def test_it_trains_on_token_ids_with_labels_per_position() -> None:
    ids, labels = _data(0)
    model = _model()
    history = model.fit(ids, labels, epochs=60, batch_size=16, seed=0, verbose=0)
    assert history.loss[-1] < 0.5 * history.loss[0]
    assert history.accuracy[-1] > 0.5
    probabilities = model.predict(ids)
    assert probabilities.shape == (48, SEQ, VOCAB)
    assert model.summary(print_fn=None).count(f"(batch, {SEQ}, ") >= 3  # shapes from the data


def test_it_saves_and_loads_bit_for_bit_and_trains_on_the_same(tmp_path: Path) -> None:
    ids, labels = _data(0)
    model = _model()
    model.fit(ids, labels, epochs=5, batch_size=16, seed=0, verbose=0)
    loaded = sn.load(sn.save(model, tmp_path / "model.npz"))
    assert isinstance(loaded.layers[1], Residual)
    np.testing.assert_array_equal(loaded.predict(ids), model.predict(ids))
    for before, after in zip(model.parameters(), loaded.parameters(), strict=True):
        assert before.path == after.path
        np.testing.assert_array_equal(before.value, after.value)
    model.fit(ids, labels, epochs=2, batch_size=16, seed=1, verbose=0)
    loaded.fit(ids, labels, epochs=2, batch_size=16, seed=1, verbose=0)
    np.testing.assert_array_equal(loaded.predict(ids), model.predict(ids))


def test_its_gradients_match_finite_differences() -> None:
    ids, labels = _data(1)
    result = sn.gradcheck(_model(), ids[:4], labels[:4])
    assert "layers[1].norm.gamma" in result.errors and "layers[1].dense.weights" in result.errors
    assert result.ok
    assert "inputs" not in result.errors  # ids have no gradient


def test_float_ids_and_ids_out_of_range_are_refused() -> None:
    ids, labels = _data(0)
    model = _model()
    with pytest.raises(sn.ShapeError) as caught:
        model.fit(ids.astype(np.float32), labels, verbose=0)
    assert str(caught.value) == (
        "Model.fit: `X` expected integer token ids, got (48, 7) float32: its dtype float32 is "
        "not integer: the first layer takes integers (ids), and a float is never an id.\n"
        "  hint: if these are ids, cast them with `X.astype(np.int64)`"
    )
    with pytest.raises(sn.LabelError, match=r"ids must be in \[0, 11\) .*got 11"):
        model.predict(ids + 1)


def test_labels_of_the_wrong_length_name_the_sequence() -> None:
    ids, labels = _data(0)
    model = _model()
    with pytest.raises(sn.ShapeError) as caught:
        model.fit(ids, labels[:, :-1], verbose=0)
    assert str(caught.value).startswith(
        "Model.fit: `y` expected integer (batch=48, *positions=(7,)), got (48, 6) int64: its "
        "axes `*positions` are (6,) here but (7,) in `layers[3] Softmax()`'s output."
    )


def test_dense_and_softmax_act_on_the_last_axis_of_any_rank() -> None:
    rng = np.random.default_rng(3)
    dense = sn.Dense(4, 3, seed=0, dtype=np.float64)
    x = rng.normal(size=(2, 5, 4))
    np.testing.assert_allclose(dense.forward(x), x @ dense.weights + dense.biases, rtol=1e-12)
    assert sn.gradcheck(dense, x).ok
    probabilities = sn.Softmax().forward(x)
    np.testing.assert_allclose(probabilities.sum(axis=-1), 1.0)
    assert sn.gradcheck(sn.Softmax(), x).ok
    assert sn.Flatten().forward(x).shape == (2, 20)


@pytest.mark.parametrize(
    ("loss", "targets"),
    [
        (sn.CategoricalCrossentropy(), "labels"),
        (sn.CategoricalCrossentropy(), "one-hot"),
        (sn.MeanSquaredError(), "values"),
        (sn.BinaryCrossentropy(), "values"),
    ],
)
def test_a_loss_over_positions_is_the_loss_over_every_position(loss: sn.Loss, targets: str) -> None:
    rng = np.random.default_rng(4)
    logits = rng.normal(size=(3, 5, 4))
    predictions = sn.Softmax().forward(logits)
    if targets == "labels":
        y = rng.integers(0, 4, size=(3, 5))
        flat_y = y.reshape(-1)
    elif targets == "one-hot":
        y = np.eye(4)[rng.integers(0, 4, size=(3, 5))]
        flat_y = y.reshape(-1, 4)
    else:
        y = rng.uniform(size=(3, 5, 4))
        flat_y = y.reshape(-1, 4)
    flat = predictions.reshape(-1, 4)
    assert loss.calculate(predictions, y) == pytest.approx(loss.calculate(flat, flat_y), rel=1e-12)
    np.testing.assert_allclose(
        loss.backward(predictions, y).reshape(-1, 4), loss.backward(flat, flat_y), rtol=1e-12
    )
    metric = sn.CategoricalAccuracy()
    if targets != "values":
        assert metric.calculate(predictions, y) == metric.calculate(flat, flat_y)


class TwoInputs(sn.Layer):
    def forward(
        self, inputs: Float[Array3D, "batch seq n"], keys: Float[Array3D, "batch seq n"]
    ) -> Float[Array3D, "batch seq n"]:
        return inputs + keys


def test_a_model_refuses_a_layer_with_two_inputs_and_a_layer_used_twice() -> None:
    with pytest.raises(sn.ArgumentError) as caught:
        sn.Model([sn.Dense(2, 3), TwoInputs()])
    assert str(caught.value) == (
        "Model: layers[1] TwoInputs() takes 2 inputs (inputs, keys), and a Model passes each "
        "layer one: wrap it in a layer of your own that owns its parts and takes one input"
    )
    relu = sn.ReLU()
    with pytest.raises(sn.ArgumentError) as caught:
        sn.Model([sn.Dense(2, 3), relu, sn.Dense(3, 3), relu])
    assert str(caught.value).startswith(
        "Model: layers[1] and layers[3] are the same ReLU() object; a layer keeps its own "
        "inputs and gradients, so each place needs its own instance"
    )
    with pytest.raises(sn.ArgumentError, match=r"layers\[1\] is a str \('relu'\), not a layer"):
        sn.Model([sn.Dense(2, 3), "relu"])  # type: ignore[list-item]
    with pytest.raises(sn.ArgumentError, match=r"the class ReLU, not a layer: pass an instance"):
        sn.Model([sn.Dense(2, 3), sn.ReLU])  # type: ignore[list-item]
