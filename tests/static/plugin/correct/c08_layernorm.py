import shapenn as sn

model = sn.Model([sn.Dense(4, 16), sn.LayerNorm(16), sn.Dense(16, 2)])
