import numpy as np

import shapenn as sn

X = np.random.default_rng(0).normal(size=(8, 2)).astype(np.float32)
print(sn.Dense(2, 5).forward(X).shape)
