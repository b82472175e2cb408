"""One variable's imputation model ([MI] mi impute regress, pmm, logit, ologit, mlogit).

Each method fits its model to the observations where the variable is observed, draws the
model's parameters from their (approximate) posterior -- so that the M imputations carry the
uncertainty about the parameters, which is what makes Rubin's rules proper -- and then draws
the missing values from the model with the drawn parameters:

  regress  sigma*^2 = sigma^2 (n - k) / chi2(n - k),  beta* ~ N(beta, sigma*^2 (X'X)^-1),
           y* = x beta* + sigma* e
  pmm      beta* as regress; each missing value takes the observed value of one of its knn
           nearest neighbours in the linear prediction (x beta for the observed, x beta* for
           the missing): imputed values are always observed values
  logit    beta* ~ N(beta, V); y* = 1 with probability invlogit(x beta*)
  ologit   (beta*, cut*) ~ N(theta, V); the category drawn from the ordered-logit probabilities
  mlogit   beta* ~ N(beta, V) (base outcome: the most frequent); the category drawn

X holds the predictors without the constant (each model has one). Pure numpy (scipy.optimize
for the ordinal and multinomial fits, imported when one is fitted).
"""
from __future__ import annotations

import numpy as np


class ImputeError(ValueError):
    """The imputation model cannot be fitted (too few observations, perfect prediction)."""


# ---------------------------------------------------------------------------- design helpers
def independent_columns(X: np.ndarray, tol: float = 1e-9) -> np.ndarray:
    """Indices of a maximal set of linearly independent columns, in order (collinear
    predictors are dropped, as Stata's estimation commands omit them)."""
    keep: list[int] = []
    if X.shape[1] == 0:
        return np.array(keep, dtype=int)
    scale = np.sqrt((X ** 2).sum(axis=0))
    scale[scale == 0] = 1.0
    Z = X / scale
    for j in range(X.shape[1]):
        cand = keep + [j]
        s = np.linalg.svd(Z[:, cand], compute_uv=False)
        if s.size and s[-1] > tol * max(s[0], 1.0):
            keep = cand
    return np.array(keep, dtype=int)


def with_constant(X: np.ndarray) -> np.ndarray:
    """[1, X]: the constant first, so that a predictor collinear with it is the one dropped."""
    X = np.asarray(X, dtype=float).reshape(len(X), -1)
    return np.column_stack([np.ones(len(X)), X])


def _mvn_draw(mean: np.ndarray, cov: np.ndarray, rng) -> np.ndarray:
    """One draw from N(mean, cov) through a symmetric square root (cov may be singular)."""
    w, v = np.linalg.eigh((cov + cov.T) / 2)
    root = v * np.sqrt(np.clip(w, 0, None))
    return mean + root @ rng.standard_normal(len(mean))


# ---------------------------------------------------------------------------- linear regression
def regress_draw(y: np.ndarray, X: np.ndarray, rng):
    """(beta_hat, beta*, sigma*) for the regression of y on X (constant included in X)."""
    n, k = X.shape
    if n <= k:
        raise ImputeError("insufficient observations")
    bhat, *_ = np.linalg.lstsq(X, y, rcond=None)
    resid = y - X @ bhat
    df = n - k
    s2 = float(resid @ resid) / df
    g = rng.chisquare(df)
    s2star = s2 * df / g
    XtXi = np.linalg.pinv(X.T @ X)
    bstar = _mvn_draw(bhat, s2star * XtXi, rng)
    return bhat, bstar, float(np.sqrt(s2star))


def impute_regress(y, X, miss, rng) -> np.ndarray:
    """Values for the rows `miss` of y (linear regression method)."""
    Xc = _design(X)
    _, bstar, sstar = regress_draw(y[~miss], Xc[~miss], rng)
    xm = Xc[miss]
    return xm @ bstar + sstar * rng.standard_normal(len(xm))


