import numpy as np

import shapenn as sn

probabilities = np.full((2, 3), 1 / 3, dtype=np.float32)
sn.CategoricalCrossentropy().calculate(probabilities, [0, 1])  # expect-error
