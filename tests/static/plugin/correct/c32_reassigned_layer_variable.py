import shapenn as sn

hidden = sn.Dense(2, 64)
hidden = sn.Dense(2, 32)  # assigned twice: skipped
model = sn.Model([hidden, sn.ReLU(), sn.Dense(32, 3)])
