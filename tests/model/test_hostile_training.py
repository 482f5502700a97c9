"""Training under hostile use: huge gradients, pickling, threads, Ctrl-C, odd arguments."""

import copy
import pickle
import signal
import threading
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from helpers import classifier
from jaxtyping import Float

import shapenn as sn
from shapenn.shapes import Array2D


@pytest.fixture(scope="module")
def spiral() -> tuple[Any, Any]:
    return sn.datasets.spiral(samples=50, classes=3, seed=0)


def _weights(model: sn.Model) -> list[Any]:
    return [p.value.copy() for p in model.parameters()]


def test_an_optimizer_state_overflow_is_a_divergence_and_the_model_still_saves(
    spiral: Any, tmp_path: Path
) -> None:
    X, y = spiral
    model = sn.Model(
        [sn.Dense(2, 3, seed=0), sn.Softmax()],
        loss=sn.CategoricalCrossentropy(),
        optimizer=sn.Adam(learning_rate=1e-3),
    )
    before = _weights(model)
    # Gradients near 1e22 square past float32's largest value in Adam's `v`; the weights
    # themselves would stay finite (the step is m / √v), and training would silently stall.
    with pytest.raises(sn.DivergenceError, match="the optimizer's state `v` NaN or infinite"):
        model.fit(X * np.float32(1e22), y, epochs=2, verbose=0)
    for a, b in zip(_weights(model), before, strict=True):
        np.testing.assert_array_equal(a, b)
    loaded = sn.load(sn.save(model, tmp_path / "m.npz"))
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


def test_a_pickled_or_copied_model_trains_as_the_original(spiral: Any) -> None:
    X, y = spiral
    model = classifier()
    model.fit(X, y, epochs=5, seed=0, verbose=0)
    twins = [copy.deepcopy(model), pickle.loads(pickle.dumps(model)), model]
    losses = [m.fit(X, y, epochs=20, seed=0, verbose=0).loss for m in twins]
    assert losses[0] == losses[1] == losses[2]


def test_predicting_in_another_thread_changes_nothing_of_training(spiral: Any) -> None:
    X, y = spiral
    alone = classifier()
    alone.fit(X, y, epochs=30, batch_size=16, seed=0, verbose=0, threads=1)
    busy = classifier()
    done = threading.Event()
    predictions = []

    def predict_all_the_time() -> None:
        while not done.is_set():
            predictions.append(busy.predict(X[:7], threads=1).shape)

    other = threading.Thread(target=predict_all_the_time)
    other.start()
    try:
        busy.fit(X, y, epochs=30, batch_size=16, seed=0, verbose=0, threads=1)
    finally:
        done.set()
        other.join()
    assert len(predictions) > 10 and set(predictions) == {(7, 3)}
    for a, b in zip(_weights(busy), _weights(alone), strict=True):
        np.testing.assert_array_equal(a, b)


def test_overlapping_calls_give_back_the_blas_setting_of_before() -> None:
    threadpoolctl = pytest.importorskip("threadpoolctl")

    def blas_threads() -> list[int]:
        found = threadpoolctl.threadpool_info()
        return [info["num_threads"] for info in found if info["user_api"] == "blas"]

    before = blas_threads()
    model = classifier()
    X = np.random.default_rng(0).normal(size=(64, 2)).astype(np.float32)
    barrier = threading.Barrier(4)

    def work(threads: int) -> None:
        barrier.wait()
        for _ in range(200):
            model.predict(X, threads=threads)

    runners = [threading.Thread(target=work, args=(t,)) for t in (1, 2, 1, 2)]
    for runner in runners:
        runner.start()
    for runner in runners:
        runner.join()
    assert blas_threads() == before


def test_swapping_layers_does_not_keep_old_buffers(spiral: Any) -> None:
    X, y = spiral
    model = classifier()
    model.fit(X, y, epochs=1, verbose=0)
    optimizer = model.optimizer
    assert optimizer is not None
    first = sum(b.nbytes for b in optimizer._buffers)
    for cycle in range(12):
        model.layers[2] = sn.Dense(16, 3, seed=cycle)  # a new head each time
        model.fit(X, y, epochs=1, verbose=0)
    assert sum(b.nbytes for b in optimizer._buffers) == first


