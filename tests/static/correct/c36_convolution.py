import numpy as np

import shapenn as sn

X, y = sn.datasets.digits(images=True)
model = sn.Model(
    [
        sn.Conv2D(1, 8, 3, padding="same", seed=0),
        sn.ReLU(),
        sn.MaxPool2D(2),
        sn.Flatten(),
        sn.Dense(128, 10, seed=1),
        sn.Softmax(),
    ],
    loss=sn.CategoricalCrossentropy(),
    optimizer=sn.Adam(),
    input_shape=(1, 8, 8),
)
model.fit(X[:64], y[:64], epochs=1, verbose=0)
images: np.ndarray[tuple[int, int, int, int], np.dtype[np.float32]] = X[:2]
conv = sn.Conv2D(1, 4, 3)
features = sn.Flatten().forward(sn.AvgPool2D(2).forward(conv.forward(images)))
print(features.shape, model.predict(X[:3]).argmax(axis=1))
