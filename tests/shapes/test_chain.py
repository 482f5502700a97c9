"""A model's forward and backward are checked layer by layer the first time a signature is seen,
as one key after that: the same results as checking every call, the same errors."""

import copy
import pickle
import traceback

import numpy as np
import pytest

import shapenn as sn
from shapenn.shapes import cache_info

F32 = np.float32


def _model() -> sn.Model:
    return sn.Model(
        [sn.Dense(4, 8, seed=0), sn.ReLU(), sn.Dense(8, 3, seed=1), sn.Softmax()],
        loss=sn.CategoricalCrossentropy(),
        optimizer=sn.Adam(),
    )


def _data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.standard_normal((32, 4)).astype(F32), rng.integers(0, 3, 32)


def test_after_the_first_steps_the_layers_methods_are_not_checked_one_by_one() -> None:
    X, y = _data()
    model = _model()
    model.fit(X, y, epochs=2, batch_size=8, verbose=0)
    before = cache_info(sn.Dense.forward), cache_info(sn.Dense.backward)
    model.fit(X, y, epochs=1, batch_size=8, verbose=0)
    after = cache_info(sn.Dense.forward), cache_info(sn.Dense.backward)
    assert [a.hits + a.misses for a in after] == [b.hits + b.misses for b in before]


def test_training_gives_the_same_weights_with_checks_on_and_off() -> None:
    X, y = _data()
    weights = []
    for checks in (True, False):
        model = _model()
        with sn.checks(checks):
            model.fit(X, y, epochs=5, batch_size=8, seed=0, verbose=0)
        weights.append([layer.weights.copy() for layer in model.layers[::2]])
    for on, off in zip(*weights, strict=True):
        np.testing.assert_array_equal(on, off)


def test_a_weight_replaced_with_a_wrong_shape_is_caught_on_the_next_call() -> None:
    X, y = _data()
    model = _model()
    model.fit(X, y, epochs=2, batch_size=8, verbose=0)
    for _ in range(2):
        model.forward(X[:8])
    hits = model._forward_chain.hits
    model.forward(X[:8])
    assert model._forward_chain.hits == hits + 1  # the short path, where this is decided
    model.layers[2].biases = np.zeros((1, 1), F32)  # (8, 3) @ … + (1, 1) would broadcast
    with pytest.raises(sn.ShapeError, match=r"^Dense\(8 → 3\)\.forward: `self\.biases`"):
        model.forward(X[:8])


def test_a_cache_replaced_between_forward_and_backward_is_caught() -> None:
    X, y = _data()
    model = _model()
    model.fit(X, y, epochs=2, batch_size=8, verbose=0)
    for _ in range(3):
        output = model.forward(X[:8])
        model.backward(output, y[:8])
    hits = model._backward_chain.hits
    model.backward(output, y[:8])
    assert model._backward_chain.hits == hits + 1  # the short path, where this is decided
    output = model.forward(X[:8])
    model.layers[1].inputs = model.layers[1].inputs[:1]  # (1, 8) would broadcast in ReLU's
    with pytest.raises(sn.ShapeError, match=r"ReLU\(\)\.backward"):
        model.backward(output, y[:8])


def test_a_value_error_on_the_short_path_names_the_layer() -> None:
    model = sn.Model([sn.Embedding(10, 4, seed=0), sn.Flatten(), sn.Dense(12, 3, seed=1)])
    ids = np.zeros((2, 3), np.int64)
    for _ in range(3):
        model.forward(ids)
    with pytest.raises(
        sn.LabelError, match=r"^Embedding\(10 → 4\)\.forward: ids must be in"
    ) as caught:
        model.forward(np.full((2, 3), 11))
    # What a person sees: one line, no chained checker exceptions behind it.
    message = traceback.format_exception_only(caught.value)
    assert len(message) == 1 and len(message[0]) < 120
    printed = "".join(traceback.format_exception(caught.value))
    assert "During handling" not in printed and "direct cause" not in printed


def test_a_trained_model_copies_and_pickles() -> None:
    X, y = _data()
    model = _model()
    model.fit(X, y, epochs=2, batch_size=8, verbose=0)
    for clone in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        clone.fit(X, y, epochs=1, batch_size=8, verbose=0)
        np.testing.assert_allclose(clone.predict(X).sum(axis=1), 1, rtol=1e-5)
