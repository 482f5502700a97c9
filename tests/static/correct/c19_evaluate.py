import shapenn as sn
from shapenn.datasets import spiral

X, y = spiral(30, 3, seed=0)
model = sn.Model(
    [sn.Dense(2, 16, seed=0), sn.ReLU(), sn.Dense(16, 3, seed=1), sn.Softmax()],
    loss=sn.CategoricalCrossentropy(),
    metric=sn.CategoricalAccuracy(),
)
loss, accuracy = model.evaluate(X, y)
print(f"{loss:.3f}", accuracy is not None)
