"""ologit, oprobit and nbreg: one-level models whose distribution has parameters of its own
(cutpoints; the negative binomial's ln alpha), the partners of meologit, meoprobit and
menbreg (issue 15).

Maximum likelihood by BFGS (engine.glmm.glm_fit: analytic gradient in b, numerical in the own
parameters), then the observed information from central differences of the log likelihood;
vce(robust|cluster) from per-observation scores. Stata 17's layout: the header of logit's
(LR chi2 against the model without covariates, pseudo R2; `Dispersion: mean` for nbreg), the
coefficient table, /cut# rows (ologit: no constant), and for nbreg /lnalpha, alpha and the
LR test of alpha = 0 against Poisson."""
from __future__ import annotations

import math

import numpy as np

from hlmshell import distributions as dist
from hlmshell.commands import glm_cmds
from hlmshell.commands.glm_cmds import _offset, _prepare
from hlmshell.engine import glmm
from hlmshell.engine import glmm_families as gf
from hlmshell.errors import StataError
from hlmshell.output import glm_output as go
from hlmshell.output import me_output as meo
from hlmshell.output.coeftable import cluster_note, coef_table
from hlmshell.output.labels import display_groups
from hlmshell.output.numfmt import fmt_g
from hlmshell.registry import Opt
from hlmshell.results import EstimationResults

TITLES = {"ologit": "Ordered logistic regression", "oprobit": "Ordered probit regression",
          "nbreg": "Negative binomial regression"}


def _dispersion(opts) -> str:
    """nbreg's dispersion(mean|constant): NB2 (/lnalpha) or NB1 (/lndelta)."""
    disp = (opts.raw("dispersion") or "mean").strip().lower() if "dispersion" in opts else "mean"
    for full in ("mean", "constant"):
        if disp and full.startswith(disp):
            return full
    raise StataError(f"dispersion({disp}) not allowed", 198)


def _family(name: str, y: np.ndarray, disp: str = "mean"):
    if name == "nbreg":
        if np.any(y < 0):
            raise StataError("negative values encountered in the dependent variable", 459)
        return y, gf.family("nbinomial", "log", dispersion=disp)
    levels, codes = np.unique(y, return_inverse=True)
    if len(levels) < 2:
        raise StataError("outcome does not vary", 2000)
    fam = gf.family("ordinal", name[1:], len(levels))
    cum = np.cumsum(np.bincount(codes))[:-1] / len(codes)
    fam.extra = (np.log(cum / (1 - cum)) if name == "ologit"
                 else np.array([float(dist.norm_ppf(c)) for c in cum]))
    return codes.astype(float), fam


def _data(y, X, off):
    n = len(y)
    return glmm.GlmmData.build(y, X, np.zeros((n, 0)), np.zeros(n, dtype=np.int64), offset=off)


def _per_obs(data, fam, x):
    """Per-observation log likelihood (the family's constant included) at x = (b, extra)."""
    p = data.X.shape[1]
    fam.extra = np.asarray(x[p:], dtype=float).copy()
    eta = data.X @ x[:p] + data.offset
    return fam.derivs(data.y, eta, data.trials)[0]


def _information(data, fam, x, h=1e-5):
    """Observed information (central differences of the log likelihood) and the
    per-observation scores (caller's order), both in (b, extra)."""
    k = len(x)
    H = np.empty((k, k))
    S = np.empty((len(data.y), k))
    f0 = _per_obs(data, fam, x).sum()
    steps = [h * max(1.0, abs(v)) for v in x]
    for i in range(k):
        ei = np.zeros(k)
        ei[i] = steps[i]
        lp, lm = _per_obs(data, fam, x + ei), _per_obs(data, fam, x - ei)
        S[:, i] = (lp - lm) / (2 * steps[i])
        H[i, i] = (lp.sum() - 2 * f0 + lm.sum()) / steps[i] ** 2
        for j in range(i):
            ej = np.zeros(k)
            ej[j] = steps[j]
            fpp = _per_obs(data, fam, x + ei + ej).sum()
            fpm = _per_obs(data, fam, x + ei - ej).sum()
            fmp = _per_obs(data, fam, x - ei + ej).sum()
            fmm = _per_obs(data, fam, x - ei - ej).sum()
            H[i, j] = H[j, i] = (fpp - fpm - fmp + fmm) / (4 * steps[i] * steps[j])
    _per_obs(data, fam, x)
    return -H, S[np.argsort(data.order)]


