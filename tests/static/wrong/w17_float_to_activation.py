import shapenn as sn

sn.ReLU().forward(0.5)  # expect-error
