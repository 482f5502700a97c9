"""Saving and loading: identical predictions, exact resumption, atomic writes, refused bad files."""

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from helpers import classifier
from jaxtyping import Float

import shapenn as sn
from shapenn.datasets import spiral
from shapenn.shapes import Array1D, Array2D, Buffer


def model() -> sn.Model:
    return sn.Model(
        [
            sn.Dense(2, 16, seed=0, weight_regularizer_l2=1e-4),
            sn.ReLU(),
            sn.Dropout(0.1, seed=3),
            sn.Dense(16, 3, seed=1),
            sn.Softmax(),
        ],
        loss=sn.CategoricalCrossentropy(),
        optimizer=sn.Adam(learning_rate=0.05, decay=1e-4),
        metric=sn.CategoricalAccuracy(),
    )


@pytest.fixture
def data() -> tuple[Any, Any]:
    return spiral(50, 3, seed=0)


def test_predictions_are_identical_after_load(tmp_path: Path, data: tuple[Any, Any]) -> None:
    X, y = data
    trained = model()
    trained.fit(X, y, epochs=5, verbose=0)
    path = sn.save(trained, tmp_path / "model.npz")
    loaded = sn.load(path)
    np.testing.assert_array_equal(loaded.predict(X), trained.predict(X))
    assert repr(loaded) == repr(trained)
    assert loaded.evaluate(X, y) == trained.evaluate(X, y)


def test_resumed_training_is_identical_to_uninterrupted(tmp_path: Path, data: Any) -> None:
    X, y = data
    straight = model()
    straight.fit(X, y, epochs=10, verbose=0)
    first = model()
    first.fit(X, y, epochs=4, verbose=0)
    resumed = sn.load(sn.save(first, tmp_path / "half.npz"))
    resumed.fit(X, y, epochs=6, verbose=0)
    for a, b in zip(straight.trainable_layers, resumed.trainable_layers, strict=True):
        np.testing.assert_array_equal(a.weights, b.weights)  # type: ignore[attr-defined]
        np.testing.assert_array_equal(a.biases, b.biases)  # type: ignore[attr-defined]


def test_the_file_is_plain_npz_readable_without_pickle(tmp_path: Path) -> None:
    path = sn.save(model(), tmp_path / "m.npz")
    with np.load(path, allow_pickle=False) as archive:
        header = json.loads(archive["__shapenn__"].tobytes())
        assert header["format"] == "shapenn-model" and header["version"] == 2
        assert archive["layers.0.weights"].shape == (2, 16)


def test_a_crash_mid_save_leaves_the_old_file_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = sn.save(model(), tmp_path / "m.npz")
    before = path.read_bytes()

    def crash(*args: Any, **kwargs: Any) -> None:
        args[0].write(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", crash)
    with pytest.raises(OSError, match="disk full"):
        sn.save(model(), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]  # no temporary file left


def test_a_truncated_file_is_refused(tmp_path: Path) -> None:
    path = sn.save(model(), tmp_path / "m.npz")
    path.write_bytes(path.read_bytes()[:300])
    with pytest.raises(sn.ModelFileError, match="the archive is damaged or truncated"):
        sn.load(path)


def _rewrite(path: Path, change: Any) -> None:
    with np.load(path, allow_pickle=False) as archive:
        contents = {key: archive[key] for key in archive.files}
    change(contents)
    with path.open("wb") as handle:
        np.savez(handle, **contents)


def test_a_tampered_array_is_refused(tmp_path: Path) -> None:
    path = sn.save(model(), tmp_path / "m.npz")

    def nudge(contents: dict[str, Any]) -> None:
        contents["layers.3.weights"] = contents["layers.3.weights"] + np.float32(1e-3)

    _rewrite(path, nudge)
    with pytest.raises(sn.ModelFileError, match=r"`layers.3.weights` does not match its checksum"):
        sn.load(path)


def test_an_array_of_the_wrong_shape_is_refused(tmp_path: Path) -> None:
    path = sn.save(model(), tmp_path / "m.npz")
    _rewrite(path, lambda c: c.update({"layers.0.weights": c["layers.0.weights"].T.copy()}))
    with pytest.raises(sn.ModelFileError) as caught:
        sn.load(path)
    assert str(caught.value).endswith(
        "`layers.0.weights` has shape (16, 2) float32, but the architecture says (2, 16) float32"
    )


def test_another_version_and_a_foreign_file_are_refused(tmp_path: Path) -> None:
    path = sn.save(model(), tmp_path / "m.npz")

    def bump(contents: dict[str, Any]) -> None:
        header = json.loads(contents["__shapenn__"].tobytes())
        header["version"] = 99
        contents["__shapenn__"] = np.frombuffer(json.dumps(header).encode(), np.uint8)

    _rewrite(path, bump)
    with pytest.raises(sn.ModelFileError, match="format version 99, but this shapenn reads"):
        sn.load(path)
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, weights=np.zeros((2, 2)))
    with pytest.raises(sn.ModelFileError, match=r"no architecture record"):
        sn.load(foreign)
    with pytest.raises(sn.ModelFileError, match="no such file"):
        sn.load(tmp_path / "missing.npz")


class Opaque(sn.Layer):
    def __init__(self, secret: int) -> None:
        self.hidden = secret


def test_a_layer_whose_config_cannot_be_read_back_is_refused_and_nothing_is_written(
    tmp_path: Path,
) -> None:
    with pytest.raises(TypeError, match=r"cannot save Opaque\(\): its __init__ takes `secret`"):
        sn.save(sn.Model([sn.Dense(2, 2), Opaque(3)]), tmp_path / "m.npz")
    assert list(tmp_path.iterdir()) == []


