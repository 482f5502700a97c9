"""fit's Keras-style options: callbacks, validation_split, sample and class weights, metrics."""

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from helpers import classifier

import shapenn as sn
from shapenn import callbacks as cb
from shapenn import datasets


@pytest.fixture(scope="module")
def spiral() -> tuple[Any, Any]:
    return datasets.spiral(samples=60, classes=3, seed=0)


def test_early_stopping_stops_after_patience_and_restores_the_best(spiral: Any) -> None:
    X, y = spiral
    stop = cb.EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)
    model = classifier(sn.Adam(learning_rate=0.5))  # too fast: val_loss soon stops improving
    history = model.fit(X, y, epochs=200, validation_split=0.3, callbacks=[stop], verbose=0)
    val = history["val_loss"]
    assert 0 < stop.stopped_epoch == len(val) < 200
    best = int(np.argmin(val)) + 1
    assert stop.best_epoch == best and len(val) == best + 3
    # The weights are those of the best epoch: its validation loss, measured again.
    kept = len(X) - int(len(X) * 0.3)
    again, _ = model.evaluate(X[kept:], y[kept:])
    assert again == pytest.approx(val[best - 1], rel=1e-5)


def test_patience_zero_stops_at_the_first_epoch_without_improvement(spiral: Any) -> None:
    X, y = spiral
    stop = cb.EarlyStopping(monitor="loss", min_delta=10.0)  # nothing improves by 10
    history = classifier().fit(X, y, epochs=50, callbacks=[stop], verbose=0)
    assert len(history["loss"]) == 2 and stop.stopped_epoch == 2


def test_a_monitor_that_is_not_recorded_is_refused_before_the_first_step(spiral: Any) -> None:
    X, y = spiral
    model = classifier()
    before = model.layers[0].weights.copy()
    with pytest.raises(sn.ArgumentError) as caught:
        model.fit(X, y, epochs=5, callbacks=[cb.EarlyStopping()], verbose=0)
    words = str(caught.value)
    assert "monitor='val_loss' is not a figure this training records" in words
    assert "loss, data_loss, regularization_loss, accuracy, learning_rate" in words
    assert "val_ figures need validation_data or validation_split" in words
    np.testing.assert_array_equal(model.layers[0].weights, before)


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda: cb.EarlyStopping(patience=-1), "patience must be an integer >= 0, got -1"),
        (lambda: cb.EarlyStopping(patience=1.5), "patience must be an integer >= 0, got 1.5"),
        (lambda: cb.EarlyStopping(mode="up"), "mode must be 'auto', 'min' or 'max'"),
        (lambda: cb.EarlyStopping(min_delta=-1), "min_delta"),
        (lambda: cb.ReduceLROnPlateau(factor=1.5), "factor must be in (0, 1), got 1.5"),
        (lambda: cb.ReduceLROnPlateau(patience=-2), "patience"),
        (lambda: cb.LearningRateScheduler(0.1), "schedule must be a function (epoch, lr) -> lr"),
        (lambda: cb.cosine_decay(0.1, epochs=5, warmup=5), "warmup (5) must be shorter"),
        (lambda: cb.step_decay(0.0), "the learning rate must be > 0"),
        (lambda: cb.ModelCheckpoint(3), "path must be a file name"),  # type: ignore[arg-type]
    ],
)
def test_arguments_out_of_range_are_refused_when_made(make: Any, words: str) -> None:
    with pytest.raises(sn.ArgumentError, match=None) as caught:
        make()
    assert words in str(caught.value)


def test_checkpoint_saves_the_best_model_atomically(spiral: Any, tmp_path: Path) -> None:
    X, y = spiral
    path = tmp_path / "best.npz"
    keep = cb.ModelCheckpoint(path, monitor="val_accuracy", save_best_only=True)
    model = classifier()
    history = model.fit(X, y, epochs=30, validation_split=0.25, callbacks=[keep], verbose=0)
    best = max(history["val_accuracy"])
    # Saved once per improvement; the file holds the model of the first best epoch.
    improvements = sum(
        a > max(history["val_accuracy"][:i], default=-1)
        for i, a in enumerate(history["val_accuracy"])
    )
    assert len(keep.saved) == improvements and set(keep.saved) == {path}
    kept = len(X) - int(len(X) * 0.25)
    _, accuracy = sn.load(path).evaluate(X[kept:], y[kept:])
    assert accuracy == pytest.approx(best)
    assert [p.name for p in tmp_path.iterdir()] == ["best.npz"]  # no temporary file left


def test_checkpoint_paths_name_figures(spiral: Any, tmp_path: Path) -> None:
    X, y = spiral
    keep = cb.ModelCheckpoint(tmp_path / "m-{epoch:02d}-{loss:.2f}.npz")
    history = classifier().fit(X, y, epochs=3, callbacks=[keep], verbose=0)
    assert [p.name for p in keep.saved] == [
        f"m-{epoch:02d}-{loss:.2f}.npz" for epoch, loss in enumerate(history["loss"], 1)
    ]


