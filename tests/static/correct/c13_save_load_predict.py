import tempfile
from pathlib import Path

import numpy as np

import shapenn as sn
from shapenn.datasets import spiral

X, y = spiral(10, 3, seed=0)
model = sn.Model(
    [sn.Dense(2, 4, seed=0), sn.Tanh(), sn.Dense(4, 3, seed=1), sn.Softmax()],
    loss=sn.CategoricalCrossentropy(),
    optimizer=sn.SGD(0.5),
)
model.fit(X, y, epochs=2, verbose=0)
path = sn.save(model, Path(tempfile.mkdtemp()) / "model.npz")
loaded = sn.load(path)
predictions = loaded.predict(X)
labels = predictions.argmax(axis=1)
print(predictions.shape, labels.shape, bool(np.array_equal(predictions, model.predict(X))))
