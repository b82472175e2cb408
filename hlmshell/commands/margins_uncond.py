"""What `margins, vce(unconditional)` needs from the model: how each row of the estimation
sample moves the fixed coefficients (their influence), and the sampling units the rows are
summed in. engine.margins.unconditional_vcov does the rest.

Stata linearizes the margins with the model's scores (`predict, scores`) and its
model-based VCE, so vce(unconditional) works whether or not the model was fit with
vce(robust); the rows are independent units unless the model was fit with vce(cluster),
whose clusters are then the units.

    regress: infl_i = (X'X)^-1 x_i e_i (the OLS score e_i x_i / s^2 times s^2 (X'X)^-1)
    mixed:   scores exist per top-level group, so the groups are the units (or the clusters
             of vce(cluster), which contain whole groups): infl_g = V_b X_g'V_g^-1 r_g with
             V_b the model-based VCE of the fixed effects (e(V) is block diagonal, so the
             variance parameters do not enter the fixed effects' influence).
    logit, logistic, probit, cloglog, poisson: infl_i = (-H)^-1 s_i with s_i = x_i dl_i/deta
             and H the observed Hessian of the log likelihood (differences of the summed
             scores), so a robust fit's e(V) is not needed.
    me* (one level): the groups' scores in the estimation metric (b, ln sd, atanh corr,
             family parameters; engine.glmm.group_scores) times the model-based VCE in that
             metric (engine.glmm.observed_vcov), mapped to e(b)'s fixed part and, when the
             margins use them, its variances and covariances (chain rule through the
             covariance of the Stata metric); the groups (or clusters) are the units.
"""
from __future__ import annotations

import re

import numpy as np

from hlmshell import distributions as dist
from hlmshell.engine import marginal, sandwich
from hlmshell.errors import StataError


def _clusters(session, res, rows: np.ndarray) -> np.ndarray | None:
    var = res.macros.get("clustvar", "")
    if not var or res.macros.get("vce") != "cluster":
        return None
    if var not in session.data:
        raise StataError(f"variable {var} not found", 111)
    codes, _ = sandwich.cluster_codes(np.asarray(session.data.var(var).values)[rows])
    return codes


def _regress(session, res, rows: np.ndarray, kf: int) -> np.ndarray:
    depvar = res.macros.get("depvar", "")
    if depvar not in session.data:
        raise StataError(f"variable {depvar} not found", 111)
    X = np.asarray(res.design.X_keep, dtype=float)
    if X.shape[0] != rows.size:
        raise StataError("estimation sample changed", 459)
    y = np.asarray(session.data.var(depvar).values, dtype=float)[rows]
    kidx = np.flatnonzero(~np.asarray(res.omitted, dtype=bool)[:kf])
    b = np.asarray(res.b, dtype=float).reshape(-1)[kidx]
    e = y - X @ b
    if not np.all(np.isfinite(e)):
        raise StataError("missing values encountered in the estimation sample", 459)
    infl = np.zeros((rows.size, kf))
    infl[:, kidx] = (X * e[:, None]) @ np.linalg.pinv(X.T @ X)
    return infl


def _mixed(res, rows: np.ndarray, kf: int) -> tuple[np.ndarray, np.ndarray]:
    if res.macros.get("method") == "REML":
        # Stata's mixed has no scores after REML (predict, scores), which this needs
        raise StataError("vce(unconditional) requires the model's scores; scores are not "
                         "available after REML estimation", 198)
    model = res.model
    fit = model.fit
    kidx = np.flatnonzero(~np.asarray(model.omitted, dtype=bool)[:kf])
    if len(model.y) != rows.size:
        raise StataError("estimation sample changed", 459)
    if not model.blocks:
        X = np.asarray(model.X, dtype=float)
        e = np.asarray(model.y, dtype=float) - X @ np.asarray(fit.beta, dtype=float)
        infl = np.zeros((rows.size, kf))
        infl[:, kidx] = (X * e[:, None]) @ np.linalg.pinv(X.T @ X)
        return infl, np.arange(rows.size)
    marginal_fit = isinstance(fit.extra, dict) and fit.extra.get("residual_data") is not None
    try:
        if marginal_fit:
            S, top = marginal.group_scores(model.y, model.X, model.blocks, fit)
            p = len(fit.beta)
            G = S[:, :p] @ np.asarray(fit.V_beta, dtype=float)
        else:
            S, top = sandwich.group_scores(model.y, model.X, model.blocks, fit)
            p = len(fit.beta)
            fm = fit.extra["fixed_map"]
            Gt = S[:, :p] @ np.asarray(fit.extra["V_beta_std"], dtype=float)
            G = Gt @ (fm.y_scale * fm.matrix()).T
    except (np.linalg.LinAlgError, ValueError, FloatingPointError):
        raise StataError("could not compute the scores of the model", 498) from None
    first = np.full(S.shape[0], -1)
    for i in range(len(top) - 1, -1, -1):
        first[top[i]] = i
    infl = np.zeros((rows.size, kf))
    infl[np.ix_(first, kidx)] = G
    return infl, np.asarray(top, dtype=np.int64)


