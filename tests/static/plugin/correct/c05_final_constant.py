from typing import Final

import shapenn as sn

N_FEATURES: Final = 4
N_CLASSES: Final = 3

model = sn.Model([sn.Dense(N_FEATURES, 32), sn.Tanh(), sn.Dense(32, N_CLASSES)])
