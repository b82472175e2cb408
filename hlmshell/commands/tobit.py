"""tobit (Stata 17): linear regression of a censored outcome, by maximum likelihood.

ll[(#|varname)] and ul[(#|varname)] give the lower and upper limits (bare: the outcome's
minimum or maximum in the sample; a variable gives each observation its own limit, missing =
no limit); observations at or beyond a limit are censored there. The fit is in (b, ln sigma)
(engine.censored); the table reports t statistics on N - k degrees of freedom and the
variance var(e.depvar) below the coefficients, the header the censoring counts beside the
limits, the LR test against the constant-only tobit and McFadden's pseudo R2 (vce(robust|
cluster): the sandwich, an F test, the log pseudolikelihood).
predict: xb, stdp, pr(a,b), e(a,b) (the mean of y* within (a,b)) and ystar(a,b) (the mean of
y* censored at a and b); a or b may be a number, a variable or `.` (no limit).
"""
from __future__ import annotations

import math

import numpy as np

from hlmshell import distributions as dist
from hlmshell.commands._toolkit import sample_columns
from hlmshell.commands.estimation import VceRequest, _mixed_sample, _resolve_fixed_part
from hlmshell.commands.estimation import _split_spec, parse_vce
from hlmshell.commands.glm_cmds import _offset, offset_macros, robust_macros
from hlmshell.commands.model_terms import engine_terms, factor_labels
from hlmshell.engine import censored as cz
from hlmshell.engine import design as dz
from hlmshell.errors import StataError
from hlmshell.output import censored_output as co
from hlmshell.output import xt_glmm_output as xo
from hlmshell.output.coeftable import cluster_note, coef_table, groups_from_names, rule
from hlmshell.output.labels import display_groups
from hlmshell.output.numfmt import fmt
from hlmshell.output.text import abbrev
from hlmshell.registry import REGISTRY, Opt, bind_options, command
from hlmshell.results import EstimationResults


def _exp(v: float) -> float:
    """exp without OverflowError: a diverging fit shows `.`, not a traceback."""
    return math.exp(v) if v < 709.0 else math.inf


_ERR430 = ("could not calculate numerical derivatives -- discontinuous region with missing "
           "values encountered")


def bind(name: str, options):
    """The command's options, ll and ul taking an argument or none (as Stata's ll[(#)])."""
    args = bind_options(REGISTRY.resolve(name).options or (), options)
    for o in options:
        spec = next((s for s in REGISTRY.resolve(name).options if s.matches(o.name)), None)
        if spec is not None and spec.takes_arg and not o.arg and spec.name not in ("ll", "ul"):
            raise StataError("invalid syntax", 198)
        if spec is not None and not spec.takes_arg and o.arg and spec.name not in ("ll", "ul"):
            raise StataError(f"option {o.name} not allowed", 198)
    return args


def _limit_var(ds, text: str) -> str:
    from hlmshell.commands.model_terms import resolve_var
    names = resolve_var(ds, text)
    if len(names) != 1:
        raise StataError("invalid syntax", 198)
    if ds.var(names[0]).is_string:
        raise StataError("type mismatch", 109)
    return names[0]


def limit_vars(ds, opts) -> list[str]:
    """The variables named in ll() and ul() (they join the sample's variables)."""
    out = []
    for k in ("ll", "ul"):
        text = (opts.raw(k) or "").strip() if k in opts else ""
        if text and _number(text) is None:
            out.append(_limit_var(ds, text))
    return out


def _number(text: str):
    try:
        return float(text)
    except ValueError:
        return None


def censoring(opts, column, y, ds):
    """(kind, lim, lower spec, upper spec): each observation's censoring and its limit; a spec
    is a number, a variable name or None (no limit), as the header shows it."""
    n = len(y)
    lo = np.full(n, -np.inf)
    hi = np.full(n, np.inf)
    specs = []
    for k, arr, default in (("ll", lo, np.min), ("ul", hi, np.max)):
        if k not in opts:
            specs.append(None)
            continue
        text = (opts.raw(k) or "").strip()
        if not text:
            v = float(default(y))
        else:
            v = _number(text)
        if v is not None:
            arr[:] = v
            specs.append(v)
        else:
            name = _limit_var(ds, text)
            col = np.asarray(column(name), dtype=float)
            arr[:] = np.where(np.isnan(col), arr, col)
            specs.append(name)
    if np.any(lo >= hi):
        raise StataError("ll() must be less than ul()", 198)
    kind = np.where(y <= lo, cz.LEFT, np.where(y >= hi, cz.RIGHT, cz.UNC))
    lim = np.where(kind == cz.LEFT, lo, np.where(kind == cz.RIGHT, hi, y))
    return kind.astype(np.int64), lim, specs[0], specs[1]


