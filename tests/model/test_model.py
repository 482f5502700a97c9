"""The sequential Model: chain validation before data, fit-time checks, training mechanics."""

import copy
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from helpers import classifier

import shapenn as sn
from shapenn.datasets import spiral

F32 = np.float32


def test_a_broken_chain_is_refused_before_any_data_naming_both_layers() -> None:
    with pytest.raises(sn.ShapeError) as caught:
        sn.Model([sn.Dense(2, 64), sn.ReLU(), sn.Dense(32, 3), sn.Softmax()])
    assert str(caught.value) == (
        "Model: `layers[2] Dense(32 → 3)` expected (batch, in=32), got (batch, 64) from "
        "layers[0] Dense(2 → 64): `in` is 64 here but 32 in `layers[2].weights`.\n"
        "  dims bound so far: in=32, out=3\n"
        "  hint: make layers[2] Dense(64, 3), or layers[0] Dense(2, 32)"
    )


def test_add_validates_each_new_layer() -> None:
    model = sn.Model().add(sn.Dense(4, 8)).add(sn.Tanh())
    with pytest.raises(sn.ShapeError, match=r"`layers\[2\] Dense\(6 → 2\)`"):
        model.add(sn.Dense(6, 2))


def test_summary_names_output_shapes_and_counts_parameters() -> None:
    table = classifier().summary(print_fn=None)
    assert table.splitlines()[:7] == [
        "#  layer          output shape  params",
        "-" * 38,
        "0  Dense(2 → 16)  (batch, 16)       48",
        "1  ReLU()         (batch, 16)        0",
        "2  Dense(16 → 3)  (batch, 3)        51",
        "3  Softmax()      (batch, 3)         0",
        "-" * 38,
    ]
    assert "total params: 99" in table


def test_fit_refuses_mismatched_lengths() -> None:
    X, y = spiral(10, 3)
    with pytest.raises(sn.ShapeError) as caught:
        classifier().fit(X, y[:-1], epochs=1, verbose=0)
    assert str(caught.value) == (
        "Model.fit: `y` expected integer (batch=30,), got (29,) int64: `batch` is 29 here but "
        "30 in `X`.\n"
        "  dims bound so far: batch=30, classes=3\n"
        "  hint: X and y must have one row per sample, in the same order"
    )


def test_fit_refuses_inputs_of_the_wrong_width() -> None:
    X, y = spiral(10, 3)
    with pytest.raises(sn.ShapeError) as caught:
        classifier().fit(np.hstack([X, X]), y, verbose=0)
    assert str(caught.value) == (
        "Model.fit: `X` expected (batch, in=2), got (30, 4) float32: "
        "`in` is 4 here but 2 in `layers[0].weights`.\n"
        "  dims bound so far: in=2, out=16"
    )


def test_fit_names_the_wrong_kind_of_target() -> None:
    X, y = spiral(10, 3)
    with pytest.raises(sn.ShapeError) as caught:  # regression targets for a classifier
        classifier().fit(X, y.astype(F32), verbose=0)
    assert "its dtype float32 is not integer" in str(caught.value)
    assert str(caught.value).endswith(
        "hint: labels must be integers: cast with `y.astype(np.int64)`; for values to predict "
        "(regression) use MeanSquaredError"
    )
    regression = sn.Model([sn.Dense(2, 3, seed=0)], loss=sn.MeanSquaredError(), optimizer=sn.SGD())
    with pytest.raises(sn.ShapeError) as caught:  # labels for a regression
        regression.fit(X, y, verbose=0)
    assert "these look like class labels: use CategoricalCrossentropy" in str(caught.value)


def test_fit_refuses_y_of_shape_n_for_one_output_instead_of_broadcasting() -> None:
    X = np.linspace(0, 1, 8, dtype=F32).reshape(-1, 1)
    model = sn.Model([sn.Dense(1, 1, seed=0)], loss=sn.MeanSquaredError(), optimizer=sn.SGD(0.1))
    with pytest.raises(sn.ShapeError) as caught:
        model.fit(X, X.ravel(), verbose=0)
    assert str(caught.value) == (
        "Model.fit: `y` expected real-valued (batch=8, outputs=1), got (8,) float32: it is 1-D "
        "but at least 2-D is needed.\n"
        "  dims bound so far: batch=8, outputs=1\n"
        "  hint: add a feature axis: `y.reshape(-1, 1)`"
    )


