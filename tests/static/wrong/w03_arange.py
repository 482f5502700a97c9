import numpy as np

import shapenn as sn

sn.Dense(4, 3).forward(np.arange(4.0))  # expect-error