def _prepare(session, cmd, name):
    spec, fixed_raw = _split_spec(session, cmd)
    if spec is None:
        return None
    if spec.levels:
        raise StataError("invalid syntax", 198)
    opts = bind(name, list(spec.fixed_options) + [o for o in cmd.options
                                                 if o not in spec.fixed_options])
    ds = session.data
    depvar, fixed, fvars = _resolve_fixed_part(ds, spec, fixed_raw)
    vce = parse_vce(ds, opts, (("oim", 3), ("robust", 1), ("cluster", 2)))
    extra = [v.strip() for v in (opts.raw("offset"),) if v]
    numeric = [depvar] + [v for v in fvars + extra + limit_vars(ds, opts) if v != depvar]
    strg = []
    if vce.clustvar:
        (strg if ds.var(vce.clustvar).is_string else numeric).append(vce.clustvar)
    mask = _mixed_sample(session, cmd, numeric, strg)
    w = _weights(session, cmd, mask)
    column = sample_columns(ds, mask)
    n = int(mask.sum())
    design = dz.build_fixed(engine_terms(fixed), column, n, constant=not opts.noconstant)
    y = np.asarray(column(depvar), dtype=float)
    kind, lim, lower, upper = censoring(opts, column, y, ds)
    if w is not None:
        w = w[mask]
        if cmd.weight.kind == "aweight":            # scaled to sum to the observations
            w = w * len(w) / w.sum()
        if cmd.weight.kind == "pweight":
            vce = VceRequest(vce.kind if vce.robust else "robust", vce.clustvar)
    return (opts, depvar, design, column, mask, vce, factor_labels(ds, fixed), y, kind, lim,
            lower, upper, _offset(opts, column, n), w)


def _weights(session, cmd, mask):
    """fweight, aweight, iweight, pweight values; observations of missing or zero weight
    leave the sample (mask is narrowed in place)."""
    from hlmshell.commands._toolkit import weights
    w = weights(session, cmd, mask, allowed=("fweight", "aweight", "iweight", "pweight"))
    if w is None:
        return None
    mask &= ~np.isnan(w) & (np.nan_to_num(w) != 0)
    if not mask.any():
        raise StataError("no observations", 2000)
    return w


def _sandwich(V, S, clusters, w=None, wkind=None):
    """The robust VCE from unweighted scores S: a frequency weight counts its observation w
    times (meat sum w s s', N = sum w), other weights scale its score (sum w^2 s s')."""
    n = S.shape[0]
    if w is not None and wkind == "fweight" and clusters is None:
        N = float(w.sum())
        return (N / (N - 1)) * V @ ((S * w[:, None]).T @ S) @ V, None
    if w is not None:
        S = S * w[:, None]
    if clusters is None:
        return (n / (n - 1)) * V @ (S.T @ S) @ V, None
    _, codes = np.unique(np.asarray(clusters).astype(str), return_inverse=True)
    G = int(codes.max()) + 1
    Sc = np.zeros((G, S.shape[1]))
    np.add.at(Sc, codes.ravel(), S)
    return (G / (G - 1)) * V @ (Sc.T @ Sc) @ V, G


