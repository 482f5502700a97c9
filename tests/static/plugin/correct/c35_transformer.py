import numpy as np

import shapenn as sn

D_MODEL = 32
model = sn.Model(
    [
        sn.Embedding(100, D_MODEL),
        sn.PositionalEmbedding(16, D_MODEL),
        sn.TransformerBlock(D_MODEL, 4, 4 * D_MODEL),
        sn.Dense(D_MODEL, 100),
    ]
)
model.predict(np.zeros((2, 5), dtype=np.int64))