def impute_pmm(y, X, miss, rng, knn: int = 1) -> np.ndarray:
    """Predictive mean matching: each missing value is the observed value of one of the knn
    observed rows whose prediction (x beta_hat) is nearest its own (x beta*)."""
    Xc = _design(X)
    obs = ~miss
    bhat, bstar, _ = regress_draw(y[obs], Xc[obs], rng)
    pred_obs = Xc[obs] @ bhat
    y_obs = y[obs]
    pred_mis = Xc[miss] @ bstar
    k = int(min(max(knn, 1), len(y_obs)))
    out = np.empty(len(pred_mis))
    order = np.argsort(pred_obs, kind="mergesort")
    sorted_pred = pred_obs[order]
    for i, p in enumerate(pred_mis):
        d = np.abs(sorted_pred - p)
        near = np.argpartition(d, k - 1)[:k] if k < len(d) else np.arange(len(d))
        out[i] = y_obs[order[near[rng.integers(len(near))]]]
    return out


def _design(X) -> np.ndarray:
    """[1, X] without the predictors collinear with the constant or with earlier ones."""
    Xc = with_constant(X)
    return Xc[:, independent_columns(Xc)] if Xc.shape[1] > 1 else Xc


# ---------------------------------------------------------------------------- logistic regression
def logit_fit(y01: np.ndarray, X: np.ndarray, maxiter: int = 50, wt=None):
    """Newton-Raphson for the logit of a 0/1 outcome (weights wt): (beta, V = inverse
    information). A divergent fit (perfect prediction) is an ImputeError."""
    wt = np.ones(len(y01)) if wt is None else np.asarray(wt, dtype=float)
    beta = np.zeros(X.shape[1])
    for _ in range(maxiter):
        eta = np.clip(X @ beta, -30, 30)
        p = 1.0 / (1.0 + np.exp(-eta))
        w = wt * p * (1 - p)
        H = (X * w[:, None]).T @ X
        g = X.T @ (wt * (y01 - p))
        try:
            step = np.linalg.solve(H, g)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(H, g, rcond=None)[0]
        beta = beta + step
        if np.max(np.abs(step)) < 1e-9:
            break
    if not np.all(np.isfinite(beta)) or np.max(np.abs(beta)) > 50:
        raise ImputeError("perfect prediction detected")
    eta = np.clip(X @ beta, -30, 30)
    p = 1.0 / (1.0 + np.exp(-eta))
    H = (X * (wt * p * (1 - p))[:, None]).T @ X
    return beta, np.linalg.pinv(H)


