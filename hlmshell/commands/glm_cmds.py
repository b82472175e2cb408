"""logit, logistic, probit and poisson: the one-level models courses compare the me* GLMMs
with (and that the LR test vs. the one-level model is about), in Stata 17's layout.

Maximum likelihood by Newton on the observed information (engine.glmm.glm_start_log with the
families of engine.glmm_families); the log starts at the constant-only model, as Stata's;
LR chi2 against that model and McFadden's pseudo R2; `or` (logit; logistic always) and `irr`
(poisson) show exponentiated coefficients; vce(robust) and vce(cluster var) give the sandwich
with Stata's n/(n-1) or G/(G-1) factor and a Wald chi2 in the header."""
from __future__ import annotations

import numpy as np

from hlmshell import distributions as dist
from hlmshell.commands._toolkit import sample_columns
from hlmshell.commands.estimation import _mixed_sample, _resolve_fixed_part, _split_spec, parse_vce
from hlmshell.commands.model_terms import engine_terms, factor_labels
from hlmshell.engine import design as dz
from hlmshell.engine import glmm
from hlmshell.engine import glmm_families as gf
from hlmshell.errors import StataError
from hlmshell.output import glm_output as go
from hlmshell.output.coeftable import cluster_note, coef_table
from hlmshell.output.eform_table import eform_table
from hlmshell.output.labels import display_groups
from hlmshell.registry import Opt, bind_command, command
from hlmshell.results import EstimationResults

SPECS = {"logit": ("binomial", "logit", "Logistic regression"),
         "logistic": ("binomial", "logit", "Logistic regression"),
         "probit": ("binomial", "probit", "Probit regression"),
         "cloglog": ("binomial", "cloglog", "Complementary log-log regression"),
         "poisson": ("poisson", "log", "Poisson regression")}
_VCE = (("oim", 3), ("robust", 1), ("cluster", 2))


def _opts(name: str):
    base = (Opt("noconstant", "nocons", desc="suppress the constant term"),
            Opt("level", "l", "real", 95, "set confidence level; default is level(95)"),
            Opt("nolog", desc="do not show the iteration log"),
            Opt("log", desc="show the iteration log; the default"),
            Opt("vce", "vce", "string", None, "vcetype: oim, robust or cluster clustvar"),
            Opt("robust", "r", desc="old syntax of vce(robust)"),
            Opt("cluster", "cl", "string", None, "old syntax of vce(cluster clustvar)"),
            Opt("offset", "offset", "string", None, "include varname with coefficient 1"),
            Opt("iterate", "iter", "int", 300, "maximum number of iterations"),
            Opt("baselevels", "base", desc="report base levels of factor variables"),
            Opt("allbaselevels", "allbase", desc="display all base levels"),
            Opt("nofvlabel", desc="show factor-variable levels by number, not value label"),
            Opt("noheader", desc="suppress the output header"),
            Opt("constraints", "const", "string", None, "apply specified linear constraints"),
            Opt("nocnsreport", "nocnsr", desc="do not display constraints"),
            # Stata's maximize options: the log likelihood is concave, so Newton's method
            # reaches the one optimum whatever they ask; accepted, changing nothing
            Opt("difficult", "dif", desc="accepted (the likelihood is concave)"),
            Opt("technique", "tech", "string", None, "accepted (the likelihood is concave)"),
            Opt("tolerance", "tol", "real", 1e-6, "accepted"),
            Opt("ltolerance", "ltol", "real", 1e-7, "accepted"),
            Opt("nrtolerance", "nrtol", "real", 1e-5, "accepted"),
            Opt("nonrtolerance", "nonrtol", desc="accepted"),
            Opt("trace", desc="accepted"), Opt("gradient", "grad", desc="accepted"),
            Opt("showstep", desc="accepted"), Opt("hessian", desc="accepted"))
    extra = {"logit": (Opt("or", desc="report odds ratios"),),
             "logistic": (Opt("coef", desc="report coefficients instead of odds ratios"),),
             "cloglog": (Opt("eform", desc="report exponentiated coefficients"),),
             "poisson": (Opt("irr", desc="report incidence-rate ratios"),
                         Opt("exposure", "e", "string", None, "include ln(varname) with coefficient 1"))}
    return base + extra.get(name, ())


