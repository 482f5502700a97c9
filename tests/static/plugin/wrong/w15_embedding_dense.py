import numpy as np

import shapenn as sn

model = sn.Model(
    [
        sn.Embedding(1000, 16),
        sn.Dense(32, 4),  # expect-shape: make layers[1] Dense(16, 4)
    ]
)
model.predict(np.zeros((2, 5), dtype=np.int64))