def _run(session, cmd) -> None:
    from hlmshell.commands.vce_resample import vce_resampling
    spec, _ = _split_spec(session, cmd)
    if spec is not None and vce_resampling(session, cmd):   # vce(bootstrap|jackknife)
        return
    prep = _prepare(session, cmd, "tobit")
    if prep is None:
        _replay(session, cmd)
        return
    opts, depvar, design, column, mask, vce, vlabels, y, kind, lim, lower, upper, off, w = prep
    for note in design.notes:
        session.out.line(note)
    X = design.X_keep
    n = len(y)
    if n <= X.shape[1] + 1:
        raise StataError("insufficient observations", 2001)
    if np.all(kind != cz.UNC) and np.unique(y).size < 2:
        raise StataError("no uncensored observations", 2000)
    try:
        with np.errstate(all="ignore"):
            cons = [j for j in range(X.shape[1]) if np.all(X[:, j] == 1.0)]
            X0 = X[:, cons[:1]]
            fit0 = cz.fit_tobit(y, X0, lim, kind, off, w=w)
            fit = cz.fit_tobit(y, X, lim, kind, off, int(opts.iterate), w=w)
    except (np.linalg.LinAlgError, FloatingPointError, ValueError):
        raise StataError(_ERR430, 430) from None
    log = not opts.nolog or opts.log
    if log:
        _log(session, fit.log, vce.robust)
    V, n_clust = fit.V, None
    if vce.robust:
        S = cz.tobit_scores(fit.x, X, y, lim, kind, off)
        V, n_clust = _sandwich(fit.V, S, column(vce.clustvar) if vce.clustvar else None, w,
                               cmd.weight.kind if w is not None else None)
    res = _results(cmd, depvar, design, mask, fit, V, fit0.ll, vce, n_clust, kind, lower, upper,
                   w if w is not None and cmd.weight.kind == "fweight" else None)
    if w is not None:
        res.macros["wtype"] = cmd.weight.kind
    offset_macros(res, opts)
    if not fit.converged:
        session.out.line("convergence not achieved")
    session.post_estimation(res)
    display(session, res, display_groups(design, baselevels=False, value_labels=vlabels),
            float(opts.level))


def _log(session, lls, pseudo: bool) -> None:
    """Stata 17's tobit log: the start (`Grid node 0`) under `Refining starting values:`,
    then `Fitting full model:` and the iterations."""
    from hlmshell.output.glm_output import iteration_line
    what = "log pseudolikelihood" if pseudo else "log likelihood"
    out = session.out
    for ln in ("", "Refining starting values:", "",
               f"Grid node 0:   {what} = {fmt(lls[0], '%10.0g')}", "", "Fitting full model:", ""):
        out.line(ln)
    for i, v in enumerate(lls):
        out.line(iteration_line(i, v, pseudo))


def _results(cmd, depvar, design, mask, fit, V, ll0, vce, n_clust, kind, lower, upper,
             fw=None):
    names = [(depvar, nm) for nm in design.stata_names]
    k = len(names)
    keep = np.flatnonzero(design.keep)
    p = len(keep)
    s2 = _exp(2 * fit.x[p])
    J = np.eye(p + 1)
    J[p, p] = 2 * s2                                 # ln sigma -> sigma^2
    Vt = J @ V @ J
    b = np.zeros(k + 1)
    b[keep] = fit.x[:p]
    b[k] = s2
    Vf = np.zeros((k + 1, k + 1))
    idx = list(keep) + [k]
    Vf[np.ix_(idx, idx)] = Vt
    res = EstimationResults(cmd="tobit", names=names + [("/", f"var(e.{depvar})")], b=b, V=Vf,
                            omitted=np.r_[design.omitted, False], k_f=k, sample=mask.copy())
    slopes = [i for i in keep if names[i][1] != "_cons"]
    cnt = np.ones(len(kind)) if fw is None else fw        # frequency weights count copies
    n = int(round(float(cnt.sum())))
    df_r = n - p
    sc = {"N": float(n), "N_unc": float(cnt[kind == cz.UNC].sum()),
          "N_lc": float(cnt[kind == cz.LEFT].sum()), "N_rc": float(cnt[kind == cz.RIGHT].sum()),
          "ll": fit.ll, "ll_0": ll0, "df_m": float(len(slopes)), "df_r": float(df_r),
          "r2_p": 1.0 - fit.ll / ll0 if ll0 else math.nan, "sigma": math.sqrt(s2),
          "rank": float(p + 1), "k": float(p + 1), "converged": 1.0 if fit.converged else 0.0,
          "ic": float(fit.iterations)}
    if vce.robust:
        bb = b[slopes]
        w = float(bb @ np.linalg.solve(Vf[np.ix_(slopes, slopes)], bb)) if slopes else 0.0
        F = w / len(slopes) if slopes else math.nan
        sc.update(F=F, p=float(dist.f_sf(F, len(slopes), df_r)) if slopes else math.nan)
    else:
        chi2 = max(2.0 * (fit.ll - ll0), 0.0)
        sc.update(chi2=chi2, p=float(dist.chi2_sf(chi2, len(slopes))) if slopes else math.nan)
    for key, v in (("llopt", lower), ("ulopt", upper)):
        if isinstance(v, float):
            sc[key] = v
    res.scalars = sc
    res.macros = {"cmd": "tobit", "cmdline": cmd.text, "depvar": depvar,
                  "title": "Tobit regression", "chi2type": "LR", "vce": vce.kind or "oim",
                  "properties": "b V", "predict": "tobit_p", "ml_method": "lf2"}
    for key, v in (("llopt", lower), ("ulopt", upper)):
        if isinstance(v, str):
            res.macros[key] = v
    if vce.robust:
        res.macros.pop("chi2type")
    robust_macros(res, vce, n_clust)
    return res


