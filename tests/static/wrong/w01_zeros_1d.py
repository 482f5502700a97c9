import numpy as np

import shapenn as sn

sn.Dense(4, 3).forward(np.zeros(4, dtype=np.float32))  # expect-error
