import numpy as np

import shapenn as sn

X = np.random.default_rng(0).normal(size=(5, 3))
result = sn.gradcheck(sn.Dense(3, 2, seed=0), X)
print(result.ok, f"{result.max_error:.1e}" if result.max_error else "0")
