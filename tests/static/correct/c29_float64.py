import numpy as np

import shapenn as sn

layer = sn.Dense(3, 2, dtype=np.float64)
print(layer.forward(np.ones((4, 3))).dtype)
