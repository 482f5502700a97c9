from typing import Any

import numpy as np

import shapenn as sn

model = sn.Model([sn.Dense(2, 1)])
vector: np.ndarray[tuple[int], np.dtype[Any]] = model.predict(np.ones((4, 2)))  # expect-error
