"""Hostile arguments to shapenn's constructors and models: NumPy scalars are the plain numbers
they hold, everything else that cannot work is an ArgumentError or ShapeError naming the
argument (``layers[i]`` for a layer of a list) and the fix, never NumPy's or Python's own
error, and never an allocation of more memory than the machine has."""

import resource
from typing import Any

import numpy as np
import pytest
from jaxtyping import Float

import shapenn as sn
from shapenn import _args
from shapenn.book import Layer_Dropout
from shapenn.model import _summary
from shapenn.shapes import Array2D

F32 = np.float32


# --- D17: NumPy scalars are the numbers they hold -----------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (np.uint8(5), 5),
        (np.int16(300), 300),
        (np.int64(3), 3),
        (np.uint64(2**64 - 1), 2**64 - 1),  # never wrapped to -1
        (np.int8(127), 127),
    ],
)
def test_numpy_integers_are_the_python_ints_they_hold(value: Any, expected: int) -> None:
    for number in (
        _args.positive("Dense", "n_inputs", value),
        _args.integer("Model.fit", "epochs", value),
        _args.optional_positive("Model.fit", "batch_size", value),
    ):
        assert number == expected and type(number) is int


def test_a_numpy_float_is_a_float_and_an_int_too_large_for_one_is_refused() -> None:
    assert _args.nonnegative("SGD", "learning_rate", np.float32(0.1)) == float(np.float32(0.1))
    assert type(_args.nonnegative("SGD", "learning_rate", np.float16(0.5))) is float
    for hostile in (10**400, -(10**400), np.longdouble("1e400")):
        with pytest.raises(sn.ArgumentError, match="learning_rate must be a finite number >= 0"):
            sn.SGD(learning_rate=hostile)
    with pytest.raises(sn.ArgumentError, match=r"^Dense: weight_regularizer_l2 must be a finite"):
        sn.Dense(2, 3, weight_regularizer_l2=10**400)


@pytest.mark.parametrize("hostile", [True, np.bool_(True), float("nan"), np.float32("nan"), "3"])
def test_bools_nan_and_strings_are_not_numbers(hostile: Any) -> None:
    with pytest.raises(sn.ArgumentError, match=r"^Dense: n_inputs must be a positive integer"):
        sn.Dense(hostile, 3)
    with pytest.raises(sn.ArgumentError, match=r"^Dropout: rate must be in \[0, 1\)"):
        sn.Dropout(hostile)


def test_layers_take_numpy_sizes_and_rates_as_plain_numbers() -> None:
    layer = sn.Dense(np.uint8(5), np.int16(300), seed=np.int64(0))
    assert layer.weights.shape == (5, 300)
    assert (layer.n_inputs, layer.n_neurons) == (5, 300)
    dropout = sn.Dropout(np.int64(0))  # the rate 0, as 0 is
    assert dropout.rate == 0.0 and type(dropout.rate) is float
    assert sn.Dropout(np.float32(0.5)).rate == 0.5
    conv = sn.Conv2D(np.int32(1), np.uint8(2), (np.int64(3), np.uint16(3)), padding=np.uint8(1))
    assert conv.padding == (1, 1) and conv.kernel_size == (3, 3)


# --- D4: one layer object at two places ---------------------------------------------------------


class _Twice(sn.Layer):
    """A composite layer that holds one ReLU under two names: a forward through both."""

    def __init__(self) -> None:
        shared = sn.ReLU()
        self.first = shared
        self.second = shared

    def forward(self, inputs: Float[np.ndarray, "batch n"]) -> Float[np.ndarray, "batch n"]:
        return self.second.forward(self.first.forward(inputs))


def test_a_layer_reused_in_a_model_names_both_positions() -> None:
    relu = sn.ReLU()
    with pytest.raises(sn.ArgumentError) as caught:
        sn.Model([sn.Dense(2, 3), relu, sn.Dense(3, 3), relu])
    assert str(caught.value).startswith("Model: layers[1] and layers[3] are the same ReLU()")
    assert "write ReLU(...) twice" in str(caught.value)


def test_a_layer_owning_one_sublayer_twice_is_refused() -> None:
    with pytest.raises(sn.ArgumentError) as caught:
        sn.Model([sn.Dense(2, 3), _Twice()])
    assert str(caught.value).startswith(
        "Model: layers[1].first and layers[1].second are the same ReLU() object"
    )


