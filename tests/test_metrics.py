"""Metrics beyond accuracy: precision, recall, F1, top-k accuracy and the confusion matrix,
accumulated exactly over batches; scikit-learn is the reference."""

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("sklearn")

from sklearn import metrics as sklearn_metrics

import shapenn as sn

CLASS_METRICS = (sn.Precision, sn.Recall, sn.F1, sn.ConfusionMatrix)
SCORES = {
    "precision": sklearn_metrics.precision_score,
    "recall": sklearn_metrics.recall_score,
    "f1": sklearn_metrics.f1_score,
}


def _softmax(logits: np.ndarray) -> np.ndarray:
    exp = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return exp / exp.sum(axis=-1, keepdims=True)


def _case(
    seed: int, shape: tuple[int, ...], classes: int, onehot: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random predictions (float32 or float64), their targets, and the integer labels. Some
    seeds leave the last class out of the labels, so it has no true samples (recall's and
    F1's zero division)."""
    rng = np.random.default_rng(seed)
    dtype = np.float32 if seed % 2 else np.float64
    y_pred = _softmax(rng.normal(size=(*shape, classes)) * 2).astype(dtype)
    present = classes - 1 if seed % 3 == 0 else classes
    labels = rng.integers(0, present, size=shape)
    y_true = np.eye(classes, dtype=dtype)[labels] if onehot else labels
    return y_pred, y_true, labels


def _batches(seed: int, n: int) -> Iterator[slice]:
    """Five uneven batches over ``n`` samples."""
    rng = np.random.default_rng(seed + 100)
    cuts = np.sort(rng.choice(np.arange(1, n), size=4, replace=False))
    edges = [0, *(int(c) for c in cuts), n]
    for start, stop in itertools.pairwise(edges):
        yield slice(start, stop)


def _accumulated(metric: sn.Accuracy, y_pred: np.ndarray, y_true: np.ndarray, seed: int) -> Any:
    metric.reset()
    for batch in _batches(seed, y_pred.shape[0]):
        metric.update(y_pred[batch], y_true[batch])
    return metric


LAYOUTS = [(60,), (12, 5)]  # (batch,) and (batch, seq)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("shape", LAYOUTS, ids=["2d", "3d"])
@pytest.mark.parametrize("onehot", [False, True], ids=["labels", "onehot"])
def test_precision_recall_f1_and_the_confusion_matrix_match_scikit_learn_over_batches(
    seed: int, shape: tuple[int, ...], onehot: bool
) -> None:
    classes = 4 + seed % 3
    y_pred, y_true, labels = _case(seed, shape, classes, onehot)
    truth, predicted = labels.reshape(-1), np.argmax(y_pred, axis=-1).reshape(-1)
    every = list(range(classes))
    for metric_type in (sn.Precision, sn.Recall, sn.F1):
        for average in ("macro", None):
            metric = _accumulated(metric_type(average=average), y_pred, y_true, seed)
            reference = SCORES[metric.name]
            macro = reference(truth, predicted, labels=every, average="macro", zero_division=0)
            each = reference(truth, predicted, labels=every, average=None, zero_division=0)
            assert isinstance(metric.result(), float)
            assert metric.result() == pytest.approx(macro, abs=1e-12)
            assert metric.per_class().dtype == np.float64
            np.testing.assert_allclose(metric.per_class(), each, atol=1e-12)
            assert metric.calculate(y_pred, y_true) == pytest.approx(macro, abs=1e-12)
    confusion = _accumulated(sn.ConfusionMatrix(), y_pred, y_true, seed)
    expected = sklearn_metrics.confusion_matrix(truth, predicted, labels=every)
    assert confusion.matrix().dtype == np.int64
    np.testing.assert_array_equal(confusion.matrix(), expected)
    assert confusion.result() == pytest.approx(np.trace(expected) / expected.sum())
    assert confusion.result() == pytest.approx(sn.CategoricalAccuracy().calculate(y_pred, y_true))


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("shape", LAYOUTS, ids=["2d", "3d"])
@pytest.mark.parametrize("onehot", [False, True], ids=["labels", "onehot"])
def test_top_k_accuracy_matches_scikit_learn_over_batches(
    seed: int, shape: tuple[int, ...], onehot: bool
) -> None:
    classes = 5 + seed % 3
    y_pred, y_true, labels = _case(seed, shape, classes, onehot)
    scores, truth = y_pred.reshape(-1, classes), labels.reshape(-1)
    for k in (1, 2, classes - 1):
        metric = _accumulated(sn.TopKAccuracy(k=k), y_pred, y_true, seed)
        expected = sklearn_metrics.top_k_accuracy_score(
            truth, scores, k=k, labels=list(range(classes))
        )
        assert metric.result() == pytest.approx(expected, abs=1e-12)
        assert metric.calculate(y_pred, y_true) == pytest.approx(expected, abs=1e-12)
        assert metric.name == f"top_{k}_accuracy"


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("shape", LAYOUTS, ids=["2d", "3d"])
@pytest.mark.parametrize("column", [False, True], ids=["labels", "column"])
def test_one_sigmoid_output_counts_as_two_classes(
    seed: int, shape: tuple[int, ...], column: bool
) -> None:
    rng = np.random.default_rng(seed)
    y_pred = rng.random((*shape, 1)).astype(np.float32)
    labels = rng.integers(0, 2, size=shape)
    y_true = labels[..., None].astype(np.float32) if column else labels
    truth, predicted = labels.reshape(-1), (y_pred[..., 0] > 0.5).reshape(-1)
    for metric_type in (sn.Precision, sn.Recall, sn.F1):
        metric = _accumulated(metric_type(average=None), y_pred, y_true, seed)
        reference = SCORES[metric.name]
        each = reference(truth, predicted, labels=[0, 1], average=None, zero_division=0)
        np.testing.assert_allclose(metric.per_class(), each, atol=1e-12)
        assert metric.result() == pytest.approx(float(np.mean(each)), abs=1e-12)
    confusion = _accumulated(sn.ConfusionMatrix(), y_pred, y_true, seed)
    expected = sklearn_metrics.confusion_matrix(truth, predicted, labels=[0, 1])
    np.testing.assert_array_equal(confusion.matrix(), expected)
    accuracy = sn.BinaryAccuracy().calculate(y_pred, labels[..., None].astype(np.float32))
    assert confusion.result() == pytest.approx(accuracy)
    assert _accumulated(sn.TopKAccuracy(k=1), y_pred, y_true, seed).result() == pytest.approx(
        accuracy
    )
    assert _accumulated(sn.TopKAccuracy(k=2), y_pred, y_true, seed).result() == 1.0


def test_a_class_never_predicted_nor_present_counts_as_zero_in_the_macro_mean() -> None:
    y_pred = np.array([[0.9, 0.1, 0.0], [0.2, 0.8, 0.0], [0.6, 0.4, 0.0]])
    labels = np.array([0, 1, 1])
    for metric in (sn.Precision(average=None), sn.Recall(average=None), sn.F1(average=None)):
        metric.update(y_pred, labels)
        assert metric.per_class()[2] == 0.0
        assert metric.result() == pytest.approx(metric.per_class()[:2].sum() / 3)


def test_top_1_is_the_categorical_accuracy_even_with_ties() -> None:
    # Equal predictions rank as argmax ranks them, the lower class first.
    y_pred = np.full((6, 3), 1 / 3, dtype=np.float32)
    y_pred[4] = [0.1, 0.45, 0.45]
    labels = np.array([0, 1, 2, 1, 2, 1])
    top1 = sn.TopKAccuracy(k=1).calculate(y_pred, labels)
    assert top1 == sn.CategoricalAccuracy().calculate(y_pred, labels) == pytest.approx(1 / 6)
    # row 2 (label 2) is behind classes 0 and 1; every other label is in its row's top 2
    assert sn.TopKAccuracy(k=2).calculate(y_pred, labels) == pytest.approx(5 / 6)


@settings(max_examples=40, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 9), min_size=1, max_size=6),
    seed=st.integers(0, 2**16),
)
def test_the_accuracies_result_is_the_size_weighted_mean_of_calculate(
    sizes: list[int], seed: int
) -> None:
    rng = np.random.default_rng(seed)
    n = sum(sizes)
    edges = np.cumsum([0, *sizes])
    probabilities = _softmax(rng.normal(size=(n, 3)))
    labels = rng.integers(0, 3, size=n)
    outputs = rng.random((n, 2))
    flags = rng.integers(0, 2, size=(n, 2)).astype(np.float64)
    values = outputs + rng.normal(scale=0.02, size=(n, 2))
    cases: list[tuple[sn.Accuracy, np.ndarray, np.ndarray]] = [
        (sn.CategoricalAccuracy(), probabilities, labels),
        (sn.BinaryAccuracy(), outputs, flags),
        (sn.RegressionAccuracy(precision=0.02), outputs, values),
        (sn.ConfusionMatrix(), probabilities, labels),
        (sn.TopKAccuracy(k=1), probabilities, labels),
    ]
    for metric, y_pred, y_true in cases:
        metric.reset()
        weighted = 0.0
        for start, stop in itertools.pairwise(edges):
            metric.update(y_pred[start:stop], y_true[start:stop])
            weighted += metric.calculate(y_pred[start:stop], y_true[start:stop]) * (stop - start)
        assert metric.result() == pytest.approx(weighted / n, abs=1e-12), metric
        if not isinstance(metric, sn.RegressionAccuracy):
            whole = sn.CategoricalAccuracy() if y_true is labels else sn.BinaryAccuracy()
            assert metric.result() == pytest.approx(whole.calculate(y_pred, y_true)), metric


