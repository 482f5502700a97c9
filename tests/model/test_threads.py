"""The BLAS thread policy: one thread for small steps, the library's setting for large ones,
``threads=`` overrides it, and the process's setting is back as it was after the call."""

from typing import Any

import numpy as np
import pytest
from helpers import classifier
from threadpoolctl import threadpool_info

import shapenn as sn
from shapenn import _threads


def _blas_threads() -> int:
    blas = [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]
    if not blas:
        pytest.skip("NumPy's BLAS is not visible to threadpoolctl")
    return int(min(blas))


def _fit_threads(model: sn.Model, X: Any, y: Any, **options: Any) -> list[int]:
    seen: list[int] = []
    model.fit(
        X, y, epochs=2, verbose=0, callback=lambda *_: seen.append(_blas_threads()), **options
    )
    return seen


def test_a_small_step_uses_one_thread_and_the_setting_is_restored() -> None:
    before = _blas_threads()
    X, y = sn.datasets.spiral(20, 3, seed=0)
    assert _fit_threads(classifier(), X, y, batch_size=32) == [1, 1]
    assert _blas_threads() == before


def test_a_large_step_keeps_the_library_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    before = _blas_threads()
    monkeypatch.setattr(_threads, "PARALLEL_WORK", 1)
    X, y = sn.datasets.spiral(20, 3, seed=0)
    assert _fit_threads(classifier(), X, y) == [before, before]


def test_threads_overrides_the_choice() -> None:
    if _blas_threads() < 2:
        pytest.skip("needs a BLAS that runs more than one thread")
    X, y = sn.datasets.spiral(20, 3, seed=0)
    assert _fit_threads(classifier(), X, y, threads=2) == [2, 2]


def test_predict_and_evaluate_run_under_the_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[int] = []
    model = classifier()
    X, y = sn.datasets.spiral(20, 3, seed=0)
    model.fit(X, y, epochs=1, verbose=0)
    forward = model.forward
    monkeypatch.setattr(model, "forward", lambda x: (seen.append(_blas_threads()), forward(x))[1])
    model.predict(X)
    model.evaluate(X, y)
    assert seen and set(seen) == {1}


@pytest.mark.parametrize("threads", [0, -1, 1.5, True, "2"])
def test_a_bad_thread_count_is_refused_before_training(threads: Any) -> None:
    model = classifier()
    X, y = sn.datasets.spiral(20, 3, seed=0)
    weights = model.layers[0].get_state()
    with pytest.raises(ValueError, match="threads must be an integer from 1 to 4096 or None"):
        model.fit(X, y, epochs=1, verbose=0, threads=threads)
    after = model.layers[0].get_state()
    assert all(np.array_equal(weights[k], after[k]) for k in weights)


def test_the_policy_boundary() -> None:
    assert _threads.choose(None, _threads.PARALLEL_WORK - 1) == 1
    assert _threads.choose(None, _threads.PARALLEL_WORK) is None
    assert _threads.choose(3, 1) == 3
