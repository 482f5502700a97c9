"""Conv2D, MaxPool2D, AvgPool2D and Flatten: forward parity with direct loops written here,
gradients against finite differences (hypothesis over shapes, strides and paddings), and the
settings each layer takes."""

from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import shapenn as sn
from shapenn.functional import conv2d_forward

F64 = np.float64
conv_settings = settings(max_examples=40, deadline=None)


def loop_conv2d(
    inputs: Any, weights: Any, biases: Any, stride: tuple[int, int], padding: Any
) -> Any:
    """The textbook definition, one output value at a time."""
    (top, bottom), (left, right) = padding
    x = np.pad(inputs, ((0, 0), (0, 0), (top, bottom), (left, right)))
    batch, _, height, width = x.shape
    out_channels, _, kh, kw = weights.shape
    oh, ow = (height - kh) // stride[0] + 1, (width - kw) // stride[1] + 1
    out = np.zeros((batch, out_channels, oh, ow))
    for b in range(batch):
        for o in range(out_channels):
            for i in range(oh):
                for j in range(ow):
                    window = x[
                        b, :, i * stride[0] : i * stride[0] + kh, j * stride[1] : j * stride[1] + kw
                    ]
                    out[b, o, i, j] = np.sum(window * weights[o]) + biases[o]
    return out


def loop_pool(inputs: Any, pool: tuple[int, int], stride: tuple[int, int], reduce: Any) -> Any:
    batch, channels, height, width = inputs.shape
    oh, ow = (height - pool[0]) // stride[0] + 1, (width - pool[1]) // stride[1] + 1
    out = np.zeros((batch, channels, oh, ow))
    for i in range(oh):
        for j in range(ow):
            window = inputs[
                :,
                :,
                i * stride[0] : i * stride[0] + pool[0],
                j * stride[1] : j * stride[1] + pool[1],
            ]
            out[:, :, i, j] = reduce(window, axis=(2, 3))
    return out


@st.composite
def conv_cases(draw: st.DrawFn) -> dict[str, Any]:
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding: Any
    if stride == (1, 1) and draw(st.booleans()):
        padding = draw(st.sampled_from(["same", "valid"]))
    else:
        padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    height = draw(st.integers(1, 9))
    width = draw(st.integers(1, 9))
    return {
        "batch": draw(st.integers(1, 3)),
        "in_channels": draw(st.integers(1, 3)),
        "out_channels": draw(st.integers(1, 3)),
        "kernel": kernel,
        "stride": stride,
        "padding": padding,
        "size": (height, width),
        "seed": draw(st.integers(0, 2**16)),
    }


def _layer(case: dict[str, Any], dtype: Any = F64) -> sn.Conv2D:
    layer = sn.Conv2D(
        case["in_channels"],
        case["out_channels"],
        case["kernel"],
        stride=case["stride"],
        padding=case["padding"],
        seed=case["seed"],
        dtype=dtype,
    )
    layer.biases = np.random.default_rng(case["seed"]).normal(size=layer.biases.shape).astype(dtype)
    return layer


def _fits(layer: sn.Conv2D, size: tuple[int, int]) -> bool:
    return all(
        n + pad - k >= 0
        for n, pad, k in zip(size, (layer.pad_h, layer.pad_w), layer.kernel_size, strict=True)
    )


@conv_settings
@given(conv_cases())
def test_conv2d_forward_matches_the_loop_definition(case: dict[str, Any]) -> None:
    layer = _layer(case)
    assume(_fits(layer, case["size"]))
    rng = np.random.default_rng(case["seed"])
    X = rng.normal(size=(case["batch"], case["in_channels"], *case["size"]))
    expected = loop_conv2d(X, layer.weights, layer.biases, layer.stride, layer.spatial_padding)
    output = layer.forward(X)
    assert output.shape == expected.shape
    np.testing.assert_allclose(output, expected, rtol=1e-12, atol=1e-12)
    # The output size is the one the annotation computes.
    oh = (case["size"][0] + layer.pad_h - layer.kernel_size[0]) // layer.stride_h + 1
    assert output.shape[2] == oh


@conv_settings
@given(conv_cases())
def test_conv2d_gradients_match_finite_differences(case: dict[str, Any]) -> None:
    layer = _layer(case)
    assume(_fits(layer, case["size"]))
    X = np.random.default_rng(case["seed"]).normal(
        size=(case["batch"], case["in_channels"], *case["size"])
    )
    result = sn.gradcheck(layer, X, max_entries=None, raise_on_failure=False)
    assert result.ok, str(result)
    assert set(result.errors) == {"inputs", "weights", "biases"}


