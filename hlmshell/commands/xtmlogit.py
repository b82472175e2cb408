"""xtmlogit: Stata 17's random-effects and conditional fixed-effects multinomial logit for
panel data ([XT] xtmlogit; the panel variable from xtset or i()).

    xtmlogit depvar [indepvars] [if] [in] [, re baseoutcome(#) covariance(independent|identity|
        exchangeable|unstructured) rrr vce(oim|robust|cluster v) level(#) intmethod(mvaghermite|
        ghermite) intpoints(#) noconstant nolog]
    xtmlogit depvar [indepvars] [if] [in] , fe [baseoutcome(#) rrr vce(oim|robust|cluster v)
        level(#) nolog]

re (the default): one normal random intercept per non-base outcome, covariance independent by
default, the likelihood by adaptive quadrature with intpoints(7) per random effect
(engine.xtmlogit_re); the comparison model is mlogit on the same design, and the LR test of the
random effects is shown under the table. fe: Chamberlain's conditional likelihood given each
panel's outcome counts (engine.xtmlogit_fe); panels whose outcome never changes are dropped,
covariates without within-panel variation are omitted, and there is no constant.

e(b) is mlogit's (one equation per outcome, named by the value label or value, the base
outcome's columns as o.name), then, after re, the variance parameters in the `/` equation:
var(u#) for each non-base outcome # and cov(u#,u#) (# the outcome's value). predict and margins
(xtmlogit_predict) give the outcome probabilities.
"""
from __future__ import annotations

import math

import numpy as np

from hlmshell import distributions as dist
from hlmshell.commands._panel import xt_settings
from hlmshell.commands._postest import confidence_level
from hlmshell.commands._toolkit import sample_columns
from hlmshell.commands.estimation import (
    _mixed_sample,
    _resolve_fixed_part,
    _split_spec,
    parse_vce,
)
from hlmshell.commands.mlogit import _base, _outcomes, mlogit_table, omitted_name
from hlmshell.commands.model_terms import engine_terms, factor_labels
from hlmshell.engine import design as dz
from hlmshell.engine.factorize import factorize
from hlmshell.errors import StataError
from hlmshell.output import me_output as meo
from hlmshell.output import xt_glmm_output as xo
from hlmshell.output.coeftable import cluster_note, rule
from hlmshell.output.numfmt import fmt_count
from hlmshell.registry import Opt, abbrev_lookup, bind_command, command
from hlmshell.results import EstimationResults

_COV = (("independent", 3), ("identity", 2), ("exchangeable", 2), ("unstructured", 2))
_METHODS = (("mvaghermite", 2), ("ghermite", 2))
_VCE = (("oim", 3), ("robust", 1), ("cluster", 2), ("bootstrap", 4), ("jackknife", 4))
_RE_ONLY = ("covariance", "intmethod", "intpoints", "noconstant")
_ERR430 = "could not calculate numerical derivatives -- flat or discontinuous region encountered"
TITLES = {"re": "Random-effects multinomial logistic regression",
          "fe": "Conditional fixed-effects multinomial logistic regression"}

OPTIONS = (
    Opt("re", desc="use random-effects estimator; the default"),
    Opt("fe", desc="use conditional fixed-effects estimator"),
    Opt("i", "i", "string", None, "panel variable (instead of xtset)"),
    Opt("baseoutcome", "b", "string", None, "value of depvar that will be the base outcome"),
    Opt("covariance", "cov", "string", None, "independent (the default), identity, "
        "exchangeable or unstructured"),
    Opt("noconstant", "nocons", desc="suppress the constant terms (re)"),
    Opt("rrr", desc="report relative-risk ratios"),
    Opt("level", "l", "real", 95, "set confidence level; default is level(95)"),
    Opt("vce", "vce", "string", None, "vcetype: oim, robust or cluster clustvar"),
    Opt("robust", "r", desc="old syntax of vce(robust)"),
    Opt("cluster", "cl", "string", None, "old syntax of vce(cluster clustvar)"),
    Opt("intmethod", "intm", "string", None, "mvaghermite (the default) or ghermite"),
    Opt("intpoints", "intp", "int", 7, "quadrature points per random effect; default 7"),
    Opt("nolog", desc="do not show the iteration log"),
    Opt("log", desc="show the iteration log; the default"),
    Opt("iterate", "iter", "int", 300, "maximum number of iterations"),
    Opt("tolerance", "tol", "real", 1e-6, "accepted: the fit runs to a vanishing gradient"),
    Opt("ltolerance", "ltol", "real", 1e-7, "accepted: the fit runs to a vanishing gradient"),
    Opt("difficult", desc="accepted for compatibility"),
)


