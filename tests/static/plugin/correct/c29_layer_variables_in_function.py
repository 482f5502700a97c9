import shapenn as sn


def make() -> sn.Model:
    first = sn.Dense(4, 16)
    second = sn.Dense(16, 2)
    return sn.Model([first, sn.Tanh(), second])


make()
