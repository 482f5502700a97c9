import numpy as np

import shapenn as sn

model = sn.Model()
model.add(sn.Embedding(500, 32))
model.add(sn.LSTM(32, 64))
model.add(sn.Dense(64, 2))
model.predict(np.zeros((2, 5), dtype=np.int64))
