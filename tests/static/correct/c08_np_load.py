import tempfile
from pathlib import Path

import numpy as np

import shapenn as sn

path = Path(tempfile.mkdtemp()) / "X.npy"
np.save(path, np.ones((5, 2), dtype=np.float32))
X = np.load(path)
print(sn.Dense(2, 3).forward(X).shape)
