import shapenn as sn

first, second = sn.Dense(2, 8), sn.Dense(8, 3)  # unpacked: skipped
model = sn.Model([first, sn.ReLU(), second])
