"""Linear panel-data estimators of `xtreg` and the Hausman test (pure numerics).

    P = panels(codes)                      # group structure of the estimation sample
    fit_within(y, X, cons, P)              # fe: the within estimator (Stata's xtreg, fe)
    fit_between(y, X, cons, P)             # be: OLS on the group means
    fit_gls(y, X, cons, P, sa=False)       # re: Swamy-Arora feasible GLS
    fit_ml(y, X, cons, P)                  # mle: random-intercept maximum likelihood
    hausman(d, Vd)                         # (b-B)'(V_b-V_B)^+(b-B), rank, positive definite

X holds the estimated columns of the design (factor levels, interactions) with the constant
in column `cons`; y and X are the estimation sample, codes the panel of each row.

Every estimator runs on the standardized problem of engine.standardize (y and the covariates
centred and scaled by powers of two) and maps its results back, so that the estimates do not
depend on the location or units of the data; the group means are taken in two passes (the
first pass's rounding error removed by the second), so that a within transform keeps the
digits of a small within-group spread around a large level.

Stata's formulas ([XT] xtreg, Methods and formulas):
  fe   OLS of y_it - ybar_i + ybar on x_it - xbar_i + xbar and a constant; the VCE counts the
       n - 1 absorbed means (df_r = N - n - k); vce(cluster) scales the sandwich by
       G/(G-1) (N-1)/(N-k-1): the absorbed means are not counted when the panels are nested
       within the clusters (Stata's xtreg, fe; plm's vcovHC(type="sss") uses N-k instead).
  be   OLS of ybar_i on xbar_i (n observations), or WLS with weights T_i (option wls).
  re   sigma_e^2 = SSR_within / (N - n - k);  sigma_u^2 = max(0, SSR_between/(n - K)
       - sigma_e^2/Tbar) with Tbar the harmonic mean of T_i, or (option sa, unbalanced panels)
       Baltagi and Chang's max(0, (sum T_i rbar_i^2 - (n - K) sigma_e^2) / (N - tr)),
       tr = trace((X'PX)^-1 X'ZZ'X); theta_i = 1 - sigma_e / sqrt(T_i sigma_u^2 + sigma_e^2);
       then OLS of y_it - theta_i ybar_i on x_it - theta_i xbar_i (and 1 - theta_i) with the
       conventional VCE s^2 (X*'X*)^-1, s^2 = SSR*/(N - K).
  mle  the likelihood of the random-intercept model, maximized over lambda = sigma_u^2 /
       sigma_e^2 with beta and sigma_e^2 profiled out (a one-dimensional root of the profile
       score); the VCE is the inverse of the observed information in (beta, sigma_u,
       sigma_e), computed analytically.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from . import ols, standardize

NAN = float("nan")
LOG2PI = math.log(2 * math.pi)
# a column is collinear with earlier ones when what is left of it after projecting it on them
# (or, for the within and between transforms, what the transform leaves of it) is below this
# share of its own sum of squares: the same ratio the design's collinearity test uses
COLLINEAR_TOL = 1e-13


# --------------------------------------------------------------------------- groups
@dataclass
class Panels:
    """The panels of the estimation sample: codes 0..G-1 per row, rows sorted by panel
    (`order`, stable) and where each panel starts in that order, T_i per panel."""

    codes: np.ndarray
    order: np.ndarray
    starts: np.ndarray
    counts: np.ndarray

    @property
    def n_groups(self) -> int:
        return len(self.counts)

    @property
    def n_obs(self) -> int:
        return len(self.codes)

    @property
    def balanced(self) -> bool:
        return bool(self.counts.min() == self.counts.max())

    @property
    def harmonic_T(self) -> float:
        return float(self.n_groups / np.sum(1.0 / self.counts))

    def sums(self, v: np.ndarray) -> np.ndarray:
        """Per-panel sums of v (rows of a matrix)."""
        v = np.asarray(v, dtype=np.float64)
        return np.add.reduceat(v[self.order], self.starts, axis=0)

    def means(self, v: np.ndarray) -> np.ndarray:
        """Per-panel means, corrected by a second pass over the deviations from the first."""
        v = np.asarray(v, dtype=np.float64)
        cnt = self.counts if v.ndim == 1 else self.counts[:, None]
        m = self.sums(v) / cnt
        m = m + self.sums(v - m[self.codes]) / cnt
        return m

    def expand(self, m: np.ndarray) -> np.ndarray:
        """A per-panel value on every row of its panel."""
        return m[self.codes]

    def within(self, v: np.ndarray) -> np.ndarray:
        """v minus its panel mean."""
        v = np.asarray(v, dtype=np.float64)
        return v - self.expand(self.means(v))


def panels(codes) -> Panels:
    """The Panels of integer codes 0..G-1 (every code present)."""
    codes = np.asarray(codes, dtype=np.int64).reshape(-1)
    order = np.argsort(codes, kind="stable")
    counts = np.bincount(codes)
    if np.any(counts == 0):
        raise ValueError("panel codes must be 0..G-1, each present")
    starts = np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.int64)
    return Panels(codes, order, starts, counts.astype(np.int64))


def cluster_codes(values) -> np.ndarray:
    """Integer codes 0..C-1 of a cluster variable's values."""
    _, inv = np.unique(np.asarray(values), return_inverse=True)
    return inv.reshape(-1).astype(np.int64)


