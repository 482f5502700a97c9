"""Datasets: typed arrays, seeded, and NumPy's global random state left alone."""

import sys

import numpy as np
import pytest

from shapenn import datasets


def test_nnfs_datasets_are_seeded_typed_and_leave_global_state_alone() -> None:
    state = np.random.get_state()[1].copy()  # noqa: NPY002
    X, y = datasets.spiral(samples=50, classes=4, seed=3)
    X2, _ = datasets.spiral(samples=50, classes=4, seed=3)
    X3, _ = datasets.spiral(samples=50, classes=4, seed=4)
    assert np.array_equal(state, np.random.get_state()[1])  # noqa: NPY002
    assert X.shape == (200, 2) and X.dtype == np.float32
    assert y.shape == (200,) and y.dtype == np.int64 and set(y) == {0, 1, 2, 3}
    assert np.array_equal(X, X2) and not np.array_equal(X, X3)
    Xv, yv = datasets.vertical(samples=10, classes=3, seed=0)
    assert Xv.shape == (30, 2) and Xv.dtype == np.float32 and yv.dtype == np.int64
    Xs, ys = datasets.sine(samples=100)
    assert Xs.shape == ys.shape == (100, 1) and ys.dtype == np.float32
    np.testing.assert_allclose(ys, np.sin(2 * np.pi * Xs), atol=1e-6)


def test_scikit_learn_datasets() -> None:
    pytest.importorskip("sklearn")
    X, y = datasets.digits()
    assert X.shape == (1797, 64) and X.dtype == np.float32 and X.min() >= 0 and X.max() <= 1
    assert y.dtype == np.int64 and set(y) == set(range(10))
    Xi, _yi = datasets.iris()
    assert Xi.shape == (150, 4)
    np.testing.assert_allclose(Xi.mean(axis=0), 0, atol=1e-5)
    Xb, yb = datasets.breast_cancer()
    assert Xb.shape == (569, 30) and set(yb) == {0, 1}


def test_a_missing_extra_names_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match=r"pip install 'shapenn\[datasets\]'"):
        datasets.digits()


def test_split_is_seeded_and_disjoint() -> None:
    X = np.arange(20, dtype=np.float32).reshape(10, 2)
    y = np.arange(10)
    X_train, X_val, y_train, y_val = datasets.train_validation_split(X, y, validation=0.3, seed=1)
    assert len(X_val) == 3 and len(X_train) == 7
    assert sorted([*y_train, *y_val]) == list(range(10))
    np.testing.assert_array_equal(X_val[:, 0] // 2, y_val)  # rows stay with their labels
    again = datasets.train_validation_split(X, y, validation=0.3, seed=1)
    np.testing.assert_array_equal(again[1], X_val)
    with pytest.raises(ValueError, match="X has 10 samples but y has"):
        datasets.train_validation_split(X, y[:5])
    with pytest.raises(ValueError, match=r"validation must be a fraction in \(0, 1\)"):
        datasets.train_validation_split(X, y, validation=1.5)


def test_load_by_name() -> None:
    assert datasets.names()[:3] == ["spiral", "vertical", "sine"]
    with pytest.raises(ValueError, match="unknown dataset 'cifar10': choose one of spiral"):
        datasets.load("cifar10")


def test_a_split_that_leaves_one_side_empty_is_refused() -> None:
    with pytest.raises(ValueError, match=r"a 0\.1 split of 3 samples leaves one side empty"):
        datasets.train_validation_split(np.zeros((3, 2)), np.zeros(3), validation=0.1)
