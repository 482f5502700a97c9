"""Shared test helpers: user-defined layers written as a user would (annotations only, no
decorator) and a small classifier."""

import numpy as np
from jaxtyping import Float

import shapenn as sn
from shapenn.shapes import Array2D


class Scale(sn.Layer):
    """One learned factor per feature: ``outputs = inputs · scale``."""

    scale: Float[Array2D, "1 n"]

    def __init__(self, n: int, *, wrong: bool = False) -> None:
        self.scale = np.linspace(0.5, 1.5, n, dtype=np.float32).reshape(1, n)
        self.dscale = np.zeros_like(self.scale)
        self.wrong = wrong

    @property
    def n(self) -> int:
        return int(self.scale.shape[1])

    def __repr__(self) -> str:
        return f"Scale({self.n})"

    def forward(self, inputs: Float[Array2D, "batch n"]) -> Float[Array2D, "batch n"]:
        self.inputs = inputs
        self.output = inputs * self.scale
        return self.output

    def backward(self, dvalues: Float[Array2D, "batch n"]) -> Float[Array2D, "batch n"]:
        self.dscale = (dvalues * self.inputs).sum(axis=0, keepdims=True)
        if self.wrong:
            self.dscale = self.dscale * 1.01
        self.dinputs = dvalues * self.scale
        return self.dinputs


class EveryOther(sn.Layer):
    """Keeps every other feature: ``(batch, n) → (batch, n//2)``, said only in annotations."""

    def forward(self, inputs: Float[Array2D, "batch n"]) -> Float[Array2D, "batch n//2"]:
        self.inputs = inputs
        self.output = inputs[:, 1::2]
        return self.output

    def backward(self, dvalues: Float[Array2D, "batch n//2"]) -> Float[Array2D, "batch n"]:
        self.dinputs = np.zeros_like(self.inputs)
        self.dinputs[:, 1::2] = dvalues
        return self.dinputs


def classifier(optimizer: sn.Optimizer | None = None) -> sn.Model:
    """A small spiral classifier: 2-16-3 with ReLU and Softmax, Adam."""
    return sn.Model(
        [sn.Dense(2, 16, seed=0), sn.ReLU(), sn.Dense(16, 3, seed=1), sn.Softmax()],
        loss=sn.CategoricalCrossentropy(),
        optimizer=optimizer or sn.Adam(learning_rate=0.05),
        metric=sn.CategoricalAccuracy(),
    )
