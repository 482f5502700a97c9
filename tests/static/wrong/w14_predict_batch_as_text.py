import numpy as np

import shapenn as sn

model = sn.Model([sn.Dense(2, 1)])
model.predict(np.ones((4, 2), dtype=np.float32), batch_size="32")  # expect-error
