"""Reference numbers for the three-level Poisson model of [ME] mepoisson's melanoma example,
    mepoisson deaths c.uv##c.uv, exposure(expected) || nation: || region:
on tests/data/glmm/mmmec.csv (mlmRev::Mmmec, the same data; uvb = uv), computed without
hlmshell: the log likelihood by the trapezoid rule on fixed, fine grids in prior-SD units
(nation u and region v on [-8, 8], spacings 0.025 and 0.05, far below the posterior SDs of
about 0.1 and 0.18, so the rule is exact to many digits; checked by halving both spacings),
maximised by scipy's BFGS; the standard errors from a central-difference Hessian of that
log likelihood in the metric (b, ln sd) mapped to the variances by the delta method.

    python tests/data/me_melanoma_agq/make_reference.py    # writes reference.json (~5 min)

(A nested 60 x 60-point non-adaptive Gauss-Hermite rule is NOT accurate here: its nodes are
too far apart for the nations' narrow posteriors; it gives -1086.2178 at its maximum.)
"""
import json
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import gammaln

HERE = Path(__file__).resolve().parent
d = pd.read_csv(HERE.parent / "glmm" / "mmmec.csv")
y = d.deaths.to_numpy(float)
off = np.log(d.expected.to_numpy(float))
uv = d.uvb.to_numpy(float)
X = np.column_stack([uv, uv ** 2, np.ones_like(uv)])
nat, reg = d.nation.to_numpy(), d.region.to_numpy()
lgy = gammaln(y + 1)
groups = [[np.flatnonzero((nat == n) & (reg == r)) for r in np.unique(reg[nat == n])]
          for n in np.unique(nat)]


def lse(a, axis):
    m = a.max(axis=axis, keepdims=True)
    return np.squeeze(m, axis) + np.log(np.exp(a - m).sum(axis))


def loglik(p, hu=0.025, hv=0.05):
    """p = (b_uv, b_uv2, b_cons, ln sd_nation, ln sd_region)."""
    zu, zv = np.arange(-8, 8 + hu / 2, hu), np.arange(-8, 8 + hv / 2, hv)
    lpu = -0.5 * zu ** 2 - 0.5 * np.log(2 * np.pi) + np.log(hu)
    lpv = -0.5 * zv ** 2 - 0.5 * np.log(2 * np.pi) + np.log(hv)
    su, sv = np.exp(p[3]), np.exp(p[4])
    eta0 = X @ p[:3] + off
    tot = 0.0
    for regs in groups:
        acc = np.zeros(len(zu))
        for idx in regs:
            e = eta0[idx][:, None, None] + su * zu[None, :, None] + sv * zv[None, None, :]
            ll = (y[idx][:, None, None] * e - np.exp(e)).sum(0) - lgy[idx].sum()
            acc += lse(ll + lpv[None, :], 1)
        tot += lse(acc + lpu, 0)
    return tot


def hessian(f, x, h=1e-4):
    k = len(x)
    H = np.zeros((k, k))
    f0 = f(x)
    for i in range(k):
        ei = np.zeros(k); ei[i] = h
        H[i, i] = (f(x + ei) - 2 * f0 + f(x - ei)) / h ** 2
        for j in range(i):
            ej = np.zeros(k); ej[j] = h
            H[i, j] = H[j, i] = (f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej)
                                 + f(x - ei - ej)) / (4 * h * h)
    return H


def main():
    start = np.array([.005692, -.0058376, .1289811, .5 * np.log(.184083), .5 * np.log(.0382222)])
    res = minimize(lambda p: -loglik(p), start, method="BFGS", options={"gtol": 1e-6, "eps": 1e-7})
    x = res.x
    V = np.linalg.inv(-hessian(loglik, x))
    var = np.exp(2 * x[3:])
    se_var = 2 * var * np.sqrt(np.diag(V)[3:])                 # d var / d ln sd = 2 var
    # a point away from the optimum with larger variances: the quadrature's value itself
    far = np.array([0.0, -0.005, 0.2, 0.5 * np.log(0.6), 0.5 * np.log(0.15)])
    out = {
        "model": "mepoisson deaths c.uvb##c.uvb, exposure(expected) || nation: || region:",
        "ll": loglik(x), "ll_half_spacing": loglik(x, 0.0125, 0.025),
        "b": list(x[:3]), "var_nation": var[0], "var_region": var[1],
        "se_b": list(np.sqrt(np.diag(V)[:3])), "se_var_nation": se_var[0],
        "se_var_region": se_var[1],
        "far_point": {"b": list(far[:3]), "var_nation": 0.6, "var_region": 0.15,
                      "ll": loglik(far), "ll_half_spacing": loglik(far, 0.0125, 0.025)},
        "optimizer": str(res.message),
    }
    (HERE / "reference.json").write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
