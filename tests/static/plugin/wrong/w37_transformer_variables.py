import numpy as np

import shapenn as sn

D_MODEL = 48
embed = sn.Embedding(256, D_MODEL)
position = sn.PositionalEmbedding(64, 32)
block = sn.TransformerBlock(D_MODEL, 4, 4 * D_MODEL)
model = sn.Model(
    [
        embed,
        position,  # expect-shape: PositionalEmbedding(64, 48)
        block,
        sn.Dense(D_MODEL, 256),
    ]
)
model.predict(np.zeros((2, 5), dtype=np.int64))
