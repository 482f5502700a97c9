import shapenn as sn

sn.Dense("2", 3)  # expect-error
