"""Embedding, LayerNorm and BatchNorm: what each computes (against the definitions, and
against PyTorch where installed), their gradients against finite differences, their state
saved and loaded, their export, and their errors."""

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import shapenn as sn
from shapenn import export

rng = np.random.default_rng(7)
F32 = np.float32
TOLERANCE = 1e-5


def test_embedding_looks_up_rows_and_sums_their_gradients() -> None:
    layer = sn.Embedding(6, 3, seed=0)
    ids = np.array([[0, 2, 2], [5, 0, 2]])
    out = layer.forward(ids)
    np.testing.assert_array_equal(out, layer.weights[ids])
    dvalues = rng.normal(size=(2, 3, 3)).astype(F32)
    layer.backward(dvalues)
    expected = np.zeros_like(layer.weights)
    np.add.at(expected, ids.reshape(-1), dvalues.reshape(-1, 3))
    np.testing.assert_allclose(layer.dweights, expected, rtol=1e-6)
    assert not layer.dweights[[1, 3, 4]].any()  # rows never looked up


def test_embedding_refuses_ids_out_of_range_and_float_ids() -> None:
    layer = sn.Embedding(10, 4, seed=0)
    with pytest.raises(sn.LabelError) as caught:
        layer.forward(np.array([[1, 2], [3, 10]]))
    assert str(caught.value) == (
        "Embedding(10 → 4).forward: ids must be in [0, 10) for a vocabulary of 10, got 10 at "
        "index (1, 1)"
    )
    with pytest.raises(sn.LabelError, match="got -1 at index"):
        layer.forward(np.array([[-1, 2]]))
    with pytest.raises(sn.ShapeError, match="its dtype float32 is not integer"):
        layer.forward(np.zeros((2, 3), F32))  # type: ignore[arg-type]


