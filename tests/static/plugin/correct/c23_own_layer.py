from jaxtyping import Float

import shapenn as sn
from shapenn.shapes import Array2D


class Double(sn.Layer):
    def forward(self, inputs: Float[Array2D, "batch n"]) -> Float[Array2D, "batch n"]:
        return inputs * 2

    def backward(self, dvalues: Float[Array2D, "batch n"]) -> Float[Array2D, "batch n"]:
        return dvalues * 2


model = sn.Model([sn.Dense(2, 8), Double(), sn.Dense(8, 1)])
