"""Reference numbers for tests/test_xtmlogit.py, computed without hlmshell.

Random effects: the marginal likelihood by a plain (non-adaptive) 40 x 40 Gauss-Hermite product
rule on the Cholesky-scaled normal, maximised with scipy; standard errors from a central-
difference Hessian of that likelihood in the (b, variances/covariances) metric. Fixed effects:
the conditional likelihood summed over every distinct permutation of each panel's outcome
sequence (itertools), maximised likewise. Outcome 1 is the base (baseoutcome(1)).
The J = 2 checks against R (lme4::glmer nAGQ = 25, survival::clogit) are in make_reference.R.

    python tests/data/xtmlogit/make_reference.py   # writes reference.json beside it
"""
import itertools
import json
import os

import numpy as np
import pandas as pd
from numpy.polynomial.hermite_e import hermegauss
from scipy.optimize import minimize
from scipy.special import logsumexp

HERE = os.path.dirname(os.path.abspath(__file__))
d = pd.read_csv(os.path.join(HERE, "panel3.csv"))
X = np.column_stack([d.x, d.z, np.ones(len(d))])
y = d.y.values - 1
gid = np.unique(d.id.values, return_inverse=True)[1]
G = gid.max() + 1
t, w = hermegauss(40)
w = w / w.sum()
Z = np.array(list(itertools.product(t, t)))
LW = np.log(np.array([a * b for a, b in itertools.product(w, w)]))


def sigma(cov, v):
    if cov == "independent":
        return np.diag(v)
    if cov == "identity":
        return v[0] * np.eye(2)
    if cov == "exchangeable":
        return np.array([[v[0], v[1]], [v[1], v[0]]])
    return np.array([[v[0], v[2]], [v[2], v[1]]])          # var1, var2, cov12


def re_ll(theta, cov):
    B = theta[:6].reshape(2, 3)
    S = sigma(cov, theta[6:])
    ev = np.linalg.eigvalsh(S)
    if ev.min() <= 0:
        return -1e10
    U = Z @ np.linalg.cholesky(S).T                          # (M, 2)
    eta = X @ B.T                                            # (n, 2) outcomes 2, 3
    e1 = eta[:, :1] + U[None, :, 0]
    e2 = eta[:, 1:] + U[None, :, 1]
    lse = np.logaddexp(0.0, np.logaddexp(e1, e2))
    lp = np.where((y == 1)[:, None], e1, np.where((y == 2)[:, None], e2, 0.0)) - lse
    per = np.zeros((G, len(U)))
    np.add.at(per, gid, lp)
    return float(logsumexp(per + LW[None], 1).sum())


def re_ll_panels(theta, cov):
    """Per-panel log likelihoods (for the cluster-robust sandwich)."""
    B = theta[:6].reshape(2, 3)
    U = Z @ np.linalg.cholesky(sigma(cov, theta[6:])).T
    eta = X @ B.T
    e1 = eta[:, :1] + U[None, :, 0]
    e2 = eta[:, 1:] + U[None, :, 1]
    lse = np.logaddexp(0.0, np.logaddexp(e1, e2))
    lp = np.where((y == 1)[:, None], e1, np.where((y == 2)[:, None], e2, 0.0)) - lse
    per = np.zeros((G, len(U)))
    np.add.at(per, gid, lp)
    return logsumexp(per + LW[None], 1)


def robust_se(cov, x):
    """vce(cluster id): H^-1 (sum_g s_g s_g') H^-1 G/(G-1), scores by central differences."""
    H = hessian(lambda v: re_ll(v, cov), x)
    S = np.zeros((G, len(x)))
    for i in range(len(x)):
        e = np.eye(len(x))[i] * 1e-5
        S[:, i] = (re_ll_panels(x + e, cov) - re_ll_panels(x - e, cov)) / 2e-5
    Hi = np.linalg.inv(-H)
    return np.sqrt(np.diag(Hi @ S.T @ S @ Hi * G / (G - 1))).tolist()


def hessian(f, x, h=1e-4):
    n = len(x)
    H = np.zeros((n, n))
    for i in range(n):
        for j in range(i, n):
            ei, ej = np.eye(n)[i] * h, np.eye(n)[j] * h
            H[i, j] = H[j, i] = (f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej)) / (4 * h * h)
    return H


