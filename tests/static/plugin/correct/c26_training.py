import numpy as np

import shapenn as sn

X = np.random.default_rng(0).normal(size=(32, 4)).astype(np.float32)
y = np.arange(32) % 3
model = sn.Model(
    [sn.Dense(4, 16), sn.ReLU(), sn.Dense(16, 3), sn.Softmax()],
    loss=sn.CategoricalCrossentropy(),
    optimizer=sn.Adam(),
)
model.fit(X, y, epochs=2, verbose=0)