class _Interrupting(sn.Layer):
    """Passes its input on; its backward raises SIGINT (as Ctrl-C does) at one step."""

    def __init__(self, at: int) -> None:
        self.at, self.calls = at, 0

    def forward(self, inputs: Float[Array2D, "batch n"]) -> Float[Array2D, "batch n"]:
        return inputs

    def backward(self, dvalues: Float[Array2D, "batch n"]) -> Float[Array2D, "batch n"]:
        self.calls += 1
        if self.calls == self.at:
            signal.raise_signal(signal.SIGINT)
        return dvalues


def test_ctrl_c_takes_effect_between_steps(spiral: Any) -> None:
    X, y = spiral

    def model(at: int) -> sn.Model:
        layers = [sn.Dense(2, 8, seed=0), _Interrupting(at), sn.ReLU(), sn.Dense(8, 3, seed=1)]
        return sn.Model(
            [*layers, sn.Softmax()],
            loss=sn.CategoricalCrossentropy(),
            optimizer=sn.SGD(learning_rate=0.5),
        )

    interrupted = model(at=3)
    with pytest.raises(KeyboardInterrupt):
        interrupted.fit(X, y, epochs=10, batch_size=10, shuffle=False, verbose=0)
    assert interrupted.optimizer is not None and interrupted.optimizer.iterations == 3
    three = model(at=0)
    three.fit(X[:30], y[:30], epochs=1, batch_size=10, shuffle=False, verbose=0)
    for a, b in zip(_weights(interrupted), _weights(three), strict=True):
        np.testing.assert_array_equal(a, b)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_the_default_inference_batch_is_sized_by_bytes() -> None:
    model = sn.Model(
        [sn.Conv2D(3, 16, 3, padding="same", seed=0), sn.ReLU()], input_shape=(3, 64, 64)
    )
    X = np.random.default_rng(0).random((1100, 3, 64, 64), dtype=np.float32)
    tracemalloc.start()
    try:
        model.predict(X)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # The result alone is 1100 × 16 × 64 × 64 float32 = 275 MiB; batches of 1024 images
    # added 2 × 256 MiB of activations on top, sized by bytes they add about 64 MiB.
    result = 1100 * 16 * 64 * 64 * 4
    assert peak < result + 160 * 2**20, peak / 2**20


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"verbose": "x"}, "verbose must be 0 (silent), 1 (a progress bar) or 2"),
        ({"verbose": None}, "verbose must be 0"),
        ({"verbose": 1.5}, "verbose must be 0"),
        ({"verbose": True}, "verbose must be 0"),
        ({"callback": 5}, "callback must be a function (epoch, figures) or None, got 5"),
        ({"threads": 10**30}, "threads must be an integer from 1 to 4096 or None"),
        ({"batch_size": np.float32(5)}, "batch_size must be a positive integer or None"),
        ({"epochs": np.int8(-3)}, "epochs must be a positive integer"),
        ({"seed": -1}, "seed must be an integer >= 0"),
    ],
)
def test_bad_fit_arguments_are_refused_before_training(
    spiral: Any, options: dict[str, Any], words: str
) -> None:
    X, y = spiral
    model = classifier()
    before = _weights(model)
    arguments = {"epochs": 2, "verbose": 0} | options
    with pytest.raises(sn.ArgumentError) as caught:
        model.fit(X, y, **arguments)
    assert words in str(caught.value)
    for a, b in zip(_weights(model), before, strict=True):
        np.testing.assert_array_equal(a, b)


def test_numpy_integers_are_the_numbers_they_hold(spiral: Any) -> None:
    X, y = spiral
    plain = classifier().fit(X, y, epochs=3, batch_size=300, seed=3, verbose=0, threads=1)
    held = classifier().fit(
        X,
        y,
        epochs=np.int64(3),
        batch_size=np.int16(300),  # 300 rows, not the 44 an int16 product would wrap to
        seed=np.uint8(3),
        verbose=np.int32(0),
        threads=np.int64(1),
    )
    assert held.loss == plain.loss
    small = classifier().fit(X, y, epochs=1, batch_size=np.uint8(200), verbose=0)
    assert len(small.loss) == 1


def test_a_generator_suspended_inside_checks_off_leaves_them_off_until_closed() -> None:
    # As documented on sn.checks (and as decimal.localcontext behaves).
    def batches() -> Any:
        with sn.checks(False):
            yield 1
            yield 2

    assert sn.checks_enabled()
    running = batches()
    next(running)
    assert not sn.checks_enabled()
    running.close()
    assert sn.checks_enabled()
    with sn.checks(False):  # the way the docs advise: the block around the consuming loop
        assert sum(batches()) == 3
    assert sn.checks_enabled()
