import shapenn as sn

sn.Model([sn.Dense(2, 3)], optimizer=sn.Adam)  # expect-error
