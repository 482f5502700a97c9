import numpy as np

import shapenn as sn

a = np.zeros((2, 3), dtype=np.float32)
b = np.ones((4, 3), dtype=np.float32)
print(sn.Dense(3, 1).forward(np.concatenate([a, b], axis=0)).shape)
print(sn.Dense(3, 1).forward(np.vstack([a, b])).shape)
