from jaxtyping import Float

import shapenn as sn
from shapenn.shapes import Array2D


@sn.shapechecked
def halves(x: Float[Array2D, "batch n"]) -> Float[Array2D, "batch n"]:
    return x, x  # expect-error