def test_checkpoint_naming_an_unknown_figure_or_an_unwritable_folder_is_refused_first(
    spiral: Any, tmp_path: Path
) -> None:
    X, y = spiral
    model = classifier()
    with pytest.raises(sn.ArgumentError, match="names 'val_acc', which is not a figure"):
        model.fit(X, y, epochs=2, callbacks=[cb.ModelCheckpoint("m-{val_acc}.npz")], verbose=0)
    with pytest.raises(sn.PathError):
        model.fit(
            X, y, epochs=2, callbacks=[cb.ModelCheckpoint(tmp_path / "no" / "m.npz")], verbose=0
        )
    assert not list(tmp_path.iterdir())


def test_schedules_set_the_rate_of_each_epoch_and_history_records_it(spiral: Any) -> None:
    X, y = spiral
    schedule = cb.cosine_decay(0.1, epochs=10, warmup=2, final=0.01)
    model = classifier(sn.SGD(learning_rate=1.0))
    history = model.fit(X, y, epochs=10, callbacks=[cb.LearningRateScheduler(schedule)], verbose=0)
    # Warm-up to 0.1 over epochs 0 and 1, then a half cosine from epoch 2 to 0.01 at epoch 9.
    cosine = [0.01 + 0.09 * 0.5 * (1 + math.cos(math.pi * k / 7)) for k in range(8)]
    expected = [0.1 / 3, 0.2 / 3, *cosine]
    np.testing.assert_allclose(history["learning_rate"], expected, rtol=1e-12)
    step = cb.step_decay(1.0, factor=0.5, every=3)
    assert [step(e, 0.0) for e in range(7)] == [1, 1, 1, 0.5, 0.5, 0.5, 0.25]
    exponential = cb.exponential_decay(2.0, rate=0.5)
    assert [exponential(e, 0.0) for e in range(3)] == [2.0, 1.0, 0.5]


def test_reduce_on_plateau_waits_cools_down_and_stops_at_min_lr() -> None:
    reduce = cb.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=2, cooldown=2, min_lr=0.3)
    model = classifier(sn.SGD(learning_rate=1.0))
    reduce.set_model(model)
    reduce.on_train_begin(["loss"])
    rates = []
    for epoch, loss in enumerate([1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5], 1):
        reduce.on_epoch_end(epoch, {"loss": loss})
        rates.append(model.optimizer.learning_rate)  # type: ignore[union-attr]
    # Epoch 3: two without improvement, halved; epoch 4 cools down (Keras counts the epoch
    # the counter reaches 0), then two more: 0.25, raised to min_lr.
    assert rates == [1.0, 1.0, 0.5, 0.5, 0.5, 0.3, 0.3, 0.3, 0.3, 0.3]


def test_a_callback_of_ones_own_sees_every_event(spiral: Any) -> None:
    X, y = spiral
    events: list[str] = []

    class Log(cb.Callback):
        def on_train_begin(self, figures: Any) -> None:
            events.append("begin")

        def on_epoch_begin(self, epoch: int) -> None:
            events.append(f"start {epoch}")

        def on_epoch_end(self, epoch: int, figures: dict[str, float]) -> None:
            events.append(f"end {epoch}")
            if epoch == 2:
                self.model.stop_training = True

        def on_train_end(self) -> None:
            events.append("done")

    seen: list[int] = []
    classifier().fit(
        X, y, epochs=5, callbacks=[Log()], callback=lambda e, f: seen.append(e), verbose=0
    )
    assert events == ["begin", "start 1", "end 1", "start 2", "end 2", "done"]
    assert seen == [1, 2]  # the per-epoch callback= keeps working


def test_validation_split_is_the_last_rows_before_shuffling(spiral: Any) -> None:
    X, y = spiral
    kept = len(X) - int(len(X) * 0.2)
    split = classifier().fit(X, y, epochs=5, batch_size=32, validation_split=0.2, seed=0, verbose=0)
    given = classifier().fit(
        X[:kept],
        y[:kept],
        epochs=5,
        batch_size=32,
        validation_data=(X[kept:], y[kept:]),
        seed=0,
        verbose=0,
    )
    assert split.as_dict() == given.as_dict()


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"validation_split": 1.0}, "validation_split must be in (0, 1), got 1.0"),
        ({"validation_split": "0.2"}, "validation_split must be a fraction in (0, 1)"),
        ({"validation_split": 0.001}, "leaves no validation samples"),
        ({"validation_split": 0.2, "validation_data": ([[0, 0]], [0])}, "not both"),
        ({"class_weight": {0: 1.0, 1: 1.0}}, "class_weight has no weight for class [2]"),
        ({"class_weight": {0: 1, 1: 1, 2: -1}}, "class_weight[2] must be a finite number >= 0"),
        ({"class_weight": {0: 1, 1: 1, 2: 1, 5: 1}}, "class_weight names [5]"),
        ({"sample_weight": np.ones(3)}, "one weight per sample, shape (180,), got shape (3,)"),
        ({"sample_weight": -np.ones(180)}, "finite and >= 0, got -1.0 at index 0"),
        ({"sample_weight": np.full(180, np.nan)}, "finite and >= 0, got nan"),
        ({"callbacks": cb.EarlyStopping()}, "callbacks must be a list"),
        ({"callbacks": [print]}, "is not a callback"),
    ],
)
def test_bad_options_are_refused_before_training(
    spiral: Any, options: dict[str, Any], words: str
) -> None:
    X, y = spiral
    model = classifier()
    before = model.layers[0].weights.copy()
    with pytest.raises(sn.ArgumentError) as caught:
        model.fit(X, y, epochs=3, verbose=0, **options)
    assert words in str(caught.value)
    np.testing.assert_array_equal(model.layers[0].weights, before)


