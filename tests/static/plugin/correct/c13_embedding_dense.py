import shapenn as sn

model = sn.Model([sn.Embedding(1000, 16), sn.Dense(16, 4)])