def test_an_edited_architecture_record_is_refused(tmp_path: Path) -> None:
    path = sn.save(model(), tmp_path / "m.npz")

    def edit(contents: dict[str, Any]) -> None:
        header = json.loads(contents["__shapenn__"].tobytes())
        header["layers"][2]["config"]["rate"] = 0.5
        contents["__shapenn__"] = np.frombuffer(json.dumps(header).encode(), np.uint8)

    _rewrite(path, edit)
    with pytest.raises(sn.ModelFileError, match="architecture record does not match its checksum"):
        sn.load(path)


def test_a_regression_model_keeps_its_metric_precision(tmp_path: Path) -> None:
    X = np.linspace(0, 1, 50, dtype=np.float32).reshape(-1, 1)
    regression = sn.Model(
        [sn.Dense(1, 8, seed=0), sn.Tanh(), sn.Dense(8, 1, seed=1), sn.Linear()],
        loss=sn.MeanSquaredError(),
        optimizer=sn.SGD(0.1, momentum=0.5),
        metric=sn.RegressionAccuracy(),
    )
    regression.fit(X, np.sin(X), epochs=3, verbose=0)
    loaded = sn.load(sn.save(regression, tmp_path / "r.npz"))
    assert isinstance(loaded.metric, sn.RegressionAccuracy)
    assert loaded.metric.precision == regression.metric.precision  # type: ignore[union-attr]
    assert isinstance(loaded.optimizer, sn.SGD) and loaded.optimizer.momentum == 0.5


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


class Hinge(sn.MeanSquaredError):
    pass


def test_a_users_own_loss_saves_and_loads_like_a_built_in_one(tmp_path: Path) -> None:
    sn.save(sn.Model([sn.Dense(2, 2)], loss=Hinge()), tmp_path / "m.npz")
    assert type(sn.load(tmp_path / "m.npz").loss) is Hinge


def test_temporary_files_of_killed_saves_are_removed_on_the_next_save(tmp_path: Path) -> None:
    dead = tmp_path / ".m.npz.999999999.abc123.tmp"  # no process has that id
    alive = tmp_path / f".m.npz.{os.getpid()}.def456.tmp"  # a save in progress here
    other = tmp_path / ".other.npz.999999999.x.tmp"
    for leftover in (dead, alive, other):
        leftover.write_bytes(b"half a file")
    sn.save(model(), tmp_path / "m.npz")
    assert not dead.exists() and alive.exists() and other.exists()


def test_a_symbolic_link_is_written_through(tmp_path: Path) -> None:
    real = sn.save(model(), tmp_path / "real.npz")
    link = tmp_path / "link.npz"
    link.symlink_to(real)
    sn.save(model(), link)
    assert link.is_symlink() and sn.load(link) is not None


@pytest.mark.parametrize(
    ("target", "error", "words"),
    [
        ("folder", sn.PathError, "it is a folder; give a file name in it"),
        ("missing/m.npz", sn.PathError, "does not exist; create it first"),
    ],
)
def test_save_failures_are_clear_and_write_nothing(
    tmp_path: Path, target: str, error: type[Exception], words: str
) -> None:
    (tmp_path / "folder").mkdir()
    with pytest.raises(error, match=words):
        sn.save(model(), tmp_path / target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_folder_is_a_clear_error(tmp_path: Path) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(sn.PathError, match="is not writable"):
            sn.save(model(), folder / "m.npz")
    finally:
        folder.chmod(0o700)


def test_loading_refuses_more_data_than_allowed(tmp_path: Path) -> None:
    path = sn.save(model(), tmp_path / "m.npz")
    with pytest.raises(sn.ModelFileError, match="too large to load"):
        sn.load(path, max_bytes=64)


class RunningMean(sn.Layer):
    """A user's layer with a running statistic it forgot to declare as a buffer."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.running = np.zeros(n, dtype=np.float32)

    def forward(self, inputs: Float[Array2D, "batch n"]) -> Float[Array2D, "batch n"]:
        if self.training:
            self.running = 0.9 * self.running + 0.1 * inputs.mean(axis=0)
        self.scratch = inputs * 2  # a cache: set by forward, never saved
        return inputs - self.running

    def backward(self, dvalues: Float[Array2D, "batch n"]) -> Float[Array2D, "batch n"]:
        return dvalues


class DeclaredRunningMean(RunningMean):
    running: Buffer[Float[Array1D, " n"]]


def test_an_undeclared_array_is_refused_with_how_to_declare_it(tmp_path: Path) -> None:
    model = sn.Model([sn.Dense(3, 3, seed=0), RunningMean(3)])
    with pytest.raises(sn.ArgumentError) as caught:
        sn.save(model, tmp_path / "m.npz")
    assert str(caught.value) == (
        "cannot save layers[1] RunningMean(): it holds `running`, an array it does not declare, "
        "which would be lost. Declare it in the class: `running: Buffer[Float[...]]` to save it "
        "(a running statistic), or `running: Cache[Float[...]]` if it is recomputed by every "
        "forward"
    )
    assert list(tmp_path.iterdir()) == []


def test_a_declared_buffer_is_saved_and_a_cache_is_not(tmp_path: Path) -> None:
    model = sn.Model([sn.Dense(3, 3, seed=0), DeclaredRunningMean(3)])
    X = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    model.set_training(True)
    model.forward(X)
    model.set_training(False)
    loaded = sn.load(sn.save(model, tmp_path / "m.npz"))
    layer = loaded.layers[1]
    assert isinstance(layer, DeclaredRunningMean)
    np.testing.assert_array_equal(layer.running, model.layers[1].running)  # type: ignore[attr-defined]
    assert not hasattr(layer, "scratch")
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    assert [b.path for b in layer.buffers()] == ["running"]
    assert layer.parameters() == []
