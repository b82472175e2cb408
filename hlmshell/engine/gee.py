"""Generalized estimating equations (Liang and Zeger) as Stata's `xtgee` fits them: a GLM mean
(engine.glm_family's variance functions and links) with a working correlation matrix R(alpha)
within panels, estimated by the moment estimators of [XT] xtgee's Methods and formulas.

Why padded arrays: every panel's observations are laid out on a (G, T) grid (T the number of
time positions), missing cells masked; the working covariance of each panel is then one slice of
a (G, T, T) stack (identity on the missing cells, which carry no residual and no derivative), so
the estimating equations, the information and the sandwich are batched matrix products, with no
Python loop over panels.

Conventions (Stata's, where they differ from R's geepack they are noted):
  Pearson residuals r = (y - mu) / sqrt(V(mu)); the scale phi = sum r^2 / N (N - p with nmp).
  geepack's defaults coincide for independence, exchangeable (balanced and unbalanced) and
  unstructured (balanced panels): the same phi, alpha, coefficients and sandwich (Stata's
  robust VCE is geepack's san.se^2 times G/(G-1)). They differ for AR(1): geepack fits
  alpha^|t-s| to the products of all pairs, Stata takes the lag-1 moment below (on ohio, 0.399
  against geepack's 0.491); stationary and nonstationary have no geepack counterpart.
  exchangeable: alpha = sum_i sum_{j != k} r_ij r_ik / (phi sum_i n_i (n_i - 1)).
  lag-s autocorrelations: rho_s = sum_i sum_t r_it r_i,t+s / (phi N_s), N_s the number of pairs
  at lag s; stationary(k) uses rho_1..rho_k (0 beyond), ar(k) the AR(k) process whose first k
  autocorrelations are rho_1..rho_k (Yule-Walker), unstructured and nonstationary(k) the pairwise
  sum_i r_it r_is / (phi N_ts) (nonstationary: 0 beyond lag k).
  Convergence: the largest relative change of the coefficients, |b1 - b0| / (|b0| + 1)
  (Stata's mreldif), below the tolerance; the log prints it each iteration.
  Conventional VCE: phi (sum D'V^-1 D)^-1; robust: the sandwich times G/(G-1) (and (N-1)/(N-p)
  with rgf), as Stata's clustered VCEs are scaled.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from hlmshell.engine import glm_family as gfm

CORRS = ("independent", "exchangeable", "ar", "stationary", "nonstationary", "unstructured", "fixed")


@dataclass
class Corr:
    """A working-correlation request: kind (one of CORRS), its order k, the fixed matrix."""

    kind: str = "exchangeable"
    k: int = 1
    fixed: np.ndarray | None = None


@dataclass
class Grid:
    """Observations laid on a (G, T) grid: pos[g, t] is the observation's row (or -1)."""

    pos: np.ndarray
    mask: np.ndarray

    @classmethod
    def build(cls, groups: np.ndarray, times: np.ndarray | None) -> "Grid":
        """groups 0..G-1; times 0..T-1 within the panel (None: the order within the panel).
        A repeated (group, time) cell raises ValueError."""
        groups = np.asarray(groups, dtype=np.int64)
        G = int(groups.max()) + 1
        if times is None:
            order = np.argsort(groups, kind="stable")
            counts = np.bincount(groups, minlength=G)
            starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
            t = np.empty(len(groups), dtype=np.int64)
            t[order] = np.arange(len(groups)) - np.repeat(starts, counts)
        else:
            t = np.asarray(times, dtype=np.int64)
        T = int(t.max()) + 1
        pos = np.full((G, T), -1, dtype=np.int64)
        if np.any(np.bincount(groups * T + t, minlength=G * T) > 1):
            raise ValueError("repeated time values within panel")
        pos[groups, t] = np.arange(len(groups))
        return cls(pos, pos >= 0)

    def lay(self, v: np.ndarray) -> np.ndarray:
        """A per-observation vector (n,) or matrix (n, p) on the grid, zero where missing."""
        v = np.asarray(v, dtype=float)
        ext = np.concatenate([v, np.zeros((1,) + v.shape[1:])])
        return ext[self.pos]          # pos == -1 picks the zero row