def nested(P: Panels, clusters: np.ndarray) -> bool:
    """Every panel lies within one cluster (Stata's _xtreg_chk_cl2)."""
    c = np.asarray(clusters, dtype=np.int64)
    first = np.full(P.n_groups, -1, dtype=np.int64)
    first[P.codes[::-1]] = c[::-1]
    return bool(np.all(first[P.codes] == c))


# --------------------------------------------------------------------------- linear algebra helpers
def _centred_ss(Z: np.ndarray) -> np.ndarray:
    Zc = Z - Z.mean(axis=0) if Z.shape[0] else Z
    return np.einsum("ij,ij->j", Zc, Zc)


def independent_columns(Z: np.ndarray, ref_ss: np.ndarray | None = None,
                        tol: float = COLLINEAR_TOL) -> np.ndarray:
    """Keep-mask of the columns of Z (already centred or transformed) in Stata's _rmcoll
    order: a column whose sum of squares is below tol of its reference (its own sum of
    squares before the transform, when given) is dropped, as is one whose distance to the
    span of the columns kept before it is below tol of its length (an incremental Cholesky
    of the unit-scaled cross-products)."""
    Z = np.asarray(Z, dtype=np.float64)
    p = Z.shape[1]
    keep = np.zeros(p, dtype=bool)
    if p == 0:
        return keep
    C = Z.T @ Z
    d = np.diag(C).copy()
    ref = d if ref_ss is None else np.asarray(ref_ss, dtype=np.float64)
    ok = (d > tol * ref) & (ref > 0) & np.isfinite(d)
    inv = np.where(ok, 1.0 / np.sqrt(np.where(ok, d, 1.0)), 0.0)
    R = C * inv[:, None] * inv[None, :]
    for j in range(p):
        ss = float(R[j, j])
        if not ok[j] or ss <= tol:
            continue
        keep[j] = True
        li = R[j, j + 1:] / math.sqrt(ss)
        R[j + 1:, j + 1:] -= np.outer(li, li)
    return keep


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation; missing (NaN) when either has no spread."""
    a = np.asarray(a, dtype=np.float64) - standardize.centre_value(a)
    b = np.asarray(b, dtype=np.float64) - standardize.centre_value(b)
    saa, sbb = float(a @ a), float(b @ b)
    if not (saa > 0 and sbb > 0) or len(a) < 2:
        return NAN
    return float(a @ b) / math.sqrt(saa * sbb)


def panel_r2(y: np.ndarray, xb: np.ndarray, P: Panels) -> tuple[float, float, float]:
    """(R-sq within, between, overall) as xtreg reports them: squared correlations of the
    linear prediction with the outcome, about the panel means, of the panel means, and as
    they are."""
    r_o = _corr(xb, y)
    r_b = _corr(P.means(xb), P.means(y)) if P.n_groups > 1 else NAN
    r_w = _corr(P.within(xb), P.within(y))
    return r_w * r_w, r_b * r_b, r_o * r_o


def sandwich(Z: np.ndarray, e: np.ndarray, bread: np.ndarray, clusters: np.ndarray) -> np.ndarray:
    """bread (sum_g Z_g'e_g e_g'Z_g) bread over the clusters (codes 0..C-1)."""
    S = np.zeros((int(clusters.max()) + 1, Z.shape[1]))
    np.add.at(S, clusters, Z * e[:, None])
    meat = S.T @ S
    V = bread @ meat @ bread
    return 0.5 * (V + V.T)


def wald(b: np.ndarray, V: np.ndarray) -> tuple[float, int]:
    """b'V^-1 b and the rank of V (generalized inverse when V is singular, as Stata's test
    drops dependent constraints)."""
    if len(b) == 0:
        return NAN, 0
    s = np.sqrt(np.clip(np.diag(V), 0, None))
    s = np.where(s > 0, s, 1.0)
    R = V / s[:, None] / s[None, :]
    w, U = np.linalg.eigh(0.5 * (R + R.T))
    top = max(float(np.max(np.abs(w))), 1e-300)
    keep = w > top * 1e-12
    z = U.T @ (b / s)
    return float(np.sum(z[keep] ** 2 / w[keep])), int(keep.sum())


# --------------------------------------------------------------------------- standardized problem
@dataclass
class _Std:
    """y and X standardized (engine.standardize) and the map back."""

    fm: standardize.FixedMap
    y: np.ndarray
    X: np.ndarray
    cons: int

    @property
    def c(self) -> float:
        return self.fm.y_scale

    def slopes(self) -> list[int]:
        return [j for j in range(self.X.shape[1]) if j != self.cons]

    def beta(self, bt: np.ndarray) -> np.ndarray:
        return self.fm.beta(bt)

    def vbeta(self, Vt: np.ndarray) -> np.ndarray:
        return self.fm.vbeta(Vt)


def _standardize(y, X, cons: int) -> _Std:
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    X = np.asarray(X, dtype=np.float64).reshape(len(y), -1)
    fm = standardize.fixed_map(y, X)
    if fm.cons != cons:
        raise ValueError("X must hold the constant column at `cons`")
    yt, Xt = fm.apply(y, X)
    return _Std(fm, np.asarray(yt, dtype=np.float64), np.asarray(Xt, dtype=np.float64), cons)


def _expand(values: np.ndarray, idx: list[int], p: int) -> np.ndarray:
    out = np.zeros(p)
    out[idx] = values
    return out


def _expand_v(V: np.ndarray, idx: list[int], p: int) -> np.ndarray:
    out = np.zeros((p, p))
    out[np.ix_(idx, idx)] = V
    return out


def _gaussian_ll(ss: float, n: int) -> float:
    return -0.5 * n * (LOG2PI + math.log(ss / n) + 1) if ss > 0 and n > 0 else NAN


# --------------------------------------------------------------------------- fe
@dataclass
class WithinFit:
    """xtreg, fe. beta/V over the columns of X (zero where dropped), in the data's units."""

    beta: np.ndarray
    V: np.ndarray                      # conventional (dof-adjusted) VCE
    V_robust: np.ndarray | None        # cluster-robust VCE when clusters were given
    dropped: np.ndarray                # columns collinear after the within transform
    N: int
    n_groups: int
    k: int                             # estimated slopes
    df_r: int                          # N - n - k
    rss: float
    tss: float                         # about the grand mean
    tss_within: float
    rss_pooled: float                  # OLS of y on the kept columns (the F test of u_i = 0)
    sigma_u: float
    sigma_e: float
    corr: float                        # corr(u_i, Xb)
    r2_w: float
    r2_b: float
    r2_o: float
    F: float                           # model test (conventional or robust Wald / k)
    F_rank: int                        # rank of the tested block of the VCE used for F
    F_f: float
    n_clusters: int = 0
    u: np.ndarray = field(default_factory=lambda: np.zeros(0))   # u_i per panel (data units)

    @property
    def df_a(self) -> int:
        return self.n_groups - 1


