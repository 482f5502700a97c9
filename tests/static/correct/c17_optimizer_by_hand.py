import shapenn as sn
from shapenn.datasets import spiral

X, y = spiral(50, 3, seed=0)
dense = sn.Dense(2, 3, seed=0)
loss_activation = sn.SoftmaxCategoricalCrossentropy()
optimizer = sn.Adam(learning_rate=0.05, decay=5e-7)
loss = 0.0
for _ in range(5):
    dense.forward(X)
    loss = loss_activation.forward(dense.output, y)
    loss_activation.backward(loss_activation.output, y)
    dense.backward(loss_activation.dinputs)
    optimizer.pre_update_params()
    optimizer.update_params(dense)
    optimizer.post_update_params()
print(f"{loss:.4f}", optimizer.iterations)