def limits_of(res: EstimationResults):
    """The lower and upper limit specs back from e(llopt)/e(ulopt) (number or variable)."""
    return tuple(res.scalars.get(k, res.macros.get(k)) for k in ("llopt", "ulopt"))


def display(session, res: EstimationResults, groups, level: float) -> None:
    sc, mac = res.scalars, res.macros
    robust = bool(mac.get("vcetype"))
    lower, upper = limits_of(res)
    if robust:
        test, stat, ptest = f"F({int(sc['df_m'])}, {int(sc['df_r'])})", sc["F"], "Prob > F"
    else:
        test, stat, ptest = f"LR chi2({int(sc['df_m'])})", sc["chi2"], "Prob > chi2"
    head = co.tobit_header(n=int(sc["N"]), n_unc=int(sc["N_unc"]), n_lc=int(sc["N_lc"]),
                           n_rc=int(sc["N_rc"]), lower=lower, upper=upper, test=test,
                           chi2=stat, p=sc["p"], ll=sc["ll"], r2p=sc["r2_p"], pseudo=robust,
                           ptest=ptest)
    out = session.out
    for ln in [""] + head + [""]:
        out.line(ln)
    if sc.get("N_clust"):
        out.line(cluster_note(int(sc["N_clust"]), mac["clustvar"]))
    k = res.k_f
    se = np.sqrt(np.clip(np.diag(np.asarray(res.V)), 0, None))
    b = np.ravel(res.b)
    df_r = sc["df_r"]
    lines = coef_table(res.depvar, groups, b[:k], se[:k], stat="t", df_r=df_r, level=level,
                       vcetype=mac.get("vcetype") or None)
    from hlmshell.output.glm_output import offset_rows
    lines = lines[:-1] + offset_rows(mac.get("offset")) + [rule("mid")] \
        + [_var_row(res, b[k], se[k], level, df_r), rule()]
    for ln in lines:
        out.line(ln)


def _var_row(res, v, se, level, df_r) -> str:
    """var(e.depvar) with its interval from the log scale (always positive)."""
    t = float(dist.t_isf((1 - level / 100) / 2, df_r))
    sl = se / v if v > 0 else math.inf
    return xo.aux_row(abbrev(res.names[res.k_f][1], 12), v, se, v * _exp(-t * sl),
                      v * _exp(t * sl))


def _replay(session, cmd) -> None:
    res = session.e
    if res is None or res.cmd != "tobit":
        raise StataError("last estimates not found", 301)
    from hlmshell.commands.vce_resample import replay_prefix
    if replay_prefix(session, res, cmd.options):       # after vce(bootstrap|jackknife)
        return
    opts = bind("tobit", cmd.options)
    names = [nm for _, nm in res.names[:res.k_f]]
    display(session, res, groups_from_names(names), float(opts.level))


def _options() -> tuple:
    return (Opt("ll", desc="left-censoring limit: ll, ll(#) or ll(varname)"),
            Opt("ul", desc="right-censoring limit: ul, ul(#) or ul(varname)"),
            Opt("noconstant", "nocons", desc="suppress the constant term"),
            Opt("offset", "off", "string", None, "include varname with coefficient 1"),
            Opt("vce", "vce", "string", None,
                "vcetype: oim, robust, cluster clustvar, bootstrap or jackknife"),
            Opt("robust", "r", desc="old syntax of vce(robust)"),
            Opt("cluster", "cl", "string", None, "old syntax of vce(cluster clustvar)"),
            Opt("level", "l", "real", 95, "set confidence level; default is level(95)"),
            Opt("nolog", desc="do not show the iteration log"),
            Opt("log", desc="show the iteration log; the default"),
            Opt("iterate", "iter", "int", 300, "maximum number of iterations"))


