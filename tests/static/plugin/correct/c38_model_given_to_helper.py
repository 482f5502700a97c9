import shapenn as sn


def widen(model: sn.Model) -> None:
    model.add(sn.Dense(8, 32))


model = sn.Model()
model.add(sn.Dense(2, 8))
widen(model)  # adds a layer the plugin does not follow: the sequence is left to the run
model.add(sn.Dense(32, 3))
