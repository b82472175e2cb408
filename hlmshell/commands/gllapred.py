"""gllapred after gllamm: u (empirical Bayes means `stubm1`, `stubm2`, ... and posterior
standard deviations `stubs1`, ... of the random effects, level 2's first), xb (the fixed
part), linpred (the linear predictor with the EB means), mu (the mean response: integrated
over the random effects' posterior, or with `marginal` over their prior distribution) and ll
(each top-level unit's log-likelihood contribution, one-level models), s (the Gaussian
level-1 standard deviation).

Why the me* predictions are used: gllamm's model is the me* (or mixed) model it was fitted
with (commands.gllamm), so predict's statistics on those results (commands.me_predict,
commands.predict) are the same quantities: ebmeans and their posterior SDs, xb, eta/fitted,
mu marginal. The posterior mean of mu, which predict does not give (its mu plugs the EB means
in), is computed here by adaptive quadrature at the posterior (engine.glmm's nodes and
posterior weights) for one-level models: sum_k pi_gk h(xb_i + z_i u_k).
Predictions are made for the estimation sample unless fsample.
"""
from __future__ import annotations

import math

import numpy as np

from hlmshell.errors import StataError
from hlmshell.registry import Opt, command

_STATS = ("u", "xb", "linpred", "mu", "ll", "s", "p", "pearson", "deviance", "anscombe",
          "cooksd", "fac")


def _active(session):
    from hlmshell.commands._postest import active
    res = active(session)
    if res.cmd != "gllamm" or res.model is None:
        raise StataError("gllamm was not the last command", 301)
    return res


def _statistic(opts) -> str:
    chosen = [s for s in _STATS if getattr(opts, s, False)]
    if len(chosen) > 1:
        raise StataError("only one statistic may be specified", 198)
    if not chosen:
        raise StataError("one of the options u, xb, linpred, mu, ll, s must be given", 198)
    stat = chosen[0]
    if stat in ("p", "pearson", "deviance", "anscombe", "cooksd", "fac"):
        raise StataError(f"option {stat} is not available here", 198)
    if opts.marginal and stat != "mu":
        raise StataError("option marginal is only allowed with mu", 198)
    if "above" in opts.given and stat != "mu":
        raise StataError("option above() is only allowed with mu", 198)
    return stat


def _run_predict(session, me_res, text: str) -> None:
    """`predict text` on the fitting command's results (made active for the call)."""
    saved = session.e
    session.e = me_res
    try:
        session.runner.run_command("quietly predict " + text)
    finally:
        session.e = saved


def _tmpname(session, stem: str) -> str:
    k = 0
    while f"__gp{stem}{k}" in session.data:
        k += 1
    return f"__gp{stem}{k}"


def _put(session, name: str, values: np.ndarray, label: str) -> None:
    from hlmshell.data.dataset import Variable
    session.data.add(Variable(name=name, values=np.asarray(values, dtype=float), vtype="double",
                              label=label))


def _take(session, tmp: str, new: str, label: str, touse) -> None:
    vals = np.asarray(session.data.values(tmp), dtype=float).copy()
    session.data.drop([tmp])
    vals[~touse] = np.nan
    _put(session, new, vals, label)


def _check_new(session, names) -> None:
    for nm in names:
        if nm in session.data:
            raise StataError(f"variable {nm} already defined", 110)
        if not nm.replace("_", "a").isalnum() or nm[0].isdigit() or len(nm) > 32:
            raise StataError(f"{nm} invalid name", 198)


