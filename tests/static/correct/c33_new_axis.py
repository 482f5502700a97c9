import numpy as np

import shapenn as sn

sample = np.ones(3, dtype=np.float32)
print(sn.Dense(3, 2).forward(sample[None, :]).shape)
print(sn.Dense(3, 2).forward(sample.reshape(1, -1)).shape)