# --- D19: seeds, dtypes, sizes that cannot exist, byte order, ragged lists, unset state ---------


@pytest.mark.parametrize("seed", [-1, "a", 1.5, True, np.bool_(False), [1, 2], np.float64(3.0)])
@pytest.mark.parametrize(
    "build",
    [
        lambda seed: sn.Dense(2, 3, seed=seed),
        lambda seed: sn.Conv2D(1, 2, 3, seed=seed),
        lambda seed: sn.Dropout(0.5, seed=seed),
    ],
)
def test_a_seed_that_is_not_one_names_seed(build: Any, seed: Any) -> None:
    with pytest.raises(sn.ArgumentError, match=r": seed must be an integer >= 0, a numpy"):
        build(seed)


def test_numpy_integer_seeds_draw_as_the_ints_they_hold() -> None:
    expected = sn.Dense(3, 4, seed=7).weights
    for seed in (np.int64(7), np.uint8(7), np.int16(7)):
        np.testing.assert_array_equal(sn.Dense(3, 4, seed=seed).weights, expected)
    big = 2**70  # NumPy seeds take any size of int
    np.testing.assert_array_equal(
        sn.Dense(3, 4, seed=big).weights, sn.Dense(3, 4, seed=big).weights
    )


# b"a": an alias NumPy 2 deprecates, which warned before the refusal (found by the fuzz test).
@pytest.mark.parametrize("dtype", ["foo", None, 0, 1.5, np.int32, ">f4", "float16", True, b"a"])
def test_a_dtype_that_is_not_a_float_dtype_names_dtype_and_the_two(dtype: Any) -> None:
    for build in (
        lambda: sn.Dense(2, 3, dtype=dtype),
        lambda: sn.Conv2D(1, 2, 3, dtype=dtype),
        lambda: sn.Embedding(4, 3, dtype=dtype),
    ):
        with pytest.raises(sn.ArgumentError, match="dtype must be float32 or float64, got"):
            build()


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@pytest.mark.parametrize(
    ("build", "words"),
    [
        (lambda: sn.Dense(10**7, 10**7), "Dense: n_inputs=10000000 and n_neurons=10000000 make"),
        (lambda: sn.Dense(10**400, 3), "Dense: n_inputs=an int of about 400 digits and"),
        (lambda: sn.Dense(10**5000, 3), "Dense: n_inputs=an int of about 5000 digits"),
        (lambda: sn.Conv2D(1, 1, 10**6), "Conv2D: in_channels=1, out_channels=1 and kernel_size"),
        (lambda: sn.Conv2D(1, 1, 3, padding=10**5), "Conv2D: padding=100000 pads each sample"),
        (lambda: sn.Conv2D(1, 1, 3, padding=10**9), "Conv2D: padding=1000000000 pads each"),
        (lambda: sn.Conv2D(1, 1, 3, padding=(0, 10**12)), "Conv2D: padding=(0, 1000000000000)"),
        (lambda: sn.Embedding(2**40, 2**10), "would need 4.5 PB"),
        (lambda: sn.LayerNorm(2**64), "would need"),
    ],
)
def test_sizes_whose_arrays_cannot_exist_are_refused_before_allocating(
    build: Any, words: str
) -> None:
    before = _peak_rss_mb()
    with pytest.raises(sn.ArgumentError) as caught:
        build()
    text = str(caught.value)
    assert words in text
    assert "more than this machine's memory" in text and "choose smaller sizes" in text
    assert _peak_rss_mb() - before < 200  # nothing was allocated on the way


def test_a_convolution_refuses_a_batch_whose_padding_cannot_fit_before_allocating() -> None:
    conv = sn.Conv2D(1, 2, 3, padding=10**4, seed=0)  # one padded sample: 1.6 GB, possible
    before = _peak_rss_mb()
    with pytest.raises(sn.ArgumentError) as caught:
        conv.forward(np.zeros((64, 1, 3, 3), F32))  # 64 of them: far more than any machine
    assert str(caught.value).startswith("Conv2D(1 → 2, 3×3, padding=10000).forward: a batch of")
    assert "a smaller batch_size" in str(caught.value)
    assert _peak_rss_mb() - before < 200


