import numpy as np

import shapenn as sn

images = np.zeros((5, 2, 2), dtype=np.float32)
sn.Dense(4, 3).forward(images)  # expect-error