def _within_parts(S: _Std, P: Panels):
    """The within-transformed kept slopes (plus their grand means) and constant, the outcome,
    and the kept-column indexes."""
    sl = S.slopes()
    Xs = S.X[:, sl]
    W = P.within(Xs)
    keep_sl = independent_columns(W, ref_ss=_centred_ss(Xs))
    kept = [j for j, k in zip(sl, keep_sl) if k]
    grand = S.X[:, kept].mean(axis=0) if kept else np.zeros(0)
    Z = np.column_stack([W[:, keep_sl] + grand, np.ones(P.n_obs)]) if kept else np.ones((P.n_obs, 1))
    yw = P.within(S.y) + standardize.centre_value(S.y)
    return Z, yw, kept


def fit_within(y, X, cons: int, P: Panels, clusters: np.ndarray | None = None,
               dfadj: bool = False) -> WithinFit:
    """The within (fixed-effects) estimator with Stata's statistics; clusters (codes 0..C-1)
    adds the cluster-robust VCE. With panels nested in the clusters (xtreg, fe) its
    small-sample factor counts the slopes and the constant only; dfadj counts the absorbed
    means too, (N-1)/(N-k-G), as areg and regress with the indicators do (areg's
    vce(robust) is this with every observation its own cluster: N/(N-k-G))."""
    S = _standardize(y, X, cons)
    N, G, p = P.n_obs, P.n_groups, S.X.shape[1]
    Z, yw, kept = _within_parts(S, P)
    k = len(kept)
    df_r = N - G - k
    if df_r <= 0:
        raise ArithmeticError("insufficient observations")
    f = ols.fit(yw, Z)
    rss_t = f.rss
    s2 = rss_t / df_r
    idx = kept + [S.cons]
    bt = _expand(f.beta, idx, p)
    Vt = _expand_v(s2 * f.XtX_inv, idx, p)
    V_rob_t, nclust = None, 0
    if clusters is not None:
        nclust = int(clusters.max()) + 1
        e = yw - Z @ f.beta
        dof = df_r if dfadj else N - k - 1
        q = nclust / (nclust - 1) * (N - 1) / dof if nclust > 1 else NAN
        V_rob_t = _expand_v(q * sandwich(Z, e, f.XtX_inv, clusters), idx, p)
    xb = S.X @ bt
    u_t = P.means(S.y) - P.means(xb)
    tss_w = float(np.sum(P.within(S.y) ** 2))
    yc = S.y - standardize.centre_value(S.y)
    pooled = ols.fit(S.y, S.X[:, idx]).rss if k else float(yc @ yc)
    _, r2_b, r2_o = panel_r2(S.y, xb, P)
    Vtest = Vt if V_rob_t is None else V_rob_t
    W, rank = wald(bt[kept], Vtest[np.ix_(kept, kept)])
    F = W / k if k and rank == k else NAN
    c2 = S.c ** 2
    return WithinFit(
        beta=S.beta(bt), V=S.vbeta(Vt), V_robust=None if V_rob_t is None else S.vbeta(V_rob_t),
        dropped=np.array([j != cons and j not in kept for j in range(p)]),
        N=N, n_groups=G, k=k, df_r=df_r, rss=c2 * rss_t, tss=c2 * float(yc @ yc),
        tss_within=c2 * tss_w, rss_pooled=c2 * pooled,
        sigma_u=S.c * float(np.std(u_t, ddof=1)) if G > 1 else NAN,
        sigma_e=S.c * math.sqrt(s2), corr=_corr(xb, P.expand(u_t)),
        r2_w=1.0 - rss_t / tss_w if tss_w > 0 else NAN, r2_b=r2_b, r2_o=r2_o,
        F=F, F_rank=rank,
        F_f=((pooled - rss_t) / (G - 1)) / s2 if G > 1 and s2 > 0 else NAN,
        n_clusters=nclust, u=S.c * u_t)


