import numpy as np

import shapenn as sn

model = sn.Model([sn.Dense(2, 1)], loss=sn.MeanSquaredError(), optimizer=sn.SGD())
X = np.ones((4, 2), dtype=np.float32)
model.fit(X, X[:, :1], epochs="10")  # expect-error