def _prepare(session, cmd, name, keep=None):
    spec, fixed_raw = _split_spec(session, cmd)
    if spec is None:
        raise StataError("varlist required", 100)
    if spec.levels:
        raise StataError("invalid syntax", 198)
    opts = bind_command(name, list(spec.fixed_options) + [o for o in cmd.options
                                                          if o not in spec.fixed_options])
    ds = session.data
    depvar, fixed, fvars = _resolve_fixed_part(ds, spec, fixed_raw)
    vce = parse_vce(ds, opts, _VCE)
    extra = [v.strip() for v in (opts.raw("offset"), opts.raw("exposure") if "exposure" in opts
                                 else None) if v]
    numeric = [depvar] + [v for v in fvars + extra if v != depvar]
    strg = []
    if vce.clustvar:
        (strg if ds.var(vce.clustvar).is_string else numeric).append(vce.clustvar)
    mask = _mixed_sample(session, cmd, numeric, strg)
    if keep is not None:                     # observations a perfect predictor took out
        mask = mask & keep
    column = sample_columns(ds, mask)
    n = int(mask.sum())
    design = dz.build_fixed(engine_terms(fixed), column, n, constant=not opts.noconstant)
    return opts, depvar, design, column, mask, vce, factor_labels(ds, fixed)


def _outcome(fam: str, y):
    if fam == "binomial":
        out = (y != 0).astype(float)
        if out.min() == out.max():
            raise StataError("outcome does not vary; remember:\n"
                             "                                  0 = negative outcome,\n"
                             "        all other nonmissing values = positive outcome", 2000)
        return out
    if np.any(y < 0):
        raise StataError(f"{'negative values encountered in the dependent variable'}", 459)
    return y


def _offset(opts, column, n):
    off = np.zeros(n)
    if opts.raw("offset"):
        off += np.asarray(column(opts.raw("offset").strip()), dtype=float)
    if "exposure" in opts and opts.raw("exposure"):
        ex = np.asarray(column(opts.raw("exposure").strip()), dtype=float)
        if np.any(ex <= 0):
            raise StataError("exposure() must be greater than zero", 459)
        off += np.log(ex)
    return off


def _newton(y, X, off, fam, beta0, lines, w=None):
    """Newton's fit; w: each observation's weight in the log likelihood (its scores are
    weighted too: the sandwich of pweights)."""
    data = glmm.GlmmData.build(y, X, np.zeros((len(y), 0)), np.zeros(len(y), dtype=np.int64),
                               offset=off, weights=w)
    beta, ll = glmm.glm_newton(data, fam, beta0, lines)
    eta = data.X @ beta + data.offset
    _, l1, l2, _ = glmm.derivs(fam, data, eta)
    info = data.X.T @ ((-l2)[:, None] * data.X)
    scores = l1[:, None] * data.X
    return beta, ll, info, scores[np.argsort(data.order)]


def _weighted(session, cmd, name, prepared):
    """([f|p|i]weights over the sample or None, kind, the preparation): observations with a
    missing or zero weight leave the sample; pweights ask for the robust VCE."""
    if cmd.weight is None:
        return None, None, prepared
    from hlmshell.commands._toolkit import weights
    mask = prepared[4]
    kind = cmd.weight.kind
    wall = weights(session, cmd, mask, ("fweight", "pweight", "iweight"))
    good = ~np.isnan(wall) & ((wall != 0) | (kind == "iweight"))
    if not good[mask].all():
        prepared = _prepare(session, cmd, name, keep=good)
    if kind == "pweight" and prepared[5].kind in ("", "oim"):
        prepared[5].kind = "robust"
    return wall[prepared[4]], kind, prepared


