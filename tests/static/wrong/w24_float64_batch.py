import numpy as np

import shapenn as sn

sn.Dense(2, 3).forward(np.ones((4, 2)))  # runtime-error: the stubs do not tie dtypes together
