"""A layer written with annotations only: checked against its own parameters, scoped from
forward to backward, inferred when a model is built, saved and loaded like a built-in one."""

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from helpers import EveryOther, Scale
from jaxtyping import Float

import shapenn as sn
from shapenn.shapes import Array2D, ArrayND

F32 = np.float32


def test_an_input_numpy_would_broadcast_is_refused_in_the_layers_words() -> None:
    layer = Scale(4)
    with pytest.raises(sn.ShapeError) as caught:
        layer.forward(np.ones((2, 1), F32))  # NumPy: (2, 1) * (1, 4) -> (2, 4), silently
    assert str(caught.value) == (
        "Scale(4).forward: `inputs` expected floating-point (batch, n=4), got (2, 1) float32: "
        "`n` is 1 here but 4 in `self.scale`.\n"
        "  dims bound so far: n=4"
    )


def test_a_gradient_for_another_batch_is_refused_before_it_broadcasts() -> None:
    layer = Scale(4)
    layer.forward(np.ones((5, 4), F32))
    with pytest.raises(sn.ShapeError) as caught:
        layer.backward(np.ones((1, 4), F32))
    assert "`batch` is 1 here but 5 in the last forward's `inputs`" in str(caught.value)
    assert layer.backward(np.ones((5, 4), F32)).shape == (5, 4)


def test_a_parameter_reassigned_with_another_shape_is_checked_too() -> None:
    layer = Scale(4)
    layer.scale = np.ones((2, 4), F32)
    with pytest.raises(sn.ShapeError, match=r"`self\.scale` expected floating-point \(1, n\)"):
        layer.forward(np.ones((5, 4), F32))


def test_reading_a_cache_before_forward_says_what_to_do() -> None:
    with pytest.raises(AttributeError, match=r"Scale\(4\) has no `output` yet: call forward"):
        _ = Scale(4).output
    with pytest.raises(AttributeError, match=r"has no `dweights` yet: call backward"):

        class Bare(sn.Layer):
            weights: Float[Array2D, "a b"]

        _ = Bare().dweights
    with pytest.raises(AttributeError, match="'Scale' object has no attribute 'nope'"):
        _ = Scale(4).nope  # type: ignore[attr-defined]


def test_a_shape_changing_layer_builds_and_summarizes_from_its_annotations() -> None:
    model = sn.Model([sn.Dense(2, 8, seed=0), EveryOther(), sn.Dense(4, 3, seed=1)])
    assert model.build() == [("batch", 8), ("batch", 4), ("batch", 3)]
    assert "1  EveryOther()  (batch, 4)" in model.summary(print_fn=None)
    with pytest.raises(sn.ShapeError, match=r"n//2 = 8//2 = 4"):
        sn.Model([sn.Dense(2, 8, seed=0), EveryOther(), sn.Dense(8, 3, seed=1)])


def test_a_return_dim_nothing_binds_is_found_by_tracing_one_sample() -> None:
    class Pairs(sn.Layer):
        """(batch, n) → (batch, pairs), where the annotation cannot say how many pairs."""

        def forward(self, inputs: Float[Array2D, "batch n"]) -> Float[Array2D, "batch pairs"]:
            self.inputs = inputs
            self.output = inputs[:, : inputs.shape[1] // 2] * inputs[:, inputs.shape[1] // 2 :]
            return self.output

    model = sn.Model([sn.Dense(2, 6, seed=0), Pairs(), sn.Dense(3, 1)])
    assert model.build() == [("batch", 6), ("batch", 3), ("batch", 1)]
    assert not hasattr(model.layers[1], "inputs")  # tracing left the layer as it was


def test_compute_output_shape_overrides_everything() -> None:
    class Declared(sn.Layer):
        def compute_output_shape(self, input_shape: tuple[Any, ...]) -> tuple[Any, ...]:
            return (input_shape[0], 5)

        def forward(self, inputs: Any) -> Any:
            return inputs

    assert sn.Model([sn.Dense(2, 3), Declared()]).build()[-1] == ("batch", 5)


def test_a_model_may_start_with_any_layer_when_its_input_shape_is_given() -> None:
    model = sn.Model([sn.ReLU(), sn.Dense(4, 2, seed=0)], input_shape=(4,))
    assert model.build() == [("batch", 4), ("batch", 2)]
    assert model.predict(np.ones((3, 4), F32)).shape == (3, 2)
    with pytest.raises(sn.ShapeError, match=r"`in` is 5 here but 4 in `layers\[1\]\.weights`"):
        sn.Model([sn.ReLU(), sn.Dense(4, 2)], input_shape=(5,))


def test_without_an_input_shape_the_first_batch_completes_the_build() -> None:
    model = sn.Model([sn.Tanh(), sn.Dense(4, 2, seed=0)])
    assert model.build() == [None, None]
    assert "(depends on the input)" in model.summary(print_fn=None)
    assert model.predict(np.ones((3, 4), F32)).shape == (3, 2)
    assert model.build() == [("batch", 4), ("batch", 2)]
    with pytest.raises(sn.ShapeError, match=r"`in` is 5 here but 4 in `layers\[1\]\.weights`"):
        model.predict(np.ones((3, 5), F32))


def test_a_custom_layer_trains_saves_and_loads(tmp_path: Path) -> None:
    X, y = sn.datasets.spiral(20, 3, seed=0)
    model = sn.Model(
        [sn.Dense(2, 8, seed=0), Scale(8), sn.ReLU(), sn.Dense(8, 3, seed=1), sn.Softmax()],
        loss=sn.CategoricalCrossentropy(),
        optimizer=sn.Adam(0.05),
        metric=sn.CategoricalAccuracy(),
    )
    before = model.layers[1].scale.copy()  # type: ignore[attr-defined]
    model.fit(X, y, epochs=5, verbose=0)
    assert not np.array_equal(model.layers[1].scale, before)  # type: ignore[attr-defined]
    loaded = sn.load(sn.save(model, tmp_path / "scale.npz"))
    assert type(loaded.layers[1]) is Scale
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    assert loaded.optimizer is not None and loaded.optimizer.iterations == 5


def test_a_layer_with_a_config_dim_computes_with_it() -> None:
    class Stride(sn.Layer):
        step: sn.Dim

        def __init__(self, step: int) -> None:
            self.step = step

        def forward(
            self, inputs: Float[ArrayND, "batch n"]
        ) -> Float[ArrayND, " batch (n-1)//step+1"]:
            return inputs[:, :: self.step]

    assert sn.Model([sn.Dense(2, 7), Stride(3)]).build()[-1] == ("batch", 3)
    with pytest.raises(sn.ShapeError, match=r"axis 1 must be \(n-1\)//step\+1 = \(7-1\)//3\+1"):

        class Wrong(Stride):
            def forward(
                self, inputs: Float[ArrayND, "batch n"]
            ) -> Float[ArrayND, " batch (n-1)//step+1"]:
                return inputs

        Wrong(3).forward(np.ones((2, 7), F32))
