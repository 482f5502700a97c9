"""Every user-facing error, word for word where the words are the product."""

import pickle

import numpy as np
import pytest

import shapenn as sn

F32 = np.float32


def _message(call: object, *args: object) -> str:
    with pytest.raises(sn.ShapeError) as caught:
        call(*args)  # type: ignore[operator]
    return str(caught.value)


def test_wrong_feature_count_names_layer_argument_dim_and_bindings() -> None:
    layer = sn.Dense(4, 3, seed=0)
    assert _message(layer.forward, np.zeros((5, 3), F32)) == (
        "Dense(4 → 3).forward: `inputs` expected floating-point (batch, in=4), got (5, 3) float32: "
        "`in` is 3 here but 4 in `self.weights`.\n"
        "  dims bound so far: in=4, out=3"
    )


def test_transposed_inputs_get_the_transpose_hint() -> None:
    message = _message(sn.Dense(4, 3, seed=0).forward, np.zeros((4, 2), F32))
    assert message.endswith("  hint: `inputs` looks transposed: pass `inputs.T`")


def test_a_single_sample_gets_the_batch_axis_hint() -> None:
    assert _message(sn.Dense(4, 3, seed=0).forward, np.zeros(4, F32)) == (
        "Dense(4 → 3).forward: `inputs` expected floating-point (batch, *positions, in=4), got "
        "(4,) float32: it is 1-D but at least 2-D is needed.\n"
        "  dims bound so far: in=4, out=3\n"
        "  hint: add a batch axis: `inputs[None, :]` or `inputs.reshape(1, -1)`"
    )


def test_float64_inputs_to_a_float32_layer_are_refused_not_upcast() -> None:
    assert _message(sn.Dense(4, 3, seed=0).forward, np.zeros((2, 4))) == (
        "Dense(4 → 3).forward: `inputs` expected dtype float32, got (2, 4) float64: its dtype "
        "differs from `self.weights` (float32); floating-point arrays passed together must share "
        "one dtype, and shapenn never upcasts silently.\n"
        "  hint: cast with `inputs.astype(np.float32)`"
    )


def test_integer_inputs_get_the_cast_hint() -> None:
    message = _message(sn.Dense(4, 3, seed=0).forward, np.zeros((2, 4), np.int64))
    assert "got (2, 4) int64: its dtype int64 is not float32 or float64." in message
    assert message.endswith("hint: cast with `inputs.astype(np.float32)`")


def test_a_python_list_gets_the_asarray_hint() -> None:
    message = _message(sn.Dense(2, 3, seed=0).forward, [[1.0, 2.0]])
    assert (
        "`inputs` expected floating-point (batch, in=2), got a list: a NumPy array is needed."
        in (message)
    )
    assert message.endswith("hint: convert it with `np.asarray(inputs, dtype=np.float32)`")


def test_backward_with_another_batch_blames_dvalues() -> None:
    layer = sn.Dense(4, 3, seed=0)
    layer.forward(np.zeros((5, 4), F32))
    assert _message(layer.backward, np.zeros((2, 3), F32)) == (
        "Dense(4 → 3).backward: `dvalues` expected floating-point (batch=5, out=3), "
        "got (2, 3) float32: `batch` is 2 here but 5 in the last forward's `inputs`.\n"
        "  dims bound so far: batch=5, in=4, out=3"
    )


@pytest.mark.parametrize(
    "loss", [sn.BinaryCrossentropy(), sn.MeanSquaredError(), sn.MeanAbsoluteError()]
)
def test_targets_of_shape_n_against_predictions_n_by_1_never_broadcast(loss: sn.Loss) -> None:
    predictions = np.full((6, 1), 0.5, F32)
    targets = np.ones(6, F32)
    name = type(loss).__name__
    assert _message(loss.calculate, predictions, targets) == (
        f"{name}().calculate: `y_true` expected real-valued (batch=6, outputs=1), "
        "got (6,) float32: it is 1-D but at least 2-D is needed.\n"
        "  dims bound so far: batch=6, outputs=1\n"
        "  hint: add a feature axis: `y_true.reshape(-1, 1)`"
    )
    with pytest.raises(sn.ShapeError):
        loss.backward(predictions, targets)  # type: ignore[arg-type]


def test_labels_out_of_range_are_a_label_error() -> None:
    probabilities = np.full((4, 3), 1 / 3, F32)
    with pytest.raises(sn.LabelError) as caught:
        sn.CategoricalCrossentropy().calculate(probabilities, np.array([0, 1, 3, 2]))
    assert str(caught.value) == (
        "CategoricalCrossentropy().calculate: labels must be in [0, 3) for 3 classes, got 3 at "
        "index 2: the predictions have 3 "
        "columns, so a label must name one of them"
    )
    with pytest.raises(sn.LabelError, match="got -1 at index 0"):
        sn.SoftmaxCategoricalCrossentropy().backward(probabilities, np.array([-1, 0, 1, 2]))


def test_float_labels_are_refused_with_the_cast_hint() -> None:
    probabilities = np.full((2, 3), 1 / 3, F32)
    message = _message(sn.CategoricalCrossentropy().calculate, probabilities, np.array([0.0, 1.0]))
    assert "its dtype float64 is not integer." in message
    assert message.endswith("hint: labels must be integers: cast with `y_true.astype(np.int64)`")


def test_labels_of_another_batch_name_the_batch() -> None:
    probabilities = np.full((4, 3), 1 / 3, F32)
    message = _message(sn.CategoricalCrossentropy().calculate, probabilities, np.array([0, 1]))
    assert "`batch` is 2 here but 4 in `y_pred`" in message