def _run(session, cmd, name: str) -> None:
    w, wkind, prepared = _weighted(session, cmd, name, _prepare(session, cmd, name))
    opts, depvar, design, column, mask, vce, vlabels = prepared
    fam_name, link, title = SPECS[name]
    fam = gf.family(fam_name, link)
    y = _outcome(fam_name, np.asarray(column(depvar), dtype=float))
    if fam_name == "binomial":
        from hlmshell.commands import binary_perfect as bp
        rows = bp.perfect_rows(design, y, session.out)
        if not rows.all():
            w, wkind, prepared = _weighted(session, cmd, name, _prepare(
                session, cmd, name, keep=bp.sample_after(mask, rows)))
            opts, depvar, design, column, mask, vce, vlabels = prepared
            y = _outcome(fam_name, np.asarray(column(depvar), dtype=float))
    n = int(mask.sum())
    off = _offset(opts, column, n)
    X = design.X_keep
    if n <= X.shape[1]:
        raise StataError("insufficient observations", 2001)
    lines: list[float] = []
    from hlmshell.commands import constraint as cn
    cns = cn.prepare(session, opts.raw("constraints"), [(depvar, nm) for nm in design.stata_names],
                     design.omitted)
    ll0, beta, ll, V, scores = _fit(y, X, off, fam, w, lines, cns)
    if w is not None and wkind != "pweight" and vce.robust:
        scores = _copies_scores(scores, w, vce)
    V, n_clust = vce_and_log(session, opts, vce, V, scores, column, ll0, lines,
                             n_eff=float(w.sum()) if wkind in ("fweight", "iweight") else None)
    res = _results(cmd, name, depvar, design, mask, beta, V, ll, ll0, vce, n_clust, title, fam_name)
    if w is not None:
        _weight_results(res, cmd, w, wkind)
    cn.post_ml(res, cns, opts.nocnsreport)
    offset_macros(res, opts)
    session.post_estimation(res)
    eform = (name == "logistic" and not opts.coef) or getattr(opts, "or", False) or \
        (name == "poisson" and opts.irr) or (name == "cloglog" and opts.eform)
    if name == "cloglog":
        res.scalars["N_s"] = float(np.sum(y != 0))
        res.scalars["N_f"] = float(np.sum(y == 0))
        res.scalars.pop("r2_p", None)
    _display(session, res, design, None if opts.nofvlabel else vlabels, float(opts.level), eform,
             name, baselevels=bool(opts.baselevels or opts.allbaselevels), header=not opts.noheader)


def _fit(y, X, off, fam, w, lines, cns=None):
    """(ll0, b, ll, V, scores): the constant-only fit and the model's, by Newton; under
    constraints (commands/constraint.py) the model's over b = T a + t: the design X T with
    X t added to the offset, V = T V(a) T' and scores whose sandwich is T's too."""
    cons = [j for j in range(X.shape[1]) if np.all(X[:, j] == 1.0)]
    try:
        ll0 = _null_ll(y, off, fam, bool(cons), w)
        b0 = np.zeros(X.shape[1])
        if cons:
            b0[cons[0]] = _null_beta(y, off, fam, w)
        if cns is not None:
            B = cns.basis
            a, ll, info, scores = _newton(y, X @ B.T, off + X @ B.t, fam, B.project(b0), lines, w)
            beta, V, scores = B.expand(a), B.variance(info), scores @ B.T.T
        else:
            beta, ll, info, scores = _newton(y, X, off, fam, b0, lines, w)
            V = np.linalg.inv(info)
    except (np.linalg.LinAlgError, FloatingPointError, ValueError):
        raise StataError("could not calculate numerical derivatives -- discontinuous region "
                         "with missing values encountered", 430) from None
    return ll0, beta, ll, V, scores


