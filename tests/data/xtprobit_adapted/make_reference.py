"""Reference numbers for tests/test_xtprobit_adapted.py, computed without hlmshell.

The data (panels.csv) are simulated below: a random-intercept probit in the shape of
Wooldridge's lfp panels (5 periods, unscaled age and age squared, sigma_u = 4, about 77% of
the panels all 0 or all 1), where 12-point mean-variance adaptive quadrature is far from the
exact integral and held-node Newton steps fail.

Two estimators, each maximised by scipy:
  agq12  the 12-point mean-variance adaptive Gauss-Hermite likelihood (Stata's mvaghermite):
         per panel the nodes m + s t_k, (m, s) the fixed point of the quadrature's own
         posterior mean and sd (iterated to 1e-11, a panel's step halved while its residual
         does not shrink); BFGS on central
         differences from the exact estimates; standard errors from a central-difference
         Hessian.
  exact  the marginal likelihood by the trapezoid rule on a grid of 2,001 points in
         u in [-10, 10] (converged to ~1e-10), BFGS with its analytic gradient.
Run: python make_reference.py  (writes panels.csv and reference.json)."""
import json
import numpy as np
from numpy.polynomial.hermite_e import hermegauss
from scipy.optimize import minimize
from scipy.special import log_ndtr


def simulate(G=500, T=5, seed=4, sig=4.0):
    rng = np.random.default_rng(seed)
    age0 = rng.integers(20, 55, G)
    educ = rng.integers(8, 19, G).astype(float)
    black = (rng.random(G) < .1).astype(float)
    kidsg = rng.poisson(1.2, G)
    u = sig * rng.standard_normal(G)
    rows = []
    for g in range(G):
        for t in range(T):
            age = age0[g] + t
            kids = max(0, kidsg[g] + rng.integers(-1, 2))
            lhinc = round(7.8 + 0.5 * rng.standard_normal(), 6)
            xb = (-13.4 - 0.4 * kids - 0.1 * lhinc + 0.35 * educ[g] + 0.8 * black[g]
                  + 0.63 * age - 0.0086 * age * age - 0.05 * t)
            y = float(xb + u[g] + rng.standard_normal() > 0)
            rows.append((g + 1, t + 1, y, kids, lhinc, educ[g], black[g], age, age * age))
    return np.array(rows)


NAMES = ["kids", "lhinc", "educ", "black", "age", "agesq"]
d = simulate()
np.savetxt("panels.csv", d, delimiter=",", header="id,period,y," + ",".join(NAMES),
           comments="", fmt=["%d", "%d", "%d", "%d", "%.6f", "%d", "%d", "%d", "%d"])
G, T = 500, 5
X = np.column_stack([d[:, 3:], np.ones(len(d))])
q = (2 * d[:, 2] - 1).reshape(G, T)
mean, sd = X[:, :-1].mean(0), X[:, :-1].std(0)
Xs = np.column_stack([(X[:, :-1] - mean) / sd, np.ones(len(d))])
t, w = hermegauss(12)
logw = np.log(w) + 0.5 * t * t - 0.5 * np.log(2 * np.pi)     # weights against N(0,1) density


def unscale(b):
    bo = b[:-1] / sd
    return np.r_[bo, b[-1] - np.sum(bo * mean)]


WARM = None


