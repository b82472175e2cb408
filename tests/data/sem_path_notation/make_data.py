"""panel_sim.csv: data simulated like Bou & Satorra (2018)'s panel example (their covariance
of x1-x4, the individual effect eta and z; y_t = 1 + b_t x_t + 3 z + eta + noise), 400 rows.
mcapsi_wide2.csv is the public wide data file of sbauldry/mcapsi (the do-file's own data).
Run from the repository root: python tests/data/sem_path_notation/make_data.py"""
import numpy as np

rng = np.random.default_rng(2016)
V = np.array([[1, .4, .3, .2, .1, .4], [.4, 1, .4, .3, .5, .8], [.3, .4, 1, .4, .2, .2],
              [.2, .3, .4, 1, .8, 0], [.1, .5, .2, .8, 1, 0], [.4, .8, .2, 0, 0, 1]])
X = rng.multivariate_normal(np.zeros(6), V, size=400)
x1, x2, x3, x4, eta, z = X.T
ys = [1 + b * x + 3 * z + eta + rng.standard_normal(400)
      for b, x in zip((2, 0, 2, 4), (x1, x2, x3, x4))]
cols = dict(x1=x1, x2=x2, x3=x3, x4=x4, z=z, y1=ys[0], y2=ys[1], y3=ys[2], y4=ys[3])
with open("tests/data/sem_path_notation/panel_sim.csv", "w") as f:
    f.write(",".join(cols) + "\n")
    for i in range(400):
        f.write(",".join(f"{cols[k][i]:.6f}" for k in cols) + "\n")
