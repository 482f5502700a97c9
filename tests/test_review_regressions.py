"""Regression tests for problems found in review: each one failed before its fix."""

import copy
import hashlib
import json
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import shapenn as sn
from shapenn.datasets import spiral


def classifier(optimizer: sn.Optimizer | None = None) -> sn.Model:
    return sn.Model(
        [sn.Dense(2, 16, seed=0), sn.ReLU(), sn.Dense(16, 3, seed=1), sn.Softmax()],
        loss=sn.CategoricalCrossentropy(),
        optimizer=optimizer or sn.Adam(learning_rate=0.05),
        metric=sn.CategoricalAccuracy(),
    )


def test_an_overflowing_last_update_is_caught_and_rolled_back() -> None:
    X, y = spiral(20, 3)
    model = classifier(sn.SGD(learning_rate=1e39, momentum=0.9))
    before = [layer.weights.copy() for layer in model.trainable_layers]  # type: ignore[attr-defined]
    with pytest.raises(sn.DivergenceError) as caught:
        model.fit(X, y, epochs=1, verbose=0)
    assert str(caught.value).startswith(
        "Model.fit: the weights became non-finite at epoch 1, step 1; training stopped and the "
        "model is restored to its weights and optimizer state from before training."
    )
    for layer, weights in zip(model.trainable_layers, before, strict=True):
        np.testing.assert_array_equal(layer.weights, weights)  # type: ignore[attr-defined]
    assert model.optimizer is not None and model.optimizer.iterations == 0
    model.set(optimizer=sn.SGD(learning_rate=0.5))  # and training can go on from there
    history = model.fit(X, y, epochs=3, verbose=0)
    assert np.isfinite(history.loss).all()


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


def test_a_malformed_architecture_record_is_a_model_file_error(tmp_path: Path) -> None:
    path = sn.save(classifier(), tmp_path / "m.npz")
    with np.load(path) as archive:
        contents = {key: archive[key] for key in archive.files}
    header = json.loads(contents["__shapenn__"].tobytes())
    header["loss"] = {"type": "Hinge"}
    text = json.dumps(header).encode()
    contents["__shapenn__"] = np.frombuffer(text, np.uint8)
    contents["__shapenn_sha256__"] = np.frombuffer(
        hashlib.sha256(text).hexdigest().encode(), np.uint8
    )
    with path.open("wb") as handle:
        np.savez(handle, **contents)
    with pytest.raises(sn.ModelFileError, match=r"the loss is malformed"):
        sn.load(path)


def test_a_saved_file_holds_only_the_declared_arrays(tmp_path: Path) -> None:
    with np.load(sn.save(classifier(), tmp_path / "m.npz")) as archive:
        assert "allow_pickle" not in archive.files


def test_gradcheck_works_on_fortran_ordered_weights() -> None:
    weights = np.asfortranarray(np.random.default_rng(0).normal(size=(3, 2)))
    layer = sn.Dense.from_arrays(weights, dtype=np.float64)
    X = np.asfortranarray(np.random.default_rng(1).normal(size=(4, 3)))
    assert sn.gradcheck(layer, X).ok


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


def test_backward_parameters_ties_dvalues_to_the_layer() -> None:
    layer = sn.Dense(2, 8)
    layer.forward(np.zeros((4, 2), np.float32))
    with pytest.raises(sn.ShapeError, match=r"`out` is 5 here but 8 in `self\.weights`"):
        layer.backward_parameters(np.zeros((4, 5), np.float32))


def test_errors_survive_pickling() -> None:
    with pytest.raises(sn.ShapeError) as caught:
        sn.Dense(4, 3).forward(np.zeros((2, 5), np.float32))
    again = pickle.loads(pickle.dumps(caught.value))
    assert str(again) == str(caught.value) and again.argument == "inputs"
    label = sn.LabelError("labels must be in [0, 3)", where="Model.fit")
    assert str(pickle.loads(pickle.dumps(label))) == "Model.fit: labels must be in [0, 3)"


def test_predict_on_an_empty_npy_file_is_one_line(tmp_path: Path) -> None:
    sn.save(classifier(), tmp_path / "m.npz")
    (tmp_path / "empty.npy").write_bytes(b"")
    result = subprocess.run(
        [sys.executable, "-m", "shapenn", "predict", "m.npz", "empty.npy"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert result.returncode == 1
    assert result.stderr.startswith("shapenn: error: empty.npy: not a readable .npy array")
    assert "Traceback" not in result.stderr


def test_the_transpose_hint_never_blames_a_trusted_argument() -> None:
    predictions = np.zeros((5, 2), np.float32)
    with pytest.raises(sn.ShapeError) as caught:
        sn.MeanSquaredError().calculate(predictions, np.zeros((2, 5), np.float32))
    assert str(caught.value).endswith("hint: `y_true` looks transposed: pass `y_true.T`")
