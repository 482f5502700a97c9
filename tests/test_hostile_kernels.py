"""Hostile calls of the kernels, losses, metrics, Softmax and gradcheck: each is refused with
shapenn's documented error, naming the argument and the fix, or gives the right answer.

One test per defect: metrics that score a perfect fit 0 or take arguments they cannot use,
losses called directly with targets out of range, Softmax of rows that are not finite,
gradcheck arguments that make it vacuous or wrong and a saturated classifier it failed, public
kernels whose output sizes were not tied to their inputs', and config dims held as NumPy
integers.
"""

from typing import Any, ClassVar

import numpy as np
import pytest
from jaxtyping import Float

import shapenn as sn
import shapenn.functional as F
from shapenn.shapes import Array2D, Dim

F32 = np.float32


def _images(*shape: int, seed: int = 0) -> Any:
    return np.random.default_rng(seed).normal(size=shape).astype(F32)


# --- D14: metrics ----------------------------------------------------------------------------


def test_regression_accuracy_scores_a_perfect_fit_of_constant_targets_as_one() -> None:
    y = np.full((10, 1), 3.0, F32)
    metric = sn.RegressionAccuracy()
    metric.init(y)
    assert metric.precision is not None and metric.precision > 0  # |y| stands in for spread
    assert metric.calculate(y.copy(), y) == 1.0
    # A fit within float rounding of the constant counts too; a wrong one does not.
    assert metric.calculate(y + np.float32(1e-6), y) == 1.0
    assert metric.calculate(y + 1, y) == 0.0


def test_regression_accuracy_with_a_tolerance_of_zero_counts_exact_matches() -> None:
    y = np.array([[0.0], [1.0], [2.0]], F32)
    metric = sn.RegressionAccuracy(precision=0.0)
    assert metric.calculate(y.copy(), y) == 1.0
    zeros = sn.RegressionAccuracy()
    zeros.init(np.zeros((4, 1), F32))  # all-zero targets: exact matches only
    assert zeros.precision == 0.0
    assert zeros.calculate(np.zeros((4, 1), F32), np.zeros((4, 1), F32)) == 1.0


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda: sn.BinaryAccuracy(threshold=float("nan")), "threshold must be a finite number"),
        (lambda: sn.RegressionAccuracy(precision="abc"), "precision must be a finite number"),  # type: ignore[arg-type]
        (lambda: sn.RegressionAccuracy(precision=float("inf")), "precision must be a finite"),
    ],
)
def test_metric_arguments_they_cannot_use_are_refused(make: Any, words: str) -> None:
    with pytest.raises(sn.ArgumentError, match=words):
        make()


def test_numpy_scalars_are_plain_numbers_for_the_metrics() -> None:
    numbers: dict[str, Any] = {"precision": np.float32(0.1), "divisor": np.int64(4)}
    metric = sn.RegressionAccuracy(**numbers)
    assert type(metric.precision) is float and type(metric.divisor) is float
    assert type(sn.BinaryAccuracy(threshold=np.float64(0.25)).threshold) is float


def test_regression_accuracy_init_refuses_targets_that_are_not_finite() -> None:
    with pytest.raises(sn.ArgumentError, match=r"RegressionAccuracy\(\)\.init: `y` contains"):
        sn.RegressionAccuracy().init(np.array([[1.0], [np.nan]]))
    with pytest.raises(sn.ArgumentError, match="non-empty array of real numbers"):
        sn.RegressionAccuracy().init(np.array([["a"], ["b"]]))


def test_metric_kernels_refuse_nothing_to_score_instead_of_nan() -> None:
    from shapenn import _metrics

    with pytest.raises(sn.ArgumentError, match=r"categorical_accuracy_onehot: `y_pred`.*nothing"):
        _metrics.categorical_accuracy_onehot(np.zeros((2, 0), F32), np.zeros((2, 0), F32))
    with pytest.raises(sn.ArgumentError, match="nothing to score"):
        _metrics.binary_accuracy(np.zeros((0, 1), F32), np.zeros((0, 1), F32), 0.5)
    with pytest.raises(sn.ArgumentError, match="top_k_hits_onehot: k must be an integer >= 1"):
        _metrics.top_k_hits_onehot(np.eye(3, dtype=F32), np.eye(3, dtype=F32), 0)
    with pytest.raises(sn.ShapeError):
        _metrics.confusion_counts(np.float32(0.5), np.int64(1))  # type: ignore[arg-type]


# --- D14: losses called directly check their targets' range -----------------------------------