# --------------------------------------------------------------------------- be
@dataclass
class BetweenFit:
    """xtreg, be: OLS (or WLS) on the panel means."""

    beta: np.ndarray
    V: np.ndarray
    dropped: np.ndarray                # columns collinear among the panel means
    n_groups: int
    k: int
    df_r: int
    rss: float
    mss: float
    r2: float
    r2_a: float
    F: float
    rmse: float
    ll: float
    ll_0: float
    r2_w: float
    r2_o: float
    resid_t: np.ndarray = field(default_factory=lambda: np.zeros(0))   # standardized residuals per panel


def _between_core(S: _Std, P: Panels, wls: bool = False):
    """OLS (WLS) of the panel means on the kept columns' means: the fit, the kept columns, the
    means, the weights."""
    Xm = P.means(S.X)
    ym = P.means(S.y)
    sl = S.slopes()
    keep_sl = independent_columns(Xm[:, sl] - Xm[:, sl].mean(axis=0), ref_ss=None)
    kept = [j for j, kk in zip(sl, keep_sl) if kk]
    idx = kept + [S.cons]
    w = P.counts * (P.n_groups / P.n_obs) if wls else np.ones(P.n_groups)
    sw = np.sqrt(w)
    f = ols.fit(ym * sw, Xm[:, idx] * sw[:, None])
    return f, kept, idx, Xm, ym, w


