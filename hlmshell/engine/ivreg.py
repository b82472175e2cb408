"""Single-equation instrumental-variables estimators (Stata's ivregress, [R] ivregress).

y = X b + e with X = [endogenous, exogenous(, constant)] and instruments Z = [exogenous,
excluded(, constant)]. 2SLS is the k-class estimator with k = 1, LIML the one with k the
smallest eigenvalue of (W'M_Z W)^-1 (W'M_1 W) (W = [y, endogenous], M_1 the annihilator of the
included exogenous columns), and GMM the two-step (or iterated) estimator with the weight
matrix built from the previous step's residuals. Pure numerics: the command module turns the
fit into e() and text.

Variances follow ivregress's Methods and formulas: unadjusted uses e'e/N (e'e/(N-k) with
small); robust the HC0 sandwich (times N/(N-k) with small); cluster the sum of each
cluster's scores times G/(G-1) (times (N-1)/(N-k) more with small).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class IvFit:
    b: np.ndarray
    V: np.ndarray
    resid: np.ndarray
    N: int
    k: int
    rss: float
    kappa: float = 1.0
    n_clust: int = 0
    J: float = float("nan")            # Hansen's J after gmm
    iterations: int = 0
    extra: dict = field(default_factory=dict)


def _solve(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    return np.linalg.solve(A, B)


def _proj(Z: np.ndarray, A: np.ndarray) -> np.ndarray:
    """P_Z A by least squares (stable when Z'Z is badly scaled)."""
    coef, *_ = np.linalg.lstsq(Z, A, rcond=None)
    return Z @ coef


def liml_kappa(y: np.ndarray, Y2: np.ndarray, X1: np.ndarray, Z: np.ndarray) -> float:
    """LIML's k: the smallest root of |W'M_1 W - k W'M_Z W| = 0, W = [y, Y2]."""
    W = np.column_stack([y, Y2])
    Wz = W - _proj(Z, W)
    W1 = W - _proj(X1, W) if X1.shape[1] else W
    A = W1.T @ W1
    B = Wz.T @ Wz
    L = np.linalg.cholesky(B)
    Li = np.linalg.inv(L)
    vals = np.linalg.eigvalsh(Li @ A @ Li.T)
    return float(vals.min())


def kclass(y: np.ndarray, X: np.ndarray, Z: np.ndarray, kappa: float):
    """(b, X-tilde): b = (X'(I - k M_Z) X)^-1 X'(I - k M_Z) y; X-tilde = (I - k M_Z) X, the
    instrument-like matrix the sandwich uses."""
    Xt = X - kappa * (X - _proj(Z, X))
    b = _solve(Xt.T @ X, Xt.T @ y)
    return b, Xt


def _meat(S: np.ndarray, e: np.ndarray, clusters: np.ndarray | None) -> tuple[np.ndarray, int]:
    """Sum of the scores' outer products: observation by observation, or cluster totals."""
    u = S * e[:, None]
    if clusters is None:
        return u.T @ u, 0
    _, inv = np.unique(clusters, return_inverse=True)
    G = int(inv.max()) + 1
    tot = np.zeros((G, S.shape[1]))
    np.add.at(tot, inv, u)
    return tot.T @ tot, G


def _scale(vce: str, N: int, k: int, G: int, small: bool) -> float:
    if vce == "robust":
        return N / (N - k) if small else 1.0
    if vce == "cluster":
        f = G / (G - 1)
        return f * (N - 1) / (N - k) if small else f
    return 1.0


def fit_kclass(y, X, Z, *, liml: bool = False, n_endog: int = 0, n_exog: int = 0,
               vce: str = "unadjusted", clusters=None, small: bool = False,
               w: np.ndarray | None = None, fweight: bool = False) -> IvFit:
    """2SLS (liml=False) or LIML. X's first n_endog columns are the endogenous ones; Z's
    first n_exog columns are X's included exogenous ones (the constant, if any, is last in
    both and counted in n_exog). w: analytic or sampling weights (normalized here to sum to
    the number of rows) or, with fweight, frequencies (N is their sum; each copy is its own
    observation in the robust sum). The weighted fit is the unweighted one of sqrt(w) times
    y, X and Z."""
    N, k = X.shape
    if w is not None:
        if not fweight:
            w = w * (N / w.sum())
        else:
            N = round(float(w.sum()))
        s = np.sqrt(w)
        y, X, Z = y * s, X * s[:, None], Z * s[:, None]
    kappa = 1.0
    if liml:
        X1 = X[:, n_endog:]
        kappa = liml_kappa(y, X[:, :n_endog], X1, Z)
    b, Xt = kclass(y, X, Z, kappa)
    e = y - X @ b
    rss = float(e @ e)
    bread = np.linalg.inv(Xt.T @ X)
    bread = (bread + bread.T) / 2
    G = 0
    if vce == "unadjusted":
        V = bread * (rss / (N - k) if small else rss / N)
    else:
        S = Xt
        if fweight and vce == "robust":          # sum over the copies: w x e^2 x'
            S = Xt / np.sqrt(w)[:, None]
        M, G = _meat(S, e, clusters if vce == "cluster" else None)
        V = bread @ M @ bread * _scale(vce, N, k, G, small)
    resid = e if w is None else e / np.sqrt(w)
    return IvFit(b=b, V=(V + V.T) / 2, resid=resid, N=N, k=k, rss=rss, kappa=kappa, n_clust=G)


def _S(Z, e, wtype: str, clusters, center: bool) -> np.ndarray:
    """The moment covariance S = (1/N) sum z_i z_i' e_i^2 (robust), cluster totals, or
    (e'e/N) Z'Z/N (unadjusted)."""
    N = Z.shape[0]
    if wtype == "unadjusted":
        return (e @ e / N) * (Z.T @ Z) / N
    u = Z * e[:, None]
    if wtype == "cluster":
        _, inv = np.unique(clusters, return_inverse=True)
        tot = np.zeros((int(inv.max()) + 1, Z.shape[1]))
        np.add.at(tot, inv, u)
        u = tot
    if center:
        u = u - u.mean(axis=0)
    return u.T @ u / N


def _gmm_step(y, X, Z, W):
    XZ = X.T @ Z
    A = XZ @ W @ XZ.T
    return _solve(A, XZ @ W @ (Z.T @ y))


def fit_gmm(y, X, Z, *, wtype: str = "robust", wclusters=None, vce: str = "robust",
            clusters=None, small: bool = False, igmm: bool = False, center: bool = False,
            eps: float = 1e-6, weps: float = 1e-6, maxiter: int = 16000) -> IvFit:
    """Two-step (or iterated, igmm) GMM: step 1 is 2SLS; W = S^-1 from the residuals of the
    step before. The VCE is the sandwich with S from the final residuals (vce's kind; the
    unadjusted one is N (X'Z W Z'X)^-1 with that S); J = N gbar' W gbar with the weight
    matrix the estimates used."""
    N, k = X.shape
    b = fit_kclass(y, X, Z).b
    it = 1
    while True:
        W = np.linalg.inv(_S(Z, y - X @ b, wtype, wclusters, center))
        b_new = _gmm_step(y, X, Z, W)
        it += 1
        if not igmm:
            b = b_new
            break
        W_new = np.linalg.inv(_S(Z, y - X @ b_new, wtype, wclusters, center))
        db = np.max(np.abs(b_new - b) / (np.abs(b) + 1))
        dw = np.max(np.abs(W_new - W) / (np.abs(W) + 1))
        b = b_new
        if (db < eps and dw < weps) or it >= maxiter:
            break
    e = y - X @ b
    XZ = X.T @ Z
    g = Z.T @ e / N
    J = float(N * g @ W @ g)
    S = _S(Z, e, vce if vce != "cluster" else "cluster", clusters, center)
    A = np.linalg.inv(XZ @ W @ XZ.T)
    V = N * A @ (XZ @ W @ S @ W @ XZ.T) @ A
    G = 0
    if vce == "cluster":
        G = len(np.unique(clusters))
        V = V * (G / (G - 1)) * ((N - 1) / (N - k) if small else 1.0)
    elif small:
        V = V * N / (N - k)
    return IvFit(b=b, V=(V + V.T) / 2, resid=e, N=N, k=k, rss=float(e @ e), n_clust=G, J=J,
                 iterations=it)


# ----------------------------------------------------------------------------- diagnostics

def ols_rss(y: np.ndarray, X: np.ndarray) -> float:
    if X.shape[1] == 0:
        return float(y @ y)
    r = y - _proj(X, y)
    return float(r @ r)


def first_stage(Y2: np.ndarray, X1: np.ndarray, Z: np.ndarray) -> list[dict]:
    """Per endogenous variable: R-squared, adjusted R-squared, partial R-squared of the
    excluded instruments (given X1), their F(L2, N - L) and its p-value's inputs."""
    N, L = Z.shape
    L2 = L - X1.shape[1]
    has_cons = bool(np.any(np.all(Z == 1.0, axis=0)))
    out = []
    for j in range(Y2.shape[1]):
        yj = Y2[:, j]
        rss_u = ols_rss(yj, Z)
        rss_r = ols_rss(yj, X1)
        tss = float(((yj - yj.mean()) ** 2).sum()) if has_cons else float(yj @ yj)
        r2 = 1 - rss_u / tss
        df_den = N - L
        out.append({"r2": r2, "r2_a": 1 - (1 - r2) * ((N - 1) if has_cons else N) / df_den,
                    "pr2": 1 - rss_u / rss_r, "F": ((rss_r - rss_u) / L2) / (rss_u / df_den),
                    "df1": L2, "df2": df_den})
    return out


def shea_partial_r2(X: np.ndarray, Z: np.ndarray, n_endog: int) -> list[float]:
    """Shea's (1997) partial R-squared of each endogenous regressor: the squared correlation
    between its part orthogonal to the other regressors and the same for its fitted values
    (Godfrey's form: [V_ols]_jj / [V_2sls]_jj times the sigma ratio, written directly)."""
    Xh = _proj(Z, X)
    out = []
    for j in range(n_endog):
        others = np.delete(np.arange(X.shape[1]), j)
        a = X[:, j] - _proj(X[:, others], X[:, j]) if len(others) else X[:, j]
        c = Xh[:, j] - _proj(Xh[:, others], Xh[:, j]) if len(others) else Xh[:, j]
        out.append(float((a @ c) ** 2 / ((a @ a) * (c @ c))))
    return out


def min_eigenvalue(Y2: np.ndarray, X1: np.ndarray, Z: np.ndarray) -> float:
    """Cragg and Donald's minimum eigenvalue statistic: the smallest eigenvalue of
    Sigma^-1/2 Y2'M1 Z2 (Z2'M1 Z2)^-1 Z2'M1 Y2 Sigma^-1/2 / L2, Sigma = Y2'M_Z Y2/(N - L)."""
    N, L = Z.shape
    L2 = L - X1.shape[1]

    def m1(A):
        return A - _proj(X1, A) if X1.shape[1] else A
    Y2t = m1(Y2)
    Z2t = m1(Z[:, X1.shape[1]:]) if X1.shape[1] else Z
    Yz = Y2 - _proj(Z, Y2)
    Sigma = Yz.T @ Yz / (N - L)
    P = Y2t.T @ _proj(Z2t, Y2t)
    Li = np.linalg.inv(np.linalg.cholesky(Sigma))
    return float(np.linalg.eigvalsh(Li @ P @ Li.T).min() / L2)


def endogeneity(y, X, Z, n_endog: int) -> dict:
    """Durbin's chi2 and the Wu-Hausman F: OLS of y on X with and without the first-stage
    residuals of the endogenous columns (the control-function regression)."""
    N, k = X.shape
    Y2 = X[:, :n_endog]
    V2 = Y2 - _proj(Z, Y2)
    rss_r = ols_rss(y, X)
    rss_u = ols_rss(y, np.column_stack([X, V2]))
    a = (rss_r - rss_u)
    durbin = N * a / rss_r
    df2 = N - k - n_endog
    wu = (a / n_endog) / (rss_u / df2)
    return {"durbin": durbin, "wu": wu, "df": n_endog, "wudf_r": df2}


def overid(e: np.ndarray, Z: np.ndarray, k: int) -> dict:
    """Sargan's N e'P_Z e / e'e and Basmann's (N - L) e'P_Z e / e'M_Z e, chi2(L - k)."""
    N, L = Z.shape
    pe = _proj(Z, e)
    epe = float(e @ pe)
    ee = float(e @ e)
    return {"sargan": N * epe / ee, "basmann": (N - L) * epe / (ee - epe), "df": L - k}


def overid_score(e: np.ndarray, X: np.ndarray, Z: np.ndarray,
                 clusters: np.ndarray | None = None) -> dict:
    """Wooldridge's (1995) robust score test of the overidentifying restrictions: the last
    q = L - k excluded instruments residualized on the fitted regressors X-hat, scores
    e * r (summed within clusters), N - RSS of regressing 1 on them, chi2(q)."""
    L = Z.shape[1]
    q = L - X.shape[1]
    Xh = _proj(Z, X)
    Q = Z[:, L - q:]
    R = Q - _proj(Xh, Q)
    U = R * e[:, None]
    if clusters is not None:
        _, inv = np.unique(clusters, return_inverse=True)
        tot = np.zeros((int(inv.max()) + 1, q))
        np.add.at(tot, inv, U)
        U = tot
    one = np.ones(U.shape[0])
    fitted = _proj(U, one)
    return {"score": float(one @ fitted), "df": q}
