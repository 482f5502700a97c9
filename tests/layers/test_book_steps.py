"""The nnfs book's first chapters, step by step, done with shapenn."""

import numpy as np
import pytest

import shapenn as sn
from shapenn.datasets import spiral

INPUTS_4 = [1.0, 2.0, 3.0, 2.5]
WEIGHTS_3x4 = [  # the book writes one row per neuron: (neurons, inputs)
    [0.2, 0.8, -0.5, 1.0],
    [0.5, -0.91, 0.26, -0.5],
    [-0.26, -0.27, 0.17, 0.87],
]
BIASES_3 = [2.0, 3.0, 0.5]
BATCH = [[1.0, 2.0, 3.0, 2.5], [2.0, 5.0, -1.0, 2.0], [-1.5, 2.7, 3.3, -0.8]]


def test_one_neuron_with_three_inputs() -> None:
    neuron = sn.Dense.from_arrays([[0.2], [0.8], [-0.5]], [2.0])
    output = neuron.forward(np.array([[1.0, 2.0, 3.0]], dtype=np.float32))
    assert output.shape == (1, 1)
    assert output[0, 0] == pytest.approx(2.3, abs=1e-6)


def test_one_neuron_with_four_inputs() -> None:
    neuron = sn.Dense.from_arrays([[0.2], [0.8], [-0.5], [1.0]], [2.0])
    output = neuron.forward(np.array([INPUTS_4], dtype=np.float32))
    assert output[0, 0] == pytest.approx(4.8, abs=1e-6)


def test_a_layer_of_three_neurons() -> None:
    layer = sn.Dense.from_arrays(np.array(WEIGHTS_3x4, dtype=np.float32).T, BIASES_3)
    output = layer.forward(np.array([INPUTS_4], dtype=np.float32))
    np.testing.assert_allclose(output, [[4.8, 1.21, 2.385]], rtol=1e-6)


def test_a_batch_of_three_samples() -> None:
    layer = sn.Dense.from_arrays(np.array(WEIGHTS_3x4, dtype=np.float32).T, BIASES_3)
    output = layer.forward(np.array(BATCH, dtype=np.float32))
    expected = np.array(BATCH) @ np.array(WEIGHTS_3x4).T + np.array(BIASES_3)
    np.testing.assert_allclose(output, expected, rtol=1e-5)
    np.testing.assert_allclose(output[0], [4.8, 1.21, 2.385], rtol=1e-6)
    np.testing.assert_allclose(output[1], [8.9, -1.81, 0.2], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(output[2], [1.41, 1.051, 0.026], rtol=1e-5, atol=1e-6)


def test_two_layers_chained() -> None:
    weights2 = [[0.1, -0.14, 0.5], [-0.5, 0.12, -0.33], [-0.44, 0.73, -0.13]]
    biases2 = [-1.0, 2.0, -0.5]
    layer1 = sn.Dense.from_arrays(np.array(WEIGHTS_3x4, dtype=np.float32).T, BIASES_3)
    layer2 = sn.Dense.from_arrays(np.array(weights2, dtype=np.float32).T, biases2)
    output = layer2.forward(layer1.forward(np.array(BATCH, dtype=np.float32)))
    hidden = np.array(BATCH) @ np.array(WEIGHTS_3x4).T + BIASES_3
    expected = hidden @ np.array(weights2).T + biases2
    np.testing.assert_allclose(output, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(output[0], [0.5031, -1.04185, -2.03875], rtol=1e-5)


def test_dense_on_spiral_data() -> None:
    X, y = spiral(samples=5, classes=3, seed=0)
    layer = sn.Dense(2, 3, seed=0)
    output = layer.forward(X)
    assert output.shape == (15, 3)
    assert output.dtype == np.float32
    np.testing.assert_allclose(output, X @ layer.weights + layer.biases, rtol=1e-5, atol=1e-7)
    assert y.shape == (15,)


def test_the_missing_transpose_is_a_shape_error_with_the_fix() -> None:
    with pytest.raises(sn.ShapeError) as caught:
        sn.Dense.from_arrays(WEIGHTS_3x4, BIASES_3)
    assert str(caught.value) == (
        "Dense.from_arrays: `weights` expected floating-point (in, out=3), got (3, 4) float32: "
        "`out` is 4 here but 3 in `biases`.\n"
        "  dims bound so far: out=3\n"
        "  hint: `weights` looks transposed: pass `weights.T`"
    )
    fixed = sn.Dense.from_arrays(np.array(WEIGHTS_3x4).T, BIASES_3)
    assert repr(fixed) == "Dense(4 → 3)"


def test_a_transposed_batch_at_forward_gets_the_transpose_hint() -> None:
    # Written (neurons, inputs) with 4 biases, the layer is a valid 3 → 4 layer, so the batch
    # (3 samples of 4 features) is what does not fit — and its transpose would.
    layer = sn.Dense.from_arrays(WEIGHTS_3x4, [1.0, 2.0, 3.0, 4.0])
    with pytest.raises(sn.ShapeError) as caught:
        layer.forward(np.array(BATCH, dtype=np.float32))
    message = str(caught.value)
    assert message.startswith(
        "Dense(3 → 4).forward: `inputs` expected floating-point (batch, in=3)"
    )
    assert "`in` is 4 here but 3 in `self.weights`" in message
    assert message.endswith("hint: `inputs` looks transposed: pass `inputs.T`")
