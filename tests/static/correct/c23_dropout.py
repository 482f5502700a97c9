import numpy as np

import shapenn as sn

dropout = sn.Dropout(0.1, seed=0)
out = dropout.forward(np.ones((4, 6), dtype=np.float32))
grad = dropout.backward(np.ones((4, 6), dtype=np.float32))
print(out.shape, grad.shape)
