import shapenn as sn
from shapenn.datasets import spiral

X, y = spiral(20, 3, seed=0)
model = sn.Model(
    [sn.Dense(2, 8, seed=0), sn.ReLU(), sn.Dense(8, 3, seed=1), sn.Softmax()],
    loss=sn.CategoricalCrossentropy(),
    optimizer=sn.Adam(0.05),
    metric=sn.CategoricalAccuracy(),
)
history = model.fit(X, y, epochs=3, verbose=0, validation_data=(X, y))
last: float = history.loss[-1]
best: float = max(history.val_accuracy)
print(f"{last:.3f} {best:.3f}", sorted(history.as_dict()))
