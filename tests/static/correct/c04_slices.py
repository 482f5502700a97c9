import numpy as np

import shapenn as sn

X = np.ones((100, 3), dtype=np.float32)
layer = sn.Dense(3, 2)
print(layer.forward(X[:10]).shape, layer.forward(X[10:20, :]).shape)
