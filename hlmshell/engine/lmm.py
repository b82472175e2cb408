"""Linear mixed models by ML / REML, to the digits Stata's `mixed` prints.

The fit runs on data centred and scaled by engine.standardize (a reparametrisation that leaves
the model unchanged), so that it does not depend on the units or location of y and X; results
are mapped back to the data's units.

sigma^2 and beta are profiled out; each block's covariance relative to sigma^2 is Lambda Lambda'
with Lambda unconstrained (vcparams). Quasi-Newton on the exact gradient, then Newton steps on a
finite-difference Hessian of that gradient to polish (boundary fits need it). Standard errors of
the variance part: inverse observed information in Stata's e(b) metric (ln sd, atanh corr,
lnsig_e), from central differences of the analytic gradient in that metric.
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np

from hlmshell.distributions import norm_ppf

from . import linalg_core as core
from . import ols, standardize
from .quasi_newton import minimize_bfgs
from .suffstats import SuffStats, build
from .types import BlockComponents, LmmFit, RandomBlock, VarComponent
from .vcparams import normalize_structure


ATR_CLIP = 7.0


class _Problem:
    def __init__(self, ss: SuffStats, reml: bool):
        self.ss = ss
        self.reml = reml
        self.sizes = [lev.structure.m for lev in ss.levels]
        self.splits = np.cumsum(self.sizes)[:-1]
        self.nfev = 0

    def lams(self, theta):
        parts = np.split(np.asarray(theta, dtype=float), self.splits)
        return [lev.structure.lam(t) for lev, t in zip(self.ss.levels, parts)]

    def dev(self, theta):
        self.nfev += 1
        try:
            ev = core.forward(self.ss, self.lams(theta))
            d, _ = core.profiled_terms(self.ss, ev, self.reml)
        except np.linalg.LinAlgError:
            return np.inf
        return d

    def dev_grad(self, theta):
        self.nfev += 1
        try:
            ev = core.forward(self.ss, self.lams(theta))
            d, M0bar = core.profiled_terms(self.ss, ev, self.reml)
        except np.linalg.LinAlgError:
            return np.inf, np.zeros(len(theta))
        bars = core.backward(self.ss, ev, M0bar)
        g = np.concatenate([lev.structure.theta_grad(b) for lev, b in zip(self.ss.levels, bars)])
        self.last = (np.array(theta, dtype=float), d)
        return d, g

    # ---- Stata metric ----------------------------------------------------------------
    def stata_point(self, theta):
        ev = core.forward(self.ss, self.lams(theta))
        nu = self.ss.n - self.ss.p if self.reml else self.ss.n
        sigma2 = ev.r2 / nu
        s = []
        for lev, lam in zip(self.ss.levels, ev.lams):
            s.append(lev.structure.stata_from_cov(sigma2 * lam @ lam.T))
        s.append(np.array([0.5 * math.log(sigma2)]))
        return np.concatenate(s), ev, sigma2

    def stata_grad(self, s):
        """d(-2 ll)/d s at Stata-metric point s (beta at its GLS value)."""
        sigma2 = math.exp(2 * s[-1])
        lams, jacs, psis = [], [], []
        pos = 0
        for lev in self.ss.levels:
            st = lev.structure
            k = len(st.stata_names(1, 1))
            psi, jac = st.cov_from_stata(s[pos:pos + k])
            pos += k
            rel = psi / sigma2
            lams.append(st.lam(st.theta_from_relcov(rel)))
            jacs.append(jac)
            psis.append(rel)
        ev = core.forward(self.ss, lams)
        f, M0bar, dsig = core.unprofiled_terms(self.ss, ev, sigma2, self.reml)
        bars = core.backward(self.ss, ev, M0bar)
        g = []
        glns = 2 * sigma2 * dsig
        for lam, bar, jac, rel in zip(lams, bars, jacs, psis):
            pb = 0.5 * bar @ np.linalg.inv(lam)
            pb = 0.5 * (pb + pb.T)              # d f / d Psi_rel
            for d in jac:
                g.append(np.sum(pb * d) / sigma2)
            glns += np.sum(pb * (-2.0 * rel))
        g.append(glns)
        return np.array(g)


def _numgrad(fun, x, h):
    g = np.empty_like(x)
    for i in range(len(x)):
        e = np.zeros_like(x)
        e[i] = h
        g[i] = (fun(x + e) - fun(x - e)) / (2 * h)
    return g


def _jac_of_grad(gradfun, x, h=1e-4):
    d = len(x)
    H = np.empty((d, d))
    for i in range(d):
        step = h * max(1.0, abs(x[i]))
        e = np.zeros(d)
        e[i] = step
        H[:, i] = (gradfun(x + e) - gradfun(x - e)) / (2 * step)
    return 0.5 * (H + H.T)


def _fd_hessian(gradfun, x, g0, h=1e-6):
    """Forward differences of the exact gradient: d gradient calls."""
    d = len(x)
    H = np.empty((d, d))
    for i in range(d):
        step = h * max(1.0, abs(x[i]))
        e = np.zeros(d)
        e[i] = step
        H[:, i] = (gradfun(x + e) - g0) / step
    return 0.5 * (H + H.T)


def _decrement(w, U, g):
    """Newton decrement g' |H|^-1 g and step -|H|^-1 g from H's eigen-decomposition (|H|:
    eigenvalues by absolute value, floored, so the step always descends)."""
    floor = max(1e-8 * max(abs(w).max(), 1.0), 1e-10)
    step = -U @ ((U.T @ g) / np.maximum(np.abs(w), floor))
    dec = -float(g @ step)
    return (dec if np.isfinite(dec) else math.inf), step


def _newton_polish(prob: _Problem, theta, dev0, g0, report, maxsteps=20):
    """Newton steps with a finite-difference Hessian of the exact gradient; keep only gains.
    Stops when the Newton decrement says nothing measurable is left to gain (after at least one
    step, so the log shows an iteration 1 as Stata's does)."""
    theta, dev, g = theta.copy(), dev0, g0
    w = U = None
    for it in range(maxsteps):
        # the previous step's Hessian first: when it already says nothing is left to gain, the
        # m gradient evaluations of a fresh one would only confirm it
        if it > 0 and _decrement(w, U, g)[0] < 1e-15 * max(1.0, abs(dev)):
            break
        H = _fd_hessian(lambda t: prob.dev_grad(t)[1], theta, g)
        w, U = np.linalg.eigh(H)
        decrement, step = _decrement(w, U, g)
        if not np.isfinite(decrement) or (decrement < 1e-15 * max(1.0, abs(dev)) and it > 0):
            break
        t = 1.0
        improved = None
        for _ls in range(30):
            cand = theta + t * step
            dc, gc = prob.dev_grad(cand)
            if dc < dev or (dc <= dev + 1e-13 * abs(dev) and np.abs(gc).max() < 0.5 * np.abs(g).max()):
                improved = max(dev - dc, 0.0)
                theta, dev, g = cand, dc, gc
                report(dev)
                break
            t *= 0.5
        if improved is None:
            break
    return theta, dev, g


def fit_lmm(y, X, blocks: list[RandomBlock], *, reml: bool = False, maxiter: int = 300,
            tol: float = 1e-6, ltol: float = 1e-7, callback: Callable | None = None,
            start=None, weights=None) -> LmmFit:
    """Fit y = X b + sum_k Z_k u_k + e by ML (or REML).

    X: full-rank columns only. blocks: any order; nested levels by depth (see RandomBlock).
    callback(kind, iteration, ll): once with kind 'em' at the starting values, then 'gradient'
    for iteration 0, 1, ... of the quasi-Newton/Newton phase.
    tol/ltol are accepted for Stata's options but the fit always runs to a vanishing exact
    gradient (much tighter than Stata's defaults); maxiter bounds the quasi-Newton phase.
    start: optimiser-metric parameters (concatenated Lambda parameters, blocks by depth).
    extra: 'theta', 'lambdas' (relative factors, blocks by depth), 'block_order' (caller's block
    index of each depth-sorted block), 'gradient' (of the standardized problem), 'nfev',
    'fixed_map' (the standardization of y and X), 'beta_std'/'V_beta_std' (its estimates).
    weights: observation-level weights that multiply each row's log-likelihood term inside its
    groups (Stata's fweights: the fit on the expanded data, n their sum; level-1 pweights:
    the pseudo-likelihood), or None.

    The fit runs on centred and scaled data (engine.standardize) so that it does not depend on
    the units or location of y and X; everything returned, the log likelihood and the iteration
    log included, is in the data's own units.
    """
    y = np.asarray(y, dtype=float).reshape(-1)
    n = len(y)
    X = np.asarray(X, dtype=float).reshape(n, -1)
    if not blocks:
        raise ValueError("no random-effects equation")
    fm = standardize.fixed_map(y, X)
    dscales = standardize.random_scales(blocks)
    order = sorted(range(len(blocks)), key=lambda i: blocks[i].depth)
    structures = [standardize.structure_of(blocks[i]) for i in order]
    dsorted = [dscales[i] for i in order]
    w = None if weights is None else np.asarray(weights, dtype=float).reshape(n)
    offset = fm.ll_offset(n if w is None else float(w.sum()), reml)
    cb = None
    if callback is not None:
        def cb(kind, it, ll):
            callback(kind, it, ll + offset)
    start_t = None
    if start is not None:
        start_t = _rescale_theta(np.asarray(start, dtype=float), structures, dsorted, inverse=False)
    fit = _fit_standardized(y, X, standardize.scale_blocks(blocks, dscales), reml=reml,
                            maxiter=maxiter, callback=cb, start=start_t, fixed_map=fm, weights=w)
    return _to_data_units(fit, fm, structures, dsorted, order, offset)


def _rescale_theta(theta: np.ndarray, structures, dsorted, *, inverse: bool) -> np.ndarray:
    """Lambda parameters across Z~ = Z D^-1: Lambda = D^-1 Lambda~ (inverse=True: standardized
    -> data units), Lambda~ = D Lambda otherwise."""
    parts = np.split(theta, np.cumsum([st.m for st in structures])[:-1])
    out = []
    for st, t, d in zip(structures, parts, dsorted):
        f = (1.0 / d if inverse else d)[:st.dim]   # identity: one common scale, a 1 x 1 factor
        out.append(st.theta_of(f[:, None] * st.lam(t)))
    return np.concatenate(out)


def _to_data_units(fit: LmmFit, fm: standardize.FixedMap, structures, dsorted, order,
                   offset: float) -> LmmFit:
    """The standardized fit in the data's units (see engine.standardize for the maps). The
    Stata-metric parameters move by a constant (ln sd by log c_y - log d_j), so their
    covariance vc_V is the standardized fit's as it is."""
    c = fm.y_scale
    logc = math.log(c)
    s_shift = np.concatenate([st.stata_shift(logc, np.log(d)) for st, d in zip(structures, dsorted)]
                             + [np.array([logc])])
    covs = [None] * len(fit.covs)            # caller's block order, as fit.covs
    for pos, i in enumerate(order):
        d = dsorted[pos]
        k = fit.covs[i].shape[0]                # 1 for a compact identity block
        covs[i] = (c * c) * fit.covs[i] / np.outer(d[:k], d[:k])
    theta_t = fit.extra["theta"]
    theta = _rescale_theta(theta_t, structures, dsorted, inverse=True)
    lambdas = [lam / d[:lam.shape[0], None] for lam, d in zip(fit.extra["lambdas"], dsorted)]
    extra = dict(fit.extra, theta=theta, lambdas=lambdas, theta_std=theta_t, fixed_map=fm,
                 beta_std=fit.beta, V_beta_std=fit.V_beta)
    if extra.get("ll_linear") is not None:
        extra["ll_linear"] += offset            # the same Jacobian as the mixed model's ll
    return LmmFit(beta=fm.beta(fit.beta), V_beta=fm.vbeta(fit.V_beta), ll=fit.ll + offset,
                  reml=fit.reml, converged=fit.converged, iterations=fit.iterations,
                  sigma2=c * c * fit.sigma2, covs=covs, vc_names=fit.vc_names,
                  vc_theta=fit.vc_theta + s_shift, vc_V=fit.vc_V, n_obs=fit.n_obs,
                  extra=extra)


def _fit_standardized(y, X, blocks: list[RandomBlock], *, reml: bool, maxiter: int,
                      callback: Callable | None, start, fixed_map=None, weights=None) -> LmmFit:
    """fit_lmm's optimisation on data that engine.standardize has made O(1) (or that
    fixed_map makes so as the cross products are summed)."""
    ss = build(y, X, blocks, weights=weights, fixed_map=fixed_map)
    prob = _Problem(ss, reml)
    n, p = ss.n, ss.p
    blocks_sorted = sorted(blocks, key=lambda b: b.depth)

    if start is None:
        theta0 = np.concatenate([lev.structure.start(1.0) for lev in ss.levels])
    else:
        theta0 = np.asarray(start, dtype=float)
    em_it = [0]
    newton_it = [0]

    def report_em(dev):
        if callback is not None:
            callback("em", em_it[0], float(-0.5 * dev))
        em_it[0] += 1

    def report(dev):
        if callback is not None:
            callback("gradient", newton_it[0], float(-0.5 * dev))
        newton_it[0] += 1

    d0 = prob.dev(theta0)
    if not np.isfinite(d0):
        theta0 = np.concatenate([lev.structure.start(0.1) for lev in ss.levels])
        d0 = prob.dev(theta0)
    report_em(d0)

    def cb(xk, *args):
        lt = getattr(prob, "last", None)
        d = lt[1] if lt is not None and np.array_equal(lt[0], xk) else prob.dev(xk)
        report_em(d)

    # start-value phase (Stata: EM): quasi-Newton to a loose gradient, reported as 'em'
    res = minimize_bfgs(prob.dev_grad, theta0, gtol=1e-2, maxiter=maxiter, callback=cb)
    theta = res.x
    dev, g = prob.dev_grad(theta)
    if not np.isfinite(dev):
        theta, (dev, g) = theta0, prob.dev_grad(theta0)
    # gradient-based phase: Newton on the exact gradient, iteration 0 at its starting point;
    # maxiter (Stata's iterate()) is one budget for both phases, so a small iterate() stops
    # early and the fit is flagged not converged instead of being polished regardless
    report(dev)
    theta, dev, g = _newton_polish(prob, theta, dev, g, report,
                                   maxsteps=max(0, min(20, maxiter - int(res.nit))))
    # converged when the exact gradient of the deviance is negligible on the ll's own scale
    converged = bool(np.all(np.isfinite(g)) and np.abs(g).max() < 1e-4 + 1e-8 * abs(dev))
    ev = core.forward(ss, prob.lams(theta))
    nu = n - p if reml else n
    sigma2 = ev.r2 / nu
    Qinv = np.linalg.inv(ev.Q) if p else np.zeros((0, 0))
    V_beta = sigma2 * Qinv
    covs_sorted = [_full_cov(sigma2 * lam @ lam.T, lev.structure.q) for lam, lev in zip(ev.lams, ss.levels)]

    # Stata metric and its observed information
    s_hat, _, _ = prob.stata_point(theta)
    vc_names = []
    depth_count: dict[int, int] = {}
    for blk, lev in zip(blocks_sorted, ss.levels):
        depth_count[blk.depth] = depth_count.get(blk.depth, 0) + 1
        for nm in lev.structure.stata_names(blk.depth, depth_count[blk.depth]):
            vc_names.append((nm, "_cons"))
    vc_names.append(("lnsig_e", "_cons"))
    vc_V = _vc_covariance(prob, s_hat, vc_names)

    # report blocks in the caller's order
    order = sorted(range(len(blocks)), key=lambda i: blocks[i].depth)
    covs = [None] * len(blocks)
    for pos, i in enumerate(order):
        covs[i] = covs_sorted[pos]
    return LmmFit(beta=ev.beta.copy(), V_beta=V_beta, ll=float(-0.5 * dev), reml=reml,
                  converged=converged, iterations=max(newton_it[0] - 1, 0), sigma2=sigma2,
                  covs=covs, vc_names=vc_names, vc_theta=s_hat, vc_V=vc_V, n_obs=n,
                  extra={"theta": theta, "lambdas": ev.lams, "block_order": order,
                         "gradient": g, "nfev": prob.nfev,
                         "ll_linear": _linear_ll_from_cross(ss, reml)})


def _linear_ll_from_cross(ss, reml: bool) -> float | None:
    """The linear model's log likelihood (mixed's LR test) from [X y]'[X y] of the standardized
    data, which the fit has already summed: no second pass over X. None when the outcome is so
    nearly explained by X (residual below 1e-6 of y'y) that the cross-products would lose
    digits of the residual sum of squares; the caller then fits the linear model on the data."""
    p = ss.p
    R0 = ss.R0
    yy = float(R0[p, p])
    try:
        if p:
            L = np.linalg.cholesky(R0[:p, :p])
            w = np.linalg.solve(L, R0[:p, p])
            rss = yy - float(w @ w)
            logdet = 2.0 * float(np.log(np.diag(L)).sum())
        else:
            rss, logdet = yy, 0.0
    except np.linalg.LinAlgError:
        return None
    if not (rss > 1e-6 * yy) or ss.n - (p if reml else 0) <= 0:
        return None
    return ols.loglik(rss, ss.n, p, reml, logdet)


COMPACT_COV_ABOVE = 1000


def _full_cov(cov: np.ndarray, q: int) -> np.ndarray:
    """A block's covariance as q x q (a compact identity factor gives 1 x 1: v I_q), except
    for identity blocks of more than COMPACT_COV_ABOVE columns (an `R.var` with thousands of
    levels), which stay 1 x 1 standing for v I_q: an L x L identity of 10^4 levels is 800 MB."""
    if cov.shape[0] == 1 and 1 < q <= COMPACT_COV_ABOVE:
        return cov[0, 0] * np.eye(q)
    return cov


def _vc_covariance(prob: _Problem, s_hat: np.ndarray, vc_names) -> np.ndarray | None:
    """Inverse observed information of the variance part in Stata's metric; None when the
    Hessian cannot be inverted (Stata's 'standard-error calculation failed').

    A numerical derivative of the exact gradient, taken on the standardized problem: its
    steps (1e-4 max(1, |s|)) then do not depend on the data's units, and neither do these
    standard errors (steps relative to ln sd in the data's units would grow with the units and
    move them by up to 1e-5 between, say, dollars and cents)."""
    try:
        if not np.all(np.isfinite(s_hat)):
            return None
        # A correlation at +-1 (a Cholesky factor reaching the boundary) leaves the ll flat in
        # its atanh: take the information at |atanh r| = 7 (r = 0.9999983), which gives the
        # limiting standard errors of the other parameters instead of a singular matrix.
        s_eval = s_hat.copy()
        for i, (nm, _) in enumerate(vc_names):
            if nm.startswith("atr"):
                s_eval[i] = float(np.clip(s_eval[i], -ATR_CLIP, ATR_CLIP))
        H = _jac_of_grad(prob.stata_grad, s_eval, 1e-4)   # of -2 ll
        info = 0.5 * H
        w = np.linalg.eigvalsh(info)
        if np.all(np.isfinite(info)) and w.min() > 1e-10 * max(w.max(), 1.0):
            vc_V = np.linalg.inv(info)
            return 0.5 * (vc_V + vc_V.T)
    except (np.linalg.LinAlgError, ValueError, FloatingPointError):
        return None
    return None


def _normal_quantile(p: float) -> float:
    return float(norm_ppf(p))


def linear_ll(y, X, reml: bool = False) -> float:
    """Log likelihood of the OLS fit (ML, or REML on the same scale as fit_lmm's); computed on
    standardized data by engine.ols, so a covariate in any units keeps its column."""
    return ols.linear_ll(y, X, reml)


def _exp(x: float) -> float:
    """exp that gives inf (shown as missing) instead of OverflowError: an unidentified variance
    component (two intercepts at one level) can have a standard error of 1e300 on the log scale."""
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


def variance_components(fit: LmmFit, blocks: list[RandomBlock], *, metric: str = "variance",
                        level: float = 95) -> tuple[list[BlockComponents], VarComponent]:
    """The random-effects parameters as Stata's table reports them, from e(b)'s metric
    (ln sd, atanh corr, ln sigma_e) and e(V) by the delta method: per block (outermost level
    first) its variances (or sds) and covariances (or correlations), then the residual's.
    Numbers only; hlmshell.output.labels names the rows."""
    z = _normal_quantile(0.5 + level / 200.0)
    V = fit.vc_V
    s = fit.vc_theta

    def se_of(i):
        if V is None:
            return None
        v = V[i, i]
        return math.sqrt(v) if v >= 0 else None

    def var_row(names, i):
        est_ln = s[i]
        se = se_of(i)
        if metric == "sd":
            est = _exp(est_ln)
            if se is None:
                return VarComponent("sd", names, est, None, None, None)
            return VarComponent("sd", names, est, est * se, _exp(est_ln - z * se), _exp(est_ln + z * se))
        est = _exp(2 * est_ln)
        if se is None:
            return VarComponent("var", names, est, None, None, None)
        return VarComponent("var", names, est, 2 * est * se, _exp(2 * (est_ln - z * se)),
                            _exp(2 * (est_ln + z * se)))

    def pair_row(names, ii, jj, ia):
        a = s[ia]
        r = math.tanh(a)
        if metric == "sd":
            se = se_of(ia)
            if se is None:
                return VarComponent("corr", names, r, None, None, None)
            return VarComponent("corr", names, r, (1 - r * r) * se, math.tanh(a - z * se),
                                math.tanh(a + z * se))
        si, sj = math.exp(s[ii]), math.exp(s[jj])
        cov = r * si * sj
        if V is None:
            return VarComponent("cov", names, cov, None, None, None)
        grad = np.zeros(len(s))
        grad[ii] += cov
        grad[jj] += cov
        grad[ia] += si * sj * (1 - r * r)
        var = float(grad @ V @ grad)
        se = math.sqrt(var) if var >= 0 else None
        if se is None:
            return VarComponent("cov", names, cov, None, None, None)
        return VarComponent("cov", names, cov, se, cov - z * se, cov + z * se)

    out = []
    order = sorted(range(len(blocks)), key=lambda i: blocks[i].depth)
    pos = 0
    for i in order:
        blk = blocks[i]
        names = tuple(blk.names)
        q = len(names)
        if q == 0:          # `|| id:, noconstant` beside a residual structure: no parameters
            continue
        kind = normalize_structure(blk.covariance, q)
        rows = []
        if kind == "identity":
            rows.append(var_row(names, pos))
            pos += 1
        elif kind == "independent":
            for j, nm in enumerate(names):
                rows.append(var_row((nm,), pos + j))
            pos += q
        elif kind == "exchangeable":
            rows.append(var_row(names, pos))
            rows.append(pair_row(names, pos, pos, pos + 1))
            pos += 2
        else:
            for j, nm in enumerate(names):
                rows.append(var_row((nm,), pos + j))
            ia = pos + q
            for a in range(q):
                for b in range(a + 1, q):
                    rows.append(pair_row((names[a], names[b]), pos + a, pos + b, ia))
                    ia += 1
            pos = ia
        out.append(BlockComponents(i, blk.label, kind, rows))
    resid = var_row((), len(s) - 1)
    return out, resid
