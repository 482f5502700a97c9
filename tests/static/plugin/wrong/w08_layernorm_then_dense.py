import shapenn as sn

model = sn.Model(
    [
        sn.Dense(4, 16),
        sn.LayerNorm(16),
        sn.Dense(32, 2),  # expect-shape: `in` is 16 here but 32
    ]
)
