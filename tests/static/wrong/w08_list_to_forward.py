import shapenn as sn

sn.Dense(2, 3).forward([[1.0, 2.0]])  # expect-error