def _score_eta(link: str, y: np.ndarray, eta: np.ndarray) -> np.ndarray:
    """d l_i / d eta_i of a binary (logit, probit, cloglog) or Poisson (log) outcome."""
    from hlmshell.commands.margins_response import inverse_link

    mu = inverse_link(link, eta)
    if link == "log":
        return y - mu
    if link == "logit":
        return y - mu
    dmu = np.asarray(dist.norm_pdf(eta), dtype=float) if link == "probit" else \
        np.exp(eta - np.exp(eta))
    with np.errstate(divide="ignore", invalid="ignore"):
        return (y - mu) * dmu / (mu * (1 - mu))


def _glm(session, res, rows: np.ndarray, kf: int) -> np.ndarray:
    from hlmshell.commands import margins_build as mb
    from hlmshell.commands.margins_response import ONE_LEVEL
    from hlmshell.engine import margins as me

    if res.cmd not in ONE_LEVEL:
        raise StataError(f"vce(unconditional) after {res.cmd} is not implemented", 198)
    link = ONE_LEVEL[res.cmd]
    if res.cmd == "nbreg" or re.search(r"\b(off|exp)\w*\(", res.macros.get("cmdline", "")):
        raise StataError(f"vce(unconditional) after {res.cmd} with ln alpha or an offset is "
                         "not implemented", 198)
    depvar = res.macros.get("depvar", "")
    if depvar not in session.data:
        raise StataError(f"variable {depvar} not found", 111)
    model = mb.model_of(res)
    X = me.design(model.cols, mb.base_covariates(model, session.data, rows))[:, model.keep]
    y = np.asarray(session.data.var(depvar).values, dtype=float)[rows]
    if link != "log":
        y = (y != 0).astype(float)
    b = model.b[model.keep]

    def total(bb):
        return X.T @ _score_eta(link, y, X @ bb)

    H = np.zeros((b.size, b.size))
    for j in range(b.size):
        h = 1e-5 * max(1.0, abs(b[j]))
        e = np.zeros(b.size)
        e[j] = h
        H[:, j] = (total(b + e) - total(b - e)) / (2 * h)
    bread = np.linalg.pinv(-(H + H.T) / 2)
    infl = np.zeros((rows.size, kf))
    infl[:, model.keep] = (X * _score_eta(link, y, X @ b)[:, None]) @ bread
    if not np.all(np.isfinite(infl)):
        raise StataError("could not compute the scores of the model", 498)
    return infl


def _me_entries(block, st, names: list[str]):
    """e(b)'s random-effects entries (`var(_cons[district])`, `cov(age[d],_cons[d])`) as a
    function of the Stata-metric variance parameters s."""
    from hlmshell.commands.margins_response import _VARCOV

    pos = {nm: j for j, nm in enumerate(block.names)}
    cells = []
    for nm in names:
        m = _VARCOV.match(nm)
        what = re.sub(r"\[[^\]]*\]", "", m.group(2)).split(",")
        cells.append((pos.get(what[0], 0), pos.get(what[-1], 0)))

    def entries(svec):
        psi, _ = st.cov_from_stata(svec)
        if psi.shape[0] == 1 and st.q > 1:
            psi = psi[0, 0] * np.eye(st.q)
        return np.array([psi[a, b] for a, b in cells])

    return entries


def _me(res, rows: np.ndarray, kf: int, theta_idx: list[int]) -> tuple[np.ndarray, np.ndarray]:
    from hlmshell.engine import glmm

    model = res.model
    if not isinstance(model, glmm.GlmmModel) or len(model.blocks) != 1:
        raise StataError(f"vce(unconditional) after {res.cmd} with several levels is not "
                         "implemented", 198)
    fit, st, data = model.fit, model.structure, model.data
    if data.order.size != rows.size:
        raise StataError("estimation sample changed", 459)
    try:
        V_s = glmm.observed_vcov(fit, st)
        if V_s is None:
            raise np.linalg.LinAlgError
        S = glmm.group_scores(fit, st)
    except (np.linalg.LinAlgError, ValueError, FloatingPointError, KeyError):
        raise StataError("could not compute the scores of the model", 498) from None
    G_s = S @ V_s                                     # groups' influence, Stata metric
    p = len(fit.beta)
    ne = fit.extra["problem"].fam.n_extra if isinstance(fit.extra, dict) else 0
    k = S.shape[1] - p - ne
    kidx = np.flatnonzero(~np.asarray(res.omitted, dtype=bool)[:kf])
    out = np.zeros((S.shape[0], kf + len(theta_idx)))
    out[:, kidx] = G_s[:, :p]
    if theta_idx:
        entries = _me_entries(model.blocks[0], st, [res.names[j][1] for j in theta_idx])
        s0 = glmm.stata_point(fit, st)[p:p + k]
        D = np.zeros((len(theta_idx), k))
        for j in range(k):
            e = np.zeros(k)
            e[j] = 1e-6
            D[:, j] = (entries(s0 + e) - entries(s0 - e)) / 2e-6
        out[:, kf:] = G_s[:, p:p + k] @ D.T
    group = np.empty(rows.size, dtype=np.int64)
    group[data.order] = data.codes
    first = np.full(S.shape[0], -1)
    for i in range(rows.size - 1, -1, -1):
        first[group[i]] = i
    infl = np.zeros((rows.size, out.shape[1]))
    infl[first] = out
    return infl, group


