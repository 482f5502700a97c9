import numpy as np

import shapenn as sn

inputs = [[1.0, 2.0, 3.0, 2.5], [2.0, 5.0, -1.0, 2.0], [-1.5, 2.7, 3.3, -0.8]]
weights = [[0.2, 0.8, -0.5, 1.0], [0.5, -0.91, 0.26, -0.5], [-0.26, -0.27, 0.17, 0.87]]
biases = [2.0, 3.0, 0.5]
layer = sn.Dense.from_arrays(np.array(weights).T, biases)
print(layer.forward(np.array(inputs)).shape)  # float64, as the weights