def augmented(X: np.ndarray, y: np.ndarray, levels) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The data with White, Daniel and Royston's (2010) augmentation, what Stata's `augment`
    does on perfect prediction: for each predictor j (X without the constant) and each outcome
    level, two records at the predictors' means with x_j at its mean -/+ one SD, each weighing
    (p + 1) / (2 p K); the observed records weigh 1. Returns (X, y, weights)."""
    n, p = X.shape
    K = len(levels)
    if p == 0:
        return X, y, np.ones(n)
    mean, sd = X.mean(axis=0), X.std(axis=0)
    rows, ys = [], []
    for j in range(p):
        for lv in levels:
            for sign in (-1.0, 1.0):
                r = mean.copy()
                r[j] += sign * sd[j]
                rows.append(r)
                ys.append(lv)
    w = np.concatenate([np.ones(n), np.full(len(rows), (p + 1) / (2.0 * p * K))])
    return np.vstack([X, np.array(rows)]), np.concatenate([y, ys]), w


def impute_logit(y, X, miss, rng, augment: bool = False) -> np.ndarray:
    """Two-level variable: the levels are its two observed values (lower = failure). With
    augment, perfect prediction refits on the augmented data."""
    Xc = _design(X)
    obs = ~miss
    levels = np.unique(y[obs])
    if len(levels) != 2:
        raise ImputeError("imputation variable must have exactly two levels")
    y01 = (y[obs] == levels[1]).astype(float)
    try:
        beta, V = logit_fit(y01, Xc[obs])
    except ImputeError:
        if not augment:
            raise
        Xa, ya, wa = augmented(Xc[obs][:, 1:], y01, [0.0, 1.0])
        beta, V = logit_fit(ya, np.column_stack([np.ones(len(ya)), Xa]), wt=wa)
    bstar = _mvn_draw(beta, V, rng)
    p = 1.0 / (1.0 + np.exp(-np.clip(Xc[miss] @ bstar, -30, 30)))
    return np.where(rng.random(len(p)) < p, levels[1], levels[0])


# ---------------------------------------------------------------------------- ordered logit
def _ologit_nll_grad(theta, X, yi, J, wt=None):
    """-log L and its gradient in (beta, cut_1..cut_{J-1}) (weights wt); +inf when the cuts
    are unordered."""
    wt = np.ones(len(yi)) if wt is None else wt
    k = X.shape[1]
    beta, cuts = theta[:k], theta[k:]
    if np.any(np.diff(cuts) <= 0):
        return 1e300, np.zeros_like(theta)
    eta = X @ beta
    c = np.concatenate([[-np.inf], cuts, [np.inf]])
    a, b = c[yi + 1] - eta, c[yi] - eta
    Fa, Fb = 1.0 / (1.0 + np.exp(-a)), 1.0 / (1.0 + np.exp(-b))
    fa, fb = Fa * (1 - Fa), Fb * (1 - Fb)
    p = np.clip(Fa - Fb, 1e-300, None)
    nll = -float((wt * np.log(p)).sum())
    g_eta = wt * (fa - fb) / p                 # d(-log p)/d eta
    grad = np.empty_like(theta)
    grad[:k] = X.T @ g_eta
    gc = np.zeros(J + 1)
    np.add.at(gc, yi + 1, -wt * fa / p)
    np.add.at(gc, yi, wt * fb / p)
    grad[k:] = gc[1:J]
    return nll, grad


def ologit_fit(yi: np.ndarray, X: np.ndarray, J: int, wt=None):
    """Ordered logit of category indices yi (0..J-1) on X (no constant): (beta, cuts, V) with V
    the inverse of the observed information (the Hessian by differences of the analytic
    gradient)."""
    from scipy.optimize import minimize

    k = X.shape[1]
    freq = np.bincount(yi, minlength=J) / len(yi)
    cum = np.clip(np.cumsum(freq)[:-1], 1e-6, 1 - 1e-6)
    start = np.concatenate([np.zeros(k), np.log(cum / (1 - cum)) + np.arange(J - 1) * 1e-6])
    res = minimize(_ologit_nll_grad, start, args=(X, yi, J, wt), jac=True, method="BFGS",
                   options={"gtol": 1e-7})
    theta = res.x
    h = 1e-5
    cols = []
    for e in np.eye(len(theta)):
        cols.append((_ologit_nll_grad(theta + h * e, X, yi, J, wt)[1]
                     - _ologit_nll_grad(theta - h * e, X, yi, J, wt)[1]) / (2 * h))
    H = np.column_stack(cols)
    if np.max(np.abs(theta)) > 50:
        raise ImputeError("perfect prediction detected")
    if not np.all(np.isfinite(H)):
        raise ImputeError("ordered logit imputation model could not be fitted")
    return theta[:k], theta[k:], np.linalg.pinv((H + H.T) / 2)


def impute_ologit(y, X, miss, rng, augment: bool = False) -> np.ndarray:
    X = _design(X)[:, 1:]          # the cut points take the constant's place
    obs = ~miss
    levels = np.unique(y[obs])
    J = len(levels)
    if J < 2:
        raise ImputeError("imputation variable must have at least two levels")
    yi = np.searchsorted(levels, y[obs])
    try:
        beta, cuts, V = ologit_fit(yi, X[obs], J)
    except ImputeError:
        if not augment:
            raise
        Xa, ya, wa = augmented(X[obs], yi.astype(float), np.arange(J, dtype=float))
        beta, cuts, V = ologit_fit(ya.astype(int), Xa, J, wt=wa)
    draw = _mvn_draw(np.concatenate([beta, cuts]), V, rng)
    k = X.shape[1]
    bstar, cstar = draw[:k], np.sort(draw[k:])
    eta = X[miss] @ bstar
    cdf = 1.0 / (1.0 + np.exp(-(cstar[None, :] - eta[:, None])))
    u = rng.random(len(eta))
    idx = (u[:, None] > cdf).sum(axis=1)
    return levels[idx]


# ---------------------------------------------------------------------------- multinomial logit
def _mlogit_nll_grad(theta, X, Y, wt):
    k = X.shape[1]
    B = theta.reshape(-1, k)                      # (J-1) x k, base outcome excluded
    eta = np.column_stack([np.zeros(len(X)), X @ B.T])
    eta -= eta.max(axis=1, keepdims=True)
    P = np.exp(eta)
    P /= P.sum(axis=1, keepdims=True)
    nll = -float((wt[:, None] * Y * np.log(np.clip(P, 1e-300, None))).sum())
    G = -((wt[:, None] * (Y[:, 1:] - P[:, 1:])).T @ X)
    return nll, G.ravel()


def mlogit_fit(Y: np.ndarray, X: np.ndarray, wt=None):
    """Multinomial logit of one-hot outcomes Y (first column the base) on X (constant
    included): (theta = the other outcomes' coefficients stacked, V)."""
    from scipy.optimize import minimize

    wt = np.ones(len(Y)) if wt is None else np.asarray(wt, dtype=float)
    k = X.shape[1]
    J = Y.shape[1]
    res = minimize(_mlogit_nll_grad, np.zeros((J - 1) * k), args=(X, Y, wt), jac=True, method="BFGS")
    theta = res.x
    if np.max(np.abs(theta)) > 50:
        raise ImputeError("perfect prediction detected")
    h = 1e-5
    H = np.column_stack([(_mlogit_nll_grad(theta + h * e, X, Y, wt)[1]
                          - _mlogit_nll_grad(theta - h * e, X, Y, wt)[1]) / (2 * h)
                         for e in np.eye(len(theta))])
    return theta, np.linalg.pinv((H + H.T) / 2)


def impute_mlogit(y, X, miss, rng, augment: bool = False) -> np.ndarray:
    Xc = _design(X)
    obs = ~miss
    levels, counts = np.unique(y[obs], return_counts=True)
    J = len(levels)
    if J < 2:
        raise ImputeError("imputation variable must have at least two levels")
    base = int(np.argmax(counts))
    order = [base] + [j for j in range(J) if j != base]
    yi = np.array([order.index(v) for v in np.searchsorted(levels, y[obs])])
    try:
        theta, V = mlogit_fit(np.eye(J)[yi], Xc[obs])
    except ImputeError:
        if not augment:
            raise
        Xa, ya, wa = augmented(Xc[obs][:, 1:], yi.astype(float), np.arange(J, dtype=float))
        theta, V = mlogit_fit(np.eye(J)[ya.astype(int)], np.column_stack([np.ones(len(ya)), Xa]), wa)
    k = Xc.shape[1]
    B = _mvn_draw(theta, V, rng).reshape(J - 1, k)
    eta = np.column_stack([np.zeros(miss.sum()), Xc[miss] @ B.T])
    eta -= eta.max(axis=1, keepdims=True)
    P = np.exp(eta)
    P /= P.sum(axis=1, keepdims=True)
    u = rng.random(len(P))
    pick = (u[:, None] > np.cumsum(P, axis=1)).sum(axis=1)
    pick = np.minimum(pick, J - 1)
    return levels[np.array(order)[pick]]


METHODS = {"regress": impute_regress, "pmm": impute_pmm, "logit": impute_logit,
           "ologit": impute_ologit, "mlogit": impute_mlogit}
