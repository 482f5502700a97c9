"""Plots: training curves and decision boundaries drawn without pyplot, saved as PNGs atomically."""

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("matplotlib")

import shapenn as sn
from shapenn.datasets import spiral
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


def test_plot_history_draws_loss_and_accuracy_and_saves_a_png(
    trained: tuple[sn.Model, sn.History], tmp_path: Path
) -> None:
    _, history = trained
    path = tmp_path / "history.png"
    figure = plot_history(history, path)
    assert assert_png(path) == (1000, 400)
    loss, accuracy = figure.axes
    assert loss.get_title() == "loss" and accuracy.get_title() == "accuracy"
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


def test_plot_history_without_validation_or_metric() -> None:
    figure = plot_history(sn.History(loss=[1.0, 0.7, 0.5]))
    loss, accuracy = figure.axes
    assert loss.get_legend_handles_labels()[1] == ["train"]
    assert accuracy.get_lines() == []
    assert [text.get_text() for text in accuracy.texts] == ["no metric"]


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
