import shapenn as sn

model = sn.Model([sn.Dense(2, 8)])
model = sn.Model()
model.add(sn.Dense(3, 8))
model.add(sn.Dense(4, 1))  # expect-shape: make layers[1] Dense(8, 1)
