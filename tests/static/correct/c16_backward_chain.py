import shapenn as sn
from shapenn.datasets import spiral

X, y = spiral(50, 3, seed=0)
dense1, relu, dense2 = sn.Dense(2, 8, seed=0), sn.ReLU(), sn.Dense(8, 3, seed=1)
loss_activation = sn.SoftmaxCategoricalCrossentropy()
dense1.forward(X)
relu.forward(dense1.output)
dense2.forward(relu.output)
loss_activation.forward(dense2.output, y)
loss_activation.backward(loss_activation.output, y)
dense2.backward(loss_activation.dinputs)
relu.backward(dense2.dinputs)
dense1.backward(relu.dinputs)
print(dense1.dweights.shape, dense1.dbiases.shape)
