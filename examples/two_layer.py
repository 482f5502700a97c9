"""A two-layer network on nnfs's spiral data, by hand: forward, loss, backward, one SGD step.

Checked by mypy --strict and pyright in CI, and run by the tests.
"""

import numpy as np

import shapenn as sn
from shapenn.datasets import spiral


def main(seed: int = 0) -> float:
    X, y = spiral(samples=100, classes=3, seed=seed)

    dense1 = sn.Dense(2, 64, seed=seed)
    activation1 = sn.ReLU()
    dense2 = sn.Dense(64, 3, seed=seed + 1)
    loss_activation = sn.SoftmaxCategoricalCrossentropy()

    loss, accuracy = float("nan"), 0.0
    for _ in range(201):
        hidden = activation1.forward(dense1.forward(X))
        loss = loss_activation.forward(dense2.forward(hidden), y)
        probabilities = loss_activation.output
        assert probabilities is not None  # set by forward
        accuracy = float(np.mean(np.argmax(probabilities, axis=1) == y))

        dlogits = loss_activation.backward(probabilities, y)
        dense1.backward(activation1.backward(dense2.backward(dlogits)))
        for layer in (dense1, dense2):
            layer.weights -= 1.0 * layer.dweights
            layer.biases -= 1.0 * layer.dbiases

    print(f"loss {loss:.3f}, accuracy {accuracy:.3f}")
    return loss


if __name__ == "__main__":
    main()