def test_reset_forgets_and_result_before_any_batch_says_what_to_do() -> None:
    y_pred, y_true, _ = _case(1, (20,), 4, onehot=False)
    for metric in (sn.CategoricalAccuracy(), sn.TopKAccuracy(k=2), *(m() for m in CLASS_METRICS)):
        with pytest.raises(sn.NotReadyError, match=r"no samples were given to update\(\)"):
            metric.result()
        metric.update(y_pred[:10], y_true[:10])
        first = metric.result()
        metric.update(y_pred[10:], y_true[10:])
        metric.reset()
        metric.update(y_pred[:10], y_true[:10])
        assert metric.result() == first
        metric.reset()
        with pytest.raises(sn.NotReadyError, match="since reset"):
            metric.result()
    with pytest.raises(sn.NotReadyError, match=r"ConfusionMatrix\(\)\.matrix\(\)"):
        sn.ConfusionMatrix().matrix()
    with pytest.raises(sn.NotReadyError, match=r"F1\(average=None\)\.per_class\(\)"):
        sn.F1(average=None).per_class()


def test_matrix_and_per_class_are_copies() -> None:
    y_pred, y_true, _ = _case(2, (20,), 3, onehot=False)
    confusion = sn.ConfusionMatrix()
    confusion.update(y_pred, y_true)
    confusion.matrix()[:] = 0
    assert confusion.matrix().sum() == 20


