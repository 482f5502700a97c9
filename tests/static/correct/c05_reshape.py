import numpy as np

import shapenn as sn

flat = np.linspace(0, 1, 12, dtype=np.float32)
print(sn.Dense(3, 2).forward(flat.reshape(-1, 3)).shape)
print(sn.Dense(3, 2).forward(flat.reshape(4, 3)).shape)
