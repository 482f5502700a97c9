import numpy as np

import shapenn as sn

X = np.ones((1, 4), dtype=np.float32)
sn.Dense(4, 3).forward(X.reshape(4))  # expect-error
