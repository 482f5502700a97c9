import shapenn as sn


def make() -> sn.Model:
    first = sn.Dense(4, 16)
    act = sn.Tanh()
    second = sn.Dense(8, 2)
    return sn.Model(
        [
            first,
            act,
            second,  # expect-shape: make layers[2] Dense(16, 2), or layers[0] Dense(4, 8)
        ]
    )


make()
