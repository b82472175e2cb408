"""Ordinary least squares: `regress`'s algebra and the linear model `mixed` tests against.

Pure numerics (arrays in, numbers out). The fit runs on the standardized problem of
engine.standardize (y and the covariates centred when there is a constant, every column scaled
by a power of two), never on the raw cross-products X'X: the estimates then do not
depend on the units or location of the data (a covariate with mean 1e9, an outcome in cents),
a column in units of 1e12 is not mistaken for a zero one, and a constant outcome gives exactly
zero residuals. Results are mapped back to the data's units.

Stata's missing values are NaN here: a statistic whose formula divides by zero (F and R-squared
of a constant outcome, the log likelihood of a perfect fit) is missing, as in Stata.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from hlmshell import distributions as dist
from . import standardize

NAN = float("nan")
LOG2PI = math.log(2 * math.pi)


@dataclass
class OlsFit:
    beta: np.ndarray          # p coefficients
    XtX_inv: np.ndarray       # (X'X)^-1, p x p, in the data's units
    rss: float                # residual sum of squares
    mss_centred: float        # sum of (fitted - mean)^2 (meaningful with a constant column)
    fitted: np.ndarray        # X b
    logdet_XtX: float         # log|X'X| (REML's term); -inf when X is rank deficient
    rank: int
    n: int
    p: int


def _solve_standardized(yt: np.ndarray, Xt: np.ndarray):
    """(b~, (X~'X~)^-1, log|X~'X~|, rank) on standardized data.

    Cholesky of X~'X~ plus one step of iterative refinement on the residual (the corrected
    semi-normal equations): as accurate as a QR of X~ for any design whose columns are not
    collinear to ~1e-7, at the cost of one cross-product (a Householder QR of n x p is ten
    times slower, and much more under multi-threaded BLAS). Centring has already removed the
    ill-conditioning that shifts and units cause, so what is left is the design's own.
    Columns of X~ have RMS in [1/sqrt 2, sqrt 2]; a Cholesky diagonal below sqrt(n eps) of its
    column's norm (the sine of its angle to the earlier columns, resolvable to about that) is a
    scale-free sign of rank deficiency: then the minimum-norm solution by SVD, as lstsq, but
    with the cutoff applied to standardized columns so that no column is dropped for its units.
    """
    n, p = Xt.shape
    eps = np.finfo(float).eps
    G = Xt.T @ Xt
    norms = np.sqrt(np.diag(G))
    try:
        L = np.linalg.cholesky(G)
        diag = np.diag(L)
        ok = bool(np.all(diag > math.sqrt(max(n, p) * eps) * np.maximum(norms, 1e-300)))
    except np.linalg.LinAlgError:
        ok = False
    if ok:
        from scipy.linalg import solve_triangular   # heavy import (~0.1 s): only when a fit runs

        def solve(v):
            return solve_triangular(L, solve_triangular(L, v, lower=True), lower=True, trans="T")

        bt = solve(Xt.T @ yt)
        bt = bt + solve(Xt.T @ (yt - Xt @ bt))
        Linv = solve_triangular(L, np.eye(p), lower=True)
        return bt, Linv.T @ Linv, 2.0 * float(np.sum(np.log(diag))), p
    U, sv, Vt = np.linalg.svd(Xt, full_matrices=False)
    keep = sv > max(n, p) * eps * sv[0]
    inv = np.where(keep, 1.0 / np.where(keep, sv, 1.0), 0.0)
    bt = Vt.T @ (inv * (U.T @ yt))
    XtXi = (Vt.T * inv ** 2) @ Vt
    return bt, XtXi, -math.inf, int(keep.sum())


def fit(y, X) -> OlsFit:
    """Least squares of y on the columns of X (no constant added)."""
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    n = len(y)
    X = np.asarray(X, dtype=np.float64).reshape(n, -1)
    p = X.shape[1]
    fm = standardize.fixed_map(y, X)
    yt, Xt = fm.apply(y, X)
    c = fm.y_scale
    if p == 0:
        rss = float(y @ y)
        return OlsFit(np.zeros(0), np.zeros((0, 0)), rss, 0.0, np.zeros(n), 0.0, 0, n, 0)
    bt, XtXi_t, logdet_t, rank = _solve_standardized(yt, Xt)
    ft = Xt @ bt
    et = yt - ft
    # the outcome itself collinear with X (a constant, `regress y y`, y = a + b x): what is
    # left is rounding noise, whose "standard errors" would make t and F huge and P 0.000.
    # Scale-free test on the standardized outcome: residual below n eps of it -> exact fit.
    if float(et @ et) <= (max(n, p) * np.finfo(float).eps) ** 2 * float(yt @ yt):
        et = np.zeros(n)
    A = fm.matrix()
    XtX_inv = A @ XtXi_t @ A.T
    beta = fm.beta(bt)
    # about the fitted mean (exactly zero for a constant-only model: centre_value)
    if fm.cons is not None:
        mss_t = float(np.sum((ft - standardize.centre_value(ft)) ** 2))
    else:
        mss_t = float(ft @ ft)
    fitted = c * ft + (fm.y_shift if fm.cons is not None else 0.0)
    # log|X'X| = log|X~'X~| - 2 log|det A|
    logdet = logdet_t - 2.0 * fm.log_det
    return OlsFit(beta=beta, XtX_inv=0.5 * (XtX_inv + XtX_inv.T), rss=c * c * float(et @ et),
                  mss_centred=c * c * mss_t, fitted=fitted, logdet_XtX=logdet, rank=rank,
                  n=n, p=p)


def loglik(rss: float, n: int, p: int, reml: bool = False, logdet_XtX: float = 0.0) -> float:
    """Gaussian log likelihood at the OLS fit with sigma^2 profiled out: ML with sigma^2 =
    rss/n, or REML (sigma^2 = rss/(n-p), less 1/2 log|X'X|) on fit_lmm's scale. A perfect fit
    (rss = 0) has no finite likelihood: math.log raises ValueError, as it always has here."""
    nu = n - p if reml else n
    ll = -0.5 * nu * (1.0 + math.log(2 * math.pi * rss / nu))
    if reml and p:
        ll -= 0.5 * logdet_XtX
    return ll


def linear_ll(y, X, reml: bool = False) -> float:
    """Log likelihood of the linear model y = X b + e (mixed's 'LR test vs. linear model')."""
    f = fit(y, X)
    return loglik(f.rss, f.n, f.p, reml, f.logdet_XtX)


@dataclass
class Regression:
    """`regress`'s numbers, named as its e() scalars; NaN is Stata's missing."""

    beta: np.ndarray
    V: np.ndarray
    N: int
    df_m: int
    df_r: int
    mss: float
    rss: float
    tss: float
    F: float
    pF: float
    r2: float
    r2_a: float
    rmse: float
    ll: float
    ll_0: float


def _ratio(a: float, b: float) -> float:
    """a / b with Stata's rule that dividing by zero gives missing."""
    return a / b if b != 0 else NAN


def _gaussian_ll(ss: float, n: int) -> float:
    return -0.5 * n * (LOG2PI + math.log(ss / n) + 1) if ss > 0 else NAN


def regress(y, X, *, constant: bool) -> Regression:
    """OLS with Stata's regress statistics. `constant`: the model has Stata's _cons (sums of
    squares about the mean); without it they are about zero, as with `noconstant`."""
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    n = len(y)
    f = fit(y, X)
    k = f.p
    df_r = n - k
    df_m = k - (1 if constant else 0)
    rss = f.rss
    mss = f.mss_centred if constant else float(f.fitted @ f.fitted)
    tss = mss + rss
    if df_r == 0:
        # as many observations as parameters: Stata fits it, with the residual statistics
        # (MS, F, adjusted R-squared, standard errors) missing and Root MSE 0
        return _saturated(f, n, df_m, mss, rss, tss, constant, y)
    s2 = rss / df_r
    if df_m > 0:
        F = _ratio(mss / df_m, s2)
        pF = float(dist.f_sf(F, df_m, df_r)) if math.isfinite(F) else NAN
    else:
        F, pF = 0.0, NAN
    r2 = _ratio(mss, tss)
    r2_a = 1 - (1 - r2) * (n - (1 if constant else 0)) / df_r if math.isfinite(r2) else NAN
    ym = standardize.centre_value(y)
    tss0 = float(np.sum((y - ym) ** 2))
    return Regression(beta=f.beta, V=s2 * f.XtX_inv, N=n, df_m=df_m, df_r=df_r, mss=mss, rss=rss,
                      tss=tss, F=F, pF=pF, r2=r2, r2_a=r2_a, rmse=math.sqrt(s2),
                      ll=_gaussian_ll(rss, n), ll_0=_gaussian_ll(tss0, n))


def _saturated(f: OlsFit, n: int, df_m: int, mss: float, rss: float, tss: float,
               constant: bool, y: np.ndarray) -> Regression:
    """A fit with zero residual degrees of freedom (n equal to the number of estimated
    coefficients): coefficients only; V is zero (the standard errors are missing)."""
    ym = standardize.centre_value(y)
    tss0 = float(np.sum((y - ym) ** 2))
    return Regression(beta=f.beta, V=np.zeros((f.p, f.p)), N=n, df_m=df_m, df_r=0, mss=mss,
                      rss=rss, tss=tss, F=NAN, pF=NAN, r2=_ratio(mss, tss), r2_a=NAN, rmse=0.0,
                      ll=_gaussian_ll(rss, n), ll_0=_gaussian_ll(tss0, n))