def fit_between(y, X, cons: int, P: Panels, wls: bool = False) -> BetweenFit:
    S = _standardize(y, X, cons)
    G, p = P.n_groups, S.X.shape[1]
    f, kept, idx, Xm, ym, w = _between_core(S, P, wls)
    K = len(idx)
    df_r = G - K
    if df_r <= 0:
        raise ArithmeticError("insufficient observations")
    bt = _expand(f.beta, idx, p)
    fit_m = Xm @ bt
    e = ym - fit_m
    rss = float(np.sum(w * e * e))
    ybar = float(np.sum(w * ym) / np.sum(w))
    tss = float(np.sum(w * (ym - ybar) ** 2))
    mss = tss - rss
    s2 = rss / df_r
    Vt = _expand_v(s2 * f.XtX_inv, idx, p)
    k = len(kept)
    r2 = mss / tss if tss > 0 else NAN
    xb = S.X @ bt
    r2_w, _, r2_o = panel_r2(S.y, xb, P)
    c2 = S.c ** 2
    return BetweenFit(
        beta=S.beta(bt), V=S.vbeta(Vt),
        dropped=np.array([j != cons and j not in kept for j in range(p)]),
        n_groups=G, k=k, df_r=df_r, rss=c2 * rss, mss=c2 * mss, r2=r2,
        r2_a=1 - (1 - r2) * (G - 1) / df_r if math.isfinite(r2) else NAN,
        F=(mss / k) / s2 if k and s2 > 0 else NAN, rmse=S.c * math.sqrt(s2),
        ll=_gaussian_ll(c2 * rss, G), ll_0=_gaussian_ll(c2 * tss, G), r2_w=r2_w, r2_o=r2_o,
        resid_t=e)


# --------------------------------------------------------------------------- re
@dataclass
class GlsFit:
    """xtreg, re (Swamy-Arora feasible GLS)."""

    beta: np.ndarray
    V: np.ndarray
    V_robust: np.ndarray | None
    within: WithinFit                  # e(bf), e(VCEf) and sigma_e
    N: int
    n_groups: int
    k: int
    sigma_u: float
    sigma_e: float
    theta: np.ndarray                  # per panel
    rmse: float                        # of the GLS regression
    chi2: float
    chi2_rank: int
    r2_w: float
    r2_b: float
    r2_o: float
    Tbar: float                        # harmonic mean of T_i
    n_clusters: int = 0


def _sigma_u2(S: _Std, P: Panels, sigma_e2_t: float, sa: bool) -> float:
    """sigma_u^2 (standardized units) from the between regression: Stata's default (harmonic
    mean of T_i) or, with sa on an unbalanced panel, Baltagi and Chang's estimator."""
    f, _, idx, Xm, ym, _ = _between_core(S, P)
    G, N = P.n_groups, P.n_obs
    K = len(idx)
    if G - K <= 0:
        return 0.0
    rbar = ym - Xm[:, idx] @ f.beta
    if sa and not P.balanced:
        T = P.counts.astype(float)
        Xk = Xm[:, idx]
        XPX = (Xk * T[:, None]).T @ Xk
        XZZX = (Xk * (T * T)[:, None]).T @ Xk
        tr = float(np.trace(np.linalg.pinv(XPX) @ XZZX))
        s2u = (float(np.sum(T * rbar * rbar)) - (G - K) * sigma_e2_t) / (N - tr)
    else:
        s2u = float(rbar @ rbar) / (G - K) - sigma_e2_t / P.harmonic_T
    return max(s2u, 0.0) if math.isfinite(s2u) else 0.0


def fit_gls(y, X, cons: int, P: Panels, sa: bool = False,
            clusters: np.ndarray | None = None) -> GlsFit:
    wf = fit_within(y, X, cons, P)
    S = _standardize(y, X, cons)
    N, G, p = P.n_obs, P.n_groups, S.X.shape[1]
    s2e = (wf.sigma_e / S.c) ** 2
    s2u = _sigma_u2(S, P, s2e, sa)
    T = P.counts.astype(float)
    theta = 1.0 - math.sqrt(s2e) / np.sqrt(T * s2u + s2e)
    th = P.expand(theta)
    ystar = S.y - th * P.expand(P.means(S.y))
    Xstar = S.X - th[:, None] * P.expand(P.means(S.X))
    Xstar[:, cons] = 1.0 - th
    f = ols.fit(ystar, Xstar)
    K = p
    if N - K <= 0:
        raise ArithmeticError("insufficient observations")
    s2 = f.rss / (N - K)
    Vt = s2 * f.XtX_inv
    V_rob_t, nclust = None, 0
    if clusters is not None:
        nclust = int(clusters.max()) + 1
        e = ystar - Xstar @ f.beta
        q = nclust / (nclust - 1) * (N - 1) / (N - K) if nclust > 1 else NAN
        V_rob_t = q * sandwich(Xstar, e, f.XtX_inv, clusters)
    sl = S.slopes()
    Vtest = Vt if V_rob_t is None else V_rob_t
    chi2, rank = wald(f.beta[sl], Vtest[np.ix_(sl, sl)])
    xb = S.X @ f.beta
    r2_w, r2_b, r2_o = panel_r2(S.y, xb, P)
    return GlsFit(
        beta=S.beta(f.beta), V=S.vbeta(Vt), V_robust=None if V_rob_t is None else S.vbeta(V_rob_t),
        within=wf, N=N, n_groups=G, k=len(sl), sigma_u=S.c * math.sqrt(s2u),
        sigma_e=wf.sigma_e, theta=theta, rmse=S.c * math.sqrt(s2), chi2=chi2 if sl else NAN,
        chi2_rank=rank, r2_w=_or0(r2_w), r2_b=_or0(r2_b), r2_o=_or0(r2_o),
        Tbar=P.harmonic_T, n_clusters=nclust)


