import shapenn as sn

sn.load(123)  # expect-error
