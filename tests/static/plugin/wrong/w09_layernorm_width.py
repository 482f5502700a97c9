import shapenn as sn

model = sn.Model(
    [
        sn.Dense(4, 16),
        sn.LayerNorm(8),  # expect-shape: layers[1] LayerNorm(8)
        sn.Dense(16, 2),
    ]
)
