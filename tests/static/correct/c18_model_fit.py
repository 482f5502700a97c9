import shapenn as sn
from shapenn.datasets import spiral

X, y = spiral(30, 3, seed=0)
model = sn.Model(
    [sn.Dense(2, 16, seed=0), sn.ReLU(), sn.Dense(16, 3, seed=1), sn.Softmax()],
    loss=sn.CategoricalCrossentropy(),
    optimizer=sn.Adam(learning_rate=0.05),
    metric=sn.CategoricalAccuracy(),
)
history = model.fit(X, y, epochs=5, batch_size=16, seed=0, verbose=0)
print(len(history.loss))
