import shapenn as sn

N_IN = 4
N_HIDDEN = 32
N_OUT = 3

model = sn.Model(
    [
        sn.Dense(N_IN, N_HIDDEN),
        sn.ReLU(),
        sn.Dense(N_OUT, N_OUT),  # expect-shape: make layers[2] Dense(32, 3)
    ]
)