def test_binary_crossentropy_refuses_targets_outside_zero_one_in_a_direct_call() -> None:
    p = np.array([[0.5], [0.5]], F32)
    loss = sn.BinaryCrossentropy()
    for method in ("calculate", "forward", "backward"):
        with pytest.raises(sn.LabelError) as caught:
            getattr(loss, method)(p, np.array([[2.0], [-1.0]]))
        message = str(caught.value)
        assert message.startswith(f"BinaryCrossentropy().{method}: `y_true`")
        assert "must be in [0, 1], got 2.0 in row 0" in message
    with pytest.raises(sn.LabelError, match="got nan"):
        loss.calculate(p, np.array([[np.nan], [1.0]]))
    assert loss.calculate(p, np.array([[0.0], [1.0]])) == pytest.approx(np.log(2), rel=1e-6)


def test_categorical_crossentropy_refuses_rows_that_are_no_distribution() -> None:
    p = np.array([[0.5, 0.5]], F32)
    loss = sn.CategoricalCrossentropy()
    for method in ("calculate", "forward", "backward"):
        with pytest.raises(sn.LabelError) as caught:
            getattr(loss, method)(p, np.array([[5.0, -4.0]]))
        assert str(caught.value).startswith(f"CategoricalCrossentropy().{method}: `y_true` row 0")
    with pytest.raises(sn.LabelError, match="sums to 0, not 1"):
        loss.calculate(p, np.zeros((1, 2)))
    with pytest.raises(sn.LabelError, match=r"labels must be in \[0, 2\)"):
        loss.calculate(p, np.array([2]))
    # Soft targets that sum to 1 are a distribution.
    assert loss.calculate(p, np.array([[0.3, 0.7]])) == pytest.approx(np.log(2), rel=1e-6)
    # The book's combined softmax and loss, for hand-written loops, checks them too.
    with pytest.raises(sn.LabelError, match=r"^SoftmaxCategoricalCrossentropy\(\)\.backward"):
        sn.SoftmaxCategoricalCrossentropy().backward(p, np.array([[2.0, -1.0]]))


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint64])
def test_labels_out_of_range_are_refused_in_every_integer_dtype(dtype: type) -> None:
    """The range check reads signed labels as unsigned (one reduction instead of two): a
    negative label, of any width, is still out of range, and so is one equal to the number of
    classes; labels read through a strided view too."""
    p = np.full((4, 3), 1 / 3, F32)
    good = np.array([0, 2, 1, 0, 9, 9], dtype)[:4]
    loss, metric = sn.CategoricalCrossentropy(), sn.CategoricalAccuracy()
    fused = sn.SoftmaxCategoricalCrossentropy()
    assert loss.calculate(p, good) == pytest.approx(np.log(3), rel=1e-6)
    accuracy = metric.calculate(p, good)
    assert accuracy == 0.5 and type(accuracy) is float  # as printed in History and evaluate
    info = np.iinfo(dtype)
    bad_values = [3, int(info.max)] + ([-1, int(info.min)] if info.min < 0 else [])
    for bad in bad_values:
        labels = np.array([0, 0, 1, 1, bad, 2, 0, 0], dtype)[::2]  # strided: 0, 1, bad, 0
        expected = rf"labels must be in \[0, 3\) for 3 classes, got {bad} at index 2"
        with pytest.raises(sn.LabelError, match=expected):
            loss.calculate(p, labels)
        with pytest.raises(sn.LabelError, match=expected):
            metric.calculate(p, labels)
        with pytest.raises(sn.LabelError, match=expected):
            fused.backward(p, labels)


# --- D14: Softmax of rows that are not finite --------------------------------------------------


@pytest.mark.parametrize(
    ("row", "what"), [([np.inf, 1.0], r"\+inf"), ([np.nan, 1.0], "NaN"), ([-np.inf] * 2, "-inf")]
)
def test_softmax_of_rows_that_are_not_finite_is_refused_naming_the_layer(
    row: list[float], what: str
) -> None:
    inputs = np.array([[0.0, 1.0], row], F32)
    with pytest.raises(sn.ArgumentError) as caught:
        sn.Softmax().forward(inputs)
    message = str(caught.value)
    assert message.startswith("Softmax().forward: `inputs` has 1 row whose softmax is undefined")
    assert "at index 1" in message and what.strip("\\") in message
    with pytest.raises(sn.ArgumentError, match=r"^softmax_forward: `inputs`"):
        F.softmax_forward(inputs)
    with pytest.raises(sn.ArgumentError, match=r"^SoftmaxCategoricalCrossentropy\(\)\.forward"):
        sn.SoftmaxCategoricalCrossentropy().forward(inputs, np.array([0, 1]))


