"""The confusion-matrix plot: a heat map of a ConfusionMatrix (or an array of counts), the true
class down the y axis, the numbers in the cells, saved as a PNG atomically."""

import re
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from matplotlib.figure import Figure

import shapenn as sn
from shapenn.plots import plot_confusion_matrix

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
COUNTS = np.array([[40, 3, 7], [5, 30, 0], [2, 8, 55]])


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE and data[12:16] == b"IHDR"
    assert [p.name for p in path.parent.iterdir()] == [path.name], "a temp file was left behind"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def _cells(figure: Figure) -> list[str]:
    return [text.get_text() for text in figure.axes[0].texts]


def _metric() -> sn.ConfusionMatrix:
    y_pred = np.array([[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.1, 0.2, 0.7], [0.6, 0.3, 0.1]])
    metric = sn.ConfusionMatrix()
    metric.update(y_pred[:3], np.array([0, 1, 2]))
    metric.update(y_pred[3:], np.array([2]))
    return metric


def test_a_metric_is_drawn_with_its_counts_in_the_cells_and_saved(tmp_path: Path) -> None:
    path = tmp_path / "confusion.png"
    figure = plot_confusion_matrix(_metric(), path)
    assert _png_size(path) == (600, 500)
    axes = figure.axes[0]
    assert axes.get_title() == "confusion matrix: 4 samples, accuracy 75.0%"
    assert axes.get_xlabel() == "predicted class" and axes.get_ylabel() == "true class"
    # Row by row, as the matrix reads: rows the true class, columns the predicted one.
    assert _cells(figure) == ["1", "0", "0", "0", "1", "0", "1", "0", "1"]
    image = axes.images[0].get_array()
    np.testing.assert_array_equal(np.asarray(image), _metric().matrix())
    assert len(figure.axes) == 2  # and the color bar
    assert figure.axes[1].get_ylabel() == "count"


def test_an_array_of_counts_with_class_names(tmp_path: Path) -> None:
    figure = plot_confusion_matrix(COUNTS, labels=["cat", "dog", "bird"])
    axes = figure.axes[0]
    assert [t.get_text() for t in axes.get_xticklabels()] == ["cat", "dog", "bird"]
    assert [t.get_text() for t in axes.get_yticklabels()] == ["cat", "dog", "bird"]
    assert _cells(figure)[:3] == ["40", "3", "7"]
    assert axes.get_title() == f"confusion matrix: 150 samples, accuracy {125 / 150:.1%}"


def test_normalize_divides_each_row_by_its_true_class() -> None:
    counts = np.array([[3, 1], [0, 0]])  # the second class has no samples: its row stays 0
    figure = plot_confusion_matrix(counts, normalize=True)
    assert _cells(figure) == ["0.75", "0.25", "0.00", "0.00"]
    assert "each row normalized by its true class" in figure.axes[0].get_title()
    assert figure.axes[1].get_ylabel() == "fraction of the true class"


def test_dark_cells_get_white_numbers() -> None:
    figure = plot_confusion_matrix(np.array([[90, 1], [2, 7]]))
    colors = [text.get_color() for text in figure.axes[0].texts]
    assert colors == ["white", "black", "black", "black"]


def test_many_classes_show_colors_only_on_a_larger_figure(tmp_path: Path) -> None:
    counts = np.eye(40, dtype=np.int64) * 10 + 1
    path = tmp_path / "many.png"
    figure = plot_confusion_matrix(counts, path)
    assert _cells(figure) == []
    width, height = _png_size(path)
    assert 1000 < width <= 1500 and 1000 < height <= 1400


def test_every_label_fits_inside_the_figure() -> None:
    names = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse"]
    figure = plot_confusion_matrix(np.arange(64).reshape(8, 8), labels=names)
    figure.draw_without_rendering()
    axes = figure.axes[0]
    texts = [axes.title, axes.xaxis.label, axes.yaxis.label]
    texts += [*axes.get_xticklabels(), *axes.get_yticklabels()]
    for text in texts:
        extent = text.get_window_extent()
        box = figure.bbox
        assert box.x0 <= extent.x0 and extent.x1 <= box.x1, text.get_text()
        assert box.y0 <= extent.y0 and extent.y1 <= box.y1, text.get_text()


@pytest.mark.parametrize(
    ("matrix", "words"),
    [
        (np.zeros((2, 3)), r"must be a square \(classes, classes\) array .* got shape \(2, 3\)"),
        (np.zeros(3), r"got shape \(3,\)"),
        (np.zeros((0, 0)), r"got shape \(0, 0\)"),
        (np.array([[1, -1], [0, 2]]), r"must hold counts: finite numbers >= 0, got -1"),
        (np.array([[1.0, np.nan], [0, 2]]), "got nan"),
        (object(), "must be a ConfusionMatrix metric or a .* array of counts, got object"),
    ],
)
def test_what_is_not_a_confusion_matrix_is_refused(matrix: Any, words: str) -> None:
    with pytest.raises(sn.ArgumentError, match=words):
        plot_confusion_matrix(matrix)


def test_labels_must_name_each_class_once() -> None:
    with pytest.raises(sn.ArgumentError, match="labels has 2 names, but the matrix has 3 classes"):
        plot_confusion_matrix(COUNTS, labels=["a", "b"])
    with pytest.raises(sn.ArgumentError, match="labels must be a sequence of 3 class names"):
        plot_confusion_matrix(COUNTS, labels="abc")


def test_normalize_must_be_true_or_false() -> None:
    with pytest.raises(TypeError, match="normalize must be True or False, got 'rows'"):
        plot_confusion_matrix(COUNTS, normalize="rows")  # type: ignore[arg-type]


def test_a_metric_given_no_batch_is_not_ready() -> None:
    with pytest.raises(sn.NotReadyError, match=r"ConfusionMatrix\(\)\.matrix\(\): no samples"):
        plot_confusion_matrix(sn.ConfusionMatrix())


def test_without_a_path_nothing_is_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert isinstance(plot_confusion_matrix(COUNTS), Figure)
    assert list(tmp_path.iterdir()) == []


def test_missing_matplotlib_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    message = re.escape("plots need matplotlib: pip install 'shapenn[plots]'")
    with pytest.raises(ImportError, match=message):
        plot_confusion_matrix(COUNTS)
