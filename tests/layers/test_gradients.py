"""Analytic backward passes against central finite differences, in float64.

Every gradient is checked the same way: a scalar function ``f`` of one array is differentiated
numerically by perturbing that array in place (`numeric_gradient`) and compared with what the
layer's or loss's ``backward`` returns. Inputs are kept away from kinks (ReLU at 0, MAE where
``y_pred == y_true``) and from the 1e-7 clip of the losses, where the math is not smooth.
"""

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import shapenn as sn

F64 = np.float64
RTOL = 1e-6
ATOL = 1e-8

batches = st.integers(1, 6)
features = st.integers(1, 6)
classes_ = st.integers(2, 5)
seeds = st.integers(0, 2**32 - 1)
gradient_settings = settings(max_examples=25, deadline=None)


def numeric_gradient(
    f: Callable[[], float], x: np.ndarray[Any, Any], eps: float = 1e-6
) -> np.ndarray[Any, Any]:
    """Central differences of ``f()`` w.r.t. ``x``, perturbing ``x`` in place (restored after).

    ``f`` takes no arguments: it reads ``x`` (or an object holding it) itself, so the same
    helper works for inputs, weights and biases alike.
    """
    grad = np.zeros_like(x, dtype=F64)
    for index in np.ndindex(x.shape):
        original = x[index]
        x[index] = original + eps
        plus = f()
        x[index] = original - eps
        minus = f()
        x[index] = original
        grad[index] = (plus - minus) / (2 * eps)
    return grad


def assert_gradients_match(analytic: np.ndarray[Any, Any], numeric: np.ndarray[Any, Any]) -> None:
    assert analytic.shape == numeric.shape
    assert analytic.dtype == F64
    np.testing.assert_allclose(analytic, numeric, rtol=RTOL, atol=ATOL)


def away_from_zero(rng: np.random.Generator, shape: tuple[int, ...], low: float = 0.1) -> Any:
    """Values with ``low <= |x| <= 2``, so a perturbation of 1e-6 never crosses 0."""
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(low, 2.0, size=shape)


