"""The book's classes written out in plain NumPy, from the book's equations: what the book's
code computes when run here. The companion tests compare shapenn.book with it line by line.
(Only what the compared chapters use.)"""

from typing import Any

import numpy as np


class Dense:
    def __init__(
        self,
        n_inputs: int,
        n_neurons: int,
        l1w: float = 0,
        l2w: float = 0,
        l1b: float = 0,
        l2b: float = 0,
    ) -> None:
        self.weights = 0.01 * np.random.randn(n_inputs, n_neurons)  # noqa: NPY002
        self.biases = np.zeros((1, n_neurons))
        self.l1w, self.l2w, self.l1b, self.l2b = l1w, l2w, l1b, l2b

    def forward(self, inputs: Any) -> None:
        self.inputs = inputs
        self.output = np.dot(inputs, self.weights) + self.biases

    def backward(self, dvalues: Any) -> None:
        self.dweights = np.dot(self.inputs.T, dvalues)
        self.dbiases = np.sum(dvalues, axis=0, keepdims=True)
        if self.l1w > 0:
            d = np.ones_like(self.weights)
            d[self.weights < 0] = -1
            self.dweights += self.l1w * d
        if self.l2w > 0:
            self.dweights += 2 * self.l2w * self.weights
        if self.l1b > 0:
            d = np.ones_like(self.biases)
            d[self.biases < 0] = -1
            self.dbiases += self.l1b * d
        if self.l2b > 0:
            self.dbiases += 2 * self.l2b * self.biases
        self.dinputs = np.dot(dvalues, self.weights.T)


class ReLU:
    def forward(self, inputs: Any) -> None:
        self.inputs = inputs
        self.output = np.maximum(0, inputs)

    def backward(self, dvalues: Any) -> None:
        self.dinputs = dvalues.copy()
        self.dinputs[self.inputs <= 0] = 0


class Sigmoid:
    def forward(self, inputs: Any) -> None:
        self.output = 1 / (1 + np.exp(-inputs))

    def backward(self, dvalues: Any) -> None:
        self.dinputs = dvalues * (1 - self.output) * self.output


class BinaryCrossentropy:
    def calculate(self, output: Any, y: Any) -> Any:
        clipped = np.clip(output, 1e-7, 1 - 1e-7)
        losses = -(y * np.log(clipped) + (1 - y) * np.log(1 - clipped))
        return np.mean(np.mean(losses, axis=-1))

    def regularization_loss(self, layer: Dense) -> Any:
        total: Any = 0
        if layer.l2w > 0:
            total += layer.l2w * np.sum(layer.weights * layer.weights)
        if layer.l2b > 0:
            total += layer.l2b * np.sum(layer.biases * layer.biases)
        return total

    def backward(self, dvalues: Any, y: Any) -> None:
        samples, outputs = len(dvalues), len(dvalues[0])
        clipped = np.clip(dvalues, 1e-7, 1 - 1e-7)
        self.dinputs = -(y / clipped - (1 - y) / (1 - clipped)) / outputs
        self.dinputs = self.dinputs / samples


class Adam:
    def __init__(
        self,
        learning_rate: float = 0.001,
        decay: float = 0.0,
        epsilon: float = 1e-7,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
    ) -> None:
        self.learning_rate = self.current_learning_rate = learning_rate
        self.decay, self.iterations = decay, 0
        self.epsilon, self.beta_1, self.beta_2 = epsilon, beta_1, beta_2

    def pre_update_params(self) -> None:
        if self.decay:
            self.current_learning_rate = self.learning_rate * (
                1.0 / (1.0 + self.decay * self.iterations)
            )

    def update_params(self, layer: Any) -> None:
        if not hasattr(layer, "weight_cache"):
            layer.weight_momentums = np.zeros_like(layer.weights)
            layer.weight_cache = np.zeros_like(layer.weights)
            layer.bias_momentums = np.zeros_like(layer.biases)
            layer.bias_cache = np.zeros_like(layer.biases)
        b1, b2, t = self.beta_1, self.beta_2, self.iterations + 1
        layer.weight_momentums = b1 * layer.weight_momentums + (1 - b1) * layer.dweights
        layer.bias_momentums = b1 * layer.bias_momentums + (1 - b1) * layer.dbiases
        wm = layer.weight_momentums / (1 - b1**t)
        bm = layer.bias_momentums / (1 - b1**t)
        layer.weight_cache = b2 * layer.weight_cache + (1 - b2) * layer.dweights**2
        layer.bias_cache = b2 * layer.bias_cache + (1 - b2) * layer.dbiases**2
        wc = layer.weight_cache / (1 - b2**t)
        bc = layer.bias_cache / (1 - b2**t)
        layer.weights += -self.current_learning_rate * wm / (np.sqrt(wc) + self.epsilon)
        layer.biases += -self.current_learning_rate * bm / (np.sqrt(bc) + self.epsilon)

    def post_update_params(self) -> None:
        self.iterations += 1
