import numpy as np

import shapenn as sn

X = np.random.default_rng(0).normal(size=(20, 2)).astype(np.float32)
y = (X[:, 0] > 0).astype(np.int64)
model = sn.Model(
    [sn.Dense(2, 4, seed=0), sn.ReLU(), sn.Dense(4, 1, seed=1), sn.Sigmoid()],
    loss=sn.BinaryCrossentropy(),
    optimizer=sn.Adam(0.05),
    metric=sn.BinaryAccuracy(),
)
model.fit(X, y.reshape(-1, 1), epochs=2, verbose=0)
print(model.predict(X).shape)