def _null(name, y, off, fam):
    """The model without covariates: ordinal closed form; nbreg with a constant and ln alpha."""
    if name != "nbreg":
        counts = np.bincount(y.astype(np.int64))
        return float(np.sum(counts * np.log(counts / counts.sum())))
    d0 = _data(y, np.ones((len(y), 1)), off)
    f0 = gf.family("nbinomial", "log", dispersion=fam.dispersion)
    m = float(np.mean(y))
    x, ll = glmm.glm_fit(d0, f0, np.array([math.log(max(m, 1e-8)), 0.0]), [])
    return ll


def _run(session, cmd, name: str) -> None:
    opts, depvar, design, column, mask, vce, vlabels = _prepare(session, cmd, name)
    n = int(mask.sum())
    y, fam = _family(name, np.asarray(column(depvar), dtype=float),
                     _dispersion(opts) if name == "nbreg" else "mean")
    off = _offset(opts, column, n)
    X = design.X_keep
    if name != "nbreg":                   # the cutpoints take the constant's place
        keep = [j for j, nm in enumerate(np.asarray(design.stata_names)[design.keep]) if nm != "_cons"]
        X = X[:, keep]
    if n <= X.shape[1] + fam.n_extra:
        raise StataError("insufficient observations", 2001)
    data = _data(y, X, off)
    lines: list[float] = []
    from hlmshell.commands import constraint as cn
    cns = cn.prepare(session, opts.raw("constraints"), *_names(name, depvar, design, fam))
    try:
        ll0 = _null(name, y, off, fam)
        b0 = np.zeros(X.shape[1])
        if name == "nbreg":
            cons = [j for j in range(X.shape[1]) if np.all(X[:, j] == 1.0)]
            if cons:
                b0[cons[0]] = math.log(max(float(np.mean(y)), 1e-8))
        if cns is None:
            x, ll = glmm.glm_fit(data, fam, np.concatenate([b0, fam.extra]), lines)
            info, scores = _information(data, fam, x)
            V = np.linalg.inv(info)
        else:
            x, ll, info, scores, V = _constrained(data, fam, np.concatenate([b0, fam.extra]), cns, lines)
        ll_pois = _poisson_ll(data, x[:X.shape[1]]) if name == "nbreg" else None
    except (np.linalg.LinAlgError, FloatingPointError, ValueError):
        raise StataError("could not calculate numerical derivatives -- discontinuous region "
                         "with missing values encountered", 430) from None
    V, n_clust = glm_cmds.vce_and_log(session, opts, vce, V, scores, column, ll0, lines)
    res = _results(cmd, name, depvar, design, mask, x, V, ll, ll0, vce, n_clust, fam, X.shape[1])
    cn.post_ml(res, cns, opts.nocnsreport)
    if ll_pois is not None:
        res.scalars["ll_c"] = ll_pois
        res.scalars["chi2_c"] = max(2.0 * (ll - ll_pois), 0.0)
        res.scalars["alpha" if fam.dispersion == "mean" else "delta"] = math.exp(float(x[-1]))
        res.macros["dispers"] = fam.dispersion
    glm_cmds.offset_macros(res, opts)
    session.post_estimation(res)
    _display(session, res, design, vlabels, float(opts.level), name)


