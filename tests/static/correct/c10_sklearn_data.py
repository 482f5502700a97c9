import numpy as np
from sklearn.datasets import load_digits

import shapenn as sn

digits = load_digits()
X = np.asarray(digits.data, dtype=np.float32) / 16
print(sn.Dense(64, 10).forward(X).shape)
