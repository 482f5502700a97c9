"""Every kind of hint the engine gives is right: applied to the array it was given for, it gives
the array that was meant, and the call that failed then runs."""

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import shapenn as sn

F32 = np.float32
rng = np.random.default_rng(0)


def _hint(call: Callable[[], Any]) -> str:
    with pytest.raises(sn.ShapeError) as caught:
        call()
    assert caught.value.hint is not None, str(caught.value)
    return caught.value.hint


def _codes(hint: str) -> list[str]:
    return re.findall(r"`([^`]+)`", hint)


def _applied(code: str, name: str, value: Any) -> Any:
    """The hint's code run with the argument it names bound to the mistaken value."""
    head, _, rest = name.partition(".")
    namespace: dict[str, Any] = {"np": np}
    if rest:  # `self.weights`: bind an object holding it
        namespace[head] = type("Holder", (), {rest: value})()
    else:
        namespace[name] = value
    return eval(code, namespace)


def _check(hint: str, name: str, mistaken: Any, meant: np.ndarray) -> None:
    codes = [
        code
        for code in _codes(hint)
        if (name in code and code != name) or code.startswith("np.array(")
    ]
    assert codes, hint
    for code in codes:
        fixed = _applied(code, name, mistaken)
        assert fixed.dtype == meant.dtype, (code, fixed.dtype)
        np.testing.assert_array_equal(fixed, meant, err_msg=code)


def test_the_transpose_hint() -> None:
    layer = sn.Dense(4, 3, seed=0)
    meant = rng.normal(size=(5, 4)).astype(F32)
    hint = _hint(lambda: layer.forward(meant.T))
    assert hint == "`inputs` looks transposed: pass `inputs.T`"
    _check(hint, "inputs", meant.T, meant)


@pytest.mark.parametrize("features", [3, 1])
def test_the_batch_axis_hint_for_one_sample(features: int) -> None:
    layer = sn.Dense(features, 2, seed=0)
    sample = rng.normal(size=features).astype(F32)
    hint = _hint(lambda: layer.forward(sample))
    assert hint.startswith("add a batch axis: ")
    _check(hint, "inputs", sample, sample[None, :])
    layer.forward(sample[None, :])


def test_the_feature_axis_hint_for_a_column_of_targets() -> None:
    predictions = np.full((6, 1), 0.5, F32)
    targets = rng.normal(size=6).astype(F32)
    hint = _hint(lambda: sn.MeanSquaredError().calculate(predictions, targets))
    assert hint == "add a feature axis: `y_true.reshape(-1, 1)`"
    _check(hint, "y_true", targets, targets.reshape(-1, 1))


def test_the_feature_axis_hint_for_a_one_feature_model() -> None:
    model = sn.Model([sn.Dense(1, 4, seed=0), sn.ReLU(), sn.Dense(4, 1, seed=1)])
    x = rng.normal(size=7).astype(F32)
    hint = _hint(lambda: model.predict(x))
    assert hint == "add a feature axis: `X.reshape(-1, 1)`"
    _check(hint, "X", x, x.reshape(-1, 1))
    model.predict(x.reshape(-1, 1))


def test_the_ravel_hint_for_labels_in_a_column() -> None:
    probabilities = np.full((4, 3), 1 / 3, F32)
    labels = np.array([0, 2, 1, 1])
    hint = _hint(
        lambda: sn.CategoricalCrossentropy().calculate(probabilities, labels.reshape(-1, 1))
    )
    assert "`y_true.ravel()`" in hint
    _check(hint, "y_true", labels.reshape(-1, 1), labels)


def test_the_cast_hint() -> None:
    layer = sn.Dense(2, 3, seed=0)
    meant = rng.integers(0, 5, size=(4, 2))
    hint = _hint(lambda: layer.forward(meant))
    assert hint == "cast with `inputs.astype(np.float32)`"
    _check(hint, "inputs", meant, meant.astype(F32))


def test_the_labels_cast_hint() -> None:
    probabilities = np.full((2, 3), 1 / 3, F32)
    labels = np.array([0.0, 2.0])
    hint = _hint(lambda: sn.CategoricalCrossentropy().calculate(probabilities, labels))
    assert hint == "labels must be integers: cast with `y_true.astype(np.int64)`"
    _check(hint, "y_true", labels, labels.astype(np.int64))


def test_the_conversion_hint_for_a_list() -> None:
    layer = sn.Dense(2, 3, seed=0)
    rows = [[1.0, 2.0], [3.0, 4.0]]
    hint = _hint(lambda: layer.forward(rows))  # type: ignore[arg-type]
    assert hint == "convert it with `np.asarray(inputs, dtype=np.float32)`"
    _check(hint, "inputs", rows, np.asarray(rows, dtype=F32))