def _ordinal(session, res, rows: np.ndarray, kf: int, theta_idx: list[int]) -> np.ndarray:
    """ologit/oprobit: each row's influence on (b, cutpoints), from the per-row log
    likelihoods' gradients and their summed Hessian (central differences)."""
    from hlmshell.commands import margins_build as mb
    from hlmshell.commands.margins_ordinal import _cdf, _link, outcomes
    from hlmshell.engine import margins as me

    depvar = res.macros.get("depvar", "")
    model = mb.model_of(res)
    X = me.design(model.cols, mb.base_covariates(model, session.data, rows))[:, model.keep]
    values = outcomes(session, res)
    y = np.asarray(session.data.var(depvar).values, dtype=float)[rows]
    k = np.searchsorted(values, y)
    cut_idx = [j for j, (eq, nm) in enumerate(res.names) if eq == "/" and re.fullmatch(r"cut\d+", nm)]
    b_all = np.asarray(res.b, dtype=float).reshape(-1)
    par0 = np.concatenate([model.b[model.keep], b_all[cut_idx]])
    p, link = X.shape[1], _link(res)

    def ll_rows(par):
        eta = X @ par[:p]
        cuts = np.concatenate([[-np.inf], par[p:], [np.inf]])
        with np.errstate(divide="ignore"):
            return np.log(_cdf(link, cuts[k + 1] - eta) - _cdf(link, cuts[k] - eta))

    def grad_rows(par):
        G = np.zeros((rows.size, par.size))
        for j in range(par.size):
            h = 1e-6 * max(1.0, abs(par[j]))
            e = np.zeros(par.size)
            e[j] = h
            G[:, j] = (ll_rows(par + e) - ll_rows(par - e)) / (2 * h)
        return G

    S = grad_rows(par0)
    H = np.zeros((par0.size, par0.size))
    for j in range(par0.size):
        h = 1e-4 * max(1.0, abs(par0[j]))
        e = np.zeros(par0.size)
        e[j] = h
        H[:, j] = (grad_rows(par0 + e).sum(axis=0) - grad_rows(par0 - e).sum(axis=0)) / (2 * h)
    G_rows = S @ np.linalg.pinv(-(H + H.T) / 2)
    if not np.all(np.isfinite(G_rows)):
        raise StataError("could not compute the scores of the model", 498)
    infl = np.zeros((rows.size, kf + len(theta_idx)))
    infl[:, np.flatnonzero(model.keep)] = G_rows[:, :p]
    for c, j in enumerate(cut_idx):
        if j in theta_idx:
            infl[:, kf + theta_idx.index(j)] = G_rows[:, p + c]
    return infl


def influence(session, res, theta_idx: list[int] | None = None) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """(n x k_f influence of each estimation-sample row on the fixed coefficients, the rows'
    sampling-unit codes or None, the estimation sample's row numbers)."""
    if res.sample is None or len(res.sample) != session.data.n:
        raise StataError("e(sample) does not identify the estimation sample", 322)
    rows = np.flatnonzero(np.asarray(res.sample, dtype=bool))
    kf = res.k_f
    if res.cmd == "regress":
        infl = _regress(session, res, rows, kf)
        return infl, _clusters(session, res, rows), rows
    if res.cmd in ("ologit", "oprobit"):
        return _ordinal(session, res, rows, kf, list(theta_idx or [])), \
            _clusters(session, res, rows), rows
    if res.model is None:                  # the one-level binary and count models
        return _glm(session, res, rows, kf), _clusters(session, res, rows), rows
    if res.cmd != "mixed":
        infl, group = _me(res, rows, kf, list(theta_idx or []))
        clusters = _clusters(session, res, rows)
        return infl, (clusters if clusters is not None else group), rows
    infl, top = _mixed(res, rows, kf)
    clusters = _clusters(session, res, rows)
    return infl, (clusters if clusters is not None else top), rows