@command("xtmlogit", rule="mixed", family="Estimation", body="fvvarlist", qualifiers="if in",
         desc="fixed-effects and random-effects multinomial logit models",
         example="xtmlogit y x1 x2 i.a, covariance(unstructured)", options=OPTIONS)
def xtmlogit_cmd(session, cmd) -> None:
    spec, fixed_raw = _split_spec(session, cmd)
    if spec is None:
        _replay(session, cmd)
        return
    if spec.levels:
        raise StataError("invalid syntax", 198)
    opts = bind_command("xtmlogit", list(spec.fixed_options)
                        + [o for o in cmd.options if o not in spec.fixed_options])
    model = _model(opts)
    level = confidence_level(session, opts)
    if cmd.weight is not None:
        raise StataError("weights not allowed", 101)
    s = _prepare(session, cmd, spec, fixed_raw, opts, model)
    log = not opts.nolog or opts.log
    if model == "fe":
        res = _run_fe(session, cmd, opts, s, log)
    else:
        res = _run_re(session, cmd, opts, s, log)
    res.value_labels = s["vlabels"]
    session.post_estimation(res)
    display(session, res, level, bool(opts.rrr))


def _model(opts) -> str:
    if opts.re and opts.fe:
        raise StataError("options re and fe may not be combined", 198)
    if not opts.fe:
        return "re"
    for name in _RE_ONLY:
        if name in opts.given:
            raise StataError(f"option {name}() not allowed with fe" if name != "noconstant"
                             else "option noconstant not allowed with fe", 198)
    return "fe"


def _clusters(session, opts, column, groups):
    """(vce kind, clustvar, cluster code per observation); panels nest in clusters."""
    req = parse_vce(session.data, opts, _VCE)
    if req.kind in ("bootstrap", "jackknife"):
        raise StataError(f"vce({req.kind}) after xtmlogit is not implemented", 198)
    if not req.robust:
        return "oim", None, None
    if req.clustvar is None:
        return "robust", None, groups
    cl = np.unique(np.asarray(column(req.clustvar)).astype(str), return_inverse=True)[1].ravel()
    first = np.full(int(groups.max()) + 1, -1)
    first[groups] = cl
    if np.any(first[groups] != cl):
        raise StataError("panels are not nested within clusters", 498)
    return "cluster", req.clustvar, cl


def _prepare(session, cmd, spec, fixed_raw, opts, model) -> dict:
    ds = session.data
    depvar, fixed, fvars = _resolve_fixed_part(ds, spec, fixed_raw)
    ps = xt_settings(session, opts.raw("i") if "i" in opts else None, None)
    clustvar = parse_vce(ds, opts, _VCE).clustvar
    numeric = [depvar] + [v for v in fvars + [ps.panelvar] if v != depvar]
    strg = [clustvar] if clustvar and ds.var(clustvar).is_string else []
    if clustvar and not strg and clustvar not in numeric:
        numeric.append(clustvar)
    mask = _mixed_sample(session, cmd, numeric, strg)
    column = sample_columns(ds, mask)
    y = np.asarray(column(depvar), dtype=float)
    values, eqs = _outcomes(ds, depvar, y)
    if len(values) < 2:
        raise StataError("outcome does not vary", 2000)
    if len(values) > 8 and model == "re":
        raise StataError("too many outcomes for the random-effects quadrature "
                         f"({len(values)}; at most 8)", 134)
    base = _base(values, y, opts)
    n = int(mask.sum())
    design = dz.build_fixed(engine_terms(fixed), column, n)
    if model == "fe" or opts.noconstant:      # base levels as with the constant, then no _cons
        from hlmshell.commands.me_glmm import without_constant
        design = without_constant(design)
    groups = factorize(np.asarray(column(ps.panelvar), dtype=float))[1]
    kind, clv, cl = _clusters(session, opts, column, groups)
    return {"depvar": depvar, "design": design, "mask": mask, "y": y, "values": values,
            "eqs": eqs, "base": base, "codes": np.searchsorted(values, y), "groups": groups,
            "ivar": ps.panelvar, "vce": (kind, clv, cl), "vlabels": factor_labels(ds, fixed)}


