import shapenn as sn

model = sn.Model(
    [
        sn.Dense(784, 128),
        sn.ReLU(),
        sn.Dense(128, 64),
        sn.ReLU(),
        sn.Dense(32, 10),  # expect-shape: `in` is 64 here but 32
        sn.Softmax(),
    ]
)
