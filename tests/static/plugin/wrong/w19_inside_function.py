import shapenn as sn


def make_model() -> sn.Model:
    return sn.Model([sn.Dense(2, 64), sn.ReLU(), sn.Dense(32, 3)])  # expect-shape: Dense(64, 3)


make_model()