# --------------------------------------------------------------------------- random effects
def _re_label(values, j: int) -> str:
    v = float(values[j])
    return f"u{int(v)}" if v.is_integer() and v >= 0 else f"u{j + 1}"


def _var_names(values, base: int, cov: str) -> list[str]:
    """var(u#) and cov(u#,u#) per natural parameter; a variance (covariance) shared by every
    outcome under identity/exchangeable is var(u) (cov(u))."""
    from hlmshell.engine.xtmlogit_re import param_pairs
    lab = [_re_label(values, j) for j in range(len(values)) if j != base]
    if cov == "identity":
        return ["var(u)"]
    if cov == "exchangeable":
        return ["var(u)", "cov(u)"]
    return [f"var({lab[a]})" if a == c else f"cov({lab[a]},{lab[c]})"
            for a, c in param_pairs(len(lab), cov)]


def _intmethod(opts) -> str:
    text = (opts.raw("intmethod") or "mvaghermite").strip().lower()
    full = abbrev_lookup(text, _METHODS)
    if full is None:
        raise StataError(f"intmethod({text}) not allowed", 198)
    return full


def _covariance(opts) -> str:
    text = (opts.raw("covariance") or "independent").strip().lower()
    full = abbrev_lookup(text, _COV)
    if full is None:
        raise StataError(f"covariance({text}) not allowed", 198)
    return full


def _comparison(session, X, codes, J, base, log, pseudo=False):
    from hlmshell.engine import mlogit as em
    from hlmshell.output import glm_output as go
    fit = em.fit(X, codes, J, base)
    if log:
        session.out.line("")
        session.out.line("Fitting comparison model:")
        session.out.line("")
        for i, v in enumerate(fit.iterations):
            session.out.line(go.iteration_line(i, v, pseudo))
    return fit


def _run_re(session, cmd, opts, s, log) -> EstimationResults:
    from hlmshell.engine import xtmlogit_re as xr
    cov = _covariance(opts)
    method = _intmethod(opts)
    points = int(opts.intpoints)
    if not 1 <= points <= 128:
        raise StataError("intpoints() must be between 1 and 128", 198)
    design = s["design"]
    X = design.X_keep
    if X.shape[1] == 0:
        raise StataError("no variables and no constant", 102)
    J = len(s["values"])
    if cov == "exchangeable" and J < 3:
        cov = "identity"
    for note in design.notes:
        session.out.line(note)
    try:
        with np.errstate(all="ignore"):
            pseudo = s["vce"][0] != "oim"
            comp = _comparison(session, X, s["codes"], J, s["base"], log, pseudo)
            if log:
                session.out.line("")
                session.out.line("Fitting full model:")
                session.out.line("")
            trace = (lambda i, v: session.out.line(_iter_line(i, v, pseudo))) if log else None
            fit = xr.fit(X, s["codes"], s["groups"], J, s["base"], cov, points,
                         method == "mvaghermite", comp.beta, int(opts.iterate), trace)
            V = _vcov(fit.H, fit.scores, s, fit.jac)
    except (np.linalg.LinAlgError, FloatingPointError, ValueError):
        raise StataError(_ERR430, 430) from None
    names = _var_names(s["values"], s["base"], cov)
    res = _post(cmd, s, fit.beta, fit.natural, names, V, fit.ll, "re")
    _re_scalars(res, fit, comp, cov, method, points, s)
    return res


def _iter_line(i: int, ll: float, pseudo: bool = False) -> str:
    from hlmshell.output import glm_output as go
    return go.iteration_line(i, ll, pseudo)


