"""Panels whose two outcome random effects correlate at .97 (corr.csv): seen from another base
outcome one combination has a small variance, where a fit can stall on a rank-1 saddle."""
import os

import numpy as np
import pandas as pd

rng = np.random.default_rng(11)
L = np.linalg.cholesky(np.array([[1.0, 0.97], [0.97, 1.0]]))
rows = []
for i in range(300):
    u = L @ rng.normal(size=2)
    for t in range(3):
        x = rng.normal()
        e = np.array([0, 0.5 * x + u[0], -0.3 + 0.2 * x + u[1]])
        p = np.exp(e) / np.exp(e).sum()
        rows.append((i + 1, t + 1, rng.choice(3, p=p) + 1, x))
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corr.csv")
pd.DataFrame(rows, columns=["id", "t", "y", "x"]).to_csv(out, index=False)
