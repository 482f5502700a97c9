import numpy as np

import shapenn as sn

probabilities = np.full((4, 3), 1 / 3, dtype=np.float32)
labels = np.array([0, 1, 2, 1])
loss = sn.CategoricalCrossentropy().calculate(probabilities, labels)
accuracy = sn.CategoricalAccuracy().calculate(probabilities, labels)
print(f"{loss:.4f} {accuracy:.2f}")