def _vcov(H, scores, s, jac=None):
    """-H^-1 (a pseudo-inverse: a variance at its boundary leaves a flat direction), or the
    sandwich over the clusters (panels) with the M/(M-1) factor; then, after re, the delta
    method from the free to the natural variance parameters."""
    if not np.all(np.isfinite(H)):
        raise StataError(_ERR430, 430)
    w, U = np.linalg.eigh(-H)
    top = float(np.max(np.abs(w))) if w.size else 0.0
    if np.any(w < -1e-6 * top):                 # not a maximum
        raise StataError(_ERR430, 430)
    keep = w > 1e-9 * top                        # flat directions (a boundary) get no variance
    Hi = (U[:, keep] / w[keep]) @ U[:, keep].T
    kind, _, cl = s["vce"]
    if kind != "oim":
        first = np.zeros(scores.shape[0], dtype=int)
        first[s["groups"]] = cl
        codes, inv = np.unique(first, return_inverse=True)
        S = np.zeros((len(codes), scores.shape[1]))
        np.add.at(S, inv, scores)
        M = len(codes)
        s["n_clust"] = M
        Hi = Hi @ (S.T @ S) @ Hi * (M / (M - 1) if M > 1 else 1.0)
    return Hi if jac is None else jac @ Hi @ jac.T


def _re_scalars(res, fit, comp, cov, method, points, s) -> None:
    q = len(s["values"]) - 1
    npar = len(fit.natural)
    chi2_c = max(2.0 * (fit.ll - comp.ll), 0.0)
    if npar == 1:
        p_c = 0.5 * float(dist.chi2_sf(chi2_c, 1)) if chi2_c > 0 else 1.0
    else:
        p_c = float(dist.chi2_sf(chi2_c, npar))
    res.scalars.update({"ll_c": comp.ll, "chi2_c": chi2_c, "df_c": float(npar), "p_c": p_c,
                        "n_quad": float(points), "k_r": float(npar),
                        "ic": float(len(fit.iterations) - 1),
                        "converged": 1.0 if fit.converged else 0.0})
    res.macros.update({"covariance": cov, "intmethod": method, "distrib": "Gaussian",
                       "chi2_ct": "LR", "redim": str(q)})
    if res.macros.get("vcetype"):
        for key in ("chi2_c", "p_c", "df_c"):
            res.scalars.pop(key, None)


# --------------------------------------------------------------------------- fixed effects
def _fe_panels(session, s):
    """Panels with a changing outcome (a note for the others); columns without within-panel
    variation are omitted."""
    from hlmshell.engine import xtmlogit_fe as xf
    design, codes, groups = s["design"], s["codes"], s["groups"]
    G = int(groups.max()) + 1
    lo = np.full(G, np.iinfo(np.int64).max)
    hi = np.full(G, -1)
    np.minimum.at(lo, groups, codes)
    np.maximum.at(hi, groups, codes)
    varying = lo != hi
    use = varying[groups]
    if not varying.all():
        bad = int((~varying).sum())
        session.out.line(f"note: {fmt_count(bad)} group{'s' if bad != 1 else ''} "
                         f"({fmt_count(int((~use).sum()))} obs) dropped because of no variation "
                         "in outcome.")
    if not use.any():
        raise StataError("no observations", 2000)
    X = design.X_keep[use]
    g = groups[use]
    keep_cols = np.zeros(X.shape[1], dtype=bool)
    for c in range(X.shape[1]):
        mn = np.full(G, np.inf)
        mx = np.full(G, -np.inf)
        np.minimum.at(mn, g, X[:, c])
        np.maximum.at(mx, g, X[:, c])
        keep_cols[c] = bool(np.any((mx - mn)[np.unique(g)] > 1e-12 * (1 + np.abs(mx[np.unique(g)]))))
    order = np.argsort(g, kind="stable")
    cuts = np.flatnonzero(np.diff(g[order])) + 1
    rows = np.split(order, cuts)                   # the panels in ascending order
    Xk, codes_u = X[:, keep_cols], s["codes"][use]
    panels = xf.batches([Xk[r] for r in rows], [codes_u[r] for r in rows], len(s["values"]))
    return panels, use, keep_cols


def _omit_within(session, s, keep_cols) -> None:
    from dataclasses import replace
    design = s["design"]
    kept = np.flatnonzero(design.keep)
    drop = {int(c) for c, ok in zip(kept, keep_cols) if not ok}
    for c in sorted(drop):
        session.out.line(f"note: {design.stata_names[c]} omitted because of no "
                         "within-group variance.")
    if drop:
        s["design"] = replace(design, columns=[replace(c, omitted=c.omitted or j in drop)
                                               for j, c in enumerate(design.columns)])


