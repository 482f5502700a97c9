import numpy as np

import shapenn as sn

X = np.ones((4, 2), dtype=np.float32)
sn.Dense(2, 3).forward(X[0, 0])  # runtime-error: NumPy's stubs type X[0, 0] as Any