def _u(session, res, name: str, touse) -> None:
    g = res.model.spec
    nlev = len(g.levels)
    counts = [max(len(v), 1) for v in g.eqvars]
    me_order = []                          # me*'s reffects: outermost level first
    for k in reversed(range(nlev)):
        vars_ = list(g.eqvars[k]) or ["_cons"]
        order = [v for v in vars_ if v != "_cons"] + (["_cons"] if "_cons" in vars_ else [])
        me_order += [(k, vars_.index(v)) for v in order]
    total = sum(counts)
    targets = []
    j = 0
    for k in range(nlev):
        for r in range(counts[k]):
            targets.append((k, r, j + 1))
            j += 1
    _check_new(session, [f"{name}m{t}" for *_, t in targets] + [f"{name}s{t}" for *_, t in targets])
    if res.model.me_name == "mixed":
        _u_gaussian(session, res, name, touse, targets)
        return
    tm = [_tmpname(session, f"m{i}") for i in range(total)]
    ts = [f"__gps{t[4:]}" for t in tm]
    opt = "reses(" + " ".join(ts) + ")" if res.model.me_name != "mixed" else \
        "reses(" + " ".join(ts) + ")"
    _run_predict(session, res.model.me_res, " ".join(tm) + ", reffects " + opt)
    number = {(k, r): t for k, r, t in targets}
    for pos, (k, r) in enumerate(me_order):
        t = number[(k, r)]
        _take(session, tm[pos], f"{name}m{t}", f"EB mean of random effect {t}", touse)
        _take(session, ts[pos], f"{name}s{t}", f"EB standard deviation of random effect {t}",
              touse)
    session.out.line(f"(means and standard deviations will be stored in {name}m1 {name}s1"
                     + (f" ... {name}m{total} {name}s{total})" if total > 1 else ")"))


def _u_gaussian(session, res, name, touse, targets) -> None:
    """Gaussian, one level: the posterior of each group's effects given the estimates,
    N(C Z'(y - Xb)/s2, C) with C = (Psi^-1 + Z'Z/s2)^-1 (what gllapred's quadrature finds
    exactly for this model)."""
    from hlmshell.commands import gllamm_display as gd
    g = res.model.spec
    if len(g.levels) > 1:
        raise StataError("u after a Gaussian model with several levels is not available", 198)
    sample = np.asarray(res.sample, dtype=bool)
    ds = session.data
    kf = res.k_f
    j = next(j for j, (eq, _) in enumerate(res.names) if eq == "lns1")
    s2 = math.exp(2 * float(res.b[j]))
    X = np.column_stack([np.ones(int(sample.sum())) if nm == "_cons" else
                         np.asarray(ds.values(nm), dtype=float)[sample]
                         for _, nm in res.names[:kf]])
    y = np.asarray(ds.values(g.depvar), dtype=float)[sample]
    r = y - X @ np.asarray(res.b[:kf], dtype=float)
    eff = list(g.eqvars[0]) or ["_cons"]
    Z = np.column_stack([np.ones(len(y)) if v == "_cons" else
                         np.asarray(ds.values(v), dtype=float)[sample] for v in eff])
    P = gd.level_blocks(res)[0][1]
    Pinv = np.linalg.pinv(P)
    _, codes = np.unique(np.asarray(ds.values(g.levels[0]))[sample], return_inverse=True)
    G, q = codes.max() + 1, Z.shape[1]
    ZZ = np.zeros((G, q, q))
    np.add.at(ZZ, codes, Z[:, :, None] * Z[:, None, :])
    Zr = np.zeros((G, q))
    np.add.at(Zr, codes, Z * r[:, None])
    C = np.linalg.inv(Pinv[None] + ZZ / s2)
    m = np.einsum("gab,gb->ga", C, Zr / s2)
    sd = np.sqrt(np.clip(np.diagonal(C, axis1=1, axis2=2), 0, None))
    rows = np.flatnonzero(sample)
    for k, r_, t in targets:
        for stem, vals, what in (("m", m, "mean"), ("s", sd, "standard deviation")):
            col = np.full(len(touse), np.nan)
            col[rows] = vals[codes, r_]
            col[~touse] = np.nan
            _put(session, f"{name}{stem}{t}", col, f"EB {what} of random effect {t}")
    total = len(targets)
    session.out.line(f"(means and standard deviations will be stored in {name}m1 {name}s1"
                     + (f" ... {name}m{total} {name}s{total})" if total > 1 else ")"))


