import shapenn as sn
from shapenn.datasets import spiral

X, y = spiral(100, 3, seed=0)
dense1 = sn.Dense(2, 3, seed=0)
activation1 = sn.ReLU()
dense2 = sn.Dense(3, 3, seed=1)
activation2 = sn.Softmax()
dense1.forward(X)
activation1.forward(dense1.output)
dense2.forward(activation1.output)
activation2.forward(dense2.output)
print(activation2.output[:5].shape)
