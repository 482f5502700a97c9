import numpy as np

import shapenn as sn

weights = np.ones((3, 4))  # one row per neuron, as the book writes them
sn.Dense.from_arrays(weights, [2.0, 3.0, 0.5])  # runtime-error: sizes, not rank
