"""Data larger than memory: fit on memory-mapped arrays, predict in a stream, no memory growth."""

import tracemalloc
from pathlib import Path

import numpy as np

import shapenn as sn

FEATURES = 784


def mlp() -> sn.Model:
    return sn.Model(
        [sn.Dense(FEATURES, 64, seed=0), sn.ReLU(), sn.Dense(64, 10, seed=1), sn.Softmax()],
        loss=sn.CategoricalCrossentropy(),
        optimizer=sn.Adam(learning_rate=0.001),
        metric=sn.CategoricalAccuracy(),
    )


def memmap(path: Path, rows: int) -> np.memmap:  # type: ignore[type-arg]
    X = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(rows, FEATURES))
    for start in range(0, rows, 4096):  # fill in chunks: never the whole array in memory
        stop = min(rows, start + 4096)
        X[start:stop] = np.random.default_rng(start).random((stop - start, FEATURES), np.float32)
    X.flush()
    return np.load(path, mmap_mode="r")  # type: ignore[no-any-return]


def test_predict_streams_a_memory_mapped_input_one_batch_at_a_time(tmp_path: Path) -> None:
    rows = 40_000  # 125 MB of float32 on disk
    X = memmap(tmp_path / "X.npy", rows)
    model = mlp()
    tracemalloc.start()
    try:
        outputs = model.predict(X, batch_size=1024)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert outputs.shape == (rows, 10)
    batch_bytes = 1024 * (FEATURES + 64 + 64 + 10 + 10) * 4
    # The result (1.6 MB) plus a few batches of activations — far below the 125 MB input.
    assert peak < outputs.nbytes + 6 * batch_bytes
    np.testing.assert_allclose(outputs[:5], model.predict(np.asarray(X[:5])), rtol=1e-5)


def test_fit_accepts_memory_mapped_arrays(tmp_path: Path) -> None:
    X = memmap(tmp_path / "X.npy", 3000)
    y = np.lib.format.open_memmap(tmp_path / "y.npy", mode="w+", dtype=np.int64, shape=(3000,))
    y[:] = (np.asarray(X[:, 0]) * 10).astype(np.int64)
    history = mlp().fit(X, y, epochs=2, batch_size=256, seed=0, verbose=0)
    assert len(history.loss) == 2 and np.isfinite(history.loss).all()


def test_memory_does_not_grow_across_epochs() -> None:
    rng = np.random.default_rng(0)
    X = rng.random((2048, FEATURES), np.float32)
    y = rng.integers(0, 10, 2048)
    model = mlp()
    model.fit(X, y, epochs=1, batch_size=128, verbose=0)  # warm-up: state and scratch buffers
    tracemalloc.start()
    try:
        model.fit(X, y, epochs=1, batch_size=128, verbose=0)
        after_one, _ = tracemalloc.get_traced_memory()
        model.fit(X, y, epochs=5, batch_size=128, verbose=0)
        after_six, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert after_six - after_one < 64 * 1024  # bytes: no per-epoch accumulation
