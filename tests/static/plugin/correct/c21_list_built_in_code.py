import shapenn as sn

layers: list[sn.Layer] = [sn.Dense(2, 16)]
for _ in range(2):
    layers += [sn.ReLU(), sn.Dense(16, 16)]
model = sn.Model(layers)
