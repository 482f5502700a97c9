from jaxtyping import Float

import shapenn as sn
from shapenn.shapes import Array2D


@sn.shapechecked
def double(x: Float[Array2D, "batch n"]) -> Float[Array2D, "batch n"]:
    return (2 * x).ravel()  # expect-error
