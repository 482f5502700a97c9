import shapenn as sn


def build() -> sn.Model:
    model = sn.Model(loss=sn.CategoricalCrossentropy())
    model.add(sn.Dense(10, 32))
    model.add(sn.ReLU())
    model.set(optimizer=sn.Adam())
    model.add(sn.Dense(16, 4))  # expect-shape: `in` is 32 here but 16
    return model


build()