@dataclass
class GeeFit:
    beta: np.ndarray
    V: np.ndarray                        # conventional VCE (times the scale used)
    V_robust: np.ndarray | None
    H: np.ndarray                        # sum D'V^-1 D at unit scale
    phi: float                           # the estimated scale (sum r^2 / N, or N - p)
    R: np.ndarray                        # T x T working correlation
    mu: np.ndarray
    pearson: float
    deviance: float
    iterations: int
    converged: bool
    tolerances: list = field(default_factory=list)
    n_groups: int = 0


# ------------------------------------------------------------------ moment estimators
def _lag_products(r: np.ndarray, m: np.ndarray, s: int, w: np.ndarray) -> tuple[float, float]:
    """sum of w_i r_it r_i,t+s and the (weighted) number of such pairs over the grid."""
    if s >= r.shape[1]:
        return 0.0, 0.0
    return (float(np.sum(w[:, None] * r[:, :-s or None] * r[:, s:])),
            float(np.sum(w[:, None] * (m[:, :-s or None] & m[:, s:]))))


def _acf(r, m, phi, k: int, w) -> np.ndarray:
    rho = np.zeros(k + 1)
    rho[0] = 1.0
    for s in range(1, k + 1):
        c, n = _lag_products(r, m, s, w)
        rho[s] = c / (n * phi) if n > 0 else 0.0
    return rho


def _toeplitz(acf: np.ndarray, T: int) -> np.ndarray:
    idx = np.abs(np.arange(T)[:, None] - np.arange(T)[None, :])
    full = np.zeros(T)
    full[:min(T, len(acf))] = acf[:T]
    return full[idx]


def _ar_acf(rho: np.ndarray, T: int) -> np.ndarray:
    """Autocorrelations 0..T-1 of the AR(k) process with the given rho_1..rho_k (Yule-Walker:
    the coefficients solve the Toeplitz system, later lags follow the recursion)."""
    k = len(rho) - 1
    P = _toeplitz(rho[:k], k)
    a = np.linalg.solve(P, rho[1:k + 1])
    out = np.zeros(max(T, k + 1))
    out[:k + 1] = rho
    for s in range(k + 1, len(out)):
        out[s] = float(a @ out[s - np.arange(1, k + 1)])
    return out[:T]


def working_corr(r: np.ndarray, m: np.ndarray, phi: float, corr: Corr,
                 w: np.ndarray | None = None) -> np.ndarray:
    """R (T x T) from the Pearson residuals on the grid (zero where missing); w the panels'
    weights (frequency: each panel counted w times)."""
    T = r.shape[1]
    w = np.ones(r.shape[0]) if w is None else w
    kind = corr.kind
    if not (np.isfinite(phi) and phi > 0) and kind != "fixed":
        return np.eye(T)                  # an exact fit: no residual correlation to estimate
    if kind == "independent":
        return np.eye(T)
    if kind == "fixed":
        return np.asarray(corr.fixed, dtype=float)
    if kind == "exchangeable":
        n = m.sum(axis=1)
        s = float(np.sum(w * (r.sum(axis=1) ** 2 - (r * r).sum(axis=1))))
        pairs = float(np.sum(w * n * (n - 1)))
        a = s / (pairs * phi) if pairs > 0 else 0.0
        R = np.full((T, T), a)
        np.fill_diagonal(R, 1.0)
        return R
    if kind in ("stationary", "ar"):
        rho = _acf(r, m, phi, min(corr.k, T - 1) if T > 1 else 0, w)
        if kind == "ar" and len(rho) > 1:
            return _toeplitz(_ar_acf(rho, T), T)
        return _toeplitz(rho, T)
    mf = m.astype(float)
    C = r.T @ (w[:, None] * r)
    N = mf.T @ (w[:, None] * mf)
    with np.errstate(all="ignore"):
        R = np.where(N > 0, C / (N * phi), 0.0)
    np.fill_diagonal(R, 1.0)
    if kind == "nonstationary":
        idx = np.abs(np.arange(T)[:, None] - np.arange(T)[None, :])
        R = np.where(idx <= corr.k, R, 0.0)
    return R


# ------------------------------------------------------------------ estimating equations
def _pieces(fam, link, X, off, beta, y):
    eta = X @ beta + off
    mu, d1, _ = gfm._pieces(fam, link, eta)
    v = fam.V(mu)
    return mu, d1, v


