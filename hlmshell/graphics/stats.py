"""The numbers behind fitted and smoothed plots (numpy only; scipy loaded lazily for t
quantiles): lfit/qfit (with CIs), Stata's lowess, kernel densities, histogram bins."""
from __future__ import annotations

import math

import numpy as np


def polyfit_ci(x, y, degree: int, grid, level: float = 95.0, stdf: bool = False):
    """Least-squares polynomial fit of y on x evaluated at grid: (fit, lower, upper); the band
    is fit -+ t(n-p) * se, se of the prediction (stdp) or of the forecast (stdf)."""
    from scipy.stats import t as tdist

    x, y, grid = (np.asarray(a, dtype=float) for a in (x, y, grid))
    X = np.vander(x, degree + 1)
    G = np.vander(grid, degree + 1)
    beta, *_ = np.linalg.lstsq(X, y, rcond=None)
    fit = G @ beta
    n, p = X.shape
    df = n - p
    if df <= 0:
        nan = np.full_like(fit, np.nan)
        return fit, nan, nan
    resid = y - X @ beta
    s2 = float(resid @ resid) / df
    xtx_inv = np.linalg.pinv(X.T @ X)
    var = np.einsum("ij,jk,ik->i", G, xtx_inv, G) * s2
    if stdf:
        var = var + s2
    q = float(tdist.ppf(1 - (1 - level / 100) / 2, df))
    se = np.sqrt(np.maximum(var, 0))
    return fit, fit - q * se, fit + q * se


def polyfit(x, y, degree: int, grid):
    x, y, grid = (np.asarray(a, dtype=float) for a in (x, y, grid))
    beta, *_ = np.linalg.lstsq(np.vander(x, degree + 1), y, rcond=None)
    return np.vander(grid, degree + 1) @ beta


def lowess(x, y, bwidth: float = 0.8, mean: bool = False, noweight: bool = False):
    """(xs, smooth): lowess_values in x order (ties on y), as twoway lowess draws it."""
    order = np.lexsort((y, x))
    return np.asarray(x, float)[order], lowess_values(x, y, bwidth, mean, noweight)[order]


