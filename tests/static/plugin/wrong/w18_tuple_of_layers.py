import shapenn as sn

model = sn.Model((sn.Dense(3, 5), sn.Dense(6, 2)))  # expect-shape: make layers[1] Dense(5, 2)