def _copies_scores(scores, w, vce):
    """Frequency (and importance) weights are copies: without clusters each copy's score
    enters the meat once, so the weighted score is scaled back by sqrt(w)."""
    return scores if vce.clustvar else scores / np.sqrt(w)[:, None]


def _weight_results(res, cmd, w, kind) -> None:
    if kind in ("fweight", "iweight"):
        res.scalars["N"] = float(round(float(w.sum())))
    res.macros["wtype"] = kind
    res.macros["wexp"] = f"= {cmd.weight.exp}"


def vce_and_log(session, opts, vce, V, scores, column, ll0, lines, n_eff=None):
    """The robust VCE when asked for (V, number of clusters or None), and the iteration log
    (the constant-only model's log likelihood first, as Stata's). n_eff: the number of
    observations frequency weights stand for (the factor n/(n-1))."""
    n_clust = None
    if vce.robust:
        V, n_clust = _sandwich(V, scores, column(vce.clustvar) if vce.clustvar else None, n_eff)
    if not opts.nolog or opts.log:
        session.out.line("")
        for i, v in enumerate([ll0] + lines[1:]):
            session.out.line(go.iteration_line(i, v, vce.robust))
    return V, n_clust


def _null_beta(y, off, fam, w=None) -> float:
    m = float(np.average(y, weights=w))
    if fam.name == "poisson":
        return float(np.log(m) - np.log(np.average(np.exp(off), weights=w))) if m > 0 else 0.0
    if fam.link == "cloglog":
        return float(np.log(-np.log1p(-m)))
    return float(np.log(m / (1 - m))) if fam.link == "logit" else \
        float(dist.norm_ppf(m))


def _null_ll(y, off, fam, cons: bool, w=None) -> float:
    X = np.ones((len(y), 1)) if cons else np.zeros((len(y), 0))
    if not cons:
        ww = np.ones(len(y)) if w is None else w
        return float(np.sum(ww * fam.derivs(y, off, np.ones(len(y)))[0])
                     + np.sum(ww * fam.constant(y, np.ones(len(y)))))
    lines: list[float] = []
    _, ll, _, _ = _newton(y, X, off, fam, np.array([_null_beta(y, off, fam, w)]), lines, w)
    return ll


def _sandwich(V, scores, clusters, n_eff=None):
    n = scores.shape[0] if n_eff is None else n_eff
    if clusters is None:
        meat = scores.T @ scores
        return (n / (n - 1)) * V @ meat @ V, None
    _, codes = np.unique(np.asarray(clusters), return_inverse=True)
    G = int(codes.max()) + 1
    S = np.zeros((G, scores.shape[1]))
    np.add.at(S, codes.ravel(), scores)
    return (G / (G - 1)) * V @ (S.T @ S) @ V, G


def _results(cmd, name, depvar, design, mask, beta, V, ll, ll0, vce, n_clust, title, fam_name):
    names = [(depvar, nm) for nm in design.stata_names]
    k = len(names)
    keep = np.flatnonzero(design.keep)
    b = np.zeros(k)
    b[keep] = beta
    Vf = np.zeros((k, k))
    Vf[np.ix_(keep, keep)] = V
    res = EstimationResults(cmd=name, names=names, b=b, V=Vf, omitted=design.omitted.copy(),
                            k_f=k, sample=mask.copy())
    wt = [i for i in keep if names[i][1] != "_cons"]
    if vce.robust:
        bb = b[wt]
        chi2 = float(bb @ np.linalg.pinv(Vf[np.ix_(wt, wt)]) @ bb) if wt else 0.0   # pinv: constraints
        chi2type = "Wald"
    else:
        chi2 = max(2.0 * (ll - ll0), 0.0)
        chi2type = "LR"
    res.scalars = {"N": float(mask.sum()), "ll": ll, "ll_0": ll0, "k": float(len(keep)),
                   "df_m": float(len(wt)), "chi2": chi2, "p": float(dist.chi2_sf(chi2, len(wt)))
                   if wt else float("nan"), "r2_p": 1.0 - ll / ll0 if ll0 else float("nan"),
                   "rank": float(len(keep)), "converged": 1.0}
    res.macros = {"cmd": name, "cmdline": cmd.text, "depvar": depvar, "title": title,
                  "chi2type": chi2type, "vce": vce.kind or "oim", "properties": "b V",
                  "predict": f"{name}_p"}
    robust_macros(res, vce, n_clust)
    return res


