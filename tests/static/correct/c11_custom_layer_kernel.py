import numpy as np
from jaxtyping import Float

import shapenn as sn
from shapenn.shapes import Array2D


@sn.shapechecked
def normalize_rows(x: Float[Array2D, "batch n"]) -> Float[Array2D, "batch n"]:
    result: Float[Array2D, "batch n"] = x / x.sum(axis=1, keepdims=True)
    return result


class Normalize(sn.Layer):
    def forward(self, inputs: Float[Array2D, "batch n"]) -> Float[Array2D, "batch n"]:
        self.inputs = inputs
        self.output = normalize_rows(inputs)
        return self.output


print(Normalize().forward(np.ones((2, 4), dtype=np.float32)).sum(axis=1))
