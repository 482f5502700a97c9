import shapenn as sn

model = sn.Model(
    layers=[sn.Dense(2, 8), sn.ReLU(), sn.Dense(8, 1), sn.Sigmoid()],
    loss=sn.BinaryCrossentropy(),
    optimizer=sn.Adam(learning_rate=0.01),
)