def mlogit_ll():
    def nll(b):
        eta = np.column_stack([np.zeros(len(y)), X @ b.reshape(2, 3).T])
        return -(eta[np.arange(len(y)), y] - logsumexp(eta, 1)).sum()
    return -minimize(nll, np.zeros(6), method="BFGS", options={"gtol": 1e-9}).fun


def fit_re(cov, start):
    r = minimize(lambda v: -re_ll(v, cov), start, method="BFGS", options={"gtol": 1e-6})
    H = hessian(lambda v: re_ll(v, cov), r.x)
    se = np.sqrt(np.diag(np.linalg.inv(-H)))
    return {"ll": -r.fun, "b": r.x[:6].tolist(), "vc": r.x[6:].tolist(), "se": se.tolist()}


def fe_ll(b):
    B = np.vstack([np.zeros(2), b.reshape(2, 2)])           # outcome 1 base; x, z
    Xf = np.column_stack([d.x, d.z])
    total = 0.0
    for g in range(G):
        rows = np.flatnonzero(gid == g)
        yy = y[rows]
        if len(set(yy)) < 2:
            continue
        eta = Xf[rows] @ B.T                                 # (T, 3)
        perms = set(itertools.permutations(yy))
        den = logsumexp([eta[np.arange(len(rows)), list(p)].sum() for p in perms])
        total += eta[np.arange(len(rows)), yy].sum() - den
    return total


def fit_fe():
    r = minimize(lambda v: -fe_ll(v), np.zeros(4), method="BFGS", options={"gtol": 1e-8})
    H = hessian(fe_ll, r.x)
    n_drop = sum(1 for g in range(G) if len(set(y[gid == g])) < 2)
    return {"ll": -r.fun, "b": r.x.tolist(), "se": np.sqrt(np.diag(np.linalg.inv(-H))).tolist(),
            "groups_dropped": n_drop}


def corr_reference():
    """corr.csv (make_corr.py), unstructured, y on x: the maximum of the plain-quadrature
    likelihood (outcome 1 the base; the maximum does not depend on the base)."""
    c = pd.read_csv(os.path.join(HERE, "corr.csv"))
    Xc = np.column_stack([c.x, np.ones(len(c))])
    yc = c.y.values - 1
    gc = np.unique(c.id.values, return_inverse=True)[1]

    def ll(theta):
        B = theta[:4].reshape(2, 2)
        S = sigma("unstructured", theta[4:])
        if np.linalg.eigvalsh(S).min() <= 0:
            return -1e10
        U = Z @ np.linalg.cholesky(S).T
        eta = Xc @ B.T
        e1 = eta[:, :1] + U[None, :, 0]
        e2 = eta[:, 1:] + U[None, :, 1]
        lse = np.logaddexp(0.0, np.logaddexp(e1, e2))
        lp = np.where((yc == 1)[:, None], e1, np.where((yc == 2)[:, None], e2, 0.0)) - lse
        per = np.zeros((gc.max() + 1, len(U)))
        np.add.at(per, gc, lp)
        return float(logsumexp(per + LW[None], 1).sum())

    r = minimize(lambda v: -ll(v), np.array([0.5, 0.0, 0.2, -0.3, 0.8, 0.8, 0.7]),
                 method="BFGS", options={"gtol": 1e-6})
    return {"ll": -r.fun, "vc": r.x[4:].tolist()}


if __name__ == "__main__":
    out = {"mlogit_ll": mlogit_ll()}
    start6 = [0.72, -0.82, -0.37, -0.76, 0.31, 0.27]
    starts = {"independent": [0.54, 0.57], "identity": [0.55], "exchangeable": [0.58, 0.06],
              "unstructured": [0.57, 0.59, 0.06]}
    for cov, vs in starts.items():
        out[cov] = fit_re(cov, np.array(start6 + vs))
        print(cov, out[cov])
    x = np.array(out["independent"]["b"] + out["independent"]["vc"])
    out["independent"]["se_cluster"] = robust_se("independent", x)
    out["corr_unstructured"] = corr_reference()
    out["fe"] = fit_fe()
    print("fe", out["fe"])
    with open(os.path.join(HERE, "reference.json"), "w") as fh:
        json.dump(out, fh, indent=1)
