import shapenn as sn

width = int("8")  # not a constant: the plugin skips what it touches
model = sn.Model([sn.Dense(2, width), sn.ReLU(), sn.Dense(8, 4), sn.Dense(4, 2)])
