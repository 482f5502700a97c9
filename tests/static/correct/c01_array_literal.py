import numpy as np

import shapenn as sn

layer = sn.Dense(4, 3, seed=0)
batch = np.array([[1.0, 2.0, 3.0, 2.5], [2.0, 5.0, -1.0, 2.0]], dtype=np.float32)
print(layer.forward(batch).shape)
