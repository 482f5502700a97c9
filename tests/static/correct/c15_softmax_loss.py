import shapenn as sn
from shapenn.datasets import spiral

X, y = spiral(50, 3, seed=0)
dense = sn.Dense(2, 3, seed=0)
loss_activation = sn.SoftmaxCategoricalCrossentropy()
dense.forward(X)
loss = loss_activation.forward(dense.output, y)
loss_activation.backward(loss_activation.output, y)
dense.backward(loss_activation.dinputs)
print(f"{loss:.4f}", dense.dweights.shape)
