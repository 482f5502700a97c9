import numpy as np

import shapenn as sn
import shapenn.functional as F

layer = sn.Dense(3, 2, seed=0)
X = np.ones((4, 3), dtype=np.float32)
out = F.relu_forward(F.dense_forward(X, layer.weights, layer.biases))
print(out.shape)