def _constrained(data, fam, x0, cns, lines):
    """constraints(): the likelihood maximised over the constraints' null space (which may
    involve the cutpoints or ln alpha too); V = T (T' H T)^-1 T' from the information."""
    from hlmshell.engine import constrained as ec
    B = cns.basis

    def derivs(v):
        info, S = _information(data, fam, v)
        return S.sum(axis=0), info

    x, ll, steps = ec.maximize_function(lambda v: float(_per_obs(data, fam, v).sum()), B, x0, derivs)
    const = glmm.constant(fam, data)        # the terms free of the parameters, as glm_fit's
    lines.extend(v + const for v in steps)
    ll += const
    info, scores = _information(data, fam, x)
    return x, ll, info, scores, B.variance(B.T.T @ info @ B.T)


def _names(name, depvar, design, fam):
    """e(b)'s column names and omitted flags: the coefficients (no _cons for the ordinal
    models, whose cutpoints take its place), then the family's own parameters in `/`."""
    names = [(depvar, nm) for nm in design.stata_names if not (name != "nbreg" and nm == "_cons")]
    omitted = [om for nm, om in zip(design.stata_names, design.omitted)
               if not (name != "nbreg" and nm == "_cons")]
    extra = [f"cut{j + 1}" for j in range(fam.n_extra)] if name != "nbreg" else fam.extra_names
    return names + [("/", nm) for nm in extra], omitted + [False] * len(extra)


def _poisson_ll(data, beta0) -> float:
    """The Poisson model's log likelihood (the LR test of alpha = 0)."""
    b, ll = glmm.glm_newton(data, gf.family("poisson", "log"), beta0, [])
    return ll


def _results(cmd, name, depvar, design, mask, x, V, ll, ll0, vce, n_clust, fam, p):
    names = [(depvar, nm) for nm, kp in zip(design.stata_names, design.keep)
             if not (name != "nbreg" and nm == "_cons")]
    omitted = [om for nm, om in zip(design.stata_names, design.omitted)
               if not (name != "nbreg" and nm == "_cons")]
    kf = len(names)
    keep = np.flatnonzero(~np.asarray(omitted, dtype=bool))
    extra = [f"cut{j + 1}" for j in range(fam.n_extra)] if name != "nbreg" else fam.extra_names
    names += [("/", nm) for nm in extra]
    k = len(names)
    b = np.zeros(k)
    b[keep] = x[:p]
    b[kf:] = x[p:]
    idx = np.concatenate([keep, kf + np.arange(len(extra))])
    Vf = np.zeros((k, k))
    Vf[np.ix_(idx, idx)] = V
    res = EstimationResults(cmd=name, names=names, b=b, V=Vf,
                            omitted=np.concatenate([omitted, np.zeros(len(extra), bool)]),
                            k_f=kf, sample=mask.copy())
    wt = [i for i in keep if names[i][1] != "_cons"]
    if vce.robust:
        bb = b[wt]
        chi2 = float(bb @ np.linalg.pinv(Vf[np.ix_(wt, wt)]) @ bb) if wt else 0.0   # pinv: constraints
    else:
        chi2 = max(2.0 * (ll - ll0), 0.0)
    res.scalars = {"N": float(mask.sum()), "ll": ll, "ll_0": ll0, "k": float(len(idx)),
                   "df_m": float(len(wt)), "chi2": chi2,
                   "p": float(dist.chi2_sf(chi2, len(wt))) if wt else float("nan"),
                   "r2_p": 1.0 - ll / ll0 if ll0 else float("nan"), "rank": float(len(idx)),
                   "converged": 1.0}
    if name != "nbreg":
        res.scalars["k_cat"] = float(fam.n_extra + 1)
    res.macros = {"cmd": name, "cmdline": cmd.text, "depvar": depvar, "title": TITLES[name],
                  "chi2type": "Wald" if vce.robust else "LR", "vce": vce.kind or "oim",
                  "properties": "b V", "predict": f"{name}_p"}
    glm_cmds.robust_macros(res, vce, n_clust)
    return res


