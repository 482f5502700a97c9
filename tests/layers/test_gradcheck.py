"""gradcheck: a public finite-difference check, for people writing their own layers."""

import re

import numpy as np
import pytest
from helpers import Scale

import shapenn as sn


def test_a_custom_layer_gets_shape_checks_and_a_passing_gradcheck() -> None:
    rng = np.random.default_rng(0)
    result = sn.gradcheck(Scale(3), rng.normal(size=(5, 3)))
    assert result.ok and set(result.errors) == {"inputs", "scale"}
    assert result.max_error < 1e-8
    with pytest.raises(sn.ShapeError, match=r"^Scale\(3\)\.forward: `inputs` expected"):
        Scale(3).forward(np.zeros((5, 4), np.float32))


def test_a_wrong_backward_is_caught() -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(sn.GradcheckError, match=r"scale\s+\S+\s+\S+\s+FAIL"):
        sn.gradcheck(Scale(3, wrong=True), rng.normal(size=(5, 3)))


def test_a_whole_model_with_regularization_and_dropout() -> None:
    X, y = sn.datasets.spiral(10, 3, seed=0)
    model = sn.Model(
        [
            sn.Dense(2, 8, seed=0, weight_regularizer_l2=1e-3, bias_regularizer_l1=1e-3),
            sn.Tanh(),
            sn.Dropout(0.2),
            Scale(8),
            sn.Dense(8, 3, seed=1, weight_regularizer_l1=1e-3),
            sn.Softmax(),
        ],
        loss=sn.CategoricalCrossentropy(),
    )
    before = [layer.weights.copy() for layer in model.layers if isinstance(layer, sn.Dense)]
    result = sn.gradcheck(model, X, y)
    assert set(result.errors) == {
        "layers[0].weights",
        "layers[0].biases",
        "layers[3].scale",
        "layers[4].weights",
        "layers[4].biases",
    }
    assert result.max_error < 1e-6
    after = [layer.weights for layer in model.layers if isinstance(layer, sn.Dense)]
    assert all(np.array_equal(a, b) for a, b in zip(before, after, strict=True))  # untouched


def test_gradcheck_works_on_fortran_ordered_weights() -> None:
    weights = np.asfortranarray(np.random.default_rng(0).normal(size=(3, 2)))
    layer = sn.Dense.from_arrays(weights, dtype=np.float64)
    X = np.asfortranarray(np.random.default_rng(1).normal(size=(4, 3)))
    assert sn.gradcheck(layer, X).ok


def test_gradcheck_of_a_model_needs_its_loss() -> None:
    with pytest.raises(ValueError, match=re.escape("gradcheck: the model has no loss; call")):
        sn.gradcheck(sn.Model([sn.Dense(2, 2)]), np.zeros((1, 2)), np.zeros((1, 2)))


def test_a_relu_input_next_to_its_kink_does_not_fail_a_right_gradient() -> None:
    # The second sample's pre-activation is 1e-5, inside the default stencil (2ε = 2e-5), and
    # its error is large: a difference quotient of the first bias straddles the ReLU's kink.
    model = sn.Model([sn.Dense(1, 1), sn.ReLU(), sn.Dense(1, 1)])
    model.set(loss=sn.MeanSquaredError())
    for layer in (model.layers[0], model.layers[2]):
        layer.weights[...] = 1.0
        layer.biases[...] = 0.0
    X = np.array([[1.0], [1e-5], [2.0]], dtype=np.float32)
    y = np.array([[2.0], [10.0], [1.0]], dtype=np.float32)

    assert sn.gradcheck(model, X, y).ok

    class HalfReLU(sn.ReLU):
        def backward(self, dvalues):  # type: ignore[no-untyped-def]
            self.dinputs = super().backward(dvalues) * 0.5
            return self.dinputs

    wrong = sn.Model([model.layers[0], HalfReLU(), model.layers[2]])
    wrong.set(loss=sn.MeanSquaredError())
    with pytest.raises(sn.GradcheckError):
        sn.gradcheck(wrong, X, y)