def test_the_first_layers_shortcut_gives_the_same_parameter_gradients() -> None:
    layer = sn.Conv2D(2, 3, (3, 2), stride=(2, 1), padding=1, seed=0, dtype=F64)
    X = np.random.default_rng(0).normal(size=(4, 2, 7, 6))
    G = np.random.default_rng(1).normal(size=layer.forward(X).shape)
    layer.backward(G)
    full = (layer.dweights.copy(), layer.dbiases.copy())
    layer.forward(X)
    layer.backward_parameters(G)
    np.testing.assert_array_equal(layer.dweights, full[0])
    np.testing.assert_array_equal(layer.dbiases, full[1])


def test_same_padding_keeps_the_size_for_odd_and_even_kernels() -> None:
    X = np.ones((1, 1, 7, 6), np.float32)
    for kernel in (1, 2, 3, 4, (5, 2)):
        layer = sn.Conv2D(1, 2, kernel, padding="same", seed=0)
        assert layer.forward(X).shape == (1, 2, 7, 6)
    even = sn.Conv2D(1, 1, 4, padding="same")
    assert even.spatial_padding == ((1, 2), (1, 2))  # the extra row and column at the end


def test_the_kernel_is_float32_end_to_end() -> None:
    layer = sn.Conv2D(3, 4, 3, seed=0)
    out = layer.forward(np.ones((2, 3, 5, 5), np.float32))
    assert layer.weights.dtype == out.dtype == layer.backward(np.ones_like(out)).dtype == np.float32


def test_he_initialization_and_an_explicit_scale() -> None:
    layer = sn.Conv2D(16, 32, 3, seed=0)
    assert abs(layer.weights.std() - np.sqrt(2 / (16 * 9))) < 0.01
    assert not layer.biases.any()
    assert sn.Conv2D(16, 32, 3, weight_scale=0.0).weights.std() == 0


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"kernel_size": 0}, "kernel_size must be a positive integer"),
        ({"kernel_size": (3, 3, 3)}, "kernel_size must be an int or a pair"),
        ({"kernel_size": 3, "stride": 0}, "stride must be a positive integer"),
        ({"kernel_size": 3, "padding": -1}, "padding must be an int >= 0"),
        (
            {"kernel_size": 3, "padding": "full"},
            "padding must be an int, a pair, 'same' or 'valid'",
        ),
        ({"kernel_size": 3, "padding": "same", "stride": 2}, "padding='same' needs stride 1"),
        ({"kernel_size": 3, "dtype": np.float16}, "dtype must be float32 or float64"),
        ({"kernel_size": 3, "weight_regularizer_l2": -1.0}, "weight_regularizer_l2"),
    ],
)
def test_conv2d_refuses_bad_settings(kwargs: dict[str, Any], words: str) -> None:
    with pytest.raises(ValueError, match=words.replace("(", r"\(").replace(")", r"\)")):
        sn.Conv2D(1, 2, **kwargs)


def test_reprs_say_what_the_layer_was_built_with() -> None:
    assert repr(sn.Conv2D(1, 8, 3)) == "Conv2D(1 → 8, 3×3)"
    assert repr(sn.Conv2D(3, 8, (3, 5), stride=2, padding=1)) == (
        "Conv2D(3 → 8, 3×5, stride=2, padding=1)"
    )
    assert repr(sn.Conv2D(3, 8, 3, padding="same")) == "Conv2D(3 → 8, 3×3, padding='same')"
    assert repr(sn.MaxPool2D(2)) == "MaxPool2D(2)"
    assert repr(sn.AvgPool2D((2, 3), stride=1)) == "AvgPool2D((2, 3), stride=1)"


# --- pooling ---------------------------------------------------------------------------------


@st.composite
def pool_cases(draw: st.DrawFn) -> dict[str, Any]:
    pool = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    height = draw(st.integers(pool[0], 8))
    width = draw(st.integers(pool[1], 8))
    shape = (draw(st.integers(1, 3)), draw(st.integers(1, 3)), height, width)
    return {"pool": pool, "stride": stride, "shape": shape, "seed": draw(st.integers(0, 2**16))}


def _distinct(shape: tuple[int, ...], seed: int) -> Any:
    """Values at least 0.1 apart, so no finite-difference step changes which one is largest."""
    values = np.random.default_rng(seed).permutation(int(np.prod(shape))) * 0.1
    return values.reshape(shape).astype(F64)