def _or0(r2: float) -> float:
    """xtreg, re reports 0 where the prediction has no spread (Stata's ncnsmod)."""
    return 0.0 if not math.isfinite(r2) else r2


# --------------------------------------------------------------------------- mle
@dataclass
class MlFit:
    """xtreg, mle: estimates of (beta, sigma_u, sigma_e), their VCE (observed information),
    the log likelihood, and the comparison fits."""

    beta: np.ndarray
    sigma_u: float
    sigma_e: float
    V: np.ndarray                      # (p + 2) x (p + 2): beta, sigma_u, sigma_e
    V_robust: np.ndarray | None
    ll: float
    converged: bool
    iterations: int
    boundary: bool                     # sigma_u = 0 at the maximum
    n_clusters: int = 0
    scores_ok: bool = True


class _Profile:
    """The random-intercept likelihood on standardized data, with beta and sigma_e^2
    profiled out, as a function of lambda = sigma_u^2 / sigma_e^2, from cross-products."""

    def __init__(self, y: np.ndarray, X: np.ndarray, P: Panels):
        self.P = P
        self.T = P.counts.astype(float)
        self.XX = X.T @ X
        self.Xy = X.T @ y
        self.yy = float(y @ y)
        self.SX = P.sums(X)
        self.Sy = P.sums(y)
        self.N = P.n_obs

    def solve(self, lam: float):
        """beta(lambda), SSR* (sigma_e^2 times r'V^-1 r) and the panel sums of residuals."""
        w = lam / (1.0 + self.T * lam)
        A = self.XX - (self.SX * w[:, None]).T @ self.SX
        b = self.Xy - (self.SX * w[:, None]).T @ self.Sy
        beta = np.linalg.solve(A, b)
        Si = self.Sy - self.SX @ beta
        rss = self.yy - 2 * float(beta @ self.Xy) + float(beta @ self.XX @ beta) \
            - float(np.sum(w * Si * Si))
        return beta, rss, Si

    def ll(self, lam: float) -> float:
        _, rss, _ = self.solve(lam)
        N = self.N
        return -0.5 * (N * (LOG2PI + math.log(rss / N) + 1) + float(np.sum(np.log1p(self.T * lam))))

    def score(self, lam: float) -> float:
        """d ll / d lambda (the envelope theorem removes beta's and sigma_e's dependence)."""
        _, rss, Si = self.solve(lam)
        d = 1.0 + self.T * lam
        return 0.5 * self.N * float(np.sum(Si * Si / (d * d))) / rss - 0.5 * float(np.sum(self.T / d))


def _start_lambda(y: np.ndarray, X: np.ndarray, P: Panels) -> float:
    """Stata's starting values for xtreg, mle: moments of the pooled OLS residuals."""
    f = ols.fit(y, X)
    e = y - f.fitted
    N, G = P.n_obs, P.n_groups
    s2 = f.rss / max(N - X.shape[1], 1)
    z = float(np.sum(P.sums(e) ** 2 / P.counts))
    gavg = N / G
    su2 = max(0.0, (z / G - s2) / (gavg - 1)) if gavg > 1 else 0.0
    se2 = max(s2 - su2, 0.0)
    lam = su2 / se2 if se2 > 0 else 1e8
    return min(max(lam, 1e-6), 1e8)


