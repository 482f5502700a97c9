import shapenn as sn

model = sn.Model([sn.Dense(4, 16), sn.ReLU(), sn.Dropout(0.5), sn.Dense(16, 3)])