def softmax(logits: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    probabilities: np.ndarray[Any, Any] = exp / exp.sum(axis=1, keepdims=True)
    return probabilities


def class_targets(
    rng: np.random.Generator, batch: int, classes: int, one_hot: bool
) -> np.ndarray[Any, Any]:
    labels = rng.integers(0, classes, size=batch)
    return np.eye(classes, dtype=F64)[labels] if one_hot else labels


# --- Dense ---------------------------------------------------------------------------------


@gradient_settings
@given(batch=batches, n_in=features, n_out=features, seed=seeds)
def test_dense_gradients(batch: int, n_in: int, n_out: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    layer = sn.Dense(n_in, n_out, seed=seed, dtype=F64)
    # Unit-scale parameters, so the gradients are not all ~0.01 and hidden under the atol.
    layer.weights = rng.standard_normal((n_in, n_out))
    layer.biases = rng.standard_normal((1, n_out))
    x = rng.standard_normal((batch, n_in))
    g = rng.standard_normal((batch, n_out))

    layer.forward(x)
    dinputs = layer.backward(g).copy()
    assert layer.dweights is not None and layer.dbiases is not None
    dweights, dbiases = layer.dweights.copy(), layer.dbiases.copy()

    def f() -> float:
        return float(np.sum(layer.forward(x) * g))

    assert_gradients_match(dinputs, numeric_gradient(f, x))
    assert_gradients_match(dweights, numeric_gradient(f, layer.weights))
    assert_gradients_match(dbiases, numeric_gradient(f, layer.biases))


# --- activations ---------------------------------------------------------------------------

ACTIVATIONS = [sn.ReLU, sn.Softmax, sn.Sigmoid, sn.Tanh, sn.Linear]


@pytest.mark.parametrize("activation", ACTIVATIONS, ids=lambda cls: cls.__name__)
@gradient_settings
@given(batch=batches, n=features, seed=seeds)
def test_activation_gradient(activation: type[sn.Layer], batch: int, n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    layer: Any = activation()
    # Away from 0 for ReLU's kink; harmless (and unit-scale) for the smooth ones.
    x = away_from_zero(rng, (batch, n))
    g = rng.standard_normal((batch, n))

    layer.forward(x)
    dinputs = layer.backward(g).copy()

    def f() -> float:
        return float(np.sum(layer.forward(x) * g))

    assert_gradients_match(dinputs, numeric_gradient(f, x))


# --- losses --------------------------------------------------------------------------------


@pytest.mark.parametrize("one_hot", [False, True], ids=["sparse", "one_hot"])
@gradient_settings
@given(batch=batches, classes=classes_, seed=seeds)
def test_categorical_crossentropy_gradient(
    one_hot: bool, batch: int, classes: int, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    # Softmax of moderate logits: every probability is far from the 1e-7 clip.
    y_pred = softmax(rng.uniform(-3, 3, size=(batch, classes)))
    y_true = class_targets(rng, batch, classes, one_hot)
    loss = sn.CategoricalCrossentropy()

    analytic = loss.backward(y_pred, y_true)
    numeric = numeric_gradient(lambda: loss.calculate(y_pred, y_true), y_pred)
    assert_gradients_match(analytic, numeric)


@gradient_settings
@given(batch=batches, outputs=features, seed=seeds)
def test_binary_crossentropy_gradient(batch: int, outputs: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    y_pred = rng.uniform(0.05, 0.95, size=(batch, outputs))
    y_true = rng.integers(0, 2, size=(batch, outputs)).astype(F64)
    loss = sn.BinaryCrossentropy()

    analytic = loss.backward(y_pred, y_true)
    numeric = numeric_gradient(lambda: loss.calculate(y_pred, y_true), y_pred)
    assert_gradients_match(analytic, numeric)


@pytest.mark.parametrize(
    "loss_class", [sn.MeanSquaredError, sn.MeanAbsoluteError], ids=lambda cls: cls.__name__
)
@gradient_settings
@given(batch=batches, outputs=features, seed=seeds)
def test_regression_loss_gradient(
    loss_class: type[sn.Loss], batch: int, outputs: int, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    y_true = rng.standard_normal((batch, outputs))
    # |y_pred - y_true| >= 0.05: MAE's kink at y_pred == y_true is never crossed.
    y_pred = y_true + away_from_zero(rng, (batch, outputs), low=0.05)
    loss: Any = loss_class()

    analytic = loss.backward(y_pred, y_true)
    numeric = numeric_gradient(lambda: loss.calculate(y_pred, y_true), y_pred)
    assert_gradients_match(analytic, numeric)


@pytest.mark.parametrize("one_hot", [False, True], ids=["sparse", "one_hot"])
@gradient_settings
@given(batch=batches, classes=classes_, seed=seeds)
def test_softmax_crossentropy_gradient(one_hot: bool, batch: int, classes: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    logits = rng.uniform(-3, 3, size=(batch, classes))
    y_true = class_targets(rng, batch, classes, one_hot)
    fused = sn.SoftmaxCategoricalCrossentropy()

    fused.forward(logits, y_true)
    assert fused.output is not None
    probabilities = fused.output.copy()
    analytic = fused.backward(probabilities, y_true).copy()
    numeric = numeric_gradient(lambda: fused.forward(logits, y_true), logits)
    assert_gradients_match(analytic, numeric)

    # The fused shortcut equals the unfused chain softmax → cross-entropy.
    softmax_layer = sn.Softmax()
    p = softmax_layer.forward(logits)
    chained = softmax_layer.backward(sn.CategoricalCrossentropy().backward(p, y_true))
    np.testing.assert_allclose(analytic, chained, rtol=1e-7, atol=1e-12)


@gradient_settings
@given(batch=batches, n_in=features, hidden=features, classes=classes_, seed=seeds)
def test_two_layer_chain_gradient(
    batch: int, n_in: int, hidden: int, classes: int, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    dense1 = sn.Dense(n_in, hidden, dtype=F64)
    dense2 = sn.Dense(hidden, classes, dtype=F64)
    # Scaled so the logits stay moderate: the probabilities keep away from the 1e-7 clip.
    dense1.weights = 0.5 * rng.standard_normal((n_in, hidden))
    dense1.biases = 0.5 * rng.standard_normal((1, hidden))
    dense2.weights = 0.5 * rng.standard_normal((hidden, classes))
    relu = sn.ReLU()
    head = sn.SoftmaxCategoricalCrossentropy()
    x = rng.standard_normal((batch, n_in))
    y = rng.integers(0, classes, size=batch)

    def loss() -> float:
        return head.forward(dense2.forward(relu.forward(dense1.forward(x))), y)

    loss()
    # A perturbation of 1e-6 in a weight moves a pre-activation by at most ~1e-5 here.
    assert dense1.output is not None
    assume(float(np.abs(dense1.output).min()) > 1e-3)
    assert head.output is not None
    # The fused backward is the gradient of the unclipped loss: the clip must not be active.
    assume(float(head.output[np.arange(batch), y].min()) > 1e-5)
    dense1.backward(relu.backward(dense2.backward(head.backward(head.output, y))))
    assert dense1.dweights is not None
    analytic = dense1.dweights.copy()

    assert_gradients_match(analytic, numeric_gradient(loss, dense1.weights))


# --- float32 is preserved ------------------------------------------------------------------

F32 = np.float32


def _check_f32(*arrays: Any) -> None:
    for array in arrays:
        assert isinstance(array, np.ndarray)
        assert array.dtype == F32, array.dtype


@pytest.mark.parametrize("activation", ACTIVATIONS, ids=lambda cls: cls.__name__)
def test_activation_preserves_float32(activation: type[sn.Layer]) -> None:
    rng = np.random.default_rng(0)
    layer: Any = activation()
    out = layer.forward(rng.standard_normal((4, 3)).astype(F32))
    back = layer.backward(rng.standard_normal((4, 3)).astype(F32))
    _check_f32(out, back, layer.output, layer.dinputs)


def test_dense_preserves_float32() -> None:
    rng = np.random.default_rng(0)
    layer = sn.Dense(3, 2, seed=0)  # float32 is the default
    out = layer.forward(rng.standard_normal((4, 3)).astype(F32))
    back = layer.backward(rng.standard_normal((4, 2)).astype(F32))
    _check_f32(out, back, layer.dweights, layer.dbiases)


def _loss_cases() -> list[Any]:
    """(loss, y_pred, y_true) with float32 predictions and targets of several dtypes."""
    rng = np.random.default_rng(0)
    probs = softmax(rng.standard_normal((4, 3))).astype(F32)
    labels = np.array([0, 2, 1, 2])
    onehot_int = np.eye(3, dtype=np.int64)[labels]
    sig = rng.uniform(0.05, 0.95, size=(4, 2)).astype(F32)
    bits = rng.integers(0, 2, size=(4, 2))
    cases = [
        ("cce-sparse", sn.CategoricalCrossentropy, probs, labels),
        ("cce-onehot-f32", sn.CategoricalCrossentropy, probs, onehot_int.astype(F32)),
        # Targets are `Real`, so integer one-hot targets are allowed; the float32
        # predictions must still give float32 results (no silent upcast to float64).
        ("cce-onehot-int", sn.CategoricalCrossentropy, probs, onehot_int),
    ]
    for cls in (sn.BinaryCrossentropy, sn.MeanSquaredError, sn.MeanAbsoluteError):
        name = cls.__name__
        cases.append((f"{name}-f32", cls, sig, bits.astype(F32)))
        cases.append((f"{name}-int", cls, sig, bits))
    return [pytest.param(cls, pred, true, id=name) for name, cls, pred, true in cases]


@pytest.mark.parametrize(("loss_class", "y_pred", "y_true"), _loss_cases())
def test_loss_preserves_float32(loss_class: type[sn.Loss], y_pred: Any, y_true: Any) -> None:
    loss: Any = loss_class()
    per_sample = loss.forward(y_pred, y_true)
    gradient = loss.backward(y_pred, y_true)
    _check_f32(per_sample, gradient, loss.dinputs)
    assert isinstance(loss.calculate(y_pred, y_true), float)


@pytest.mark.parametrize("one_hot", [False, True], ids=["sparse", "one_hot"])
def test_softmax_crossentropy_preserves_float32(one_hot: bool) -> None:
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((4, 3)).astype(F32)
    labels = np.array([0, 2, 1, 2])
    y_true = np.eye(3, dtype=F32)[labels] if one_hot else labels
    head = sn.SoftmaxCategoricalCrossentropy()
    assert isinstance(head.forward(logits, y_true), float)
    assert head.output is not None
    gradient = head.backward(head.output, y_true)
    _check_f32(head.output, gradient, head.dinputs)
