import numpy as np

import shapenn as sn

X = np.ones((4, 3), dtype=np.float32)
P = np.eye(3, dtype=np.float32)
print(sn.Dense(3, 2).forward(X @ P).shape)