@pytest.mark.parametrize(("cls", "reduce"), [(sn.MaxPool2D, np.max), (sn.AvgPool2D, np.mean)])
@conv_settings
@given(case=pool_cases())
def test_pools_match_the_loop_definition_and_finite_differences(
    cls: type, reduce: Any, case: dict[str, Any]
) -> None:
    layer = cls(case["pool"], stride=case["stride"])
    X = _distinct(case["shape"], case["seed"])
    expected = loop_pool(X, case["pool"], case["stride"], reduce)
    np.testing.assert_allclose(layer.forward(X), expected, rtol=1e-12)
    result = sn.gradcheck(layer, X, max_entries=None, raise_on_failure=False)
    assert result.ok, str(result)


def test_max_pool_gives_a_tied_windows_gradient_to_its_first_maximum_only() -> None:
    layer = sn.MaxPool2D(2)
    X = np.zeros((1, 1, 2, 4), np.float32)  # after ReLU, whole windows are often 0
    X[0, 0, 1, 3] = 1.0
    layer.forward(X)
    dinputs = layer.backward(np.array([[[[5.0, 7.0]]]], np.float32))
    expected = np.zeros_like(X)
    expected[0, 0, 0, 0] = 5.0  # first of four equal zeros
    expected[0, 0, 1, 3] = 7.0
    np.testing.assert_array_equal(dinputs, expected)


def test_overlapping_windows_add_their_gradients() -> None:
    layer = sn.AvgPool2D(2, stride=1)
    X = np.ones((1, 1, 3, 3))
    layer.forward(X)
    dinputs = layer.backward(np.ones((1, 1, 2, 2)))
    np.testing.assert_allclose(
        dinputs[0, 0], [[0.25, 0.5, 0.25], [0.5, 1.0, 0.5], [0.25, 0.5, 0.25]]
    )


def test_pool_stride_defaults_to_the_window() -> None:
    assert sn.MaxPool2D(3).stride == (3, 3)
    assert sn.MaxPool2D((2, 3)).forward(np.zeros((1, 1, 7, 7), np.float32)).shape == (1, 1, 3, 2)


# --- flatten ---------------------------------------------------------------------------------


def test_flatten_is_c_order_and_its_gradient_comes_back_in_shape() -> None:
    layer = sn.Flatten()
    X = np.arange(2 * 3 * 2 * 2, dtype=np.float32).reshape(2, 3, 2, 2)
    output = layer.forward(X)
    np.testing.assert_array_equal(output, X.reshape(2, 12))
    np.testing.assert_array_equal(layer.backward(output), X)


def test_flatten_after_a_convolution_reads_channels_first() -> None:
    # The convolution's output lives channels-last in memory; Flatten must still give the
    # (channel, row, column) order that PyTorch's and Keras's channels-first Flatten give.
    conv = sn.Conv2D(1, 3, 2, seed=0)
    out = conv.forward(np.random.default_rng(0).normal(size=(2, 1, 4, 4)).astype(np.float32))
    flat = sn.Flatten().forward(out)
    np.testing.assert_array_equal(flat, np.ascontiguousarray(out).reshape(2, -1))
    np.testing.assert_array_equal(flat[:, :9], np.ascontiguousarray(out[:, 0]).reshape(2, 9))


def test_a_conv_model_passes_gradcheck() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(6, 1, 8, 8))
    y = rng.integers(0, 3, 6)
    model = sn.Model(
        [
            sn.Conv2D(1, 4, 3, padding=1, seed=0),
            sn.Tanh(),
            sn.AvgPool2D(2),
            sn.Conv2D(4, 3, 3, stride=2, seed=1),
            sn.Flatten(),
            sn.Dense(3, 3, seed=2),
            sn.Softmax(),
        ],
        loss=sn.CategoricalCrossentropy(),
        optimizer=sn.Adam(),
        input_shape=(1, 8, 8),
    )
    result = sn.gradcheck(model, X, y, max_entries=None)
    assert result.ok


def test_functional_conv_kernel_matches_the_layer() -> None:
    layer = sn.Conv2D(2, 3, 3, stride=2, padding=1, seed=0)
    X = np.random.default_rng(0).normal(size=(2, 2, 6, 6)).astype(np.float32)
    output, cols = conv2d_forward(X, layer.weights, layer.biases, (2, 2), ((1, 1), (1, 1)))
    np.testing.assert_array_equal(output, layer.forward(X))
    assert cols.shape == (2 * 3 * 3, 2 * 3 * 3)