def test_fit_refuses_labels_out_of_range_nan_and_empty_input() -> None:
    X, y = spiral(10, 3)
    with pytest.raises(sn.LabelError, match=r"Model.fit: `y` labels must be in \[0, 3\)"):
        classifier().fit(X, y + 1, verbose=0)
    bad = X.copy()
    bad[7, 1] = np.nan
    with pytest.raises(
        ValueError, match=r"`X` contains 1 NaN or infinite value \(the first in row 7\)"
    ):
        classifier().fit(bad, y, verbose=0)
    with pytest.raises(ValueError, match=r"`X` is empty \(0 samples\)"):
        classifier().fit(X[:0], y[:0], verbose=0)


def test_fit_without_loss_or_optimizer_says_what_to_call() -> None:
    model = sn.Model([sn.Dense(2, 3)])
    with pytest.raises(ValueError, match=r"call model.set\(loss=..., optimizer=...\)"):
        model.fit(np.zeros((2, 2), F32), np.zeros(2, np.int64))


def test_divergence_stops_with_the_step_and_keeps_finite_weights() -> None:
    X, y = spiral(20, 3)
    model = sn.Model(
        [sn.Dense(2, 8, seed=0, weight_scale=1.0), sn.ReLU(), sn.Dense(8, 1, seed=1)],
        loss=sn.MeanSquaredError(),
        optimizer=sn.SGD(learning_rate=1e6),
    )
    with pytest.raises(
        sn.DivergenceError,
        match=r"(the loss became (nan|inf)|the step would make the weights NaN or infinite) "
        r"at epoch \d+, step 1",
    ):
        model.fit(X * 100, y.reshape(-1, 1).astype(F32), epochs=50, verbose=0)
    for layer in model.trainable_layers:
        assert np.isfinite(layer.weights).all() and np.isfinite(layer.biases).all()


def test_predict_in_batches_equals_one_pass_and_evaluate_agrees_with_fit() -> None:
    X, y = spiral(50, 3)
    model = classifier()
    history = model.fit(X, y, epochs=5, verbose=0)
    whole = model.predict(X, batch_size=len(X))
    np.testing.assert_allclose(model.predict(X, batch_size=7), whole, rtol=1e-6)
    loss, accuracy = model.evaluate(X, y, batch_size=11)
    assert loss == pytest.approx(sn.CategoricalCrossentropy().calculate(whole, y), rel=1e-5)
    assert accuracy == pytest.approx(float(np.mean(whole.argmax(axis=1) == y)))
    assert len(history.loss) == len(history.accuracy) == 5


def test_minibatch_fit_is_reproducible_from_its_seed_and_reports_validation() -> None:
    X, y = spiral(50, 3)
    runs = [
        classifier().fit(X, y, epochs=3, batch_size=16, seed=7, validation_data=(X, y), verbose=0)
        for _ in range(2)
    ]
    assert runs[0].as_dict() == runs[1].as_dict()
    assert len(runs[0].val_loss) == len(runs[0].val_accuracy) == 3


def test_fit_verbose_2_prints_one_line_per_epoch(capsys: pytest.CaptureFixture[str]) -> None:
    X, y = spiral(10, 3)
    classifier().fit(X, y, epochs=2, verbose=2)
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert [line.split(" ")[0:2] for line in lines] == [["epoch", "1/2"], ["epoch", "2/2"]]
    assert "accuracy=" in lines[0] and captured.out == ""


