"""Fixed- and random-effects linear models with AR(1) disturbances (Baltagi and Wu 1999), as
[XT] xtregar computes them.

rho: from the within-transformed (panel-demeaned) data without a constant, by iterated
Prais-Winsten regression whose residuals give rho by the chosen rhotype (dw by default;
`twostep` stops at the OLS residuals), or by the one-step formula, or fixed (rhof()).

The C_i(rho) transform of every variable (the constant too), with d the gap in periods:

    z*_i1 = sqrt(1 - rho^2) z_i1
    z*_ij = sqrt(1 - rho^2) (z_ij - rho^d z_i,j-1) / sqrt(1 - rho^(2d))

fe: the first observation of each panel is dropped and the within estimator is run on the
transformed data (the constant divided by 1 - rho afterwards). re: pooled OLS on the
transformed data gives residuals from which Baltagi and Wu's sigma_e^2 and sigma_u^2 come;
theta_i = 1 - sigma_e / omega_i with omega_i^2 = g_i'g_i sigma_u^2 + sigma_e^2, and GLS is OLS
on z* - theta_i g_i (g_i'z*_i) / (g_i'g_i).

Arrays are sorted by panel then time; panel codes are 0..N-1. Numerics only.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

RHOTYPES = ("dw", "regress", "freg", "tscorr", "theil", "nagar", "onestep")


@dataclass
class Panels:
    """Panel structure of the sorted sample."""

    code: np.ndarray          # panel code per row
    gap: np.ndarray           # periods since the panel's previous row (0 on a panel's first)
    first: np.ndarray         # first row of its panel

    @property
    def consecutive(self) -> np.ndarray:
        """Row whose previous period is the preceding row (the L. operator's pairs)."""
        return self.gap == 1


def panels(code: np.ndarray, time: np.ndarray, delta: float) -> Panels:
    first = np.ones(len(code), dtype=bool)
    first[1:] = code[1:] != code[:-1]
    gap = np.zeros(len(code))
    gap[1:] = np.where(first[1:], 0.0, (time[1:] - time[:-1]) / delta)
    return Panels(code, np.round(gap, 9), first)


def demean(Z: np.ndarray, code: np.ndarray) -> np.ndarray:
    counts = np.bincount(code)
    if Z.ndim == 1:
        return Z - (np.bincount(code, Z) / counts)[code]
    if Z.shape[1] == 0:
        return Z.astype(float)
    means = np.column_stack([np.bincount(code, Z[:, j]) for j in range(Z.shape[1])]) / counts[:, None]
    return Z - means[code]


def within_independent(X: np.ndarray, code: np.ndarray, tol: float = 1e-9) -> np.ndarray:
    """Columns kept after the within transform (left to right, as _rmcoll keeps them): a
    column constant within panels, or a combination of the columns kept before it, goes."""
    Xd = demean(X, code)
    keep = np.zeros(X.shape[1], dtype=bool)
    basis = np.zeros((X.shape[0], 0))
    for j in range(X.shape[1]):
        col = Xd[:, j]
        scale = float(np.linalg.norm(X[:, j] - X[:, j].mean())) or 1.0
        resid = col - basis @ (basis.T @ col) if basis.shape[1] else col
        norm = float(np.linalg.norm(resid))
        if norm > tol * scale and norm > 1e-12:
            keep[j] = True
            basis = np.column_stack([basis, resid / norm])
    return keep


def rho_from_residuals(e: np.ndarray, p: Panels, rhotype: str, k: int) -> float:
    """One rho from residuals, by [TS] prais's rhotype definitions (pairs within panels)."""
    idx = np.flatnonzero(p.consecutive)
    cur, lag = e[idx], e[idx - 1]
    n = len(e)
    ee = float(e @ e)
    if rhotype == "regress":
        return float(cur @ lag) / float(lag @ lag)
    if rhotype == "freg":
        return float(cur @ lag) / float(cur @ cur)
    tscorr = float(cur @ lag) / ee
    dw = 1.0 - float(np.sum((cur - lag) ** 2)) / ee / 2.0
    if rhotype == "tscorr":
        return tscorr
    if rhotype == "theil":
        return tscorr * (n - k) / n
    if rhotype == "nagar":
        return (dw * n * n + k * k) / (n * n - k * k)
    return dw


def _prais_transform(Z: np.ndarray, rho: float, p: Panels) -> np.ndarray:
    out = Z.copy()
    prev = p.consecutive
    out[~prev] = np.sqrt(1 - rho * rho) * Z[~prev]
    idx = np.flatnonzero(prev)
    out[idx] = Z[idx] - rho * Z[idx - 1]
    return out


def estimate_rho(y: np.ndarray, X: np.ndarray, p: Panels, rhotype: str, twostep: bool,
                 tol: float = 1e-6, maxiter: int = 100) -> float:
    """rho of the demeaned data y, X (no constant)."""
    yd, Xd = demean(y, p.code), demean(X, p.code)
    b = np.linalg.lstsq(Xd, yd, rcond=None)[0] if Xd.shape[1] else np.zeros(0)
    e = yd - Xd @ b
    if rhotype == "onestep":
        idx = np.flatnonzero(p.consecutive)
        return float(e[idx] @ e[idx - 1]) / len(idx) / (float(e @ e) / len(e))
    k = Xd.shape[1]
    rho = rho_from_residuals(e, p, rhotype, k)
    if twostep:
        return rho
    for _ in range(maxiter):
        ys, Xs = _prais_transform(yd, rho, p), _prais_transform(Xd, rho, p)
        b = np.linalg.lstsq(Xs, ys, rcond=None)[0] if k else b
        new = rho_from_residuals(yd - Xd @ b, p, rhotype, k)
        done = abs(new - rho) < tol
        rho = new
        if done:
            break
    return rho


def bw_transform(Z: np.ndarray, rho: float, p: Panels) -> np.ndarray:
    """Baltagi and Wu's C_i(rho) transform of the columns of Z (sorted rows)."""
    Z2 = Z if Z.ndim == 2 else Z[:, None]
    out = np.sqrt(1 - rho * rho) * Z2.copy()
    idx = np.flatnonzero(~p.first)
    d = p.gap[idx][:, None]
    with np.errstate(all="ignore"):
        out[idx] = np.sqrt(1 - rho * rho) * (Z2[idx] - rho ** d * Z2[idx - 1]) / np.sqrt(1 - rho ** (2 * d))
    return out if Z.ndim == 2 else out[:, 0]


def _ols(y, X):
    XtX_inv = np.linalg.pinv(X.T @ X)
    b = XtX_inv @ X.T @ y
    e = y - X @ b
    return b, e, XtX_inv


def _corr(a, b) -> float:
    return float(np.corrcoef(a, b)[0, 1])


@dataclass
class Fit:
    b: np.ndarray                     # regressors then _cons
    V: np.ndarray
    N: int                            # observations used
    n_g: int
    Ti: np.ndarray
    sc: dict = field(default_factory=dict)
    theta: np.ndarray | None = None   # re: per observation


def fe_fit(y: np.ndarray, X: np.ndarray, p: Panels, rho: float) -> Fit:
    """Within estimator on the transformed data (first observation of each panel dropped)."""
    one = np.ones(len(y))
    ys, Xs, cs = bw_transform(y, rho, p), bw_transform(X, rho, p), bw_transform(one, rho, p)
    keep = ~p.first
    ys, Xs, cs = ys[keep], Xs[keep], cs[keep]
    _, code = np.unique(p.code[keep], return_inverse=True)
    NT, k = len(ys), Xs.shape[1]
    N = int(code.max()) + 1
    _, e_r, _ = _ols(ys, np.column_stack([Xs, cs]))
    rrss = float(e_r @ e_r)

    def fevar(z):
        return demean(z, code) + z.mean(axis=0)
    Xw = np.column_stack([fevar(Xs), one[:NT]])
    yw = fevar(ys)
    b, e, XtX_inv = _ols(yw, Xw)
    K = k + 1
    rss = float(e @ e)
    tss = float(np.sum((yw - yw.mean()) ** 2))
    df_m, df_r = K - 1 + N - 1, NT - (K - 1 + N - 1) - 1
    V = rss / (NT - K) * XtX_inv * (NT - K) / (NT - N - K + 1)
    # panel effects and R-squared on the original data of the rows used
    yo, Xo = y[keep], X[keep]
    xb = Xo @ b[:k] + b[k]
    counts = np.bincount(code)
    ui = np.bincount(code, yo - xb) / counts
    s2u = float(np.var(ui, ddof=1)) if N > 1 else float("nan")
    sigma_e2 = rss / df_r
    xbm, ym = (np.bincount(code, xb) / counts)[code], (np.bincount(code, yo) / counts)[code]
    sc = {"rrss": rrss, "rss": rss, "mss": tss - rss, "r2_w": 1 - rss / tss if tss > 0 else float("nan"),
          "df_m": float(df_m), "df_r": float(df_r), "df_b": float(K - 1), "df_a": float(N - 1),
          "F": (tss - rss) / (K - 1) / (rss / df_r) if K > 1 else float("nan"),
          "F_f": df_r / (N - 1) * (rrss - rss) / rss if N > 1 else float("nan"),
          "sigma_e": float(np.sqrt(sigma_e2)), "sigma_u": float(np.sqrt(s2u)),
          "rho_fov": s2u / (sigma_e2 + s2u), "corr": _corr(ui[code], xb),
          "r2_b": _corr(xbm, ym) ** 2, "r2_o": _corr(xb, yo) ** 2,
          "rmse": float(np.sqrt(rss / (NT - K))),
          "ll": -0.5 * NT * (np.log(2 * np.pi) + np.log(rss / NT) + 1),
          "ll_0": -0.5 * NT * (np.log(2 * np.pi) + np.log(tss / NT) + 1)}
    sc["r2_a"] = 1 - (NT - 1) / df_r * (1 - sc["r2_w"])
    b = b.copy()
    b[k] = b[k] / (1 - rho)
    return Fit(b, V, NT, N, counts, sc)


def re_fit(y: np.ndarray, X: np.ndarray, p: Panels, rho: float) -> Fit:
    """Baltagi and Wu's GLS on the transformed data."""
    n, k = X.shape
    one = np.ones(n)
    Zs = bw_transform(np.column_stack([X, one]), rho, p)
    ys = bw_transform(y, rho, p)
    _, mu, _ = _ols(ys, Zs)
    code = p.code
    N = int(code.max()) + 1
    g = np.ones(n)
    idx = np.flatnonzero(~p.first)
    d = p.gap[idx]
    g[idx] = (1 - rho ** d) / np.sqrt(1 - rho ** (2 * d))
    g *= np.sqrt(1 - rho * rho)
    gg = np.bincount(code, g * g, minlength=N)
    mg = np.bincount(code, mu * g, minlength=N)
    counts = np.bincount(code, minlength=N)
    s2w = float(np.sum(mg * mg / gg))
    s2e = (float(mu @ mu) - s2w) / float(np.sum(counts - 1))
    s2u = max(0.0, (s2w - N * s2e) / float(gg.sum()))
    theta_i = 1 - np.sqrt(s2e / (gg * s2u + s2e))

    def gls(z):
        z2 = z if z.ndim == 2 else z[:, None]
        proj = np.column_stack([np.bincount(code, z2[:, j] * g, minlength=N) for j in range(z2.shape[1])])
        out = z2 - (theta_i[:, None] * proj / gg[:, None])[code] * g[:, None]
        return out if z.ndim == 2 else out[:, 0]
    Zg, yg = gls(Zs), gls(ys)
    b, e, XtX_inv = _ols(yg, Zg)
    V = float(e @ e) / (n - (k + 1)) * XtX_inv
    test = list(range(k))
    chi2 = float(b[test] @ np.linalg.solve(V[np.ix_(test, test)], b[test])) if k else float("nan")
    xb = X @ b[:k] + b[k]
    xbm, ym = (np.bincount(code, xb) / counts)[code], (np.bincount(code, y) / counts)[code]
    sc = {"chi2": chi2, "df_m": float(k + 1), "sigma_u": float(np.sqrt(s2u)), "sigma_e": float(np.sqrt(s2e)),
          "rho_fov": s2u / (s2e + s2u), "r2_o": _corr(xb, y) ** 2, "r2_b": _corr(xbm, ym) ** 2,
          "r2_w": _corr(xb - xbm, y - ym) ** 2}
    return Fit(b, V, n, N, counts, sc, theta=theta_i[code])