def test_softmax_keeps_a_masked_class_and_an_empty_last_axis() -> None:
    probabilities = F.softmax_forward(np.array([[0.0, -np.inf, 0.0]], F32))
    np.testing.assert_allclose(probabilities, [[0.5, 0.0, 0.5]], atol=1e-30)
    assert F.softmax_forward(np.zeros((2, 0), F32)).shape == (2, 0)


# --- D14/D20: gradcheck ----------------------------------------------------------------------


def _saturated() -> tuple[sn.Model, Any, Any]:
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(8, 2)), rng.integers(0, 3, size=8)
    model = sn.Model([sn.Dense(2, 3, seed=0), sn.Softmax()], loss=sn.CategoricalCrossentropy())
    model.layers[0].weights *= 60  # type: ignore[attr-defined]
    assert (model.predict(X).max(axis=1) > 1 - 1e-7).sum() >= 4  # the clip is active
    return model, X, y


def test_gradcheck_passes_a_correct_saturated_classifier() -> None:
    model, X, y = _saturated()
    assert sn.gradcheck(model, X, y).ok
    assert sn.gradcheck(model, X, np.eye(3)[y]).ok  # one-hot targets too


def test_gradcheck_still_fails_a_wrong_fused_gradient_of_a_saturated_classifier() -> None:
    from shapenn._losses import softmax_crossentropy_backward

    class Doubled(sn.CategoricalCrossentropy):
        fusions: ClassVar[dict[type[sn.Layer], Any]] = {
            sn.Softmax: lambda p, y: 2 * softmax_crossentropy_backward(p, y)
        }

    for saturate in (False, True):
        model, X, y = _saturated()
        if not saturate:
            model.layers[0].weights /= 60  # type: ignore[attr-defined]
        model.set(loss=Doubled())
        with pytest.raises(sn.GradcheckError, match="FAIL"):
            sn.gradcheck(model, X, y)


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"max_entries": 0}, r"max_entries must be an integer >= 1 .* got 0"),
        ({"max_entries": -1}, r"max_entries must be an integer >= 1 .* got -1"),
        ({"max_entries": 2.5}, "max_entries must be an integer"),
        ({"tolerance": float("nan")}, r"tolerance .* must be in \[0, 1\), got nan"),
        ({"tolerance": 1.0}, r"tolerance .* in \[0, 1\), got 1.0"),
        ({"eps": float("nan")}, r"eps .* must be in \[1e-08, 0.1\], got nan"),
        ({"eps": -1e-5}, r"eps .* in \[1e-08, 0.1\], got -1e-05"),
        ({"eps": 1e10}, r"eps .* got 10000000000.0"),
        ({"eps": 0.0}, r"eps .* got 0.0"),
        ({"seed": "abc"}, "seed must be an integer >= 0, a numpy.random.Generator or None"),
        ({"raise_on_failure": "yes"}, "raise_on_failure must be True or False"),
    ],
)
def test_gradcheck_refuses_arguments_that_make_it_vacuous_or_wrong(
    options: dict[str, Any], words: str
) -> None:
    X = np.random.default_rng(0).normal(size=(4, 2))
    with pytest.raises(sn.ArgumentError, match=f"^gradcheck: {words}"):
        sn.gradcheck(sn.Dense(2, 3, seed=0), X, **options)


def test_gradcheck_accepts_numpy_numbers() -> None:
    X = np.random.default_rng(0).normal(size=(4, 2))
    numbers: dict[str, Any] = {"eps": np.float32(1e-5), "max_entries": np.int64(3)}
    result = sn.gradcheck(sn.Dense(2, 3, seed=0), X, seed=np.int8(1), **numbers)  # type: ignore[arg-type]
    assert result.ok and type(result.tolerance) is float


def test_gradcheck_refuses_a_target_that_is_no_model_or_layer_and_data_it_cannot_use() -> None:
    X = np.random.default_rng(0).normal(size=(4, 2))
    with pytest.raises(
        sn.ArgumentError, match=r"^gradcheck: target must be a Model .* got 'dense'"
    ):
        sn.gradcheck("dense", X)  # type: ignore[arg-type]
    with pytest.raises(sn.ArgumentError, match="X must hold at least one sample"):
        sn.gradcheck(sn.Dense(2, 3, seed=0), np.zeros((0, 2)))
    with pytest.raises(sn.ArgumentError, match="`X` contains 1 NaN or infinite value"):
        sn.gradcheck(sn.Dense(2, 3, seed=0), np.array([[0.0, np.nan]]))
    with pytest.raises(sn.ArgumentError, match="has no gradient to check"):
        sn.gradcheck(sn.Model([sn.Softmax()], loss=sn.CategoricalCrossentropy()), X, [0] * 4)


