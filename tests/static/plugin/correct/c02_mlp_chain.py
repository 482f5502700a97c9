import shapenn as sn

model = sn.Model(
    [
        sn.Dense(784, 128),
        sn.ReLU(),
        sn.Dense(128, 64),
        sn.ReLU(),
        sn.Dense(64, 10),
        sn.Softmax(),
    ]
)
