import numpy as np
from nnfs.datasets import spiral_data

import shapenn as sn

X, y = spiral_data(samples=100, classes=3)
dense = sn.Dense(2, 3, seed=0)
print(dense.forward(np.asarray(X, dtype=np.float32)).shape, y.shape)
