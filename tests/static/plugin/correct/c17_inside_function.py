import shapenn as sn


def make_model(n_inputs: int, n_hidden: int) -> sn.Model:
    # sizes from arguments: known only when the code runs, so the plugin skips them
    return sn.Model([sn.Dense(n_inputs, n_hidden), sn.ReLU(), sn.Dense(n_hidden, 3)])


make_model(2, 64)