def _display(session, res, design, vlabels, level, eform, name, baselevels: bool = False,
             header: bool = True) -> None:
    out = session.out
    sc = res.scalars
    robust = bool(res.macros.get("vcetype"))
    out.line("")
    head = go.cloglog_header(sc, res.macros["chi2type"], robust) if name == "cloglog" else \
        go.header_lines(res.macros["title"], int(sc["N"]), int(sc["df_m"]), sc["chi2"],
                        sc["p"], sc["ll"], sc["r2_p"], res.macros["chi2type"], robust)
    if header:
        for line in head:
            out.line(line)
        out.line("")
    from hlmshell.commands import constraint as cn
    for line in cn.report_lines(res):
        out.line(line)
    if sc.get("N_clust"):
        out.line(cluster_note(int(sc["N_clust"]), res.macros["clustvar"]))
    groups = cn.mark_groups(display_groups(design, baselevels=baselevels, value_labels=vlabels), res)
    se = np.sqrt(np.clip(np.diag(res.V), 0, None))
    vt = res.macros.get("vcetype") or None
    if eform:
        first = {"logit": "Odds ratio", "logistic": "Odds ratio", "poisson": "IRR"}.get(name, "exp(b)")
        lines = eform_table(res.depvar, groups, res.b, se, title=first, level=level, vcetype=vt)
    else:
        lines = coef_table(res.depvar, groups, res.b, se, stat="z", level=level, vcetype=vt)
    for line in lines[:-1] + go.offset_rows(res.macros.get("offset")) + lines[-1:]:
        out.line(line)
    if eform and name != "cloglog" and any(nm == "_cons" for _, nm in res.names):
        what = "baseline odds" if name in ("logit", "logistic") else "baseline incidence rate"
        out.line(f"Note: _cons estimates {what}.")


def register(name: str, desc: str, example: str, run=None, options=None):
    """Register a one-level estimation command (this module's run and options by default;
    commands.glm_extra passes its own)."""
    run = run or _run

    @command(name, rule="mixed", family="Estimation", body="fvvarlist",
             qualifiers="if in weight" if name in SPECS else "if in",
             desc=desc, example=example, options=options or _opts(name))
    def handler(session, cmd) -> None:
        run(session, cmd, name)
    return handler


def offset_macros(res, opts) -> None:
    """e(offset) as Stata stores it (`ln(pyears)` for an exposure)."""
    ex = opts.raw("exposure") if "exposure" in opts else None
    off = opts.raw("offset")
    if ex:
        res.macros["offset"] = f"ln({ex.strip()})"
    elif off:
        res.macros["offset"] = off.strip()


def robust_macros(res, vce, n_clust) -> None:
    """e(vcetype), e(clustvar), e(N_clust) of vce(robust|cluster)."""
    if vce.robust:
        res.macros["vcetype"] = "Robust"
        if vce.clustvar:
            res.macros["clustvar"] = vce.clustvar
            res.scalars["N_clust"] = float(n_clust)


logit_cmd = register("logit", "logistic regression (coefficients)", "logit minority ses")
logistic_cmd = register("logistic", "logistic regression (odds ratios)", "logistic minority ses")
probit_cmd = register("probit", "probit regression", "probit minority ses")
cloglog_cmd = register("cloglog", "complementary log-log regression", "cloglog use age urban")
poisson_cmd = register("poisson", "Poisson regression", "poisson size sector")