def test_a_list_with_three_problems_gets_one_fix() -> None:
    neuron = sn.Dense(3, 1, seed=0)
    with pytest.raises(sn.ShapeError) as caught:
        neuron.forward([1, 2, 3])  # type: ignore[arg-type]
    assert str(caught.value) == (
        "Dense(3 → 1).forward: `inputs` expected floating-point (batch, *positions, in=3), got "
        "a list: a NumPy array is needed; as one, its dtype int64 is not float32 or float64; "
        "and it is 1-D but at least 2-D is needed.\n"
        "  dims bound so far: in=3, out=1\n"
        "  hint: convert it and add a batch axis: `np.array([[1, 2, 3]], dtype=np.float32)`"
    )
    meant = np.array([[1, 2, 3]], dtype=F32)
    (code,) = _codes(caught.value.hint or "")
    np.testing.assert_array_equal(eval(code), meant)
    neuron.forward(eval(code))


def test_a_long_list_gets_the_same_fix_as_code() -> None:
    neuron = sn.Dense(20, 1, seed=0)
    values = list(range(20))
    hint = _hint(lambda: neuron.forward(values))  # type: ignore[arg-type]
    assert hint == (
        "convert it and add a batch axis: `np.asarray(inputs, dtype=np.float32)[None, :]` or "
        "`np.asarray(inputs, dtype=np.float32).reshape(1, -1)`"
    )
    _check(hint, "inputs", values, np.asarray(values, dtype=F32)[None, :])


def test_an_integer_sample_gets_cast_and_batch_axis() -> None:
    neuron = sn.Dense(3, 1, seed=0)
    sample = np.array([1, 2, 3])
    hint = _hint(lambda: neuron.forward(sample))
    assert hint.startswith("cast and add a batch axis: ")
    _check(hint, "inputs", sample, sample.astype(F32)[None, :])


def test_flat_rows_get_the_reshape_hint() -> None:
    model = sn.Model(
        [sn.Conv2D(3, 4, 3, seed=0), sn.ReLU(), sn.Flatten(), sn.Dense(4 * 6 * 6, 2, seed=1)],
        input_shape=(3, 8, 8),
    )
    images = rng.normal(size=(5, 3, 8, 8)).astype(F32)
    flat = images.reshape(5, -1)
    hint = _hint(lambda: model.predict(flat))
    assert hint == "reshape it: `X.reshape(-1, 3, 8, 8)`"
    _check(hint, "X", flat, images)


def test_channels_last_images_get_the_transpose_not_a_reshape() -> None:
    model = sn.Model(
        [sn.Conv2D(3, 4, 3, seed=0), sn.ReLU(), sn.Flatten(), sn.Dense(4 * 6 * 6, 2, seed=1)],
        input_shape=(3, 8, 8),
    )
    images = rng.normal(size=(5, 3, 8, 8)).astype(F32)
    channels_last = images.transpose(0, 2, 3, 1)
    hint = _hint(lambda: model.predict(channels_last))
    assert hint == "its axes are in another order: `X.transpose(0, 3, 1, 2)`"
    _check(hint, "X", channels_last, images)
    np.testing.assert_array_equal(
        model.predict(_applied(_codes(hint)[0], "X", channels_last)), model.predict(images)
    )


def test_flat_rows_of_square_images_get_the_square_hint() -> None:
    model = sn.Model([sn.Conv2D(1, 2, 3, seed=0), sn.ReLU(), sn.Flatten()])
    images = rng.normal(size=(4, 1, 8, 8)).astype(F32)
    flat = images.reshape(4, -1)
    hint = _hint(lambda: model.predict(flat))
    assert hint == "if each row is a square image, reshape it: `X.reshape(-1, 1, 8, 8)`"
    _check(hint, "X", flat, images)


def test_the_mixed_dtype_hint() -> None:
    layer = sn.Dense(2, 3, seed=0)
    meant = rng.normal(size=(4, 2))
    hint = _hint(lambda: layer.forward(meant))
    assert hint == "cast with `inputs.astype(np.float32)`"
    _check(hint, "inputs", meant, meant.astype(F32))


def test_weights_written_one_row_per_neuron_get_the_transpose() -> None:
    weights = [[0.2, 0.8, -0.5, 1.0], [0.5, -0.91, 0.26, -0.5], [-0.26, -0.27, 0.17, 0.87]]
    hint = _hint(lambda: sn.Dense.from_arrays(weights, [2.0, 3.0, 0.5]))
    assert hint == "`weights` looks transposed: pass `weights.T`"
    meant = np.asarray(weights, dtype=F32).T
    _check(hint, "weights", np.asarray(weights, dtype=F32), meant)
    sn.Dense.from_arrays(meant, [2.0, 3.0, 0.5])


def test_the_chain_hint_builds_the_model() -> None:
    layers: list[sn.Layer] = [sn.Dense(2, 64, seed=0), sn.ReLU(), sn.Dense(32, 3, seed=1)]
    hint = _hint(lambda: sn.Model(layers))
    assert hint == "make layers[2] Dense(64, 3), or layers[0] Dense(2, 32)"
    for option in hint.removeprefix("make ").split(", or "):
        index, call = re.fullmatch(r"layers\[(\d)\] (.+)", option).groups()  # type: ignore[union-attr]
        fixed = list(layers)
        fixed[int(index)] = eval(call, {"Dense": sn.Dense})
        sn.Model(fixed)
