import shapenn as sn

sn.Model(sn.Dense(2, 3))  # expect-error
