import shapenn as sn
from shapenn.datasets import sine

X, y = sine(200)
model = sn.Model(
    [sn.Dense(1, 16, seed=0, weight_scale=0.1), sn.Tanh(), sn.Dense(16, 1, seed=1), sn.Linear()],
    loss=sn.MeanSquaredError(),
    optimizer=sn.Adam(0.01),
    metric=sn.RegressionAccuracy(),
)
history = model.fit(X, y, epochs=3, verbose=0)
print(model.predict(X).shape, len(history.accuracy))
