"""Random sequences of public calls on one model, as a hostile user makes them: only shapenn's
documented errors come out, and a model copied, pickled or reloaded along the way trains
exactly as the original."""

import copy
import os
import pickle
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from helpers import classifier
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import shapenn as sn

EXAMPLES = int(os.environ.get("SHAPENN_FUZZ_EXAMPLES", "60"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
DOCUMENTED = (sn.ShapennError,)
X, Y = sn.datasets.spiral(samples=20, classes=3, seed=0)

CALLS = [
    "fit",
    "fit_batches",
    "predict",
    "evaluate",
    "pickle",
    "deepcopy",
    "save_load",
    "swap_head",
    "new_optimizer",
    "hostile_fit",
    "predict_while_fitting",
]
HOSTILE = [
    {"epochs": 0},
    {"batch_size": -1},
    {"verbose": "loud"},
    {"callback": 3},
    {"threads": 0},
    {"seed": 1.5},
    {"validation_split": 2},
    {"sample_weight": [1.0]},
    {"class_weight": {0: -1}},
    {"callbacks": [None]},
]


def _apply(model: sn.Model, call: str, pick: int, folder: Path) -> sn.Model:
    """Make ``call`` on ``model``; the model to go on with."""
    if call == "fit":
        model.fit(X, Y, epochs=2, seed=pick, verbose=0)
    elif call == "fit_batches":
        model.fit(X, Y, epochs=1, batch_size=1 + pick % 17, seed=pick, verbose=0)
    elif call == "predict":
        assert np.isfinite(model.predict(X, batch_size=1 + pick % 9)).all()
    elif call == "evaluate":
        loss, _ = model.evaluate(X, Y)
        assert np.isfinite(loss)
    elif call == "pickle":
        return pickle.loads(pickle.dumps(model))  # type: ignore[no-any-return]
    elif call == "deepcopy":
        return copy.deepcopy(model)
    elif call == "save_load":
        loaded = sn.load(sn.save(model, folder / f"m{pick}.npz"))
        np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
        return loaded
    elif call == "swap_head":
        model.layers[2] = sn.Dense(16, 3, seed=pick)
        model.build()
    elif call == "new_optimizer":
        model.set(optimizer=sn.Adam(learning_rate=0.01 + pick % 5 / 100))
    elif call == "hostile_fit":
        before = [p.value.copy() for p in model.parameters()]
        with pytest.raises(DOCUMENTED):
            model.fit(X, Y, **({"epochs": 1, "verbose": 0} | HOSTILE[pick % len(HOSTILE)]))
        for a, b in zip(model.parameters(), before, strict=True):
            np.testing.assert_array_equal(a.value, b)
    elif call == "predict_while_fitting":
        done = threading.Event()
        seen: list[Any] = []

        def predict() -> None:
            # A pause between predicts: a loop of pure Python holds the GIL, and each time the
            # fit's BLAS call hands it back, the fit waits up to the 5 ms switch interval to
            # get it again (this fit took 0.01 to 2.8 s beside a tight loop, 9 ms alone).
            while not done.wait(0.0005):
                seen.append(model.predict(X[:3], threads=1).shape)

        other = threading.Thread(target=predict)
        other.start()
        try:
            model.fit(X, Y, epochs=3, batch_size=8, seed=pick, verbose=0, threads=1)
        finally:
            done.set()
            other.join()
        assert set(seen) <= {(3, 3)}
    return model


@FUZZ
@given(
    calls=st.lists(st.tuples(st.sampled_from(CALLS), st.integers(0, 1000)), min_size=1, max_size=6)
)
def test_random_call_sequences_raise_only_documented_errors_and_copies_train_alike(
    calls: list[tuple[str, int]], tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder = tmp_path_factory.mktemp("calls")
    model = classifier()
    for call, pick in calls:
        model = _apply(model, call, pick, folder)
    # Whatever happened, a copy, a pickle and the model itself train to the same weights.
    twins = [copy.deepcopy(model), pickle.loads(pickle.dumps(model)), model]
    for twin in twins:
        twin.fit(X, Y, epochs=2, batch_size=16, seed=0, verbose=0, threads=1)
    reference = [p.value for p in twins[0].parameters()]
    for twin in twins[1:]:
        for a, b in zip(twin.parameters(), reference, strict=True):
            np.testing.assert_array_equal(a.value, b)
