"""The batches `fit` trains on: shuffled rows copied into two buffers used in turn when the data
already has the first layer's dtype, a cast per batch otherwise — the same batches either way."""

from typing import Any

import numpy as np

import shapenn as sn
from shapenn.model._data import Gather


def _batches(gather: Gather, order: Any, size: int) -> list[Any]:
    return [gather(order[start : start + size]) for start in range(0, len(order), size)]


def test_shuffled_batches_are_the_rows_in_order_and_each_survives_the_next() -> None:
    X = np.random.default_rng(0).random((30, 4, 3), dtype=np.float32)
    order = np.random.default_rng(1).permutation(30)
    gather = Gather(X, np.dtype(np.float32), 7)
    previous = None
    for start in range(0, 30, 7):  # the last batch has 2 rows
        rows = order[start : start + 7]
        batch = gather(rows)
        assert batch.dtype == np.float32 and batch.flags.c_contiguous
        np.testing.assert_array_equal(batch, X[rows])
        if previous is not None:  # the batch before is still the batch before
            np.testing.assert_array_equal(previous[1], X[previous[0]])
        previous = (rows, batch)


def test_other_dtypes_and_array_subclasses_are_cast_batch_by_batch() -> None:
    X = np.random.default_rng(2).random((12, 5))  # float64
    order = np.random.default_rng(3).permutation(12)
    for data in (X, X.astype(np.float32).view(np.recarray)):
        batches = _batches(Gather(data, np.dtype(np.float32), 5), order, 5)
        for start, batch in zip(range(0, 12, 5), batches, strict=True):
            assert type(batch) is np.ndarray and batch.dtype == np.float32
            np.testing.assert_array_equal(batch, X[order[start : start + 5]].astype(np.float32))
    # Batches in order are slices: views of the data, no copy.
    in_order = Gather(X.astype(np.float32), np.dtype(np.float32), 5)(slice(0, 5))
    assert in_order.base is not None


def _model() -> sn.Model:
    return sn.Model(
        [sn.Dense(6, 8, seed=0), sn.ReLU(), sn.Dense(8, 3, seed=1), sn.Softmax()],
        loss=sn.CategoricalCrossentropy(),
        optimizer=sn.Adam(learning_rate=0.01),
    )


def test_fit_trains_bit_for_bit_as_on_batches_cast_one_by_one() -> None:
    """float32 data goes through the buffers, the same data as float64 through a cast per
    batch: the same shuffled batches, so the same weights, bit for bit."""
    rng = np.random.default_rng(4)
    X, y = rng.random((50, 6)), rng.integers(0, 3, 50)
    through_buffers, cast = _model(), _model()
    through_buffers.fit(X.astype(np.float32), y, epochs=3, batch_size=8, seed=5, verbose=0)
    cast.fit(X.astype(np.float32).astype(np.float64), y, epochs=3, batch_size=8, seed=5, verbose=0)
    for a, b in zip(through_buffers.layers[::2], cast.layers[::2], strict=True):
        np.testing.assert_array_equal(a.weights, b.weights)
        np.testing.assert_array_equal(a.biases, b.biases)