def _run_fe(session, cmd, opts, s, log) -> EstimationResults:
    from hlmshell.engine import xtmlogit_fe as xf
    for note in s["design"].notes:
        session.out.line(note)
    panels, use, keep_cols = _fe_panels(session, s)
    _omit_within(session, s, keep_cols)
    J = len(s["values"])
    k = int(keep_cols.sum())
    s["mask"] = s["mask"].copy()
    s["mask"][np.flatnonzero(s["mask"])[~use]] = False
    s["groups"] = factorize(s["groups"][use].astype(float))[1]
    s["codes"] = s["codes"][use]
    kind, clv, cl = s["vce"]
    if cl is not None:
        s["vce"] = (kind, clv, cl[use])
    if log:
        session.out.line("")
    pseudo = kind != "oim"
    trace = (lambda i, v: session.out.line(_iter_line(i, v, pseudo))) if log else None
    try:
        with np.errstate(all="ignore"):
            if k:
                fit = xf.fit(panels, J, s["base"], k, int(opts.iterate), trace)
                V = _vcov(fit.H, fit.scores, s)
                beta, ll, ll0 = fit.beta, fit.ll, fit.iterations[0]
            else:
                ll0 = ll = xf.total(panels, np.zeros((J - 1, 0)), s["base"], J, False)[0]
                beta, V = np.zeros((J - 1, 0)), np.zeros((0, 0))
    except (np.linalg.LinAlgError, FloatingPointError, ValueError):
        raise StataError(_ERR430, 430) from None
    res = _post(cmd, s, beta, np.zeros(0), [], V, ll, "fe")
    res.scalars.update({"ll_0": ll0})
    if not res.macros.get("vcetype"):
        chi2 = max(2.0 * (ll - ll0), 0.0)
        df = res.scalars["df_m"]
        res.scalars.update({"chi2": chi2, "p": float(dist.chi2_sf(chi2, df)) if df else math.nan})
        res.macros["chi2type"] = "LR"
    return res


# --------------------------------------------------------------------------- e()
def _names(s, nvar: list[str]):
    design, eqs, base = s["design"], s["eqs"], s["base"]
    cols = design.stata_names
    names, omitted = [], []
    for j, eq in enumerate(eqs):
        for c, nm in enumerate(cols):
            names.append((eq, omitted_name(nm) if j == base else nm))
            omitted.append(j == base or bool(design.omitted[c]))
    names += [("/", v) for v in nvar]
    omitted += [False] * len(nvar)
    return names, np.array(omitted, dtype=bool)


def _post(cmd, s, beta, natural, nvar, V, ll, model) -> EstimationResults:
    design, eqs, base = s["design"], s["eqs"], s["base"]
    kc = len(design.stata_names)
    keep = np.flatnonzero(design.keep)
    names, omitted = _names(s, nvar)
    K = len(names)
    b = np.zeros(K)
    pos = []
    for m, j in enumerate([j for j in range(len(eqs)) if j != base]):
        idx = j * kc + keep
        b[idx] = beta[m]
        pos.extend(idx.tolist())
    vpos = list(range(len(eqs) * kc, K))
    b[vpos] = natural
    pos = np.array(pos + vpos, dtype=int)
    Vf = np.zeros((K, K))
    Vf[np.ix_(pos, pos)] = V
    res = EstimationResults(cmd="xtmlogit", names=names, b=b, V=Vf, omitted=omitted, k_f=kc,
                            sample=s["mask"].copy())
    _scalars_macros(res, cmd, s, ll, model, pos, vpos)
    res.design = design
    res.outcomes = [float(v) for v in s["values"]]
    res.matrices["out"] = np.asarray(s["values"], dtype=float).reshape(1, -1)
    return res


def _wald(b, V, idx) -> float:
    if not len(idx):
        return math.nan
    try:
        return float(b[idx] @ np.linalg.solve(V[np.ix_(idx, idx)], b[idx]))
    except np.linalg.LinAlgError:
        return math.nan