def _blocks(grid: Grid, R: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """The inverse working covariances (G, T, T): (A^1/2 R A^1/2)^-1 on the observed cells,
    identity elsewhere (where derivatives and residuals are zero)."""
    m = grid.mask
    mm = m[:, :, None] & m[:, None, :]
    s = np.where(m, sd, 1.0)
    W = np.where(mm, R[None, :, :], 0.0) * s[:, :, None] * s[:, None, :]
    eye = np.eye(R.shape[0], dtype=bool)[None, :, :] & ~mm
    W = W + eye
    return np.linalg.inv(W)


def _equations(grid, Vinv, D, e, w):
    """sum_i w_i D_i' V_i^-1 D_i and the per-panel scores D_i' V_i^-1 e_i (unweighted)."""
    VD = Vinv @ D                                   # (G, T, p)
    H = np.einsum("gtp,gtq,g->pq", D, VD, w)
    U = np.einsum("gtp,gt->gp", VD, e)
    return H, U


class CorrelationAboveOne(FloatingPointError):
    """A working correlation estimated above 1 in absolute value (Stata: `estimates diverging
    (absolute correlation > 1)`)."""


def _check_corr(R: np.ndarray) -> None:
    off = R - np.diag(np.diag(R))
    if not np.all(np.isfinite(off)) or np.any(np.abs(off) >= 1.0):
        raise CorrelationAboveOne("absolute correlation > 1")


def _system(grid, R, sd, D, e, w, kind):
    """H = sum_i w_i D_i'V_i^-1 D_i and the panels' scores. Independent and exchangeable in
    closed form ((1 - a) I + a 11')^-1 = (I - c 11') / (1 - a), c = a / (1 - a + n a), so a
    panel of 1,000 observations costs no 1,000 x 1,000 inverse; the other structures through
    the (G, T, T) stack of inverses."""
    if kind not in ("independent", "exchangeable"):
        return _equations(grid, _blocks(grid, R, sd), D, e, w)
    a = float(R[0, 1]) if kind == "exchangeable" and R.shape[0] > 1 else 0.0
    s = np.where(grid.mask, sd, 1.0)
    Dt = D / s[:, :, None]
    et = e / s
    n = grid.mask.sum(axis=1)
    c = a / (1.0 - a + n * a)
    sD = Dt.sum(axis=1)
    H = (np.einsum("gtp,gtq,g->pq", Dt, Dt, w) - (sD * (w * c)[:, None]).T @ sD) / (1.0 - a)
    U = (np.einsum("gtp,gt->gp", Dt, et) - c[:, None] * sD * et.sum(axis=1)[:, None]) / (1.0 - a)
    return H, U


@dataclass
class Options:
    corr: Corr
    nmp: bool = False
    rgf: bool = False
    robust: bool = False
    scale: str = "default"               # default | x2 | dev | phi | #
    scale_value: float = 1.0
    tol: float = 1e-6
    maxiter: int = 100
    fixed_scale: bool = False             # binomial/poisson: the scale is 1 by default
    weights: np.ndarray | None = None     # per panel (constant within panel, as Stata's)
    wkind: str = "fweight"                # fweight | pweight | iweight


def _phi(r2sum: float, n: float, p: int, nmp: bool) -> float:
    d = n - p if nmp else n
    return r2sum / d if d > 0 else float("nan")


def fit(y, X, off, fam, link, groups, times, opts: Options, *, callback=None) -> GeeFit:
    """GEE from the independence (GLM) fit, alternating the moment estimates of phi and R with a
    Fisher-scoring step of beta until the largest relative change is below opts.tol."""
    n, p = X.shape
    grid = Grid.build(groups, times)
    w = _panel_weights(grid, opts)
    nw = float(np.sum(w * grid.mask.sum(axis=1)))
    start = gfm.fit(y, X, off, fam, link) if opts.weights is None else \
        _weighted_start(y, X, off, fam, link, w[np.asarray(groups)])
    beta = start.beta.copy()
    Xg = grid.lay(X)
    tols: list[float] = []
    conv = False
    it = 0
    for it in range(1, opts.maxiter + 1):
        mu, d1, v = _pieces(fam, link, X, off, beta, y)
        sd = np.sqrt(v)
        r = grid.lay((y - mu) / sd)
        phi = _phi(float(np.sum(w[:, None] * r * r)), nw, p, opts.nmp)
        R = working_corr(r, grid.mask, phi, opts.corr, w)
        _check_corr(R)
        D = Xg * grid.lay(d1)[:, :, None]
        H, U = _system(grid, R, grid.lay(sd), D, grid.lay(y - mu), w, opts.corr.kind)
        step = np.linalg.solve(H, (w[:, None] * U).sum(axis=0))
        new = beta + step
        tol = float(np.max(np.abs(new - beta) / (np.abs(beta) + 1.0)))
        beta = new
        tols.append(tol)
        if callback is not None:
            callback(it, tol)
        if not np.all(np.isfinite(beta)):
            raise FloatingPointError("estimates diverged")
        if tol < opts.tol:
            conv = True
            break
    return _finish(y, X, off, fam, link, grid, beta, opts, it, conv, tols)


def _panel_weights(grid: Grid, opts: Options) -> np.ndarray:
    if opts.weights is None:
        return np.ones(grid.pos.shape[0])
    return np.asarray(opts.weights, dtype=float)


def _weighted_start(y, X, off, fam, link, wobs):
    """The independence GLM with observation weights (Fisher scoring; the start of GEE)."""
    beta = gfm.fit(y, X, off, fam, link).beta
    for _ in range(100):
        eta = X @ beta + off
        mu, d1, _ = gfm._pieces(fam, link, eta)
        ww = wobs * d1 * d1 / fam.V(mu)
        step = np.linalg.solve(X.T @ (ww[:, None] * X), X.T @ (wobs * d1 / fam.V(mu) * (y - mu)))
        beta = beta + step
        if np.max(np.abs(step)) < 1e-12:
            break
    return gfm.finish(y, X, off, fam, link, beta)


def _finish(y, X, off, fam, link, grid, beta, opts, it, conv, tols) -> GeeFit:
    """phi, R, the information and the sandwich at the final estimates."""
    n, p = X.shape
    w = _panel_weights(grid, opts)
    nw = float(np.sum(w * grid.mask.sum(axis=1)))
    mu, d1, v = _pieces(fam, link, X, off, beta, y)
    sd = np.sqrt(v)
    r = grid.lay((y - mu) / sd)
    pearson = float(np.sum(w[:, None] * r * r))
    phi = _phi(pearson, nw, p, opts.nmp)
    R = working_corr(r, grid.mask, phi, opts.corr, w)
    D = grid.lay(X) * grid.lay(d1)[:, :, None]
    H, U = _system(grid, R, grid.lay(sd), D, grid.lay(y - mu), w, opts.corr.kind)
    Hinv = np.linalg.inv(H)
    dev = float(np.sum(_obs_weights(grid, w, n) * fam.dev_units(y, mu)))
    scale = _scale_used(opts, phi, pearson, dev, nw, p)
    Vr = None
    G = int(grid.mask.any(axis=1).sum())
    if opts.robust:
        if opts.weights is not None and opts.wkind == "fweight":
            meat, G = U.T @ (w[:, None] * U), float(np.sum(w))
        else:
            meat = (w[:, None] * U).T @ (w[:, None] * U)
        Vr = Hinv @ meat @ Hinv * (G / (G - 1) if G > 1 else float("nan"))
        if opts.rgf:
            Vr = Vr * (nw - 1) / (nw - p)
    return GeeFit(beta=beta, V=scale * Hinv, V_robust=Vr, H=H, phi=phi, R=R, mu=mu,
                  pearson=pearson, deviance=dev, iterations=it, converged=conv, tolerances=tols,
                  n_groups=G)


def _obs_weights(grid: Grid, w: np.ndarray, n: int) -> np.ndarray:
    """The panels' weights per observation (row order)."""
    out = np.empty(n)
    out[grid.pos[grid.mask]] = np.broadcast_to(w[:, None], grid.pos.shape)[grid.mask]
    return out


def _scale_used(opts: Options, phi, pearson, dev, n, p) -> float:
    """The scale the conventional VCE carries: phi for the continuous families by default, 1
    for binomial and Poisson; x2 and dev divide by N - p, phi is the moment estimate, # a
    number."""
    kind = opts.scale
    if kind == "x2":
        return pearson / (n - p)
    if kind == "dev":
        return dev / (n - p)
    if kind == "phi":
        return phi
    if kind == "#":
        return opts.scale_value
    return 1.0 if opts.fixed_scale else phi
