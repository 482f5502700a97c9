import numpy as np

import shapenn as sn

X = np.ones((5, 4), dtype=np.float32)
sn.Dense(4, 3).forward(X.ravel())  # expect-error
