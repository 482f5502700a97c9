import shapenn as sn


def make(head: sn.Layer) -> sn.Model:
    hidden = sn.Dense(2, 8)
    return sn.Model([hidden, sn.ReLU(), head])


make(sn.Dense(8, 3))
