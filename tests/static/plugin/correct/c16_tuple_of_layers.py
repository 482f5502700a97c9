import shapenn as sn

model = sn.Model((sn.Dense(3, 5), sn.Dense(5, 2)))
