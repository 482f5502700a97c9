import shapenn as sn

model = sn.Model(
    layers=[
        sn.Dense(2, 8),
        sn.ReLU(),
        sn.Dense(4, 1),  # expect-shape: `in` is 8 here but 4
        sn.Sigmoid(),
    ],
    loss=sn.BinaryCrossentropy(),
    optimizer=sn.Adam(learning_rate=0.01),
)
