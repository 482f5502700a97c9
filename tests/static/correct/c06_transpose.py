import numpy as np

import shapenn as sn

rows = np.ones((3, 5), dtype=np.float32)  # features written as rows
print(sn.Dense(3, 2).forward(rows.T).shape)
