"""Panel data with no panel effect (iid.csv): xtmlogit must fit a variance at its boundary."""
import os

import numpy as np
import pandas as pd

rng = np.random.default_rng(3)
rows = []
for i in range(150):
    for t in range(4):
        x = rng.normal()
        e = np.array([0, 0.5 * x, -0.3 + 0.2 * x])
        p = np.exp(e) / np.exp(e).sum()
        rows.append((i + 1, t + 1, rng.choice(3, p=p) + 1, x))
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "iid.csv")
pd.DataFrame(rows, columns=["id", "t", "y", "x"]).to_csv(out, index=False)
