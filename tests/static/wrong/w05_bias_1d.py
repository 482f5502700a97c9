import numpy as np

import shapenn.functional as F

X = np.ones((5, 4), dtype=np.float32)
W = np.ones((4, 3), dtype=np.float32)
F.dense_forward(X, W, np.zeros(3, dtype=np.float32))  # expect-error