@command("tobit", abbrev="tobit", rule="mixed", family="Estimation", body="fvvarlist",
         qualifiers="if in weight", weights="fweight aweight iweight pweight", options=_options(), desc="tobit regression (censored outcome)",
         example="tobit mpg wgt, ll(17)")
def tobit_cmd(session, cmd) -> None:
    _run(session, cmd)


# --------------------------------------------------------------------------- predict
def _bound(text: str, data, n):
    text = text.strip()
    if text in (".", ""):
        return None
    v = _number(text)
    if v is not None:
        return np.full(n, v)
    from hlmshell.commands.model_terms import resolve_var
    names = resolve_var(data, text)
    if len(names) != 1:
        raise StataError("invalid syntax", 198)
    return np.asarray(data.values(names[0]), dtype=float)


def interval(raw: str | None, data):
    """(a, b) of pr(a,b), e(a,b), ystar(a,b): arrays or None for -inf / +inf."""
    parts = (raw or "").split(",")
    if len(parts) != 2:
        raise StataError("invalid syntax", 198)
    n = data.n
    a, b = _bound(parts[0], data, n), _bound(parts[1], data, n)
    return a, b


def censored_stat(stat: str, xb, sigma: float, a, b):
    """pr, e or ystar of y* ~ N(xb, sigma^2) over (a, b) (None = unbounded)."""
    from scipy.special import ndtr
    za = np.full_like(xb, -np.inf) if a is None else (a - xb) / sigma
    zb = np.full_like(xb, np.inf) if b is None else (b - xb) / sigma
    Pa, Pb = ndtr(za), ndtr(zb)
    pa = np.where(np.isfinite(za), np.exp(-0.5 * np.where(np.isfinite(za), za, 0) ** 2), 0.0)
    pb = np.where(np.isfinite(zb), np.exp(-0.5 * np.where(np.isfinite(zb), zb, 0) ** 2), 0.0)
    pa, pb = pa / math.sqrt(2 * math.pi), pb / math.sqrt(2 * math.pi)
    prob = Pb - Pa
    if stat == "pr":
        return prob
    mean_in = xb + sigma * (pa - pb) / prob
    if stat == "e":
        return mean_in
    low = 0.0 if a is None else np.where(Pa > 0, Pa * a, 0.0)
    high = 0.0 if b is None else np.where(Pb < 1, (1 - Pb) * b, 0.0)
    return np.where(prob > 0, prob * mean_in, 0.0) + low + high


def predict(session, cmd, res, opts) -> None:
    from hlmshell.commands.predict import _add, _new_names, _touse, stdp_all, xb_all
    from hlmshell.commands.xtnbreg import offset_values
    allowed = ("xb", "stdp", "pr", "e", "ystar")
    given = [w for w in ("xb", "stdp", "pr", "e", "ystar", "mu", "n", "ir", "eta", "nu0",
                         "iru0", "pearson", "deviance", "anscombe", "reffects", "residuals",
                         "fitted", "marginal", "u", "ue", "xbu") if w in opts]
    if len(given) > 1:
        raise StataError("only one statistic may be specified", 198)
    if given and given[0] not in allowed:
        raise StataError(f"option {given[0]} not allowed", 198)
    stat = given[0] if given else "xb"
    if stat in ("xb", "stdp") and opts.raw(stat):
        raise StataError(f"option {stat} not allowed", 198)
    if not given:
        session.out.line("(option xb assumed; fitted values)")
    vtype, names = _new_names(cmd.body or "", None)
    data = session.data
    touse = _touse(session, cmd)
    xb = xb_all(res, data) + offset_values(res, data)
    if stat == "stdp":
        col, lab = stdp_all(res, data), "S.E. of the prediction"
    elif stat == "xb":
        col, lab = xb, "Fitted values"
    else:
        raw = opts.raw(stat)
        a, b = interval(raw, data)
        with np.errstate(all="ignore"):
            col = censored_stat(stat, xb, float(res.scalars["sigma"]), a, b)
        lab = {"pr": f"Pr({raw})", "e": f"E({res.depvar}|{raw})",
               "ystar": f"E({res.depvar}*|{raw})"}[stat]
    with np.errstate(all="ignore"):
        _add(session, names, [col], [lab], vtype, touse)


def _register_predict() -> None:
    from hlmshell.commands.predict import PREDICTORS
    PREDICTORS["tobit"] = predict


_register_predict()