def test_names_are_history_keys() -> None:
    assert [m.name for m in (sn.CategoricalAccuracy(), sn.BinaryAccuracy())] == ["accuracy"] * 2
    assert sn.RegressionAccuracy().name == "accuracy"
    assert [sn.Precision().name, sn.Recall().name, sn.F1().name] == ["precision", "recall", "f1"]
    assert sn.TopKAccuracy().name == "top_5_accuracy"
    assert sn.ConfusionMatrix().name == "confusion_matrix"


def test_every_object_prints_well() -> None:
    assert repr(sn.Precision()) == "Precision(average='macro')"
    assert repr(sn.F1(average=None)) == "F1(average=None)"
    assert repr(sn.TopKAccuracy(k=3)) == "TopKAccuracy(k=3)"
    assert repr(sn.ConfusionMatrix()) == "ConfusionMatrix()"


# --- the words of each error ----------------------------------------------------------------


@pytest.mark.parametrize("k", [0, -1, True, 2.5, "5", None])
def test_top_k_refuses_a_k_that_is_no_positive_integer(k: Any) -> None:
    with pytest.raises(sn.ArgumentError, match=r"TopKAccuracy: k must be an integer >= 1") as e:
        sn.TopKAccuracy(k=k)
    assert f"got {k!r}" in str(e.value)