def agq_ll(par):
    b, sig = par[:-1], np.exp(par[-1])
    xb = (Xs @ b).reshape(G, T)
    m, s = WARM if WARM is not None else (np.zeros(G), np.ones(G))

    def at(m, s):
        u = m[:, None] + s[:, None] * t[None, :]                      # (G, K)
        f = log_ndtr(q[:, :, None] * (xb[:, :, None] + sig * u[:, None, :])).sum(1)
        a = f - 0.5 * u * u + logw[None, :] + np.log(s)[:, None]
        mx = a.max(1, keepdims=True)
        e = np.exp(a - mx)
        V = mx[:, 0] + np.log(e.sum(1))
        pi = e / e.sum(1, keepdims=True)
        m1 = (pi * u).sum(1)
        return V, m1, np.sqrt((pi * (u - m1[:, None]) ** 2).sum(1))

    alpha, prev = np.ones(G), np.full(G, np.inf)
    for _ in range(3000):
        V, m1, s1 = at(m, s)
        r = np.abs(m1 - m) + np.abs(s1 - s)
        if r.max() < 1e-11:
            break
        # a panel whose residual does not shrink (a 2-cycle) takes shorter steps
        alpha = np.where(r > 0.9 * prev, np.maximum(alpha / 2, 1 / 256), alpha)
        prev = r
        m, s = m + alpha * (m1 - m), s + alpha * (s1 - s)
    V, _, _ = at(m, s)
    globals()["WARM"] = (m, s)                 # the next evaluation starts from here
    return float(V.sum())                      # (the prior density's constant is in logw)


def exact_nll(par):
    b, ls = par[:-1], par[-1]
    s = np.exp(ls)
    h = 0.01
    z = np.arange(-10, 10 + h / 2, h)
    lw = np.log(h) - 0.5 * z * z - 0.5 * np.log(2 * np.pi)
    xb = Xs @ b
    a = np.repeat(q.ravel()[:, None], 1, 1) * (xb[:, None] + s * z[None, :])
    lp = log_ndtr(a)
    mills = np.exp(-0.5 * a * a - 0.5 * np.log(2 * np.pi) - lp)
    f = lp.reshape(G, T, -1).sum(1) + lw[None, :]
    mx = f.max(1, keepdims=True)
    e = np.exp(f - mx)
    tot = e.sum(1, keepdims=True)
    pi = np.repeat(e / tot, T, axis=0)
    gi = q.ravel()[:, None] * mills
    gb = Xs.T @ np.sum(pi * gi, 1)
    gs = float(np.sum(pi * gi * z[None, :])) * s
    return -float(np.sum(mx[:, 0] + np.log(tot[:, 0]))), -np.r_[gb, gs]


x0 = np.zeros(Xs.shape[1] + 1)
x0[-1] = np.log(2.0)
ex = minimize(exact_nll, x0, jac=True, method="BFGS", options={"gtol": 1e-8, "maxiter": 3000})


def num_grad(f, x, h=1e-5):
    g = np.empty(len(x))
    for j in range(len(x)):
        e = np.zeros(len(x))
        e[j] = h
        g[j] = (f(x + e) - f(x - e)) / (2 * h)
    return g


nll = lambda p: -agq_ll(p)
r = minimize(lambda p: (nll(p), num_grad(nll, p)), ex.x, jac=True, method="BFGS",
             options={"gtol": 1e-6})
# Hessian in (b unscaled, ln sigma^2): central differences of the numeric gradient
k = len(r.x)
Hs = np.empty((k, k))
for j in range(k):
    e = np.zeros(k)
    hj = 1e-3
    e[j] = hj
    Hs[:, j] = (num_grad(nll, r.x + e, 1e-4) - num_grad(nll, r.x - e, 1e-4)) / (2 * hj)
Hs = 0.5 * (Hs + Hs.T)
J = np.zeros((k, k))                         # d(b, ln sigma^2) / d(b~, ln sigma)
J[:-2, :-2] = np.diag(1 / sd)
J[-2, :-2] = -mean / sd
J[-2, -2] = 1.0
J[-1, -1] = 2.0
V = J @ np.linalg.inv(Hs) @ J.T
b12 = unscale(r.x[:-1])
out = {
    "names": NAMES + ["_cons"],
    "agq12": {"ll": -float(r.fun), "b": b12.tolist(), "lnsig2u": float(2 * r.x[-1]),
              "sigma_u": float(np.exp(r.x[-1])), "se": np.sqrt(np.diag(V)).tolist(),
              "grad_max": float(np.abs(r.jac).max())},
    "exact": {"ll": -float(ex.fun), "b": unscale(ex.x[:-1]).tolist(),
              "sigma_u": float(np.exp(ex.x[-1]))},
}
json.dump(out, open("reference.json", "w"), indent=1)
print(json.dumps(out, indent=1))
