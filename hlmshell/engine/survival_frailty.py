"""Cox regression with a gamma frailty shared within groups (stcox, shared()), by Therneau and
Grambsch's penalized partial likelihood: for a given frailty variance theta, the log frailties
w enter as coefficients of group indicators with the penalty (1/theta) sum(exp(w) - w); the
marginal log likelihood of theta is then

    PPL(b, w) + sum_i [1/theta + ln(1/theta)/theta - (1/theta + D_i) ln(1/theta + D_i)
                       + lnG(1/theta + D_i) - lnG(1/theta) + D_i]

(D_i the group's failures), maximized over ln theta. Breslow ties; pure numpy/scipy."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hlmshell.engine.survival_cox import CoxData, partial_ll


@dataclass
class FrailtyFit:
    b: np.ndarray
    V: np.ndarray
    w: np.ndarray
    theta: float
    ll: float
    ll_theta0: float


def _penalized(cd: CoxData, k: int, theta: float, start: np.ndarray):
    """Newton on (b, w) of the penalized partial likelihood at theta."""
    x = start.copy()
    pl, g, H = partial_ll(cd, x)

    def total(pl, x):
        w = x[k:]
        return pl - np.sum(np.exp(w) - w) / theta

    cur = total(pl, x)
    for _ in range(100):
        w = x[k:]
        gp = g.copy()
        gp[k:] -= (np.exp(w) - 1) / theta
        Hp = H.copy()
        Hp[k:, k:] -= np.diag(np.exp(w) / theta)
        step = np.linalg.lstsq(-Hp, gp, rcond=None)[0]
        s = 1.0
        for _half in range(30):
            nx = x + s * step
            npl, ng, nH = partial_ll(cd, nx)
            new = total(npl, nx)
            if np.isfinite(new) and new >= cur - 1e-12:
                break
            s /= 2
        done = abs(new - cur) < 1e-10 * (1 + abs(cur))
        x, pl, g, H, cur = nx, npl, ng, nH, new
        if done:
            break
    w = x[k:]
    Hp = H.copy()
    Hp[k:, k:] -= np.diag(np.exp(w) / theta)
    return x, cur, Hp


def _marginal(ppl: float, D: np.ndarray, theta: float) -> float:
    from scipy.special import gammaln
    a = 1.0 / theta
    return float(ppl + np.sum(a + a * np.log(a) - (a + D) * np.log(a + D)
                              + gammaln(a + D) - gammaln(a) + D))


def fit_shared_frailty(cd: CoxData, groups: np.ndarray, ll_theta0: float) -> FrailtyFit:
    """The fit at the theta maximizing the marginal likelihood; groups coded 0..G-1."""
    from scipy.optimize import minimize_scalar
    k = cd.X.shape[1]
    G = int(groups.max()) + 1
    Z = np.zeros((len(groups), G))
    Z[np.arange(len(groups)), groups] = 1.0
    aug = CoxData(cd.t0, cd.t, cd.d, np.column_stack([cd.X, Z]), cd.strata)
    D = np.bincount(groups, weights=(cd.d > 0).astype(float), minlength=G)
    state = {"x": np.zeros(k + G)}

    def neg(lnth):
        x, ppl, _H = _penalized(aug, k, float(np.exp(lnth)), state["x"])
        state["x"] = x
        return -_marginal(ppl, D, float(np.exp(lnth)))

    opt = minimize_scalar(neg, bounds=(-12.0, 4.0), method="bounded",
                          options={"xatol": 1e-7})
    theta = float(np.exp(opt.x))
    x, _ppl, Hp = _penalized(aug, k, theta, state["x"])
    Vall = np.linalg.pinv(-Hp)
    ll = -float(opt.fun)
    return FrailtyFit(x[:k], Vall[:k, :k], x[k:], theta, ll, ll_theta0)