def test_top_k_accepts_numpy_integers() -> None:
    assert sn.TopKAccuracy(k=np.int64(3)).k == 3
    assert type(sn.TopKAccuracy(k=np.int64(3)).k) is int


def test_top_k_refuses_more_than_the_classes_and_names_both() -> None:
    y_pred, y_true, _ = _case(1, (8,), 3, onehot=False)
    metric = sn.TopKAccuracy(k=5)
    for method in (metric.update, metric.calculate):
        with pytest.raises(sn.ArgumentError) as e:
            method(y_pred, y_true)
        assert str(e.value).startswith("TopKAccuracy(k=5): k=5 is more than the 3 classes")
        assert "pass k <= 3" in str(e.value)
    binary = np.full((4, 1), 0.7)
    with pytest.raises(sn.ArgumentError, match="k=5 is more than the 2 classes"):
        metric.update(binary, np.array([0, 1, 1, 0]))


@pytest.mark.parametrize("metric_type", [sn.Precision, sn.Recall, sn.F1])
@pytest.mark.parametrize("average", ["micro", "weighted", "binary", "MACRO", 1, ["macro"]])
def test_average_must_be_macro_or_none(metric_type: type, average: Any) -> None:
    with pytest.raises(sn.ArgumentError) as e:
        metric_type(average=average)
    message = str(e.value)
    assert message.startswith(f"{metric_type.__name__}: average must be 'macro'")
    assert "or None" in message and f"got {average!r}" in message


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda: sn.BinaryAccuracy(threshold=float("nan")), "threshold must be a finite number"),
        (lambda: sn.BinaryAccuracy(threshold="0.5"), "threshold must be a finite number"),
        (lambda: sn.RegressionAccuracy(precision=-1.0), "precision must be a finite number >= 0"),
        (lambda: sn.RegressionAccuracy(divisor=0), "divisor must be a finite number > 0"),
        (lambda: sn.RegressionAccuracy(divisor=float("inf")), "divisor must be a finite number"),
    ],
)
def test_the_accuracies_refuse_arguments_they_cannot_use(make: Any, words: str) -> None:
    with pytest.raises(sn.ArgumentError, match=words):
        make()


@pytest.mark.parametrize("metric_type", [*CLASS_METRICS, sn.TopKAccuracy])
def test_labels_out_of_range_are_a_label_error_naming_the_metric(metric_type: type) -> None:
    metric = metric_type() if metric_type is not sn.TopKAccuracy else metric_type(k=2)
    y_pred, _, _ = _case(1, (6,), 3, onehot=False)
    for method in ("update", "calculate"):
        with pytest.raises(sn.LabelError) as e:
            getattr(metric, method)(y_pred, np.array([0, 1, 2, 3, 0, 1]))
        assert str(e.value).startswith(f"{metric!r}.{method}: labels must be in [0, 3)")


@pytest.mark.parametrize("metric_type", [*CLASS_METRICS, sn.TopKAccuracy])
def test_binary_targets_must_be_zero_or_one(metric_type: type) -> None:
    metric = metric_type() if metric_type is not sn.TopKAccuracy else metric_type(k=1)
    y_pred = np.full((4, 1), 0.7)
    for y_true in (np.array([[0.0], [1.0], [0.5], [1.0]]), np.array([0, 1, 2, 1])):
        with pytest.raises(sn.LabelError, match="binary targets must be 0 or 1, got") as e:
            metric.update(y_pred, y_true)
        assert "at index 2" in str(e.value) and "one column" in str(e.value)


