import numpy as np

import shapenn as sn

model = sn.Model(
    [
        sn.Embedding(1000, 64),
        sn.PositionalEmbedding(128, 64),
        sn.TransformerBlock(64, 4, 256),
        sn.Dense(32, 1000),  # expect-shape: make layers[3] Dense(64, 1000)
    ]
)
model.predict(np.zeros((2, 5), dtype=np.int64))
