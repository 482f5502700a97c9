import shapenn as sn

hidden = sn.Dense(2, 64)
out = sn.Dense(32, 3)
model = sn.Model([hidden, sn.ReLU(), out])  # expect-shape: make layers[2] Dense(64, 3)