def _posterior_mu(session, res, opts):
    """E[h(eta) | y] per observation of the sample (one-level models), by the posterior's
    quadrature nodes and weights; with above(#) after ordinal models P(y > #)."""
    from hlmshell.engine import glmm
    model = res.model.me_res.model
    if not isinstance(model, glmm.GlmmModel):
        raise StataError("mu without marginal is available after one-level models only", 198)
    prob = glmm.Problem(model.data, model.family, model.structure, "agq",
                        max(int(res.scalars.get("nip", 8)), 8))
    beta, theta = prob._split(model.fit.x)
    with np.errstate(all="ignore"):
        prob.agq(beta, theta, want_grad=False)
        mu_g, S = prob.adapt
        A = model.data.Z @ prob.lam(theta)
        f, U, _ = prob._node_values(beta, A, mu_g, S)
        _, pi = prob._posterior(f, S)
        d = model.data
        xb = d.X @ beta + (0 if opts.nooffset else d.offset)
        eta = xb[:, None] + np.einsum("nq,nkq->nk", A, U[d.codes])
        mean = _mean(model.family, eta, d.trials[:, None], opts, _levels(session, res))
        val = np.sum(pi[d.codes] * mean, axis=1)
    return val, model


def _mean(fam, eta, trials, opts, levels=None):
    """h(eta), or after ordinal models P(y > above()) (levels: the outcome's values)."""
    if getattr(fam, "name", "") == "ordinal":
        from hlmshell.engine import glmm_residuals as gr
        if "above" not in opts.given:
            raise StataError("option above() required with mu after ordinal models", 198)
        try:
            cut = float(opts.raw("above"))
        except (TypeError, ValueError):
            raise StataError("option above() invalid", 198) from None
        P = gr.ordinal_probs(fam, eta)
        return P[..., np.asarray(levels) > cut].sum(axis=-1)
    if "above" in opts.given:
        raise StataError("option above() is only allowed after ordinal models", 198)
    return fam.mean(eta, trials)


def _levels(session, res) -> np.ndarray:
    y = np.asarray(session.data.values(res.model.spec.depvar), dtype=float)
    return np.unique(y[np.asarray(res.sample, dtype=bool)])


def _marginal_ordinal(session, res, opts):
    """P(y > above()) integrated over the random effects' prior (one-level models)."""
    from hlmshell.engine import glmm
    from hlmshell.engine import glmm_residuals as gr
    model = res.model.me_res.model
    if not isinstance(model, glmm.GlmmModel):
        raise StataError("mu after an ordinal model with several levels is not available", 198)
    d = model.data
    prob = glmm.Problem(d, model.family, model.structure, "laplace")
    beta, _ = prob._split(model.fit.x)             # sets the fitted cutpoints on the family
    xb = d.X @ beta + (0 if opts.nooffset else d.offset)
    levels = _levels(session, res)
    fn = lambda e: _mean(model.family, e, None, opts, levels)
    with np.errstate(all="ignore"):
        val = gr.marginal(fn, xb, d.Z, model.fit.cov)
    return val, model


def _in_sample_order(model, res, val):
    """Values in the data's row order from the engine's (sorted) order."""
    out = np.full(len(res.sample), np.nan)
    rows = np.flatnonzero(np.asarray(res.sample, dtype=bool))
    out[rows[model.data.order]] = val
    return out


def _mu(session, res, name, touse, opts) -> None:
    _check_new(session, [name])
    g = res.model.spec
    ordinal = g.link in ("ologit", "oprobit")
    if (opts.marginal and not ordinal) or g.family == "gauss":
        tmp = _tmpname(session, "mu")
        me_name = res.model.me_name
        if me_name == "mixed":
            _run_predict(session, res.model.me_res, f"{tmp}, {'xb' if opts.marginal else 'fitted'}")
        else:
            if "above" in opts.given:
                raise StataError("option above() is not available here", 198)
            _run_predict(session, res.model.me_res, f"{tmp}, mu marginal")
        _take(session, tmp, name, "marginal mean" if opts.marginal else "posterior mean", touse)
        return
    val, model = (_marginal_ordinal(session, res, opts) if opts.marginal
                  else _posterior_mu(session, res, opts))
    vals = _in_sample_order(model, res, val)
    vals[~touse] = np.nan
    _put(session, name, vals, "posterior mean")


