import shapenn as sn

HIDDEN = 64

model = sn.Model([sn.Dense(2, HIDDEN), sn.ReLU(), sn.Dense(HIDDEN * 2, 3)])  # expect-shape: in=128
