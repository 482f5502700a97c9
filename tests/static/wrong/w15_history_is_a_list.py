import numpy as np

import shapenn as sn

model = sn.Model([sn.Dense(2, 1)], loss=sn.MeanSquaredError(), optimizer=sn.SGD())
history = model.fit(np.ones((4, 2)), np.ones((4, 1)), verbose=0)
mean = history.loss / 2  # expect-error