# --- D15: public kernels tie output sizes to their inputs' ------------------------------------


def test_avg_pool2d_backward_refuses_a_gradient_of_the_wrong_size() -> None:
    with pytest.raises(sn.ShapeError) as caught:
        F.avg_pool2d_backward(
            np.ones((1, 1, 1, 1), F32), np.ones((1, 1, 4, 4), F32), (2, 2), (2, 2)
        )
    error = caught.value
    assert error.where == "avg_pool2d_backward" and error.argument == "dvalues"
    assert "axis 2 must be (h-pool_h)//stride_h+1 = (4-2)//2+1 = 2 but is 1" in str(error)


def test_max_pool2d_backward_refuses_outputs_and_gradients_of_the_wrong_size() -> None:
    inputs = _images(2, 3, 4, 4)
    outputs = F.max_pool2d_forward(inputs, (2, 2), (2, 2))
    with pytest.raises(sn.ShapeError, match=r"^max_pool2d_backward: `dvalues`"):
        F.max_pool2d_backward(outputs[:, :, :1], inputs, outputs, (2, 2), (2, 2))
    with pytest.raises(sn.ShapeError, match=r"^max_pool2d_backward: `outputs`"):
        F.max_pool2d_backward(outputs, inputs, outputs, (2, 2), (1, 1))
    # Inputs too small for one window with a stride past them: refused, not a NumPy error.
    with pytest.raises(sn.ShapeError, match="axis 2 has size 0"):
        F.max_pool2d_backward(
            _images(1, 1, 0, 1), _images(1, 1, 2, 4), _images(1, 1, 0, 1), (3, 3), (2, 2)
        )


def test_pooling_refuses_inputs_too_small_and_settings_that_are_no_pair() -> None:
    with pytest.raises(sn.ShapeError, match=r"too small: axis 2 .* `h` must be at least 2"):
        F.max_pool2d_forward(_images(1, 1, 1, 4), (2, 2), (2, 2))
    for pool, stride, words in (
        ((0, 2), (2, 2), r"pool must be a pair \(height, width\) of positive integers, got"),
        ((2, 2), (2, 0), "stride must be a pair"),
        (2, (2, 2), "pool must be a pair"),
        ((2.0, 2), (2, 2), "pool must be a pair"),
    ):
        with pytest.raises(sn.ArgumentError, match=f"^avg_pool2d_forward: {words}"):
            F.avg_pool2d_forward(_images(1, 1, 4, 4), pool, stride)  # type: ignore[arg-type]
    np.testing.assert_array_equal(
        F.max_pool2d_forward(_images(1, 1, 4, 4), (np.int64(2), 2), [2, 2]),  # type: ignore[arg-type]
        F.max_pool2d_forward(_images(1, 1, 4, 4), (2, 2), (2, 2)),
    )


def test_conv2d_kernels_tie_every_size_to_the_inputs_and_settings() -> None:
    layer = sn.Conv2D(2, 3, 3, seed=0)
    inputs = _images(2, 2, 5, 5)
    outputs, cols = F.conv2d_forward(inputs, layer.weights, layer.biases, (1, 1), ((0, 0), (0, 0)))
    assert outputs.shape == (2, 3, 3, 3) and cols.shape == (18, 18)
    dvalues = np.ones_like(outputs)
    with pytest.raises(sn.ShapeError, match=r"^conv2d_backward: `dvalues`.* axis 2 must be"):
        F.conv2d_backward(dvalues[:, :, :2], inputs, cols, layer.weights, (1, 1), ((0, 0), (0, 0)))
    # Another stride: the forward's im2col matrix no longer follows from the inputs.
    with pytest.raises(sn.ShapeError, match=r"^conv2d_backward: `cols`.* = 8 but is 18"):
        F.conv2d_backward(dvalues, inputs, cols, layer.weights, (2, 2), ((0, 0), (0, 0)))
    with pytest.raises(sn.ShapeError, match=r"^conv2d_backward: `cols`"):
        F.conv2d_backward(dvalues, inputs, cols[:, :9], layer.weights, (1, 1), ((0, 0), (0, 0)))
    with pytest.raises(sn.ShapeError, match=r"^conv2d_parameter_gradients: `cols`"):
        F.conv2d_parameter_gradients(dvalues, cols[:9], layer.weights)
    with pytest.raises(sn.ShapeError, match=r"^conv2d_forward: `inputs`.* too small"):
        F.conv2d_forward(inputs[:, :, :2], layer.weights, layer.biases, (1, 1), ((0, 0), (0, 0)))
    with pytest.raises(sn.ArgumentError, match=r"^conv2d_forward: padding must be \(\(top"):
        F.conv2d_forward(inputs, layer.weights, layer.biases, (1, 1), ((-1, 0), (0, 0)))
    huge = ((10**6, 10**6), (10**6, 10**6))  # valid integers, whose padded batch is not
    with pytest.raises(sn.ArgumentError, match=r"^conv2d_forward: .* more than this machine's"):
        F.conv2d_forward(inputs, layer.weights, layer.biases, (1, 1), huge)
    dinputs, dweights, dbiases = F.conv2d_backward(
        dvalues, inputs, cols, layer.weights, (1, 1), ((0, 0), (0, 0))
    )
    assert dinputs.shape == inputs.shape and dweights.shape == layer.weights.shape
    assert dbiases.shape == (3,)


