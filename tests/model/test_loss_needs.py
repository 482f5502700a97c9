"""A model whose last layer cannot feed its loss is refused before the first step: a classifier
without Softmax would otherwise drive the loss towards zero at chance accuracy."""

import numpy as np
import pytest

import shapenn as sn
from shapenn.datasets import spiral

X, y = spiral(samples=50, classes=3, seed=0)


def _classifier(*last: sn.Layer, loss: sn.Loss | None = None) -> sn.Model:
    return sn.Model(
        [sn.Dense(2, 16, seed=0), sn.ReLU(), sn.Dense(16, 3, seed=1), *last],
        loss=loss or sn.CategoricalCrossentropy(),
        optimizer=sn.Adam(0.05),
        metric=sn.CategoricalAccuracy(),
    )


@pytest.mark.parametrize(
    ("last", "named"),
    [
        ((), "layers[2] Dense(16 → 3)"),
        ((sn.Sigmoid(),), "layers[3] Sigmoid()"),
        ((sn.ReLU(),), "layers[3] ReLU()"),
    ],
    ids=["dense", "sigmoid", "relu"],
)
def test_cross_entropy_without_softmax_is_refused_before_training(
    last: tuple[sn.Layer, ...], named: str
) -> None:
    model = _classifier(*last)
    before = [p.value.copy() for layer in model.layers for p in layer.parameters()]
    with pytest.raises(sn.ArgumentError) as caught:
        model.fit(X, y, epochs=5, verbose=0)
    message = str(caught.value)
    assert message.startswith(
        "Model.fit: CategoricalCrossentropy() takes class probabilities (rows in [0, 1] that "
        f"sum to 1), but {named} outputs rows such as ["
    )
    assert message.endswith(
        "end the model with Softmax(); the model then uses the short softmax–cross-entropy "
        "gradient, as the book's SoftmaxCategoricalCrossentropy does"
    )
    after = [p.value for layer in model.layers for p in layer.parameters()]
    assert all(np.array_equal(a, b) for a, b in zip(before, after, strict=True))  # no step
    assert model.optimizer is not None and model.optimizer.iterations == 0


def test_evaluate_refuses_it_too() -> None:
    with pytest.raises(sn.ArgumentError, match="end the model with Softmax"):
        _classifier().evaluate(X, y)


def test_with_softmax_it_trains() -> None:
    history = _classifier(sn.Softmax()).fit(X, y, epochs=200, verbose=0)
    assert history.accuracy[-1] > 0.6


def test_binary_cross_entropy_needs_values_in_0_1() -> None:
    targets = (y == 1).astype(np.float32).reshape(-1, 1)
    model = sn.Model(
        [sn.Dense(2, 8, seed=0), sn.ReLU(), sn.Dense(8, 1, seed=1)],
        loss=sn.BinaryCrossentropy(),
        optimizer=sn.Adam(),
    )
    with pytest.raises(sn.ArgumentError) as caught:
        model.fit(X, targets, epochs=2, verbose=0)
    assert str(caught.value).startswith(
        "Model.fit: BinaryCrossentropy() takes probabilities in [0, 1], one per output, but "
        "layers[2] Dense(8 → 1) outputs "
    )
    assert str(caught.value).endswith(": end the model with Sigmoid()")
    model.add(sn.Sigmoid())
    model.fit(X, targets, epochs=2, verbose=0)
