import numpy as np

import shapenn as sn

images = np.zeros((5, 1, 8, 8), dtype=np.float32)
sn.MaxPool2D(2).forward(sn.Flatten().forward(images))  # expect-error
