"""Convolutional models: the arithmetic in errors and summaries, input_shape, saving and
loading, and a CNN on scikit-learn's digits."""

from pathlib import Path

import numpy as np
import pytest

import shapenn as sn


def _lenet_like(dense_in: int, **kwargs: object) -> sn.Model:
    return sn.Model(
        [
            sn.Conv2D(1, 8, 3, seed=0),
            sn.ReLU(),
            sn.MaxPool2D(2),
            sn.Flatten(),
            sn.Dense(dense_in, 10, seed=1),
            sn.Softmax(),
        ],
        loss=sn.CategoricalCrossentropy(),
        optimizer=sn.Adam(),
        **kwargs,  # type: ignore[arg-type]
    )


def test_a_wrong_dense_size_after_flatten_explains_the_arithmetic() -> None:
    with pytest.raises(sn.ShapeError) as caught:
        _lenet_like(128, input_shape=(1, 8, 8))
    assert str(caught.value) == (
        "Model: `layers[4] Dense(128 → 10)` expected (batch, in=128), got (batch, 72) from "
        "layers[3] Flatten(): `in` is 72 here but 128 in `layers[4].weights`.\n"
        "  dims bound so far: in=128, out=10\n"
        "  how the sizes got there:\n"
        "    input (batch, 1, 8, 8)\n"
        "    layers[0] Conv2D(1 → 8, 3×3) → (batch, 8, 6, 6): (h+pad_h-kh)//stride_h+1 = "
        "(8+0-3)//1+1 = 6; (w+pad_w-kw)//stride_w+1 = (8+0-3)//1+1 = 6\n"
        "    layers[2] MaxPool2D(2) → (batch, 8, 3, 3): (h-pool_h)//stride_h+1 = (6-2)//2+1 = 3; "
        "(w-pool_w)//stride_w+1 = (6-2)//2+1 = 3\n"
        "    layers[3] Flatten() → (batch, 72)\n"
        "  hint: make layers[4] Dense(72, 10)"
    )


def test_without_input_shape_the_chain_is_validated_on_the_first_batch() -> None:
    model = _lenet_like(128)  # builds: nothing fixes the image size yet
    weights = model.layers[0].get_state()
    X = np.zeros((4, 1, 8, 8), np.float32)
    with pytest.raises(sn.ShapeError, match=r"Flatten\(\) → \(batch, 72\)\n"):
        model.fit(X, np.zeros(4, np.int64), epochs=1, verbose=0)
    after = model.layers[0].get_state()
    assert all(np.array_equal(weights[k], after[k]) for k in weights)  # nothing trained


def test_the_summary_shows_every_size() -> None:
    text = _lenet_like(72, input_shape=(1, 8, 8)).summary(print_fn=None)
    for shape in ("(batch, 8, 6, 6)", "(batch, 8, 3, 3)", "(batch, 72)", "(batch, 10)"):
        assert shape in text
    assert "80" in text and "730" in text  # 8·9 + 8 and 72·10 + 10 parameters


@pytest.mark.parametrize("input_shape", [(1, 8, 8), None])
def test_flat_images_get_a_reshape_hint(input_shape: tuple[int, int, int] | None) -> None:
    model = _lenet_like(72, input_shape=input_shape)
    with pytest.raises(sn.ShapeError) as caught:
        model.predict(np.zeros((5, 64), np.float32))
    text = str(caught.value)
    assert "it is 2-D but 4-D is needed" in text
    assert "X.reshape(-1, 1, 8, 8)" in text
    assert "stride_h" not in text  # settings the input does not use are not listed


def test_an_image_too_small_for_the_network_is_refused_with_the_smallest_size() -> None:
    with pytest.raises(sn.ShapeError) as caught:
        sn.Model([sn.Conv2D(1, 8, 3), sn.MaxPool2D(2)], input_shape=(1, 3, 3))
    text = str(caught.value)
    assert text.startswith("Model: `layers[1] MaxPool2D(2)` expected (batch, channels, h, w)")
    assert "axis 2 of the output would be (h-pool_h)//stride_h+1 = (1-2)//2+1 = 0" in text
    assert "`h` must be at least 2 here" in text
    with pytest.raises(sn.ShapeError, match=r"\(3\+0-5\)//1\+1 = -1; `h` must be at least 5"):
        sn.Conv2D(1, 8, 5).forward(np.zeros((2, 1, 3, 3), np.float32))


def test_conv_models_save_load_and_summarize_like_the_rest(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(12, 3, 9, 7)).astype(np.float32)
    y = rng.integers(0, 4, 12)
    model = sn.Model(
        [
            sn.Conv2D(3, 4, (3, 2), stride=(2, 1), padding=1, seed=0, weight_regularizer_l2=1e-3),
            sn.Tanh(),
            sn.AvgPool2D(2, stride=1),
            sn.Conv2D(4, 5, 3, padding="same", seed=1),
            sn.ReLU(),
            sn.MaxPool2D((2, 3)),
            sn.Flatten(),
            sn.Dropout(0.2, seed=2),
            sn.Dense(20, 4, seed=3),
            sn.Softmax(),
        ],
        loss=sn.CategoricalCrossentropy(),
        optimizer=sn.Adam(0.01),
        metric=sn.CategoricalAccuracy(),
        input_shape=(3, 9, 7),
    )
    model.fit(X, y, epochs=3, batch_size=4, seed=0, verbose=0)
    loaded = sn.load(sn.save(model, tmp_path / "cnn.npz"))
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    assert loaded.summary(print_fn=None) == model.summary(print_fn=None)
    first = loaded.layers[0]
    assert isinstance(first, sn.Conv2D)
    assert (first.kernel_size, first.stride, first.padding) == ((3, 2), (2, 1), (1, 1))
    assert loaded.layers[3].padding == "same"  # type: ignore[attr-defined]
    # Training resumes exactly where it stopped.
    model.fit(X, y, epochs=1, batch_size=4, seed=1, verbose=0)
    loaded.fit(X, y, epochs=1, batch_size=4, seed=1, verbose=0)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


def test_a_small_cnn_reaches_98_percent_on_held_out_digits() -> None:
    X, y = sn.datasets.digits(images=True)
    X_train, X_val, y_train, y_val = sn.datasets.train_validation_split(X, y, seed=0)
    model = sn.Model(
        [
            sn.Conv2D(1, 16, 3, padding=1, seed=0),
            sn.ReLU(),
            sn.MaxPool2D(2),
            sn.Flatten(),
            sn.Dense(256, 10, seed=1, weight_scale=1 / 16),
            sn.Softmax(),
        ],
        loss=sn.CategoricalCrossentropy(),
        optimizer=sn.Adam(learning_rate=0.01, decay=1e-3),
        metric=sn.CategoricalAccuracy(),
        input_shape=(1, 8, 8),
    )
    model.fit(X_train, y_train, epochs=30, batch_size=32, seed=0, verbose=0)
    _, accuracy = model.evaluate(X_val, y_val)
    assert accuracy is not None and accuracy >= 0.98
