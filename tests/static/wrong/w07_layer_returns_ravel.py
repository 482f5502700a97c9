from jaxtyping import Float

import shapenn as sn
from shapenn.shapes import Array2D


class Flat(sn.Layer):
    def forward(self, inputs: Float[Array2D, "batch n"]) -> Float[Array2D, "batch n"]:
        return inputs.ravel()  # expect-error
