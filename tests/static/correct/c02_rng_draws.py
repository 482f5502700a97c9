import numpy as np

import shapenn as sn

rng = np.random.default_rng(0)
X = rng.standard_normal((8, 2), dtype=np.float32)
print(sn.Dense(2, 5, seed=0).forward(X).shape)
