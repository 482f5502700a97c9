import numpy as np

import shapenn as sn

rows = np.zeros((5, 64), dtype=np.float32)
sn.Conv2D(1, 8, 3).forward(rows)  # expect-error
