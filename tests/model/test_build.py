"""No stale builds: a model re-validates whenever its layers or their parameters' shapes change,
and `save` never writes a file that `load` refuses."""

from pathlib import Path

import numpy as np
import pytest
from helpers import classifier

import shapenn as sn

F32 = np.float32


def test_replacing_a_layer_is_validated_before_the_next_summary_predict_or_save(
    tmp_path: Path,
) -> None:
    model = classifier()
    model.layers[2] = sn.Dense(32, 3)
    for action in (
        lambda: model.summary(print_fn=None),
        lambda: model.predict(np.zeros((2, 2), F32)),
        lambda: sn.save(model, tmp_path / "m.npz"),
    ):
        with pytest.raises(sn.ShapeError, match=r"`layers\[2\] Dense\(32 → 3\)`"):
            action()
    assert list(tmp_path.iterdir()) == []


def test_appending_to_the_layers_list_shows_in_the_summary() -> None:
    model = classifier()
    model.layers.append(sn.Linear())
    table = model.summary(print_fn=None)
    assert "4  Linear()       (batch, 3)         0" in table
    assert len(model.build()) == 5


def test_a_reassigned_parameter_of_another_shape_is_caught_before_fit() -> None:
    model = classifier()
    dense = model.layers[0]
    assert isinstance(dense, sn.Dense)
    dense.weights = np.zeros((2, 8), F32)
    dense.biases = np.zeros((1, 8), F32)
    X, y = sn.datasets.spiral(5, 3)
    with pytest.raises(sn.ShapeError, match=r"`in` is 8 here but 16 in `layers\[2\]\.weights`"):
        model.fit(X, y, verbose=0)
    with pytest.raises(sn.ShapeError, match=r"`layers\[2\] Dense\(16 → 3\)`"):
        model.summary(print_fn=None)


def test_a_valid_change_is_picked_up_too() -> None:
    model = classifier()
    model.layers[0] = sn.Dense(2, 16, seed=5)
    assert model.predict(np.zeros((4, 2), F32)).shape == (4, 3)


def test_save_refuses_what_load_would_refuse_and_writes_nothing(tmp_path: Path) -> None:
    model = classifier()
    model.layers[0].weights[0, 0] = np.nan  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match=r"`weights` holds NaN or infinite values"):
        sn.save(model, tmp_path / "m.npz")

    class Unbuildable(sn.Linear):
        def __init__(self, width: int = 3) -> None:
            self.width = "three"  # read back by get_config, refused by from_config below

        @classmethod
        def from_config(cls, config: dict[str, object]) -> "Unbuildable":
            raise ValueError(f"width must be an int, got {config['width']!r}")

    with pytest.raises(sn.ModelFileError) as caught:
        sn.save(sn.Model([*classifier().layers, Unbuildable()]), tmp_path / "m.npz")
    assert str(caught.value).startswith(
        f"{tmp_path / 'm.npz'}: not saved: the file would not load back (layers[4] ("
    )
    assert "width must be an int, got 'three'" in str(caught.value)
    assert list(tmp_path.iterdir()) == []


def test_the_target_is_untouched_when_verification_fails(tmp_path: Path) -> None:
    path = sn.save(classifier(), tmp_path / "m.npz")
    before = path.read_bytes()

    class Unbuildable(sn.Linear):
        @classmethod
        def from_config(cls, config: dict[str, object]) -> "Unbuildable":
            raise ValueError("no")

    with pytest.raises(sn.ModelFileError):
        sn.save(sn.Model([*classifier().layers, Unbuildable()]), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]