def _one_step(X: Any, y: Any, **options: Any) -> list[Any]:
    model = classifier(sn.SGD(learning_rate=0.5))
    model.fit(X, y, epochs=1, verbose=0, shuffle=False, **options)
    return [p.value for p in model.parameters()]


def test_an_integer_sample_weight_is_that_many_copies_of_the_sample(spiral: Any) -> None:
    X, y = spiral
    counts = np.random.default_rng(0).integers(0, 4, size=len(X))
    weighted = _one_step(X, y, sample_weight=counts)
    repeated = _one_step(np.repeat(X, counts, axis=0), np.repeat(y, counts))
    for a, b in zip(weighted, repeated, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_class_weight_is_the_sample_weight_of_each_class(spiral: Any) -> None:
    X, y = spiral
    table = {0: 1.0, 1: 3.0, 2: 0.5}
    by_class = _one_step(X, y, class_weight=table)
    by_sample = _one_step(X, y, sample_weight=np.array([table[int(c)] for c in y]))
    for a, b in zip(by_class, by_sample, strict=True):
        np.testing.assert_array_equal(a, b)


def test_the_weighted_loss_is_the_weighted_mean(spiral: Any) -> None:
    X, y = spiral
    weights = np.random.default_rng(1).uniform(0, 2, size=len(X))
    model = classifier(sn.SGD(learning_rate=1e-12))  # a step too small to change the loss
    history = model.fit(X, y, epochs=1, sample_weight=weights, verbose=0)
    losses = sn.CategoricalCrossentropy().forward(model.predict(X), y)
    assert history["loss"][0] == pytest.approx(float(losses @ weights / weights.sum()), rel=1e-5)


def test_metrics_are_recorded_for_training_and_validation(spiral: Any) -> None:
    X, y = spiral
    model = classifier(sn.SGD(learning_rate=1e-12))  # the model stays as it is: figures agree
    model.set(metrics=[sn.F1(), sn.Precision(), sn.TopKAccuracy(2)])
    history = model.fit(X, y, epochs=2, batch_size=50, validation_split=0.3, verbose=0)
    names = ["f1", "precision", "top_2_accuracy"]
    assert all(name in history.as_dict() and f"val_{name}" in history.as_dict() for name in names)
    kept = len(X) - int(len(X) * 0.3)
    on_train = model.evaluate(X[:kept], y[:kept], return_dict=True)
    on_val = model.evaluate(X[kept:], y[kept:], return_dict=True)
    for name in names:
        assert history[name][-1] == pytest.approx(on_train[name], abs=1e-6)
        assert history[f"val_{name}"][-1] == pytest.approx(on_val[name], abs=1e-9)
    # F1 over the whole set, from one confusion matrix: not a mean of batch figures.
    predicted = model.predict(X[:kept]).argmax(axis=1)
    truth = y[:kept]
    f1s = []
    for c in range(3):
        tp = np.sum((predicted == c) & (truth == c))
        fp, fn = np.sum((predicted == c) & (truth != c)), np.sum((predicted != c) & (truth == c))
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0)
    assert on_train["f1"] == pytest.approx(np.mean(f1s))


def test_metrics_are_saved_with_the_model(tmp_path: Path) -> None:
    model = classifier()
    model.set(metrics=[sn.Recall(), sn.TopKAccuracy(2)])
    loaded = sn.load(sn.save(model, tmp_path / "m.npz"))
    assert [repr(m) for m in loaded.metrics] == [repr(m) for m in model.metrics]


def test_metrics_must_be_a_list_of_metrics_with_distinct_names() -> None:
    with pytest.raises(sn.ArgumentError, match=r"write metrics=\[F1\(average='macro'\)\]"):
        classifier().set(metrics=sn.F1())  # type: ignore[arg-type]
    with pytest.raises(sn.ArgumentError, match="two metrics would both be recorded as 'f1'"):
        classifier().set(metrics=[sn.F1(), sn.F1(average=None)])
    with pytest.raises(sn.ArgumentError, match="would both be recorded as 'accuracy'"):
        classifier().set(metrics=[sn.CategoricalAccuracy()])


def test_validation_split_of_data_sorted_by_class_warns(spiral: Any) -> None:
    X, y = spiral
    order = np.argsort(y, kind="stable")
    with pytest.warns(UserWarning, match=r"hold classes the training samples never show \(2\)"):
        classifier().fit(X[order], y[order], epochs=1, validation_split=0.34, verbose=0)
