import shapenn as sn

model = (
    sn.Model()
    .add(sn.Dense(2, 64))
    .add(sn.ReLU())
    .add(sn.Dense(32, 3))  # expect-shape: make layers[2] Dense(64, 3)
)
