import shapenn as sn

model = sn.Model(
    [
        sn.Dense(4, 16),
        sn.ReLU(),
        sn.Dropout(0.5),
        sn.Dense(8, 3),  # expect-shape: `in` is 16 here but 8
    ]
)
