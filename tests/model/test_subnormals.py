"""No subnormal stalls: optimizer state and softmax outputs stay normal floats, judged by values
(timing is for the benchmark), through thousands of steps with units that never fire."""

from typing import Any

import numpy as np
import pytest

import shapenn as sn
import shapenn.optim._flat as optimizers

F32 = np.float32
TINY = np.finfo(F32).tiny


def _subnormals(arrays: list[Any]) -> int:
    return sum(int(np.count_nonzero((np.abs(a) < TINY) & (a != 0))) for a in arrays)


def _dead_units_run(optimizer: sn.Optimizer, steps: int) -> sn.Model:
    """A 2-32-3 net in which 24 of the 32 hidden units are dead from the start (their bias is
    far below anything the inputs reach): their weights' gradients are exactly zero, and the
    optimizer's state for them decays geometrically for the whole run."""
    X, y = sn.datasets.spiral(50, 3, seed=0)
    hidden = sn.Dense(2, 32, seed=0)
    hidden.biases[0, 8:] = -1e3
    model = sn.Model(
        [hidden, sn.ReLU(), sn.Dense(32, 3, seed=1), sn.Softmax()],
        loss=sn.CategoricalCrossentropy(),
        optimizer=optimizer,
    )
    # A gradient that starts the moments off, then the units die: one step with them alive.
    hidden.biases[0, 8:] = 0.0
    model.fit(X, y, epochs=1, verbose=0)
    hidden.biases[0, 8:] = -1e3
    model.fit(X, y, epochs=steps, verbose=0)
    return model


@pytest.mark.parametrize(
    "make",
    [lambda: sn.Adam(0.01), lambda: sn.SGD(0.1, momentum=0.9), lambda: sn.RMSprop(0.01)],
    ids=["adam", "sgd-momentum", "rmsprop"],
)
def test_state_stays_normal_through_thousands_of_steps(make: Any) -> None:
    model = _dead_units_run(make(), 3000)
    optimizer = model.optimizer
    assert optimizer is not None
    state = [array for fields in optimizer.state.values() for array in fields]
    params = [p.value for layer in model.layers for p in layer.parameters()]
    assert _subnormals(state) == 0
    assert _subnormals(params) == 0
    # The dead units' state did decay to nothing: zero, not subnormal.
    assert np.count_nonzero(state[0][:, 8:] == 0) > 0


def test_without_the_flush_the_same_run_goes_subnormal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(optimizers, "FLUSH_EVERY", 10**9)
    model = _dead_units_run(sn.SGD(0.1, momentum=0.9), 1500)
    assert model.optimizer is not None
    state = [array for fields in model.optimizer.state.values() for array in fields]
    assert _subnormals(state) > 0  # so the test above can fail


def test_softmax_never_outputs_a_subnormal() -> None:
    logits = np.array([[0.0, -50.0, -90.0, -400.0, -1e30]] * 3, dtype=F32)
    probabilities = sn.Softmax().forward(logits)
    assert _subnormals([probabilities]) == 0
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-6)
    assert probabilities[0, 0] == 1.0