def test_wrong_shapes_are_a_shape_error_at_the_metric() -> None:
    y_pred, y_true, _ = _case(1, (6,), 3, onehot=False)
    with pytest.raises(sn.ShapeError, match=r"Precision\(average='macro'\)\.update: `y_true`"):
        sn.Precision().update(y_pred, y_true[:5])
    with pytest.raises(sn.ShapeError, match="its dtype float64 is not integer"):
        sn.Recall().update(y_pred, y_true.astype(np.float64))


@pytest.mark.parametrize("metric_type", [*CLASS_METRICS, sn.TopKAccuracy, sn.CategoricalAccuracy])
def test_an_empty_batch_is_refused_as_everywhere(metric_type: type) -> None:
    with pytest.raises(sn.ShapeError, match=r"\.update: `y_pred` .* it is an empty batch"):
        metric_type().update(np.zeros((0, 3)), np.zeros(0, dtype=np.int64))


def test_the_accuracies_name_update_in_their_errors() -> None:
    y_pred = np.full((3, 3), 1 / 3)
    with pytest.raises(sn.LabelError, match=r"^CategoricalAccuracy\(\)\.update: labels must be"):
        sn.CategoricalAccuracy().update(y_pred, np.array([0, 1, 3]))
    with pytest.raises(sn.ShapeError, match=r"^CategoricalAccuracy\(\)\.update: `y_true`"):
        sn.CategoricalAccuracy().update(y_pred, np.array([0, 1]))


def test_another_number_of_classes_after_update_is_a_shape_error() -> None:
    metric = sn.F1()
    metric.update(*_case(1, (6,), 3, onehot=False)[:2])
    with pytest.raises(sn.ShapeError) as e:
        metric.update(*_case(1, (6,), 4, onehot=False)[:2])
    message = str(e.value)
    assert message.startswith("F1(average='macro').update: `y_pred` expected")
    assert "it scores 4 classes, but the batches given since reset() scored 3" in message
    assert "call reset()" in message
    metric.reset()
    metric.update(*_case(1, (6,), 4, onehot=False)[:2])


# --- saving and loading ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "metric",
    [
        sn.Precision(),
        sn.Precision(average=None),
        sn.Recall(average=None),
        sn.F1(),
        sn.TopKAccuracy(k=2),
        sn.ConfusionMatrix(),
        sn.BinaryAccuracy(threshold=0.25),
        sn.RegressionAccuracy(precision=0.5, divisor=100.0),
    ],
    ids=repr,
)
def test_each_metric_saves_and_loads_with_a_model(metric: sn.Accuracy, tmp_path: Path) -> None:
    model = sn.Model(
        [sn.Dense(2, 3, seed=0), sn.Softmax()],
        loss=sn.CategoricalCrossentropy(),
        metric=metric,
    )
    path = sn.save(model, tmp_path / "model.npz")
    loaded = sn.load(path).metric
    assert type(loaded) is type(metric)
    assert loaded.get_config() == metric.get_config()
    assert repr(loaded) == repr(metric) and loaded.name == metric.name
    if metric.classifies and not isinstance(metric, sn.BinaryAccuracy):
        y_pred, y_true, _ = _case(3, (10,), 3, onehot=False)
        assert loaded.calculate(y_pred, y_true) == metric.calculate(y_pred, y_true)


def test_configs_read_back_each_argument() -> None:
    assert sn.Precision(average=None).get_config() == {"average": None}
    assert sn.F1().get_config() == {"average": "macro"}
    assert sn.TopKAccuracy(k=3).get_config() == {"k": 3}
    assert sn.ConfusionMatrix().get_config() == {}


# --- the plot ------------------------------------------------------------------------------


def test_the_confusion_plot_is_written_to_a_file(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    from shapenn.plots import plot_confusion_matrix

    y_pred, y_true, _ = _case(1, (12, 5), 4, onehot=True)
    confusion = _accumulated(sn.ConfusionMatrix(), y_pred, y_true, 1)
    path = tmp_path / "confusion.png"
    figure = plot_confusion_matrix(confusion, path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert figure.axes[0].get_title().startswith("confusion matrix: 60 samples, accuracy")