def test_fit_shows_a_progress_bar_where_someone_watches(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    X, y = spiral(10, 3)
    classifier().fit(X, y, epochs=30)  # verbose=1; the output is not a terminal: ~ten lines
    lines = capsys.readouterr().err.splitlines()
    assert [line.split(" ")[1] for line in lines][:3] == ["1/30", "3/30", "6/30"]
    # In a terminal (or a notebook), tqdm draws a bar with the figures.
    monkeypatch.setattr("sys.stderr.isatty", lambda: True, raising=False)
    classifier().fit(X, y, epochs=5)
    bar = capsys.readouterr().err
    assert "5/5" in bar and "accuracy=" in bar and "epoch" in bar


def test_regularization_is_in_the_reported_loss() -> None:
    X, y = spiral(10, 3)
    model = sn.Model(
        [sn.Dense(2, 4, seed=0, weight_regularizer_l2=0.5), sn.Dense(4, 3, seed=1), sn.Softmax()],
        loss=sn.CategoricalCrossentropy(),
        optimizer=sn.SGD(learning_rate=0.0),
    )
    history = model.fit(X, y, epochs=1, verbose=0)
    weights = model.layers[0].weights  # type: ignore[attr-defined]
    assert history.regularization_loss[0] == pytest.approx(0.5 * float((weights**2).sum()))
    assert history.loss[0] == pytest.approx(history.data_loss[0] + history.regularization_loss[0])


def test_dropout_is_active_in_fit_and_off_in_predict() -> None:
    dropout = sn.Dropout(0.5, seed=0)
    inputs = np.ones((2000, 10), F32)
    output = dropout.forward(inputs)
    assert 0.45 < float((output == 0).mean()) < 0.55
    assert set(np.unique(output)) == {0.0, 2.0}
    np.testing.assert_array_equal(dropout.backward(inputs), output)  # same mask
    dropout.training = False
    np.testing.assert_array_equal(dropout.forward(inputs), inputs)
    model = sn.Model([sn.Dense(10, 10, seed=0), sn.Dropout(0.9, seed=0)])
    np.testing.assert_array_equal(model.predict(inputs[:3]), model.predict(inputs[:3]))


@pytest.mark.parametrize("rate", [-0.1, 1.0, 2])
def test_dropout_rate_must_be_a_fraction(rate: float) -> None:
    with pytest.raises(ValueError, match=r"Dropout: rate must be in \[0, 1\)"):
        sn.Dropout(rate)


def test_metrics() -> None:
    y = np.array([[0.0], [1.0], [2.0], [3.0]], F32)
    metric = sn.RegressionAccuracy()
    metric.init(y)
    assert metric.precision == pytest.approx(float(np.std(y)) / 250)
    close = y + F32(metric.precision / 2)
    assert metric.calculate(close, y) == 1.0
    assert metric.calculate(y + 1, y) == 0.0
    binary = sn.BinaryAccuracy()
    assert binary.calculate(np.array([[0.9], [0.2], [0.6]], F32), np.array([[1], [0], [0]])) == (
        pytest.approx(2 / 3)
    )
    probabilities = np.array([[0.7, 0.3], [0.4, 0.6]], F32)
    categorical = sn.CategoricalAccuracy()
    assert categorical.calculate(probabilities, np.array([0, 0])) == 0.5
    assert categorical.calculate(probabilities, np.eye(2, dtype=F32)) == 1.0


def test_optimizer_hyperparameters_are_checked() -> None:
    with pytest.raises(ValueError, match="SGD: learning_rate must be a finite number >= 0"):
        sn.SGD(learning_rate=-1)
    with pytest.raises(ValueError, match=r"Adam: beta_1 must be in \[0, 1\), got nan"):
        sn.Adam(beta_1=float("nan"))
    with pytest.raises(ValueError, match=r"RMSprop: rho must be in \[0, 1\), got 2"):
        sn.RMSprop(rho=2)
    assert repr(sn.SGD(0.5, momentum=0.9)) == "SGD(learning_rate=0.5, decay=0.0, momentum=0.9)"


def test_a_step_moves_the_parameters_into_the_optimizers_buffer() -> None:
    layer = sn.Dense(3, 2, seed=0)
    weights = layer.weights.copy()
    layer.forward(np.ones((4, 3), F32))
    layer.backward(np.ones((4, 2), F32))
    optimizer = sn.Adam(0.1)
    optimizer.step([layer])
    assert layer.weights.dtype == F32 and layer.weights.flags.c_contiguous
    assert not np.array_equal(layer.weights, weights)
    first, before = layer.weights, layer.weights.copy()
    optimizer.step([layer])
    assert layer.weights is first  # bound once: the step updates it in place
    assert not np.array_equal(first, before)
    assert layer.weights.ctypes.data % 64 == 0  # aligned as a fresh array would be


def test_an_overflowing_update_is_refused_and_nothing_changes() -> None:
    X, y = spiral(20, 3)
    model = classifier(sn.SGD(learning_rate=1e39, momentum=0.9))
    before = [layer.weights.copy() for layer in model.trainable_layers]  # type: ignore[attr-defined]
    with pytest.raises(sn.DivergenceError) as caught:
        model.fit(X, y, epochs=1, verbose=0)
    assert str(caught.value).startswith(
        "Model.fit: the step would make the weights NaN or infinite at epoch 1, step 1; training "
        "stopped and the model keeps its weights and optimizer state from the last finite step."
    )
    for layer, weights in zip(model.trainable_layers, before, strict=True):
        np.testing.assert_array_equal(layer.weights, weights)  # type: ignore[attr-defined]
    assert model.optimizer is not None and model.optimizer.iterations == 0
    model.set(optimizer=sn.SGD(learning_rate=0.5))  # and training can go on from there
    history = model.fit(X, y, epochs=3, verbose=0)
    assert np.isfinite(history.loss).all()


def test_divergence_mid_epoch_keeps_exactly_the_last_finite_step() -> None:
    X, y = spiral(40, 3, seed=0)
    optimizer = sn.SGD(learning_rate=0.05, momentum=0.9)
    model = classifier(optimizer)
    steps: list[list[np.ndarray[Any, Any]]] = []
    states: list[dict[Any, Any]] = []
    apply = optimizer.apply

    def recording(parameters: Any) -> None:
        apply(parameters)
        steps.append([p.value.copy() for layer in model.layers for p in layer.parameters()])
        states.append({k: [a.copy() for a in v] for k, v in optimizer.state.items()})
        if len(steps) == 9:  # from the tenth step on, a learning rate that overflows
            optimizer.current_learning_rate = optimizer.learning_rate = 1e39

    optimizer.apply = recording  # type: ignore[method-assign]
    with pytest.raises(sn.DivergenceError, match="at epoch 2, step 2;"):
        model.fit(X, y, epochs=5, batch_size=16, seed=0, verbose=0)
    now = [p.value for layer in model.layers for p in layer.parameters()]
    assert len(steps) == 9 and optimizer.iterations == 9
    for kept, last in zip(now, steps[-1], strict=True):
        np.testing.assert_array_equal(kept, last)
    for key, fields in optimizer.state.items():
        for kept_field, last_field in zip(fields, states[-1][key], strict=True):
            np.testing.assert_array_equal(kept_field, last_field)


def test_the_model_is_left_in_inference_mode_after_an_error() -> None:
    X, y = spiral(10, 3)
    model = sn.Model(
        [sn.Dense(2, 8, seed=0), sn.Dropout(0.5, seed=0), sn.Dense(8, 3, seed=1), sn.Softmax()],
        loss=sn.CategoricalCrossentropy(),
        optimizer=sn.SGD(),
    )

    def stop(epoch: int, figures: dict[str, float]) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        model.fit(X, y, epochs=2, verbose=0, callback=stop)
    assert not any(layer.training for layer in model.layers)


def test_a_deep_copy_keeps_the_optimizer_state_with_its_layers(tmp_path: Path) -> None:
    X, y = spiral(20, 3)
    model = classifier()
    model.fit(X, y, epochs=3, verbose=0)
    twin = copy.deepcopy(model)
    assert twin.optimizer is not None
    assert all(layer in twin.layers for layer, _ in twin.optimizer.state)
    model.fit(X, y, epochs=2, verbose=0)
    twin.fit(X, y, epochs=2, verbose=0)
    for a, b in zip(model.trainable_layers, twin.trainable_layers, strict=True):
        np.testing.assert_array_equal(a.weights, b.weights)  # type: ignore[attr-defined]
    with np.load(sn.save(twin, tmp_path / "twin.npz")) as archive:
        assert "optimizer.0.weights.m" in archive.files


def test_a_rejected_layer_is_not_kept() -> None:
    model = sn.Model([sn.Dense(2, 64), sn.ReLU()])
    with pytest.raises(sn.ShapeError):
        model.add(sn.Dense(32, 3))
    model.add(sn.Dense(64, 3))
    assert [repr(layer) for layer in model.layers] == ["Dense(2 → 64)", "ReLU()", "Dense(64 → 3)"]


@pytest.mark.parametrize("size", [0, -1, 2.5, True])
def test_predict_and_evaluate_refuse_bad_batch_sizes(size: Any) -> None:
    X, y = spiral(5, 3)
    model = classifier()
    with pytest.raises(ValueError, match=r"Model\.predict: batch_size must be a positive integer"):
        model.predict(X, batch_size=size)
    with pytest.raises(ValueError, match=r"Model\.evaluate: batch_size must be a positive integer"):
        model.evaluate(X, y, batch_size=size)


def test_a_model_needs_layers_and_an_optimizer() -> None:
    with pytest.raises(ValueError, match=re.escape("the model has no layers: add some with")):
        sn.Model().build()
    model = sn.Model([sn.Dense(2, 2)], loss=sn.MeanSquaredError())
    with pytest.raises(ValueError, match=re.escape("call model.set(optimizer=...)")):
        model.fit(np.zeros((2, 2), np.float32), np.zeros((2, 2), np.float32))


def test_regression_accuracy_needs_a_precision() -> None:
    with pytest.raises(RuntimeError, match=re.escape("precision is not set; call init(y)")):
        sn.RegressionAccuracy().calculate(np.zeros((2, 1), np.float32), np.zeros((2, 1)))