def _ll(session, res, name, touse) -> None:
    from hlmshell.engine import glmm
    _check_new(session, [name])
    model = res.model.me_res.model
    if not isinstance(model, glmm.GlmmModel):
        raise StataError("ll is available after one-level models with a non-Gaussian family "
                         "only", 198)
    prob = glmm.Problem(model.data, model.family, model.structure, "agq",
                        int(res.scalars.get("nip", 8)),
                        "mv" if res.scalars.get("adapt") else "none")
    beta, theta = prob._split(model.fit.x)
    with np.errstate(all="ignore"):
        prob.agq(beta, theta, want_grad=False)
        mu_g, S = prob.adapt
        A = model.data.Z @ prob.lam(theta)
        f, _, _ = prob._node_values(beta, A, mu_g, S)
        logL, _ = prob._posterior(f, S)
    d = model.data
    const = model.family.constant_terms(d.y, d.trials)
    if d.weights is not None:
        const = const * d.weights
    logL = logL + d.gsum(np.asarray(const, dtype=float))
    vals = _in_sample_order(model, res, logL[d.codes])
    vals[~touse] = np.nan
    _put(session, name, vals, "log-likelihood contribution")


def _xb_linpred(session, res, name, touse, stat, opts) -> None:
    _check_new(session, [name])
    tmp = _tmpname(session, stat)
    mixed = res.model.me_name == "mixed"
    what = "xb" if stat == "xb" else ("fitted" if mixed else "eta")
    extra = " nooffset" if opts.nooffset and not mixed else ""
    _run_predict(session, res.model.me_res, f"{tmp}, {what}{extra}")
    _take(session, tmp, name, "fixed part of linear predictor" if stat == "xb"
          else "linear predictor (EB means)", touse)


def _s(session, res, name, touse) -> None:
    _check_new(session, [name])
    j = next((j for j, (eq, _) in enumerate(res.names) if eq == "lns1"), None)
    if j is None:
        raise StataError("option s requires a family with a level-1 variance (gaussian)", 198)
    vals = np.full(len(touse), math.exp(float(res.b[j])))
    vals[~touse] = np.nan
    _put(session, name, vals, "level-1 standard deviation")


@command("gllapred", family="Estimation", body="newvarlist", qualifiers="if in",
         desc="predictions after gllamm (EB means and SDs, xb, linpred, mu, ll)",
         example="gllapred eb, u",
         options=(Opt("u", desc="EB means (stubm#) and posterior SDs (stubs#) of the random effects"),
                  Opt("xb", desc="the fixed part of the linear predictor"),
                  Opt("linpred", "lin", desc="the linear predictor with the EB means"),
                  Opt("mu", desc="the mean response (posterior mean; marginal over the prior)"),
                  Opt("ll", desc="log-likelihood contribution of each top-level unit"),
                  Opt("s", desc="the level-1 standard deviation (gaussian)"),
                  Opt("p", desc="posterior probabilities (discrete latent variables: not available)"),
                  Opt("pearson", "pea", desc="not available"),
                  Opt("deviance", "dev", desc="not available"),
                  Opt("anscombe", "ans", desc="not available"),
                  Opt("cooksd", "coo", desc="not available"),
                  Opt("fac", desc="not available"),
                  Opt("marginal", "marg", desc="with mu: integrate over the prior distribution"),
                  Opt("above", "abo", "string", None, "with mu after ordinal models: P(y > #)"),
                  Opt("fsample", "fsa", desc="predict for the whole sample, not only e(sample)"),
                  Opt("nooffset", "nooff", desc="leave the offset out"),
                  Opt("adapt", desc="accepted: the posterior is found by adaptive quadrature"),
                  Opt("nip", "nip", "string", None, "accepted for compatibility"),
                  Opt("us", "us", "string", None, "not available"),
                  Opt("corr", desc="accepted for compatibility")))
def gllapred_cmd(session, cmd) -> None:
    from hlmshell.registry import args_of
    from hlmshell.syntax.evaluate import marksample
    res = _active(session)
    opts = args_of(cmd)
    if "us" in opts.given:
        raise StataError("option us() is not available", 198)
    stat = _statistic(opts)
    words = (cmd.body or "").split()
    if len(words) != 1:
        raise StataError("too many variables specified" if words else "varname required",
                         103 if words else 100)
    name = words[0]
    touse = marksample(session, cmd, [])
    if not opts.fsample:
        touse &= np.asarray(res.sample, dtype=bool)
    if stat == "u":
        _u(session, res, name, touse)
    elif stat == "mu":
        _mu(session, res, name, touse, opts)
    elif stat == "ll":
        _ll(session, res, name, touse)
    elif stat == "s":
        _s(session, res, name, touse)
    else:
        _xb_linpred(session, res, name, touse, stat, opts)