def _scalars_macros(res, cmd, s, ll, model, pos, vpos) -> None:
    eqs, base = s["eqs"], s["base"]
    counts = np.bincount(s["groups"])
    slopes = [int(p) for p in pos if p not in vpos and res.names[p][1] != "_cons"]
    chi2 = _wald(res.b, res.V, slopes)
    kind, clv, _ = s["vce"]
    res.scalars = {"N": float(s["mask"].sum()), "N_g": float(len(counts)),
                   "g_min": float(counts.min()), "g_avg": float(counts.mean()),
                   "g_max": float(counts.max()), "k": float(len(res.names)),
                   "k_eq": float(len(eqs) + (1 if vpos else 0)), "k_dv": 1.0,
                   "k_out": float(len(eqs)), "df_m": float(len(slopes)), "ll": ll,
                   "chi2": chi2, "p": float(dist.chi2_sf(chi2, len(slopes)))
                   if slopes and not math.isnan(chi2) else math.nan,
                   "ibaseout": float(base + 1), "baseout": float(s["values"][base]),
                   "rank": float(len(pos))}
    res.macros = {"cmd": "xtmlogit", "cmdline": cmd.text, "depvar": s["depvar"],
                  "ivar": s["ivar"], "model": model, "title": TITLES[model], "chi2type": "Wald",
                  "vce": kind, "eqnames": " ".join(eqs), "baselab": eqs[base],
                  "properties": "b V", "predict": "xtmlogit_p", "marginsok": "default pr pu0 xb"}
    if kind != "oim":
        res.macros.update(vcetype="Robust", clustvar=clv or s["ivar"])
        res.scalars["N_clust"] = float(s.get("n_clust", len(counts)))


# --------------------------------------------------------------------------- display
def _replay(session, cmd) -> None:
    res = session.e
    if res is None or res.cmd != "xtmlogit":
        raise StataError("last estimates not found", 301)
    opts = bind_command("xtmlogit", cmd.options)
    bad = [k for k in opts.given if k not in ("rrr", "level")]
    if bad:
        raise StataError(f"option {bad[0]} not allowed", 198)
    display(session, res, confidence_level(session, opts), bool(opts.rrr))


def _var_rows(res, z: float) -> list[str]:
    """The variance parameters under the outcome equations: var() with an interval on the log
    scale, cov() with a symmetric one."""
    kf = len(res.macros["eqnames"].split()) * res.k_f
    V = np.asarray(res.V)
    rows = [rule("mid")]
    for i in range(kf, len(res.names)):
        nm = res.names[i][1]
        b = float(res.b[i])
        se = math.sqrt(V[i, i]) if V[i, i] > 0 else math.nan
        if nm.startswith("var(") and b > 0 and math.isfinite(se):
            half = z * se / b
            lo, hi = (b * math.exp(-half), b * math.exp(half)) if half < 700 else (math.nan, math.nan)
        else:
            lo, hi = b - z * se, b + z * se
        rows.append(xo.aux_row(nm, b, se, lo, hi))
    return rows


def display(session, res, level: float, rrr: bool) -> None:
    sc, mac = res.scalars, res.macros
    vt = mac.get("vcetype")
    re = mac["model"] == "re"
    test = f"{mac['chi2type']} chi2({int(sc['df_m'])})"
    head = xo.header_lines(
        title=mac["title"], ivar=mac["ivar"], n=int(sc["N"]), n_g=int(sc["N_g"]),
        g=(sc["g_min"], sc["g_avg"], sc["g_max"]), re_dist="Gaussian" if re else None,
        intmethod=mac.get("intmethod") if re else None, intpoints=int(sc.get("n_quad", 0)),
        test=test, chi2=sc["chi2"], p=sc["p"], ll=sc["ll"], pseudo=bool(vt))
    if len(mac["title"]) > 47:                 # the fe title: on a line of its own
        head[1:2] = [mac["title"], " " * 48 + head[1][len(mac["title"]):].lstrip()]
    out = session.out
    for ln in head + [""]:
        out.line(ln)
    if sc.get("N_clust") and mac.get("clustvar"):
        out.line(cluster_note(int(sc["N_clust"]), mac["clustvar"]))
    table = mlogit_table(res, level, rrr)
    if re:
        z = float(dist.norm_ppf(0.5 + level / 200.0))
        table = table[:-1] + _var_rows(res, z) + table[-1:]
    for ln in table:
        out.line(ln)
    if rrr and any(nm == "_cons" for _, nm in res.names):
        out.line("Note: _cons estimates baseline relative risk for each outcome.")
    if re and "chi2_c" in sc:
        for ln in meo.lr_lines("mlogit", sc["chi2_c"], int(sc["df_c"]), sc["p_c"]):
            out.line(ln)


def _register_predict() -> None:
    from hlmshell.commands import xtmlogit_predict
    xtmlogit_predict.register()


_register_predict()