def test_a_padding_given_as_an_array_is_refused_in_words() -> None:
    with pytest.raises(sn.ArgumentError, match=r"^Conv2D: padding must be an int >= 0, a pair"):
        sn.Conv2D(1, 1, 3, padding=np.array([1, 1]))  # type: ignore[arg-type]


@pytest.mark.parametrize("make", [lambda: sn.Dropout(0.5, seed=0), lambda: Layer_Dropout(0.5)])
@pytest.mark.parametrize("dtype", [">f4", ">f8"])
def test_dropout_takes_big_endian_floats(make: Any, dtype: str) -> None:
    layer = make()
    inputs = np.arange(1, 25, dtype=dtype).reshape(4, 6)
    output = layer.forward(inputs)
    assert output.dtype == np.dtype(dtype)
    kept = output != 0
    np.testing.assert_array_equal(output[kept], inputs[kept] * 2)
    dinputs = layer.backward(np.ones((4, 6), dtype=dtype))
    assert dinputs.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(dinputs != 0, kept)


def test_ragged_nested_lists_say_which_rows_differ() -> None:
    with pytest.raises(sn.ShapeError) as caught:
        sn.Dense.from_arrays([[1.0, 2.0], [1.0]])
    text = str(caught.value)
    assert text.startswith("Dense.from_arrays: `weights` expected an array")
    assert "weights[1] has 1 value, weights[0] has 2 values" in text
    with pytest.raises(sn.ShapeError, match=r"biases\[1\] has 1 value, biases\[0\] has 2"):
        sn.Dense.from_arrays([[1.0, 2.0]], [[0.0, 1.0], [2.0]])


def test_not_layers_in_the_list_name_the_position_and_the_fix() -> None:
    cases = [
        ([sn.Dense(2, 3), "relu"], "Model: layers[1] is a str ('relu'), not a layer"),
        ([sn.Dense(2, 3), None], "Model: layers[1] is a NoneType (None), not a layer"),
        ([sn.Dense(2, 3), sn.ReLU], "layers[1] is the class ReLU, not a layer: pass an instance"),
        (None, "Model: layers must be a list of layers, got a NoneType"),
        (sn.Dense(2, 3), "write Model([Dense(2 → 3)])"),
    ]
    for layers, words in cases:
        with pytest.raises(sn.ArgumentError) as caught:
            sn.Model(layers)  # type: ignore[arg-type]
        assert words in str(caught.value)


class _Unset(sn.Layer):
    """Declares a parameter and never sets it (forgot it in ``__init__``)."""

    scale: Float[Array2D, "1 n"]

    def forward(self, inputs: Float[Array2D, "batch n"]) -> Float[Array2D, "batch n"]:
        self.inputs = inputs
        return inputs * self.scale

    def backward(self, dvalues: Float[Array2D, "batch n"]) -> Float[Array2D, "batch n"]:
        self.dscale = (dvalues * self.inputs).sum(axis=0, keepdims=True)
        return dvalues * self.scale


def test_a_declared_parameter_never_set_is_refused_when_the_model_is_built() -> None:
    with pytest.raises(sn.ArgumentError) as caught:
        sn.Model(
            [sn.Dense(2, 3), _Unset()],
            loss=sn.MeanSquaredError(),
            optimizer=sn.SGD(),
        )
    text = str(caught.value)
    assert text.startswith("Model: layers[1] _Unset() declares the parameter `scale`")
    assert "never sets it" in text and "self.scale" in text


# --- D20: summary's print_fn ---------------------------------------------------------------------


@pytest.mark.parametrize("print_fn", [1, "print", True, sn.Dense])
def test_a_print_fn_that_cannot_be_called_is_refused_before_the_summary(print_fn: Any) -> None:
    with pytest.raises(sn.ArgumentError, match=r"^Model.summary: print_fn must be a function"):
        _summary.printer(print_fn)
    assert _summary.printer(None) is None
    assert _summary.printer(print) is print


def test_model_summary_refuses_a_print_fn_that_cannot_be_called() -> None:
    with pytest.raises(sn.ArgumentError, match="print_fn must be a function"):
        sn.Model([sn.Dense(2, 3)]).summary(print_fn=1)  # type: ignore[arg-type]