def _display(session, res, design, vlabels, level, name) -> None:
    out = session.out
    sc = res.scalars
    robust = bool(res.macros.get("vcetype"))
    head = go.header_lines(res.macros["title"], int(sc["N"]), int(sc["df_m"]), sc["chi2"],
                           sc["p"], sc["ll"], sc["r2_p"], res.macros["chi2type"], robust)
    par = "alpha" if res.macros.get("dispers", "mean") == "mean" else "delta"
    if name == "nbreg":
        head[2] = f"Dispersion: {res.macros.get('dispers', 'mean')}".ljust(56) + head[2][56:]
    out.line("")
    for line in head:
        out.line(line)
    out.line("")
    from hlmshell.commands import constraint as cn
    for line in cn.report_lines(res):
        out.line(line)
    if sc.get("N_clust"):
        out.line(cluster_note(int(sc["N_clust"]), res.macros["clustvar"]))
    kf = res.k_f
    groups = display_groups(design, baselevels=False, value_labels=vlabels)
    if name != "nbreg":
        groups = [g for g in groups if not (g.header is None and g.rows and
                                            all(r.label == "_cons" for r in g.rows))]
    se = np.sqrt(np.clip(np.diag(res.V), 0, None))
    index = {nm: i for i, (eq, nm) in enumerate(res.names[:kf])}
    table = coef_table(res.depvar, cn.mark_groups(_reindex(groups, design, index), res), res.b, se, stat="z",
                       level=level, vcetype=res.macros.get("vcetype") or None)
    z = float(dist.norm_ppf(0.5 + level / 200.0))
    extra = meo.extra_rows([(res.names[i][1], res.b[i], se[i]) for i in range(kf, len(res.names))], z)
    if name == "nbreg":
        a, sa = math.exp(res.b[-1]), se[-1]
        extra.append(f"{par:>12} |  {_g9(a)}  {_g9(a * sa)}{'':21}"
                     f"{_g9(math.exp(res.b[-1] - z * sa))}   "
                     f"{_g9(math.exp(res.b[-1] + z * sa))}")
    for line in table[:-1] + go.offset_rows(res.macros.get("offset")) + extra + [table[-1]]:
        out.line(line)
    if name == "nbreg" and not robust:
        chi2 = sc["chi2_c"]
        p = 0.5 * float(dist.chi2_sf(chi2, 1)) if chi2 > 0 else 1.0
        out.line(f"LR test of {par}=0: chibar2(01) = {chi2:.2f}".ljust(55)
                 + f"Prob >= chibar2 = {p:.4f}".rjust(23))


def _g9(v: float) -> str:
    return f"{fmt_g(v, 9):>9}"


def _reindex(groups, design, index):
    """The design's display groups pointing at this model's e(b) columns (no _cons)."""
    out = []
    names = design.stata_names
    for g in groups:
        rows = []
        for r in g.rows:
            nm = names[r.index]
            if nm in index:
                r.index = index[nm]
                rows.append(r)
        if rows:
            g.rows = rows
            out.append(g)
    return out


def _opts(name: str):
    base = tuple(o for o in glm_cmds._opts("probit"))
    if name == "nbreg":
        return base + (Opt("exposure", "e", "string", None, "include ln(varname) with coefficient 1"),
                       Opt("dispersion", "disp", "string", "mean", "mean (the default) or constant"))
    return base


ologit_cmd = glm_cmds.register("ologit", "ordered logistic regression", "ologit rating age urban",
                               _run, _opts("ologit"))
oprobit_cmd = glm_cmds.register("oprobit", "ordered probit regression", "oprobit rating age urban",
                                _run, _opts("oprobit"))
nbreg_cmd = glm_cmds.register("nbreg", "negative binomial regression",
                              "nbreg deaths uvb, exposure(expected)", _run, _opts("nbreg"))
