"""The remaining user-facing errors, each asserted for its words."""

import re
from pathlib import Path

import numpy as np
import pytest

import shapenn as sn
from shapenn import datasets


def test_dense_settings_must_be_non_negative_numbers() -> None:
    with pytest.raises(
        ValueError, match=r"^Dense: weight_scale must be a finite number >= 0, got -1"
    ):
        sn.Dense(2, 3, weight_scale=-1)
    with pytest.raises(
        ValueError, match=r"^Dense: bias_regularizer_l2 must be a finite number >= 0, got nan"
    ):
        sn.Dense(2, 3, bias_regularizer_l2=float("nan"))


def test_a_model_needs_layers_and_an_optimizer() -> None:
    with pytest.raises(ValueError, match=re.escape("the model has no layers: add some with")):
        sn.Model().build()
    model = sn.Model([sn.Dense(2, 2)], loss=sn.MeanSquaredError())
    with pytest.raises(ValueError, match=re.escape("call model.set(optimizer=...)")):
        model.fit(np.zeros((2, 2), np.float32), np.zeros((2, 2), np.float32))


def test_gradcheck_of_a_model_needs_its_loss() -> None:
    with pytest.raises(ValueError, match=re.escape("gradcheck: the model has no loss; call")):
        sn.gradcheck(sn.Model([sn.Dense(2, 2)]), np.zeros((1, 2)), np.zeros((1, 2)))


class Hinge(sn.MeanSquaredError):
    pass


def test_a_users_own_loss_saves_and_loads_like_a_built_in_one(tmp_path: Path) -> None:
    sn.save(sn.Model([sn.Dense(2, 2)], loss=Hinge()), tmp_path / "m.npz")
    assert type(sn.load(tmp_path / "m.npz").loss) is Hinge


def test_regression_accuracy_needs_a_precision() -> None:
    with pytest.raises(RuntimeError, match=re.escape("precision is not set; call init(y)")):
        sn.RegressionAccuracy().calculate(np.zeros((2, 1), np.float32), np.zeros((2, 1)))


def test_a_split_that_leaves_one_side_empty_is_refused() -> None:
    with pytest.raises(ValueError, match=r"a 0\.1 split of 3 samples leaves one side empty"):
        datasets.train_validation_split(np.zeros((3, 2)), np.zeros(3), validation=0.1)
