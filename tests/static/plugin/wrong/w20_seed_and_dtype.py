import numpy as np

import shapenn as sn

rng = np.random.default_rng(0)
model = sn.Model(
    [
        sn.Dense(4, 8, seed=rng, dtype=np.float64),
        sn.ReLU(),
        sn.Dense(16, 2, seed=rng, dtype=np.float64),  # expect-shape: `in` is 8 here but 16
    ]
)
