import shapenn as sn

model = sn.Model().add(sn.Dense(2, 8)).add(sn.ReLU()).add(sn.Dense(8, 1))
