"""Plots: training curves and decision boundaries drawn without pyplot, saved as PNGs atomically."""

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from matplotlib.figure import Figure

import shapenn as sn
from shapenn.datasets import sine, spiral
from shapenn.plots import plot_decision_boundary, plot_history

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def trained() -> tuple[sn.Model, sn.History]:
    X, y = spiral(30, 3, seed=0)
    X_val, y_val = spiral(30, 3, seed=1)
    model = sn.Model(
        [sn.Dense(2, 8, seed=0), sn.ReLU(), sn.Dense(8, 3, seed=1), sn.Softmax()],
        loss=sn.CategoricalCrossentropy(),
        optimizer=sn.Adam(0.05),
        metric=sn.CategoricalAccuracy(),
    )
    history = model.fit(X, y, epochs=20, validation_data=(X_val, y_val), verbose=0)
    return model, history


@pytest.fixture(scope="module")
def regression() -> sn.History:
    X, y = sine(200)
    model = sn.Model(
        [sn.Dense(1, 16, seed=0), sn.ReLU(), sn.Dense(16, 1, seed=1), sn.Linear()],
        loss=sn.MeanSquaredError(),
        optimizer=sn.Adam(0.005),
        metric=sn.RegressionAccuracy(),
    )
    return model.fit(X, y, epochs=5, verbose=0)


def assert_png(path: Path) -> tuple[int, int]:
    """Check ``path`` is a real PNG of a sensible size, alone in its folder; return (w, h)."""
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert 300 <= width <= 3000 and 300 <= height <= 3000, (width, height)
    assert len(data) > 5_000
    assert [p.name for p in path.parent.iterdir()] == [path.name], "a temp file was left behind"
    return width, height


def suptitle(figure: Figure) -> str:
    title = figure.get_suptitle()
    assert isinstance(title, str)
    return title


def test_plot_history_draws_loss_and_accuracy_and_saves_a_png(
    trained: tuple[sn.Model, sn.History], tmp_path: Path
) -> None:
    _, history = trained
    path = tmp_path / "history.png"
    figure = plot_history(history, path)
    assert assert_png(path) == (1000, 400)
    assert suptitle(figure) == "training history: 20 epochs, metric CategoricalAccuracy"
    loss, accuracy = figure.axes
    assert loss.get_title() == "loss" and accuracy.get_title() == "accuracy"
    assert loss.get_ylabel() == "loss (log scale)" and accuracy.get_ylabel() == "accuracy"
    assert loss.get_yscale() == "log" and accuracy.get_yscale() == "linear"
    for axes, train, validation in (
        (loss, history.loss, history.val_loss),
        (accuracy, history.accuracy, history.val_accuracy),
    ):
        assert axes.get_xlabel() == "epoch"
        assert axes.get_legend_handles_labels()[1] == ["train", "validation"]
        train_line, validation_line = axes.get_lines()
        assert np.asarray(train_line.get_xdata()).tolist() == list(range(1, 21))
        assert np.asarray(train_line.get_ydata()).tolist() == train
        assert np.asarray(validation_line.get_ydata()).tolist() == validation