def lowess_values(x, y, bwidth: float = 0.8, mean: bool = False, noweight: bool = False):
    """Stata's lowess ([R] lowess): data sorted on x (ties on y); for observation i the
    neighbourhood is observations max(1, i-k) .. min(i+k, N), k = floor((N*bwidth - .5)/2);
    tricube weights w_j = (1 - (|x_j - x_i|/D)^3)^3 with D = 1.0001 * max(x_i+ - x_i,
    x_i - x_i-) (all 1 with noweight, or when D is 0); the smoothed value is the weighted
    regression line (or, with mean, the weighted mean) at x_i; no robustness iterations.
    Returns the smooth per observation, in the order given. Computed in blocks of
    observations over the band of 2k+1 neighbours (N = 7,000 at bwidth .8: about 1 s)."""
    order = np.lexsort((y, x))
    xs, ys = np.asarray(x, float)[order], np.asarray(y, float)[order]
    n = len(xs)
    k = max(0, int(math.floor((n * bwidth - 0.5) / 2)))
    out = np.empty(n)
    width = 2 * k + 1
    pad = np.full(k, np.nan)
    xwin = np.lib.stride_tricks.sliding_window_view(np.concatenate([pad, xs, pad]), width)
    ywin = np.lib.stride_tricks.sliding_window_view(np.concatenate([pad, ys, pad]), width)
    block = max(1, 1_000_000 // width)
    for start in range(0, n, block):
        i = np.arange(start, min(n, start + block))
        lo, hi = np.maximum(0, i - k), np.minimum(n - 1, i + k)
        rows = slice(start, start + len(i))
        t = xwin[rows] - xs[rows][:, None]      # x_j - x_i: the line's value at t = 0
        inside = ~np.isnan(t)                   # the padding beyond the first/last obs.
        np.nan_to_num(t, copy=False)
        yw = np.nan_to_num(ywin[rows])
        d = 1.0001 * np.maximum(xs[hi] - xs[i], xs[i] - xs[lo])
        if noweight:
            w = inside.astype(float)
        else:
            w = np.abs(t)
            w /= np.where(d > 0, d, np.inf)[:, None]      # D = 0: every weight 1
            w **= 3
            np.subtract(1.0, w, out=w)
            w **= 3
            w *= inside
        out[i] = _local_fits(t, yw, w, mean)
    values = np.empty(n)
    values[order] = out
    return values


def _local_fits(t, yw, w, mean: bool):
    """Per row: the weighted mean of yw, or the intercept at t = 0 of the weighted least-
    squares line of yw on t (the mean where t does not vary in the window, as regress drops
    the slope)."""
    s0 = w.sum(axis=1)
    sy = np.einsum("ij,ij->i", w, yw)
    if mean:
        return sy / s0
    wt = w * t
    st = wt.sum(axis=1)
    stt = np.einsum("ij,ij->i", wt, t)
    sty = np.einsum("ij,ij->i", wt, yw)
    mt, my = st / s0, sy / s0
    sxx = stt - st * mt
    sxy = sty - st * my
    scale = np.max(np.abs(t), axis=1)
    flat = sxx <= 1e-12 * scale * scale * s0
    slope = np.where(flat, 0.0, sxy / np.where(flat, 1.0, sxx))
    return my - slope * mt


def lowess_adjust_logit(smooth, y, adjust: bool = False, logit: bool = False):
    """lowess's adjust and logit options, in Stata's order: adjust multiplies the smooth by
    mean(y)/mean(smooth); logit sets values below .0001 to 1/N and above .9999 to 1 - 1/N,
    then takes ln(s/(1-s))."""
    s = np.asarray(smooth, float).copy()
    n = len(s)
    if adjust and n:
        m = float(np.mean(s))
        s = s * (float(np.mean(y)) / m) if m != 0 else np.full(n, np.nan)
    if logit and n:
        s = np.where(s < 0.0001, 1 / n, np.where(s > 0.9999, 1 - 1 / n, s))
        with np.errstate(divide="ignore", invalid="ignore"):
            s = np.log(s / (1 - s))
    return s


KERNELS = ("epanechnikov", "epan2", "biweight", "cosine", "gaussian", "parzen", "rectangle",
           "triangle")


def kernel(name: str, z):
    z = np.asarray(z, dtype=float)
    a = np.abs(z)
    if name == "epanechnikov":
        return np.where(a < math.sqrt(5), 0.75 * (1 - z * z / 5) / math.sqrt(5), 0.0)
    if name == "epan2":
        return np.where(a < 1, 0.75 * (1 - z * z), 0.0)
    if name == "biweight":
        return np.where(a < 1, 15 / 16 * (1 - z * z) ** 2, 0.0)
    if name == "cosine":
        return np.where(a < 0.5, 1 + np.cos(2 * math.pi * z), 0.0)
    if name == "gaussian":
        return np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
    if name == "parzen":
        return np.where(a <= 0.5, 4 / 3 - 8 * z * z + 8 * a ** 3,
                        np.where(a <= 1, 8 * (1 - a) ** 3 / 3, 0.0))
    if name == "rectangle":
        return np.where(a < 1, 0.5, 0.0)
    return np.where(a < 1, 1 - a, 0.0)          # triangle


def optimal_bandwidth(x, w=None) -> float:
    """Stata's kdensity default: .9 * min(sd, IQR/1.349) * n^(-1/5) (Silverman)."""
    x = np.asarray(x, float)
    n = len(x)
    sd = float(np.std(x, ddof=1)) if n > 1 else 0.0
    q75, q25 = np.percentile(x, [75, 25])
    iqr = (q75 - q25) / 1.349
    m = min(sd, iqr) if iqr > 0 else sd
    return 0.9 * m / n ** 0.2 if m > 0 else 1.0


def kdensity(x, bw: float | None = None, kern: str = "epanechnikov", n: int | None = None,
             at=None):
    """(grid, density, bandwidth): kernel density of x at n points over its range (Stata's
    default n = min(N, 50))."""
    x = np.asarray(x, float)
    h = bw or optimal_bandwidth(x)
    if at is None:
        npts = n or min(len(x), 50)
        at = np.linspace(x.min(), x.max(), max(npts, 2))
    z = (np.asarray(at)[:, None] - x[None, :]) / h
    dens = kernel(kern, z).sum(axis=1) / (len(x) * h)
    return np.asarray(at, float), dens, h


def histogram_bins(x, bins: int | None = None, width: float | None = None,
                   start: float | None = None, discrete: bool = False):
    """Bin edges as Stata's histogram makes them: k = min(sqrt(N), 10*log10(N)) bins from the
    minimum; width() and start() override; discrete: one bin of width 1 (or the smallest gap)
    centred on each value."""
    x = np.asarray(x, float)
    lo, hi = float(x.min()), float(x.max())
    if discrete:
        vals = np.unique(x)
        w = width or (float(np.min(np.diff(vals))) if len(vals) > 1 else 1.0)
        first = (start if start is not None else vals[0]) - w / 2
        nb = int(round((vals[-1] + w / 2 - first) / w))
        return first + w * np.arange(nb + 1)
    s = lo if start is None else float(start)
    if width:
        nb = max(1, int(math.ceil((hi - s) / width - 1e-12)))
        if s + nb * width <= hi:
            nb += 1
        return s + width * np.arange(nb + 1)
    n = len(x)
    k = bins or max(1, int(min(math.sqrt(n), 10 * math.log10(n)))) if n > 0 else 1
    if hi == s:
        return np.array([s - 0.5, s + 0.5]) if k == 1 else np.linspace(s - 0.5, s + 0.5, k + 1)
    return np.linspace(s, hi, k + 1)


def bin_counts(x, edges, w=None):
    """Counts per bin (the last bin closed on the right, like Stata)."""
    idx = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, len(edges) - 2)
    inside = (x >= edges[0]) & (x <= edges[-1])
    return np.bincount(idx[inside], weights=None if w is None else w[inside],
                       minlength=len(edges) - 1).astype(float)


def normal_pdf(x, mu: float, sd: float):
    x = np.asarray(x, float)
    return np.exp(-0.5 * ((x - mu) / sd) ** 2) / (sd * math.sqrt(2 * math.pi))