def test_flatten_backward_refuses_a_gradient_of_another_size() -> None:
    inputs = _images(2, 3, 2)
    with pytest.raises(sn.ShapeError) as caught:
        F.flatten_backward(np.ones((2, 5), F32), inputs)
    assert caught.value.where == "flatten_backward" and caught.value.argument == "dvalues"
    assert F.flatten_backward(np.ones((2, 6), F32), inputs).shape == (2, 3, 2)


def test_dropout_and_penalty_kernels_refuse_settings_that_give_a_wrong_result() -> None:
    rng = np.random.default_rng(0)
    for rate in (1.0, -0.5, float("nan")):
        with pytest.raises(sn.ArgumentError, match=r"^dropout_forward: rate must be in \[0, 1\)"):
            F.dropout_forward(_images(2, 3), rate, rng)
    with pytest.raises(sn.ArgumentError, match=r"^dropout_forward: rng must be a numpy"):
        F.dropout_forward(_images(2, 3), 0.5, 0)  # type: ignore[arg-type]
    with pytest.raises(sn.ArgumentError, match=r"^regularization_penalty: l1 must be"):
        F.regularization_penalty(_images(2, 3), float("nan"), 0.0)
    with pytest.raises(sn.ArgumentError, match=r"^regularization_gradient: l2 must be"):
        F.regularization_gradient(_images(2, 3), 0.0, -1.0)


# --- D16: a config dim held as a NumPy integer ------------------------------------------------


class Repeat(sn.Layer):
    """Each row repeated ``n`` times: an output size computed from a config dim."""

    n: Dim

    def __init__(self, n: int) -> None:
        self.n = n

    def forward(self, inputs: Float[Array2D, "batch k"]) -> Float[Array2D, "batch k*n"]:
        """Shape: inputs (batch, k) → (batch, k*n)"""
        return np.tile(inputs, (1, int(self.n)))

    def backward(self, dvalues: Float[Array2D, "batch k*n"]) -> Float[Array2D, "batch k"]:
        """Shape: dvalues (batch, k*n) → (batch, k)"""
        dinputs: Float[Array2D, "batch k"] = dvalues.reshape(dvalues.shape[0], int(self.n), -1).sum(
            axis=1
        )
        return dinputs


class Rows(sn.Layer):
    """Takes exactly ``n`` features: a config dim on an input axis."""

    n: Dim

    def __init__(self, n: int) -> None:
        self.n = n

    def forward(self, inputs: Float[Array2D, "batch n"]) -> Float[Array2D, "batch n"]:
        """Shape: inputs (batch, n) → (batch, n)"""
        return inputs


@pytest.mark.parametrize("warm", [False, True])
def test_a_numpy_integer_config_dim_is_a_plain_integer_cold_and_warm(warm: bool) -> None:
    if warm:  # the cache first filled by a layer whose dim is a Python int
        Repeat(3).forward(np.ones((2, 2), F32))
        Rows(3).forward(np.ones((2, 3), F32))
    assert Repeat(np.int64(3)).forward(np.ones((2, 2), F32)).shape == (2, 6)  # type: ignore[arg-type]
    layer = Rows(np.int64(3))  # type: ignore[arg-type]
    assert layer.forward(np.ones((2, 3), F32)).shape == (2, 3)
    with pytest.raises(sn.ShapeError, match=r"`n` is 4 here but 3 in `self.n`"):
        layer.forward(np.ones((2, 4), F32))
    assert layer.compute_output_shape(("batch", 3)) == ("batch", 3)