def test_an_empty_batch_has_no_mean_loss() -> None:
    with pytest.raises(ValueError, match=r"empty batch \(0 samples\)"):
        sn.CategoricalCrossentropy().calculate(np.zeros((0, 3), F32), np.zeros(0, np.intp))


def test_backward_before_forward_says_what_to_do() -> None:
    for layer in (sn.Dense(2, 2), sn.ReLU(), sn.Softmax(), sn.Sigmoid(), sn.Tanh(), sn.Linear()):
        with pytest.raises(RuntimeError, match=r"backward called before forward: call forward"):
            layer.backward(np.zeros((1, 2), F32))


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, "3"])
def test_dense_sizes_must_be_positive_integers(bad: object) -> None:
    with pytest.raises(ValueError, match="Dense: n_inputs must be a positive integer"):
        sn.Dense(bad, 3)  # type: ignore[arg-type]


def test_dense_dtype_must_be_float32_or_float64() -> None:
    with pytest.raises(ValueError, match="dtype must be float32 or float64, got int32"):
        sn.Dense(2, 3, dtype=np.int32)


def test_shape_error_is_a_value_error_and_a_type_error_keeping_the_checkers_report() -> None:
    with pytest.raises(ValueError) as caught:
        sn.Dense(4, 3).forward(np.zeros((2, 5), F32))
    err = caught.value
    assert isinstance(err, sn.ShapeError) and isinstance(err, TypeError)
    assert err.__cause__ is None and err.__suppress_context__  # nothing chained is printed
    assert "dimension in is 5" in (err.checker_report or "")  # jaxtyping's words, kept
    assert (err.where, err.argument, err.expected, err.got) == (
        "Dense(4 → 3).forward",
        "inputs",
        "floating-point (batch, in=4)",
        "(2, 5) float32",
    )
    assert err.bound == {"in": 4, "out": 3}
    assert err.hint is None


def test_messages_show_shapes_never_contents() -> None:
    message = _message(sn.Dense(4, 3).forward, np.full((2, 5), 123.456, F32))
    assert "123.456" not in message


def test_checks_can_be_turned_off_in_a_block_and_come_back_on() -> None:
    layer = sn.Dense(4, 3)
    assert sn.checks_enabled()
    with sn.checks(False):
        assert not sn.checks_enabled()
        with pytest.raises(ValueError) as caught:  # NumPy's own error, unexplained
            layer.forward(np.zeros((2, 5), F32))
        assert not isinstance(caught.value, sn.ShapeError)
    assert sn.checks_enabled()
    with pytest.raises(sn.ShapeError):
        layer.forward(np.zeros((2, 5), F32))


def test_custom_code_can_raise_the_standard_shape_error() -> None:
    err = sn.ShapeError.create(
        "Scale(4).compute_output_shape",
        "inputs",
        "(batch, n=4)",
        "(batch, 3)",
        "`n` is 3 here but 4 in `scale`",
        bound={"n": 4},
        hint="use Scale(3)",
    )
    assert str(err) == (
        "Scale(4).compute_output_shape: `inputs` expected (batch, n=4), got (batch, 3): "
        "`n` is 3 here but 4 in `scale`.\n"
        "  dims bound so far: n=4\n"
        "  hint: use Scale(3)"
    )
    chain = r"Model: `layers\[1\] Custom\(\)` expected \(batch, n=4\)"

    class Custom(sn.Layer):
        def compute_output_shape(self, input_shape: tuple[int | str, ...]) -> tuple[int | str, ...]:
            raise sn.ShapeError.create(repr(self), "inputs", "(batch, n=4)", "(batch, 3)", "no")

    with pytest.raises(sn.ShapeError, match=chain):
        sn.Model([sn.Dense(2, 3), Custom()])


def test_backward_parameters_ties_dvalues_to_the_layer() -> None:
    layer = sn.Dense(2, 8)
    layer.forward(np.zeros((4, 2), np.float32))
    with pytest.raises(sn.ShapeError, match=r"`out` is 5 here but 8 in `self\.weights`"):
        layer.backward_parameters(np.zeros((4, 5), np.float32))


def test_errors_survive_pickling() -> None:
    with pytest.raises(sn.ShapeError) as caught:
        sn.Dense(4, 3).forward(np.zeros((2, 5), np.float32))
    again = pickle.loads(pickle.dumps(caught.value))
    assert str(again) == str(caught.value) and again.argument == "inputs"
    label = sn.LabelError("labels must be in [0, 3)", where="Model.fit")
    assert str(pickle.loads(pickle.dumps(label))) == "Model.fit: labels must be in [0, 3)"


def test_the_transpose_hint_never_blames_a_trusted_argument() -> None:
    predictions = np.zeros((5, 2), np.float32)
    with pytest.raises(sn.ShapeError) as caught:
        sn.MeanSquaredError().calculate(predictions, np.zeros((2, 5), np.float32))
    assert str(caught.value).endswith("hint: `y_true` looks transposed: pass `y_true.T`")


def test_dense_settings_must_be_non_negative_numbers() -> None:
    with pytest.raises(
        ValueError, match=r"^Dense: weight_scale must be a finite number >= 0, got -1"
    ):
        sn.Dense(2, 3, weight_scale=-1)
    with pytest.raises(
        ValueError, match=r"^Dense: bias_regularizer_l2 must be a finite number >= 0, got nan"
    ):
        sn.Dense(2, 3, bias_regularizer_l2=float("nan"))
