import shapenn as sn

HIDDEN = 32
HIDDEN = 64  # assigned twice: not a constant, skipped

model = sn.Model([sn.Dense(2, HIDDEN), sn.ReLU(), sn.Dense(64, 3)])
