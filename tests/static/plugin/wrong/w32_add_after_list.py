import shapenn as sn

model = sn.Model([sn.Dense(4, 16), sn.ReLU()])
model.add(sn.Dense(8, 3))  # expect-shape: make layers[2] Dense(16, 3)