def test_plot_history_without_path_writes_nothing(
    trained: tuple[sn.Model, sn.History], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    figure = plot_history(trained[1])
    assert len(figure.axes) == 2
    assert list(tmp_path.iterdir()) == []


def test_without_a_metric_a_single_loss_panel_is_drawn(tmp_path: Path) -> None:
    path = tmp_path / "loss.png"
    figure = plot_history(sn.History(loss=[1.0, 0.7, 0.5]), path)
    assert assert_png(path) == (600, 400)
    (loss,) = figure.axes
    assert suptitle(figure) == "training history: 3 epochs"
    assert loss.get_legend_handles_labels()[1] == ["train"]
    assert loss.get_yscale() == "log"
    assert len(loss.texts) == 0, 'the old "no metric" placeholder is gone'


def test_log_loss_false_draws_a_linear_axis(trained: tuple[sn.Model, sn.History]) -> None:
    loss = plot_history(trained[1], log_loss=False).axes[0]
    assert loss.get_yscale() == "linear"
    assert loss.get_ylabel() == "loss"


def test_one_spike_does_not_flatten_the_rest_on_the_log_axis() -> None:
    losses = [1.0 / epoch for epoch in range(1, 41)]
    losses[20] = 1000.0
    loss = plot_history(sn.History(loss=losses)).axes[0]
    assert loss.get_yscale() == "log"
    low, high = loss.get_ylim()
    assert low <= min(losses) and high >= 1000.0
    assert np.asarray(loss.get_lines()[0].get_ydata()).tolist() == losses


@pytest.mark.parametrize("losses", [[1.0, 0.5, 0.0], [0.5, -0.1, 0.2]])
def test_a_loss_of_zero_or_less_falls_back_to_a_linear_axis_that_says_so(
    losses: list[float],
) -> None:
    loss = plot_history(sn.History(loss=losses)).axes[0]
    assert loss.get_yscale() == "linear"
    assert loss.get_ylabel() == "loss (linear scale: values ≤ 0)"
    assert loss.get_title() == "loss"
    assert np.asarray(loss.get_lines()[0].get_ydata()).tolist() == losses


def test_a_non_positive_validation_loss_also_falls_back_to_linear() -> None:
    history = sn.History(loss=[1.0, 0.5], val_loss=[1.0, 0.0])
    assert plot_history(history).axes[0].get_yscale() == "linear"


def test_non_finite_losses_are_counted_and_lone_points_get_a_marker() -> None:
    nan, inf = float("nan"), float("inf")
    figure = plot_history(sn.History(loss=[1.0, 0.5, inf, 0.3, nan, 0.2, 0.1]))
    (loss,) = figure.axes
    assert loss.get_yscale() == "linear"
    assert loss.get_ylabel() == "loss (linear scale: values not finite)"
    assert loss.get_title() == "loss (2 non-finite values not drawn)"
    (line,) = loss.get_lines()
    # epoch 4 sits between two non-finite values: no segment reaches it, so it needs a marker
    assert line.get_marker() == "o"
    assert line.get_markevery() == [False, False, False, True, False, False, False]


def test_a_single_epoch_is_a_marker_on_a_single_whole_tick() -> None:
    history = sn.History(loss=[0.7], accuracy=[0.5], metric="CategoricalAccuracy()")
    figure = plot_history(history)
    assert suptitle(figure) == "training history: 1 epoch, metric CategoricalAccuracy"
    for axes in figure.axes:
        (line,) = axes.get_lines()
        assert line.get_marker() == "o"
        assert axes.get_xticks().tolist() == [1]


def test_a_regression_history_shows_only_the_loss(regression: sn.History) -> None:
    assert regression.regression and regression.accuracy
    figure = plot_history(regression)
    (loss,) = figure.axes
    assert loss.get_title() == "loss" and loss.get_ylabel() == "loss (log scale)"
    assert suptitle(figure) == (
        "training history: 5 epochs, metric RegressionAccuracy\n"
        "accuracy not plotted: a regression tolerance"
    )


def test_accuracy_true_shows_a_regression_accuracy(regression: sn.History) -> None:
    figure = plot_history(regression, accuracy=True)
    _, accuracy = figure.axes
    assert accuracy.get_title() == "accuracy: within a tolerance"
    assert accuracy.get_ylabel() == "accuracy"
    (line,) = accuracy.get_lines()
    assert np.asarray(line.get_ydata()).tolist() == regression.accuracy
    assert suptitle(figure) == "training history: 5 epochs, metric RegressionAccuracy"


def test_accuracy_false_never_shows_the_panel(trained: tuple[sn.Model, sn.History]) -> None:
    figure = plot_history(trained[1], accuracy=False)
    assert len(figure.axes) == 1
    assert suptitle(figure).endswith("\naccuracy not plotted")


def test_accuracy_true_without_accuracy_figures_is_refused() -> None:
    with pytest.raises(ValueError, match="accuracy=True, but the history has no accuracy"):
        plot_history(sn.History(loss=[1.0, 0.5]), accuracy=True)


def test_accuracy_must_be_true_false_or_none(trained: tuple[sn.Model, sn.History]) -> None:
    with pytest.raises(TypeError, match="accuracy must be True, False or None, got 'yes'"):
        plot_history(trained[1], accuracy="yes")  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", ["classification", "regression", "spike"])
def test_every_label_fits_inside_the_figure(
    kind: str, trained: tuple[sn.Model, sn.History], regression: sn.History
) -> None:
    spike = sn.History(loss=[1.0, 0.5, 900.0, 0.01, 1e-4], val_loss=[1.0, 0.6, 0.2, 0.1, 0.1])
    history = {"classification": trained[1], "regression": regression, "spike": spike}[kind]
    figure = plot_history(history)
    figure.draw_without_rendering()
    box = figure.bbox
    texts = [*figure.texts] + [
        text for axes in figure.axes for text in (axes.title, axes.xaxis.label, axes.yaxis.label)
    ]
    assert suptitle(figure) in [text.get_text() for text in texts]
    for text in texts:
        extent = text.get_window_extent()
        assert box.x0 <= extent.x0 and extent.x1 <= box.x1, text.get_text()
        assert box.y0 <= extent.y0 and extent.y1 <= box.y1, text.get_text()


def test_history_plot_returns_the_figure_and_writes_a_png(
    trained: tuple[sn.Model, sn.History], regression: sn.History, tmp_path: Path
) -> None:
    figure = trained[1].plot()
    assert isinstance(figure, Figure) and len(figure.axes) == 2
    path = tmp_path / "sine.png"
    figure = regression.plot(path, log_loss=False)
    assert assert_png(path) == (600, 400)
    assert figure.axes[0].get_yscale() == "linear"


def test_plot_history_refuses_an_empty_history() -> None:
    with pytest.raises(ValueError, match="the history has no epochs to plot"):
        plot_history(sn.History())


def test_plot_decision_boundary_draws_regions_and_points_and_saves_a_png(
    trained: tuple[sn.Model, sn.History], tmp_path: Path
) -> None:
    model, _ = trained
    X, y = spiral(30, 3, seed=0)
    path = tmp_path / "boundary.png"
    figure = plot_decision_boundary(model, X, y, path, resolution=50)
    assert assert_png(path) == (600, 500)
    (axes,) = figure.axes
    expected = float(np.mean(np.argmax(model.predict(X), axis=1) == y))
    assert axes.get_title() == f"decision boundary: accuracy {expected:.1%} on 90 samples"
    # the points are drawn on top, and the view covers them with a 5% margin
    (points,) = axes.collections[-1:]
    assert np.asarray(points.get_offsets()).shape == (90, 2)
    low, high = axes.get_xlim()
    span = float(X[:, 0].max() - X[:, 0].min())
    assert low == pytest.approx(X[:, 0].min() - 0.05 * span)
    assert high == pytest.approx(X[:, 0].max() + 0.05 * span)


def test_one_hot_labels_give_the_same_title(trained: tuple[sn.Model, sn.History]) -> None:
    model, _ = trained
    X, y = spiral(30, 3, seed=0)
    sparse = plot_decision_boundary(model, X, y, resolution=20)
    onehot = plot_decision_boundary(model, X, np.eye(3)[y], resolution=20)
    assert sparse.axes[0].get_title() == onehot.axes[0].get_title()


def test_a_single_output_model_draws_a_boundary_at_one_half(tmp_path: Path) -> None:
    X, y = spiral(30, 2, seed=0)
    targets = y.reshape(-1, 1)
    model = sn.Model(
        [sn.Dense(2, 8, seed=0), sn.ReLU(), sn.Dense(8, 1, seed=1), sn.Sigmoid()],
        loss=sn.BinaryCrossentropy(),
        optimizer=sn.Adam(0.05),
        metric=sn.BinaryAccuracy(),
    )
    model.fit(X, targets, epochs=20, verbose=0)
    path = tmp_path / "binary.png"
    figure = plot_decision_boundary(model, X, targets, path)
    assert_png(path)
    expected = float(np.mean((model.predict(X)[:, 0] > 0.5) == y))
    assert figure.axes[0].get_title().startswith(f"decision boundary: accuracy {expected:.1%}")


def test_three_features_are_refused_naming_the_shape(trained: tuple[sn.Model, sn.History]) -> None:
    model, _ = trained
    X = np.zeros((5, 3), dtype=np.float32)
    with pytest.raises(ValueError, match=re.escape("X has shape (5, 3)")) as caught:
        plot_decision_boundary(model, X, np.zeros(5, dtype=np.int64))
    assert "decision boundaries need 2 features" in str(caught.value)


def test_labels_must_match_the_samples(trained: tuple[sn.Model, sn.History]) -> None:
    model, _ = trained
    X, y = spiral(10, 3, seed=0)
    with pytest.raises(ValueError, match=r"one label per sample.*got shape \(29,\)"):
        plot_decision_boundary(model, X, y[:-1])
    with pytest.raises(ValueError, match="class labels"):
        plot_decision_boundary(model, X, y + 0.5)


def test_resolution_must_be_at_least_two(trained: tuple[sn.Model, sn.History]) -> None:
    X, y = spiral(10, 3, seed=0)
    with pytest.raises(ValueError, match="resolution must be an integer of at least 2, got 1"):
        plot_decision_boundary(trained[0], X, y, resolution=1)


def test_a_failed_save_leaves_no_file_behind(
    trained: tuple[sn.Model, sn.History], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(source: object, target: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError, match="disk full"):
        plot_history(trained[1], tmp_path / "history.png")
    assert list(tmp_path.iterdir()) == []


def test_saving_replaces_an_existing_file_and_keeps_its_mode(
    trained: tuple[sn.Model, sn.History], tmp_path: Path
) -> None:
    path = tmp_path / "history.png"
    path.write_bytes(b"old")
    path.chmod(0o640)
    plot_history(trained[1], path)
    assert_png(path)
    assert path.stat().st_mode & 0o777 == 0o640


def test_missing_matplotlib_says_how_to_install_it(
    trained: tuple[sn.Model, sn.History], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    message = re.escape("plots need matplotlib: pip install 'shapenn[plots]'")
    with pytest.raises(ImportError, match=message):
        plot_history(trained[1])
    X, y = spiral(10, 3, seed=0)
    with pytest.raises(ImportError, match=message):
        plot_decision_boundary(trained[0], X, y)


def test_importing_shapenn_or_its_plots_module_does_not_import_matplotlib() -> None:
    code = (
        "import sys, shapenn\n"
        "assert 'shapenn.plots' not in sys.modules, 'shapenn imports plots'\n"
        "import shapenn.plots\n"
        "assert not [m for m in sys.modules if m.startswith('matplotlib')], 'eager matplotlib'\n"
        "print('ok')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "ok", result.stderr