def _layer_norm(x: Any, gamma: Any, beta: Any, eps: float) -> Any:
    mean = x.mean(axis=-1, keepdims=True)
    variance = x.var(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(variance + eps) * gamma + beta


@pytest.mark.parametrize("shape", [(4, 5), (2, 3, 5), (2, 2, 3, 5)])
def test_layer_norm_normalizes_the_last_axis_of_any_rank(shape: tuple[int, ...]) -> None:
    layer = sn.LayerNorm(5, dtype=np.float64)
    layer.gamma[...] = rng.normal(size=5)
    layer.beta[...] = rng.normal(size=5)
    x = rng.normal(size=shape)
    np.testing.assert_allclose(
        layer.forward(x), _layer_norm(x, layer.gamma, layer.beta, 1e-5), rtol=1e-10
    )
    assert sn.gradcheck(layer, x).ok


def test_batch_norm_uses_the_batch_in_training_and_running_statistics_after() -> None:
    layer = sn.BatchNorm1D(3, momentum=0.5, dtype=np.float64)
    x = rng.normal(loc=2.0, scale=3.0, size=(8, 3))
    out = layer.forward(x)
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(out.std(axis=0), 1, atol=1e-5)
    # Running statistics as PyTorch keeps them: the variance unbiased.
    np.testing.assert_allclose(layer.running_mean, 0.5 * x.mean(axis=0))
    np.testing.assert_allclose(layer.running_var, 0.5 + 0.5 * x.var(axis=0, ddof=1))
    layer.set_training(False)
    expected = (x - layer.running_mean) / np.sqrt(layer.running_var + 1e-5)
    np.testing.assert_allclose(layer.forward(x), expected, rtol=1e-10)


@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_gradients(training: bool) -> None:
    one = sn.BatchNorm1D(4, dtype=np.float64)
    two = sn.BatchNorm2D(3, dtype=np.float64)
    one.gamma[...] = rng.normal(size=4)
    two.beta[...] = rng.normal(size=3)
    for layer, x in ((one, rng.normal(size=(6, 4))), (two, rng.normal(size=(2, 3, 4, 5)))):
        layer.running_var[...] = rng.uniform(0.5, 2, size=layer.size)
        layer.set_training(training)
        # gradcheck runs in inference mode; in training, check the training-mode gradient
        # through a model-free objective of the same layer.
        if not training:
            assert sn.gradcheck(layer, x).ok
            continue
        weights = rng.normal(size=x.shape)
        layer.forward(x)
        analytic = layer.backward(weights)
        numeric = np.zeros_like(x)
        flat, grad = x.reshape(-1), numeric.reshape(-1)
        for i in range(flat.size):
            saved = flat[i]
            flat[i] = saved + 1e-6
            plus = float((layer.forward(x) * weights).sum())
            flat[i] = saved - 1e-6
            minus = float((layer.forward(x) * weights).sum())
            flat[i] = saved
            grad[i] = (plus - minus) / 2e-6
        np.testing.assert_allclose(analytic, numeric, atol=1e-6)


def test_batch_norm_needs_two_values_per_channel_in_training() -> None:
    with pytest.raises(sn.ArgumentError, match="need more than one value per channel"):
        sn.BatchNorm1D(3).forward(np.zeros((1, 3), F32))
    layer = sn.BatchNorm1D(3)
    layer.set_training(False)
    layer.forward(np.zeros((1, 3), F32))  # inference takes any batch


def test_arguments_are_checked() -> None:
    with pytest.raises(sn.ArgumentError, match="Embedding: vocab_size must be a positive"):
        sn.Embedding(0, 3)
    with pytest.raises(sn.ArgumentError, match="LayerNorm: features must be a positive"):
        sn.LayerNorm(-2)
    with pytest.raises(sn.ArgumentError, match=r"BatchNorm1D: momentum must be in \[0, 1\]"):
        sn.BatchNorm1D(3, momentum=1.5)
    with pytest.raises(sn.ArgumentError, match="dtype must be float32 or float64"):
        sn.LayerNorm(3, dtype=np.int32)


def _batch_norm_model() -> sn.Model:
    return sn.Model(
        [
            sn.Dense(4, 8, seed=0),
            sn.BatchNorm1D(8),
            sn.ReLU(),
            sn.Dense(8, 3, seed=1),
            sn.Softmax(),
        ],
        loss=sn.CategoricalCrossentropy(),
        optimizer=sn.Adam(0.01),
        metric=sn.CategoricalAccuracy(),
    )


def test_a_batch_norm_model_predicts_the_same_after_loading(tmp_path: Path) -> None:
    X = rng.normal(size=(64, 4)).astype(F32)
    y = (X[:, 0] > 0).astype(np.int64) + (X[:, 1] > 0)
    model = _batch_norm_model()
    model.fit(X, y, epochs=5, batch_size=16, seed=0, verbose=0)
    norm = model.layers[1]
    assert isinstance(norm, sn.BatchNorm1D)
    assert np.abs(norm.running_var - 1).max() > 0.1  # the running statistics have moved
    assert "buffers (saved, not trained): 16" in model.summary(print_fn=None)
    assert model.count_params() == 40 + 16 + 27
    loaded = sn.load(sn.save(model, tmp_path / "bn.npz"))
    loaded_norm = loaded.layers[1]
    assert isinstance(loaded_norm, sn.BatchNorm1D)
    np.testing.assert_array_equal(loaded_norm.running_var, norm.running_var)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    # Training goes on from the same point in both.
    model.fit(X, y, epochs=1, batch_size=16, seed=1, verbose=0)
    loaded.fit(X, y, epochs=1, batch_size=16, seed=1, verbose=0)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


def _models() -> dict[str, tuple[sn.Model, Any]]:
    ids = rng.integers(0, 12, size=(9, 5))
    images = rng.normal(size=(6, 2, 6, 6)).astype(F32)
    rows = rng.normal(size=(9, 4)).astype(F32)
    sequence = sn.Model(
        [sn.Embedding(12, 6, seed=0), sn.LayerNorm(6), sn.Dense(6, 4, seed=1), sn.Softmax()],
        input_shape=(5,),
    )
    conv = sn.Model(
        [sn.Conv2D(2, 3, 3, seed=0), sn.BatchNorm2D(3), sn.ReLU(), sn.Flatten()],
        input_shape=(2, 6, 6),
    )
    dense = _batch_norm_model()
    for model, _X in ((conv, images), (dense, rows)):
        norm = model.layers[1]
        assert isinstance(norm, sn.BatchNorm1D | sn.BatchNorm2D)
        norm.running_mean[...] = rng.normal(size=norm.size)
        norm.running_var[...] = rng.uniform(0.5, 2.0, size=norm.size)
        norm.gamma[...] = rng.normal(size=norm.size)
    return {
        "embedding+layernorm": (sequence, ids),
        "batchnorm2d": (conv, images),
        "batchnorm1d": (dense, rows),
    }


@pytest.mark.parametrize("kind", sorted(_models()))
def test_onnxruntime_computes_predict(kind: str, tmp_path: Path) -> None:
    onnxruntime = pytest.importorskip("onnxruntime")
    model, X = _models()[kind]
    session = onnxruntime.InferenceSession(str(export.to_onnx(model, tmp_path / "m.onnx")))
    (output,) = session.run(None, {"input": X.astype(model.input_dtype)})
    assert np.abs(output - model.predict(X)).max() <= TOLERANCE


@pytest.mark.torch
@pytest.mark.parametrize("kind", sorted(_models()))
def test_torch_computes_predict(kind: str) -> None:
    torch = pytest.importorskip("torch")
    model, X = _models()[kind]
    net = export.to_torch(model)
    with torch.no_grad():
        output = net(torch.from_numpy(X)).numpy()
    assert np.abs(output - model.predict(X)).max() <= TOLERANCE
