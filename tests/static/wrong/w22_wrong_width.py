import numpy as np

import shapenn as sn

X = np.ones((5, 3), dtype=np.float32)
sn.Dense(4, 3).forward(X)  # runtime-error: sizes are not in the static types, only the rank