def _maximize_profile(prof: _Profile, lam0: float, callback, maxiter: int):
    """Root of the profile score in phi = log lambda by safeguarded Newton steps, or the
    boundary lambda = 0 when the score there is not positive. Each iterate's log likelihood
    goes to callback until it changes by less than 1e-7 of itself (Stata's ltolerance); the
    root is then polished quietly to full precision. Returns (lambda, iterations, converged,
    boundary)."""
    if prof.score(0.0) <= 0:
        if callback:
            callback(0, prof.ll(0.0))
            callback(1, prof.ll(0.0))
        return 0.0, 1, True, True

    def h(phi: float) -> float:
        lam = math.exp(phi)
        return lam * prof.score(lam)

    phi = math.log(lam0)
    lo, hi = -60.0, 60.0
    ll_prev = prof.ll(lam0)
    logging = callback is not None
    if logging:
        callback(0, ll_prev)
    it, shown, done = 0, 0, False
    while it < maxiter + 50 and not done:
        it += 1
        hv = h(phi)
        if hv > 0:
            lo = max(lo, phi)
        else:
            hi = min(hi, phi)
        dh = (h(phi + 1e-5) - h(phi - 1e-5)) / 2e-5
        step = -hv / dh if dh < 0 else (4.0 if hv > 0 else -4.0)
        new = phi + max(min(step, 4.0), -4.0)
        if not (lo < new < hi):
            new = 0.5 * (lo + hi) if lo > -60 and hi < 60 else (phi + (4.0 if hv > 0 else -4.0))
        done = abs(new - phi) < 1e-11 * max(1.0, abs(phi)) or new < -55
        phi = new
        ll = prof.ll(math.exp(phi))
        if logging:
            shown = it
            callback(it, ll)
            logging = abs(ll - ll_prev) > 1e-7 * abs(ll_prev) and it < maxiter
        ll_prev = ll
    if phi < -55:
        return 0.0, shown, True, True
    return math.exp(phi), shown or it, done, False


def _ml_derivatives(X: np.ndarray, y: np.ndarray, P: Panels, beta: np.ndarray, su: float, se: float):
    """Per-panel scores and the Hessian of the log likelihood in (beta, sigma_u, sigma_e)."""
    a, s = su * su, se * se
    T = P.counts.astype(float)
    r = y - X @ beta
    SX = P.sums(X)                     # u_i = X_i'1
    S = P.sums(r)
    Q = P.sums(r * r)
    XR = P.sums(X * r[:, None])        # X_i'r_i
    c = s + T * a
    w = a / c
    g_b = (XR - (w * S)[:, None] * SX) / s
    g_a = -0.5 * (T / c - S * S / (c * c))
    g_s = -0.5 * ((T - 1) / s + 1 / c - Q / (s * s) + a * S * S * (c + s) / (s * s * c * c))
    H_bb = -(X.T @ X - (SX * w[:, None]).T @ SX) / s
    H_ba = -(SX * (S / (c * c))[:, None]).sum(axis=0)
    H_bs = -g_b.sum(axis=0) / s + (SX * (a * S / (c * c))[:, None]).sum(axis=0) / s
    H_aa = -0.5 * float(np.sum(-T * T / (c * c) + 2 * T * S * S / c ** 3))
    H_as = -0.5 * float(np.sum(-T / (c * c) + 2 * S * S / c ** 3))
    H_ss = -0.5 * float(np.sum(-(T - 1) / (s * s) - 1 / (c * c) + 2 * Q / s ** 3
                               + 2 * a * S * S * (s * c - (c + s) ** 2) / (s ** 3 * c ** 3)))
    p = X.shape[1]
    H = np.zeros((p + 2, p + 2))
    H[:p, :p] = H_bb
    H[:p, p] = H[p, :p] = H_ba
    H[:p, p + 1] = H[p + 1, :p] = H_bs
    H[p, p], H[p, p + 1], H[p + 1, p], H[p + 1, p + 1] = H_aa, H_as, H_as, H_ss
    # (a, s) = (sigma_u^2, sigma_e^2) -> (sigma_u, sigma_e); at an interior maximum the
    # gradient terms of the chain rule vanish, they are kept for the boundary
    J = np.ones(p + 2)
    J[p], J[p + 1] = 2 * su, 2 * se
    Hs = H * J[:, None] * J[None, :]
    Hs[p, p] += 2 * float(g_a.sum())
    Hs[p + 1, p + 1] += 2 * float(g_s.sum())
    G = np.column_stack([g_b, 2 * su * g_a, 2 * se * g_s])
    return G, Hs


def random_intercept_ll(y, X, codes, beta, sigma_u: float, sigma_e: float) -> float:
    """The log likelihood of the random-intercept model at given parameters (data units)."""
    P = panels(codes)
    y = np.asarray(y, dtype=np.float64)
    X = np.asarray(X, dtype=np.float64).reshape(len(y), -1)
    r = y - X @ np.asarray(beta, dtype=np.float64)
    a, s = sigma_u ** 2, sigma_e ** 2
    T = P.counts.astype(float)
    c = s + T * a
    S, Q = P.sums(r), P.sums(r * r)
    return float(-0.5 * np.sum(T * LOG2PI + (T - 1) * math.log(s) + np.log(c) + Q / s
                               - a * S * S / (s * c)))


