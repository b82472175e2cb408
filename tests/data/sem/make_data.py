"""Simulated data for the sem tests (run once; the CSVs are committed): a balanced 4-wave
panel in wide form with a time-invariant covariate x1, x2 and time-varying c1..c4, and three
indicators of one factor with a covariate. numpy seed 20261130."""
import numpy as np

rng = np.random.default_rng(20261130)
n = 300
x1 = rng.normal(size=n)
x2 = rng.binomial(1, 0.4, size=n).astype(float)
u = rng.multivariate_normal([0, 0], [[1.0, 0.3], [0.3, 0.25]], size=n)
i = 2.0 + 0.5 * x1 + u[:, 0]
s = 0.8 - 0.3 * x2 + u[:, 1]
rows = []
cols = {"x1": x1, "x2": x2}
for t in range(4):
    c = rng.normal(size=n)
    cols[f"c{t + 1}"] = c
    cols[f"t{t + 1}"] = i + s * t + 0.4 * c + rng.normal(scale=0.7, size=n)
F = rng.normal(size=n)
z = rng.normal(size=n)
Fl = 0.6 * z + F
for k, lam in enumerate((1.0, 0.8, 1.3)):
    cols[f"y{k + 1}"] = 3 + lam * Fl + rng.normal(scale=0.8, size=n)
cols["z"] = z
names = list(cols)
with open("sem_sim.csv", "w") as f:
    f.write(",".join(names) + "\n")
    for r in range(n):
        f.write(",".join(f"{cols[k][r]:.6f}" for k in names) + "\n")
