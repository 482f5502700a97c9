import numpy as np

import shapenn as sn

# Dense maps the last axis of any rank (batch, *positions, in): a 3-D batch is fine to the type
# checkers, and only the sizes are wrong (2 features where Dense(4, 3) takes 4).
images = np.zeros((5, 2, 2), dtype=np.float32)
sn.Dense(4, 3).forward(images)  # runtime-error
