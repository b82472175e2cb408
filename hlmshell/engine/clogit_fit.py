"""clogit's maximization as Stata runs it: Newton-Raphson on the exact conditional likelihood
(engine.panel_glmm.clogit_value, the elementary-symmetric-polynomial recursion) starting from
the coefficients of an ordinary logit of the same outcome on the same covariates (Stata's
clogit.ado takes them from `logit ..., iter(20)`, falling back to zeros when that fit fails or
gives an unusable likelihood), so that the iteration log starts where Stata's does. The log
likelihood at b = 0 is the comparison model of the LR test (e(ll_0)).
"""
from __future__ import annotations

import numpy as np

from hlmshell.engine import panel_glmm as pg
from hlmshell.engine.clogit_scores import group_grid


def logit_start(y, X, offset=None, maxit: int = 20) -> np.ndarray | None:
    """Slopes of logit(y) on X plus a constant (Newton, at most `maxit` steps), or None when
    the fit breaks down (separation, a singular information matrix)."""
    n, p = X.shape
    Z = np.column_stack([X, np.ones(n)])
    off = np.zeros(n) if offset is None else np.asarray(offset, dtype=float)
    b = np.zeros(p + 1)
    with np.errstate(all="ignore"):
        for _ in range(maxit):
            eta = Z @ b + off
            mu = 1.0 / (1.0 + np.exp(-eta))
            w = mu * (1 - mu)
            try:
                step = np.linalg.solve((Z * w[:, None]).T @ Z, Z.T @ (y - mu))
            except np.linalg.LinAlgError:
                return None
            b = b + step
            if not np.all(np.isfinite(b)):
                return None
            if np.max(np.abs(step)) < 1e-9:
                break
    return b[:p]


class ConditionalLogit:
    """The (G, T) layout of one sample: ll, gradient and Hessian at any b."""

    def __init__(self, y, X, groups, offset=None):
        pos = group_grid(groups)
        self.mask = pos >= 0
        ext = np.vstack([np.asarray(X, dtype=float), np.zeros((1, X.shape[1]))])
        self.Xg = ext[pos]
        self.yg = np.where(self.mask, np.append(np.asarray(y, dtype=float), 0.0)[pos], 0.0)
        self.offg = 0.0 if offset is None else \
            np.where(self.mask, np.append(np.asarray(offset, dtype=float), 0.0)[pos], 0.0)
        self.k = self.yg.sum(axis=1).round().astype(np.int64)
        self.p = X.shape[1]

    def value(self, beta):
        return pg.clogit_value(np.asarray(beta, dtype=float), self.Xg, self.yg, self.mask,
                               self.k, self.offg)


def fit(y, X, groups, offset=None, maxit: int = 300) -> pg.PanelFit:
    """Newton-Raphson with step halving from the logit start; converged when the log
    likelihood and the coefficients stop moving."""
    model = ConditionalLogit(y, X, groups, offset)
    ll0 = model.value(np.zeros(model.p))[0]
    start = logit_start(np.asarray(y, dtype=float), np.asarray(X, dtype=float), offset)
    beta = np.zeros(model.p) if start is None else start
    ll, g, H = model.value(beta)
    if start is not None and not (np.isfinite(ll) and abs(ll) < 1e50):
        beta = np.zeros(model.p)
        ll, g, H = model.value(beta)
    log = [ll]
    conv = False
    it = 0
    for it in range(1, maxit + 1):
        step = np.linalg.solve(-H, g)
        t = 1.0
        for _ in range(40):
            nll, ng, nH = model.value(beta + t * step)
            if np.isfinite(nll) and nll >= ll - 1e-10 * abs(ll):
                break
            t *= 0.5
        done = abs(nll - ll) < 1e-11 * (abs(ll) + 1) and np.max(np.abs(t * step)) < 1e-7
        beta, ll, g, H = beta + t * step, nll, ng, nH
        log.append(ll)
        if done:
            conv = True
            break
    return pg.PanelFit(beta, np.linalg.inv(-H), float(ll), float(ll0), it, conv, log)
