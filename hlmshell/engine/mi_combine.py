"""Rubin's rules: combining M completed-data estimates into one multiple-imputation estimate.

This is what `mi estimate` reports ([MI] mi estimate, Methods and formulas): the mean of the
estimates, the within (W), between (B) and total (T) variances, per coefficient the relative
increase in variance (RVI), the degrees of freedom -- Rubin's (1987) large-sample ones, or
Barnard and Rubin's (1999) small-sample ones when the completed-data model has residual
degrees of freedom -- and the fraction of missing information (FMI); and the model test under
the equal-FMI assumption (Li, Raghunathan and Rubin 1991), with Reiter's (2007) denominator
degrees of freedom in small samples. Pure numpy: arrays in, arrays out.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Combined:
    """The combined estimate. Vectors are per coefficient (k); matrices k x k."""

    b: np.ndarray          # Qbar: mean of the M estimates
    W: np.ndarray          # within-imputation variance: mean of the M VCEs
    B: np.ndarray          # between-imputation variance of the estimates
    V: np.ndarray          # total variance T = W + (1 + 1/M) B
    rvi: np.ndarray        # relative increase in variance (1 + 1/M) B_jj / W_jj
    df: np.ndarray         # degrees of freedom per coefficient (inf where B_jj = 0)
    fmi: np.ndarray        # fraction of missing information
    M: int
    df_complete: float | None = None


def _large_df(M: int, rvi: np.ndarray) -> np.ndarray:
    """Rubin's (1987) degrees of freedom (M - 1)(1 + 1/r)^2; infinite when r = 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(rvi > 0, (M - 1) * (1.0 + 1.0 / rvi) ** 2, np.inf)


def _small_df(large: np.ndarray, gamma: np.ndarray, df_c: float) -> np.ndarray:
    """Barnard and Rubin's (1999) adjustment: 1 / (1/nu_large + 1/nu_obs) with
    nu_obs = nu_c (nu_c + 1) / (nu_c + 3) (1 - gamma), gamma = (1 + 1/M) B / T."""
    obs = df_c * (df_c + 1.0) / (df_c + 3.0) * (1.0 - gamma)
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = np.where(np.isfinite(large), 1.0 / large, 0.0) + 1.0 / obs
        return 1.0 / inv


def combine(bs, Vs, df_complete: float | None = None) -> Combined:
    """Rubin's rules for M estimates bs (M x k) with VCEs Vs (M x k x k). df_complete: the
    completed-data residual degrees of freedom (small-sample adjustment) or None (large
    sample). Coefficients with zero within variance (omitted, base) get rvi 0 and df inf."""
    bs = np.asarray(bs, dtype=float)
    Vs = np.asarray(Vs, dtype=float)
    M = bs.shape[0]
    if M < 2:
        raise ValueError("Rubin's rules need at least two imputations")
    b = bs.mean(axis=0)
    W = Vs.mean(axis=0)
    dev = bs - b
    B = dev.T @ dev / (M - 1)
    T = W + (1.0 + 1.0 / M) * B
    w = np.diag(W)
    bd = (1.0 + 1.0 / M) * np.diag(B)
    with np.errstate(divide="ignore", invalid="ignore"):
        rvi = np.where(w > 0, bd / w, 0.0)
        gamma = np.where(np.diag(T) > 0, bd / np.diag(T), 0.0)
    df = _large_df(M, rvi)
    if df_complete is not None and np.isfinite(df_complete) and df_complete > 0:
        df = _small_df(df, gamma, float(df_complete))
    fmi = fraction_missing(rvi, df)
    return Combined(b, W, B, T, rvi, df, fmi, M, df_complete)


def fraction_missing(rvi: np.ndarray, df: np.ndarray) -> np.ndarray:
    """lambda = (r + 2 / (nu + 3)) / (r + 1) (0 where nu is infinite and r = 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        extra = np.where(np.isfinite(df), 2.0 / (df + 3.0), 0.0)
    return (rvi + extra) / (rvi + 1.0)


@dataclass
class ModelTest:
    """The equal-FMI Wald test of several coefficients being zero: F(df1, df2) and p."""

    F: float
    df1: int
    df2: float
    p: float
    rvi_avg: float


def equal_fmi_test(c: Combined, idx) -> ModelTest | None:
    """Li, Raghunathan and Rubin's (1991) test that the coefficients `idx` are all zero:
    r = (1 + 1/M) tr(B W^-1) / k, F = b' W^-1 b / (k (1 + r)), df1 = k and
    df2 = 4 + (t - 4)(1 + (1 - 2/t) / r)^2 when t = k (M - 1) > 4, else
    t (1 + 1/k)(1 + 1/r)^2 / 2; with completed-data df (and t > 4), Reiter's (2007) small-sample
    df2 = 4 + 1 / (1/(v* - 4(1+a)) + a^2 (v* - 2(1+a)) / ((t-4)(1+a)^2 (v* - 4(1+a)))), a = r t/(t-2),
    v* = v (v+1)/(v+3). One coefficient: F = t^2 on the coefficient's own df."""
    from hlmshell import distributions as dist

    idx = list(idx)
    k = len(idx)
    if k == 0:
        return None
    b = c.b[idx]
    W = c.W[np.ix_(idx, idx)]
    B = c.B[np.ix_(idx, idx)]
    try:
        Wi = np.linalg.inv(W)
    except np.linalg.LinAlgError:
        return None
    M = c.M
    r = (1.0 + 1.0 / M) * float(np.trace(B @ Wi)) / k
    F = float(b @ Wi @ b) / (k * (1.0 + r))
    t = k * (M - 1)
    if r <= 0:
        df2 = float("inf")
    elif t > 4:
        df2 = 4.0 + (t - 4.0) * (1.0 + (1.0 - 2.0 / t) / r) ** 2
    else:
        df2 = t * (1.0 + 1.0 / k) * (1.0 + 1.0 / r) ** 2 / 2.0
    if k == 1:
        df2 = float(c.df[idx[0]])          # the coefficient's own t test: F = t^2
    elif c.df_complete is not None and np.isfinite(c.df_complete) and r > 0 and t > 4:
        df2 = _reiter_df(c.df_complete, r, t)
    p = dist.f_sf(F, k, df2) if np.isfinite(df2) else dist.chi2_sf(F * k, k)
    return ModelTest(F, k, df2, float(p), r)


def _reiter_df(df_c: float, r: float, t: float) -> float:
    """Reiter's (2007) small-sample denominator df of the equal-FMI test."""
    a = r * t / (t - 2.0)
    vstar = df_c * (df_c + 1.0) / (df_c + 3.0)
    denom = vstar - 4.0 * (1.0 + a)
    if denom <= 0:
        return 4.0
    inv = 1.0 / denom + (a ** 2 * (vstar - 2.0 * (1.0 + a))) / ((t - 4.0) * (1.0 + a) ** 2 * denom)
    return 4.0 + 1.0 / inv