def fit_ml(y, X, cons: int, P: Panels, *, callback: Callable | None = None, maxiter: int = 100,
           clusters: np.ndarray | None = None) -> MlFit:
    """Random-intercept ML. callback(iteration, ll) reports the profile log likelihood of
    each iterate (in the data's units)."""
    S = _standardize(y, X, cons)
    N, p = P.n_obs, S.X.shape[1]
    offset = -N * math.log(S.c)
    prof = _Profile(S.y, S.X, P)
    cb = None if callback is None else (lambda it, ll: callback(it, ll + offset))
    lam, its, conv, boundary = _maximize_profile(prof, _start_lambda(S.y, S.X, P), cb, maxiter)
    # polish beta and sigma_e on the transformed data (the cross-products located lambda)
    theta = 1.0 - 1.0 / np.sqrt(1.0 + P.counts * lam)
    th = P.expand(theta)
    ys = S.y - th * P.expand(P.means(S.y))
    Xs = S.X - th[:, None] * P.expand(P.means(S.X))
    f = ols.fit(ys, Xs)
    bt = f.beta
    s2e = f.rss / N
    se_t, su_t = math.sqrt(s2e), math.sqrt(lam * s2e)
    ll_t = -0.5 * (N * (LOG2PI + math.log(s2e) + 1) + float(np.sum(np.log1p(P.counts * lam))))
    Gsc, H = _ml_derivatives(S.X, S.y, P, bt, su_t, se_t)
    try:
        Vt = np.linalg.inv(-H)
    except np.linalg.LinAlgError:
        Vt = np.full_like(H, NAN)
    V_rob_t, ncl = None, 0
    if clusters is not None:
        ncl = int(clusters.max()) + 1
        Sg = np.zeros((P.n_groups, p + 2))
        Sg[:] = Gsc
        cl_of_panel = np.zeros(P.n_groups, dtype=np.int64)
        cl_of_panel[P.codes] = clusters
        Sc = np.zeros((ncl, p + 2))
        np.add.at(Sc, cl_of_panel, Sg)
        V_rob_t = Vt @ (Sc.T @ Sc) @ Vt * (ncl / (ncl - 1) if ncl > 1 else NAN)
    J = np.zeros((p + 2, p + 2))
    J[:p, :p] = S.fm.matrix() * S.c
    J[p, p] = J[p + 1, p + 1] = S.c
    V = J @ Vt @ J.T
    return MlFit(beta=S.beta(bt), sigma_u=S.c * su_t, sigma_e=S.c * se_t, V=0.5 * (V + V.T),
                 V_robust=None if V_rob_t is None else J @ V_rob_t @ J.T,
                 ll=ll_t + offset, converged=conv, iterations=its, boundary=boundary,
                 n_clusters=ncl)


def pooled_ll(y, X) -> float:
    """The linear model's log likelihood (ML), xtreg, mle's e(ll_c)."""
    f = ols.fit(y, X)
    return _gaussian_ll(f.rss, f.n)


# --------------------------------------------------------------------------- hausman
@dataclass
class HausmanTest:
    chi2: float
    rank: int
    posdef: bool
    se: np.ndarray                     # sqrt(diag(V_b - V_B)), NaN where negative


def hausman(d: np.ndarray, Vd: np.ndarray) -> HausmanTest:
    """(b-B)'(V_b-V_B)^+(b-B) with Stata's Moore-Penrose inverse (singular values below
    max * k * 1e-9 set to zero) and the rank it finds; posdef: the smallest eigenvalue of the
    symmetrized difference is positive."""
    d = np.asarray(d, dtype=np.float64).reshape(-1)
    Vd = 0.5 * (np.asarray(Vd, dtype=np.float64) + np.asarray(Vd, dtype=np.float64).T)
    k = len(d)
    posdef = bool(np.linalg.eigvalsh(Vd)[0] > 0) if k else False
    U, W, Vt = np.linalg.svd(Vd)
    tol = (float(W.max()) if k else 0.0) * k * 1e-9
    keep = W > tol
    inv = np.where(keep, 1.0 / np.where(keep, W, 1.0), 0.0)
    G = (Vt.T * inv) @ U.T
    diag = np.diag(Vd)
    with np.errstate(invalid="ignore"):
        se = np.where(diag >= 0, np.sqrt(np.clip(diag, 0, None)), NAN)
    return HausmanTest(chi2=float(d @ G @ d), rank=int(keep.sum()), posdef=posdef, se=se)
