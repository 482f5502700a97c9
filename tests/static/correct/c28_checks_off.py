import numpy as np

import shapenn as sn

layer = sn.Dense(3, 2)
with sn.checks(False):
    print(sn.checks_enabled(), layer.forward(np.ones((4, 3), dtype=np.float32)).shape)
print(sn.checks_enabled())
