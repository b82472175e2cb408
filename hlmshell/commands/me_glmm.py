"""melogit, meprobit, mecloglog, mepoisson and meglm: generalized linear mixed models with one
level of random effects (engine.glmm), in Stata 17's layout.

The log: the fixed-effects model's iterations, `Refining starting values` (the full model at
the fixed-effects estimates and unit standard deviations), the full model's iterations. The
table holds the fixed effects and, under the level's name, the random-effects variances and
covariances (`var(_cons)`, `cov(x,_cons)`), then the LR test against the one-level model.
e(b) is Stata's: the fixed part under the depvar, then `/:var(_cons[id])` and
`/:cov(x[id],_cons[id])`; e(V) by the delta method from the observed information in the
estimation metric (ln sd, atanh corr).

Several random-effects levels (nested or crossed) are fitted, named and shown by
commands.me_multilevel (engine.glmm_multi); this module reads the command and routes there.
"""
from __future__ import annotations

import importlib

import numpy as np

from hlmshell import distributions as dist
from hlmshell.commands import me_start, me_weights
from hlmshell.commands._toolkit import sample_columns
from hlmshell.commands.estimation import (_mixed_sample, _norm_cov, _random_spec,
                                          _resolve_fixed_part, _split_spec)
from hlmshell.commands.me_table_view import table_view
from hlmshell.commands.model_terms import engine_terms, factor_labels
from hlmshell.engine import design as dz
from hlmshell.engine import glmm
from hlmshell.engine import glmm_families as gf
from hlmshell.engine.vcparams import Structure, normalize_structure
from hlmshell.errors import StataError
from hlmshell.output import me_output as meo
from hlmshell.output.coeftable import cluster_note, coef_table
from hlmshell.output.eform_table import eform_table
from hlmshell.output.labels import display_groups
from hlmshell.registry import Opt, bind_command, command
from hlmshell.results import EstimationResults

TITLES = {("binomial", "logit"): ("Mixed-effects logistic regression", "logistic"),
          ("binomial", "probit"): ("Mixed-effects probit regression", "probit"),
          ("binomial", "cloglog"): ("Mixed-effects complementary log-log regression", "cloglog"),
          ("poisson", "log"): ("Mixed-effects Poisson regression", "Poisson"),
          ("nbinomial", "log"): ("Mixed-effects negative binomial regression", "nbinomial"),
          ("ordinal", "logit"): ("Mixed-effects ologit regression", "ologit"),
          ("ordinal", "probit"): ("Mixed-effects oprobit regression", "oprobit")}
METHODS = (("mvaghermite", 2), ("mcaghermite", 2), ("ghermite", 2), ("laplace", 3))   # intmethod(mc) as do-files type it

_OPTIONS = (
    Opt("noconstant", "nocons", desc="suppress the constant term (fixed part or a random-effects equation)"),
    Opt("covariance", "cov", "name", "independent", "variance-covariance structure of the random effects"),
    Opt("binomial", "binomial", "string", None, "binomial trials: a variable or a number"),
    Opt("offset", "offset", "string", None, "include varname in the model with coefficient 1"),
    Opt("exposure", "exp", "string", None, "include ln(varname) with coefficient 1 (count models)"),
    Opt("intmethod", "intm", "string", "mvaghermite", "integration method: mvaghermite, mcaghermite, ghermite, laplace"),
    Opt("intpoints", "intp", "int", 7, "number of integration points"),
    Opt("level", "l", "real", 95, "set confidence level; default is level(95)"),
    Opt("nolog", desc="do not show the iteration log"),
    Opt("log", desc="show the iteration log; the default"),
    Opt("nolrtest", desc="do not perform the LR test against the one-level model"),
    Opt("noheader", desc="suppress the output header"),
    Opt("nogroup", "nogr", desc="suppress the group information in the header"),
    Opt("coeflegend", "coefl", desc="display the legend of the coefficients"),
    Opt("notable", desc="suppress the coefficient table"),
    Opt("nocnsreport", desc="do not display constraints (there are none to report)"),
    Opt("vsquish", desc="suppress the blank separator rows"),
    Opt("noomitted", desc="do not display omitted collinear variables"),
    Opt("noemptycells", desc="do not display empty interaction cells"),
    Opt("iterate", "iter", "int", 300, "maximum number of iterations"),
    Opt("tolerance", "tol", "real", 1e-6, "accepted: the fit runs to a vanishing gradient"),
    Opt("ltolerance", "ltol", "real", 1e-7, "accepted: the fit runs to a vanishing gradient"),
    Opt("difficult", desc="accepted for compatibility"),
    # ml's display/maximize options do-files pass: the fit reaches the same optimum without them
    Opt("technique", "tech", "string", None, "accepted for compatibility"),
    Opt("nrtolerance", "nrtol", "real", 1e-5, "accepted for compatibility"),
    Opt("nonrtolerance", desc="accepted for compatibility"),
    Opt("showtolerance", desc="accepted for compatibility"),
    Opt("showstep", desc="accepted for compatibility"),
    Opt("gradient", desc="accepted for compatibility"),
    Opt("hessian", desc="accepted for compatibility"),
    Opt("trace", desc="accepted for compatibility"),
    Opt("dnumerical", desc="accepted for compatibility (the same optimum, whatever the derivatives)"),
    Opt("vce", "vce", "string", None, "vcetype: oim, robust or cluster clustvar"),
    Opt("robust", "r", desc="old syntax of vce(robust)"),
    Opt("cluster", "cl", "string", None, "old syntax of vce(cluster clustvar)"),
    Opt("baselevels", "base", desc="report base levels of factor variables"),
    Opt("allbaselevels", "allbase", desc="display all base levels"),
    Opt("nofvlabel", desc="show factor-variable levels by number, not value label"),
    Opt("or", desc="report fixed effects as odds ratios (logit models)"),
    Opt("irr", desc="report fixed effects as incidence-rate ratios (Poisson models)"),
    Opt("eform", desc="report exponentiated fixed effects"),
    Opt("from", "from", "string", None, "starting values: a row vector matched by e(b)'s names (skip, copy)"),
    Opt("startvalues", "startv", "string", "fixedonly", "starting values: zero, constantonly or fixedonly"),
)


def _family_of(cmdname: str, opts) -> tuple[str, str]:
    if cmdname == "meglm":
        words = (opts.raw("family") or "gaussian").strip().lower().split() or ["gaussian"]
        fam = words[0]
        link = (opts.raw("link") or "").strip().lower()
        fam = {"bernoulli": "binomial", "nb": "nbinomial", "nbinom": "nbinomial",
               "ord": "ordinal"}.get(fam, fam)
        link = link or {"binomial": "logit", "poisson": "log", "nbinomial": "log",
                        "ordinal": "logit"}.get(fam, "")
        if len(words) > 1 and fam != "nbinomial":
            raise StataError(f"family({' '.join(words)}) not allowed", 198)
        _dispersion(opts)                    # family(nbinomial mean|constant) checked
        if (fam, link) not in TITLES:
            raise StataError(f"family({fam}) link({link}) not available", 198)
        return fam, link
    if cmdname in ("meologit", "meoprobit"):
        return "ordinal", cmdname[3:]
    if cmdname == "menbreg":
        _dispersion(opts)
        return "nbinomial", "log"
    return {"melogit": ("binomial", "logit"), "meprobit": ("binomial", "probit"),
            "mecloglog": ("binomial", "cloglog"), "mepoisson": ("poisson", "log")}[cmdname]


def _dispersion(opts) -> str:
    """menbreg's dispersion(mean|constant) or meglm's family(nbinomial mean|constant): NB2
    (/lnalpha) or NB1 (/lndelta)."""
    disp = (opts.raw("dispersion") or "mean").strip().lower() if "dispersion" in opts else "mean"
    fw = (opts.raw("family") or "").split() if "family" in opts else []
    if len(fw) > 1:
        disp = fw[1].lower()
    for full in ("mean", "constant"):
        if disp and full.startswith(disp):
            return full
    raise StataError(f"dispersion({disp}) not allowed", 198)


def _method(opts) -> str:
    w = (opts.intmethod or "mvaghermite").strip().lower()
    for full, k in METHODS:
        if len(w) >= k and full.startswith(w):
            return full
    raise StataError(f"intmethod({w}) invalid", 198)


def _outcome(fam: str, y: np.ndarray, trials: np.ndarray, has_trials: bool) -> np.ndarray:
    """Stata's reading of the outcome: Bernoulli 0/nonzero; counts checked."""
    if fam == "binomial" and not has_trials:
        out = (y != 0).astype(float)
        if out.min() == out.max():
            raise StataError("outcome does not vary", 2000)
        return out
    if np.any(y < 0):
        raise StataError(f"{'negative counts' if fam == 'poisson' else 'outcome < 0'} "
                         "not allowed", 459)
    if fam == "binomial" and np.any(y > trials):
        raise StataError("outcome cannot be greater than the number of trials", 459)
    return y


def _ordinal(y: np.ndarray, link: str):
    """Category codes 0..K-1 of an ordinal outcome and its family, the cutpoints started at
    the inverse link of the cumulative proportions (Stata's ologit without covariates)."""
    levels, codes = np.unique(y, return_inverse=True)
    if len(levels) < 2:
        raise StataError("outcome does not vary", 2000)
    if len(levels) > 100:
        raise StataError("too many outcome categories", 149)
    fam = gf.family("ordinal", link, len(levels))
    cum = np.cumsum(np.bincount(codes))[:-1] / len(codes)
    from hlmshell import distributions as d
    fam.extra = (np.log(cum / (1 - cum)) if link == "logit"
                 else np.array([float(d.norm_ppf(c)) for c in cum]))
    return codes.astype(float), fam


def _vce(session, opts, block, column):
    """vce(robust) / vce(cluster var): None for the model-based VCE; (clustvar or None,
    cluster codes per observation). The clusters must contain whole groups (r(459))."""
    from hlmshell.commands.estimation import parse_vce
    req = parse_vce(session.data, opts, (("oim", "oim"), ("robust", "r"), ("cluster", "cl")))
    if not req.robust:
        return None
    if not req.clustvar:
        return (None, np.asarray(block.group, dtype=np.int64))
    vals = np.asarray(column(req.clustvar))
    _, cl = np.unique(vals, return_inverse=True)
    g = np.asarray(block.group, dtype=np.int64)
    first = np.full(int(g.max()) + 1, -1)
    first[g] = cl.ravel()
    if np.any(first[g] != cl.ravel()):
        raise StataError(f"highest-level groups are not nested within {req.clustvar}", 459)
    return (req.clustvar, cl.ravel().astype(np.int64))


def _robust(fit, st, V_s, data, vce):
    """The sandwich V (sum_c S_c S_c') V x C/(C-1) over the clusters (groups by default), S
    the groups' scores in the Stata metric (engine.glmm.group_scores)."""
    S = glmm.group_scores(fit, st)
    _, cl = vce
    gcl = np.zeros(data.G, dtype=np.int64)
    gcl[data.codes] = cl[data.order]
    C = int(gcl.max()) + 1
    Sc = np.zeros((C, S.shape[1]))
    np.add.at(Sc, gcl, S)
    if C < 2:
        raise StataError("error calculating robust variance", 430)
    V = V_s @ (Sc.T @ Sc) @ V_s * (C / (C - 1))
    return 0.5 * (V + V.T), C


def _pseudo(line: str) -> str:
    """`Log likelihood = ...` as `Log pseudolikelihood = ...`, the right column kept at 48."""
    if not line.startswith("Log likelihood ="):
        return line
    left, right = line[:48].rstrip(), line[48:]
    return left.replace("Log likelihood", "Log pseudolikelihood", 1).ljust(48) + right


def _post_robust(res, vce, n_clust) -> None:
    res.macros["vce"] = "cluster" if vce[0] else "robust"
    res.macros["vcetype"] = "Robust"
    res.macros["clustvar"] = vce[0] or res.macros.get("ivars", "")
    res.scalars["N_clust"] = float(n_clust)
    for k in ("chi2_c", "p_c", "df_c"):
        res.scalars.pop(k, None)


def _trials(opts, column, n: int) -> np.ndarray:
    text = opts.raw("binomial")
    if text is None:
        return np.ones(n)
    try:
        return np.full(n, float(text))
    except ValueError:
        return np.asarray(column(text.strip()), dtype=float)


def _offset(opts, column, n: int) -> np.ndarray:
    off = np.zeros(n)
    if opts.raw("offset"):
        off = off + np.asarray(column(opts.raw("offset").strip()), dtype=float)
    if opts.raw("exposure"):
        ex = np.asarray(column(opts.raw("exposure").strip()), dtype=float)
        if np.any(ex <= 0):
            raise StataError("exposure() must be greater than zero", 459)
        off = off + np.log(ex)
    return off


def _option_name(name: str, opt) -> str:
    """The full name of one typed option of `name` (`option x not allowed` otherwise)."""
    return next(iter(bind_command(name, [opt]).given))


def _level_options(name: str, lev, glob: list) -> tuple[bool, str | None]:
    """(noconstant, covariance) of the random-effects equation; its other options (Stata takes
    estimation options anywhere) go to `glob`."""
    nocons, cov = False, None
    for opt in lev.options:
        full = _option_name(name, opt)
        if full == "noconstant":
            nocons = True
        elif full == "covariance":
            cov = _norm_cov(bind_command(name, [opt]))
        else:
            glob.append(opt)
    return nocons, cov


_REPLAY = ("or", "irr", "eform", "level", "nolrtest", "noheader", "nogroup", "coeflegend",
           "notable", "nocnsreport", "vsquish", "noomitted", "noemptycells", "baselevels",
           "allbaselevels", "nofvlabel")
# several random-effects levels: run(...) and display(...) registered by
# commands.me_multilevel (which builds on this module's helpers, so this module imports it not)
MULTILEVEL: dict = {}


def _multilevel() -> dict:
    """me_multilevel's run/display (it fills MULTILEVEL when imported; it imports this module,
    so it is imported by name here, when a model with several levels is first fitted)."""
    if not MULTILEVEL:
        importlib.import_module("hlmshell.commands.me_multilevel")
    return MULTILEVEL


def _replay(session, cmd, name: str) -> None:
    """`melogit` or `melogit, or`: the active results of the same command shown again."""
    from hlmshell.commands._postest import active
    res = active(session)
    if res.cmd == name and res.macros.get("model") == "glm":    # fitted without random effects
        opts = bind_command(name, cmd.options)
        bad = [k for k in opts.given if k not in _REPLAY]
        if bad:
            raise StataError(f"option {bad[0]} not allowed", 198)
        from hlmshell.output.coeftable import groups_from_names
        importlib.import_module("hlmshell.commands.me_onelevel").display(
            session, res, groups_from_names([nm for _, nm in res.names[:res.k_f]]), opts)
        return
    if res.cmd != name or res.model is None or not hasattr(res.model, "family"):
        raise StataError("last estimates not found", 301)
    opts = bind_command(name, cmd.options)
    if not isinstance(res.model, glmm.GlmmModel):
        bad = [k for k in opts.given if k not in _REPLAY]
        if bad:
            raise StataError(f"option {bad[0]} not allowed", 198)
        _eform_title(res.macros.get("link"), opts)
        _multilevel()["display"](session, res, opts)
        return
    bad = [k for k in opts.given if k not in _REPLAY]
    if bad:
        raise StataError(f"option {bad[0]} not allowed", 198)
    _eform_title(res.macros.get("link"), opts)
    m = res.model
    rows = [(nm, None) for eq, nm in res.names[res.k_f:] if nm.startswith(("var(", "cov("))]
    base = TITLES[(m.family.name, m.family.link)][1]
    _display(session, res, m.design, m.value_labels, m.blocks[0], rows, opts, base)


def _prepare(session, cmd, name: str):
    """The sample and the designs: (spec, options, depvar, fixed design, random-effects
    blocks (outermost first), column reader, sample mask, factor labels)."""
    spec, fixed_raw = _split_spec(session, cmd)
    if spec is None:
        raise StataError("varlist required", 100)
    glob, fixed_nocons = [], False
    for opt in spec.fixed_options:
        if _option_name(name, opt) == "noconstant":
            fixed_nocons = True
        else:
            glob.append(opt)
    level_opts = [_level_options(name, lev, glob) for lev in spec.levels]
    glob += [op for op in cmd.options if op not in spec.fixed_options]
    opts = bind_command(name, glob)
    ds = session.data
    depvar, fixed, fvars = _resolve_fixed_part(ds, spec, fixed_raw)
    rspecs, tv = [], []
    for lev, lo in zip(spec.levels, level_opts):
        rs, v = _random_spec(ds, lev, *lo)
        rspecs.append(rs)
        tv += [w for w in v if w not in tv]
    extra = [v.strip() for v in (opts.raw("offset"), opts.raw("exposure")) if v]
    bt = opts.raw("binomial")
    if bt and not bt.strip().replace(".", "", 1).isdigit():
        extra.append(bt.strip())
    numeric = [depvar] + [v for v in fvars + tv + extra if v != depvar]
    groups = [rs.group for rs in rspecs if rs.group != "_all"]
    strg = [g for g in groups if ds.var(g).is_string]
    numeric += [g for g in groups if g not in strg and g not in numeric]
    mask = _mixed_sample(session, cmd, numeric, strg)
    column = sample_columns(ds, mask)
    n = int(mask.sum())
    ordinal = _family_of(name, opts)[0] == "ordinal"   # cutpoints instead of a constant
    design = dz.build_fixed(engine_terms(fixed), column, n, constant=not fixed_nocons)
    if ordinal:
        design = without_constant(design)
    blocks = dz.build_random(rspecs, column, n) if rspecs else []
    return spec, opts, depvar, design, blocks, column, mask, factor_labels(ds, fixed)


def without_constant(design: dz.Design) -> dz.Design:
    """The design of an ordinal model: built with the constant, so that factor variables get
    their base levels and collinearity is judged as ologit judges it, then the constant's
    column taken out (the cutpoints stand in for it)."""
    from dataclasses import replace
    j = next((i for i, c in enumerate(design.columns) if c.term < 0 and c.name == "_cons"), None)
    if j is None:
        return design
    slot = design.slots[j]
    slots = [s - (1 if slot >= 0 and s > slot else 0) for k, s in enumerate(design.slots) if k != j]
    X = design.X if slot < 0 else np.asfortranarray(np.delete(design.X, slot, axis=1))
    return replace(design, X=X, columns=design.columns[:j] + design.columns[j + 1:],
                   slots=slots, constant=False)


def _fit(session, opts, data, fam, st, method, points, start=None):
    """The three phases with Stata's log; (fixed-effects ll, the fit). `start`: the
    me_start plan with e(b)'s names, the kept fixed columns and the variance rows."""
    out = session.out
    log = not opts.nolog or opts.log
    plan, names, keep, var_rows = start or (me_start.StartPlan(), None, None, None)
    if names is None:
        names = [("", "")] * data.X.shape[1]
        keep = np.arange(data.X.shape[1])
    b0, extra0, ll0 = me_start.first_phase(out, log, data, fam, plan, names, keep)
    kf = len(names) - fam.n_extra - sum(len(r) for r in (var_rows or []))
    b0, (th0,), extra0 = plan.apply(b0, [st.start(1.0)], extra0, kf=kf, keep=keep,
                                    structures=[st], var_rows=var_rows or [[]])
    x0 = np.concatenate([b0, th0, extra0])
    prob = glmm.Problem(data, fam, st, "laplace" if method == "laplace" else "agq", points,
                        adapt={"mcaghermite": "mc", "ghermite": "none"}.get(method, "mv"))
    return ll0, full_model(out, log, plan, prob, x0, opts.iterate, glmm.fit_problem)


def full_model(out, log, plan, prob, x0, maxiter, fit_problem):
    """The full model's phase with its iteration log (one level and several): the fit."""
    _phase_two_log(out, log, plan, prob, x0)
    it = [0]

    def cb(x):
        if log:
            out.line(meo.iteration_line(it[0], -0.5 * prob.last[1]))
        it[0] += 1

    fit = fit_problem(prob, x0, maxiter=maxiter, callback=cb, report=cb)
    if not fit.converged:
        out.line("convergence not achieved")
    return fit


def _phase_two_log(out, log, plan, prob, x0) -> None:
    """`Refining starting values` (not after from(), whose values are used as given) and the
    full model's heading."""
    if not log:
        return
    if not plan.from_given:
        out.line("")
        out.line("Refining starting values:")
        out.line("")
        out.line(meo.grid_line(0, prob.loglik(x0)))
    out.line("")
    out.line("Fitting full model:")
    out.line("")


def start_layout(session, opts, depvar, design, fam, blocks, labels):
    """The startvalues()/from() plan with what it is read against: e(b)'s names, the kept
    fixed columns and each level's variance rows ((name, (a, b)))."""
    var_rows = me_start.var_rows(blocks, labels)
    names = [(depvar, nm) for nm in design.stata_names]
    extra = (getattr(fam, "extra_names", None) or EXTRA_NAMES.get(fam.name, []))[:fam.n_extra]
    names += [("/", nm) for nm in extra]
    names += [("/", nm) for rows in var_rows for nm, _ in rows]
    keep = np.flatnonzero(design.keep)
    return me_start.plan(session, opts, names), names, keep, var_rows


EXTRA_NAMES = {"nbinomial": ["lnalpha"], "ordinal": [f"cut{j}" for j in range(1, 100)]}


def _names_and_values(depvar, design, block, fit, st, V_s, fam):
    """e(b)'s names and values and e(V) (variance part by the delta method): the fixed part,
    the family's own parameters (/lnalpha), the random-effects variances and covariances."""
    lab = block.label
    names = [(depvar, nm) for nm in design.stata_names]
    kf = len(names)
    keep = np.flatnonzero(design.keep)
    q = len(block.names)
    kind = st.kind
    cov = fit.cov
    rows, vals = [], []
    if kind == "identity":
        rows.append((f"var(_cons[{lab}])" if q == 1 else f"var({block.names[0]}[{lab}])", [(0, 0)]))
    else:
        for j, nm in enumerate(block.names):
            rows.append((f"var({nm}[{lab}])", [(j, j)]))
        if kind in ("unstructured", "exchangeable"):
            for a in range(q):
                for b in range(a + 1, q):
                    rows.append((f"cov({block.names[a]}[{lab}],{block.names[b]}[{lab}])", [(a, b)]))
                    if kind == "exchangeable":
                        break
                if kind == "exchangeable":
                    break
    ne = fam.n_extra
    extra_names = (getattr(fam, "extra_names", None) or EXTRA_NAMES.get(fam.name, []))[:ne]
    names += [("/", nm) for nm in extra_names]
    for nm, ((a, b),) in rows:
        names.append(("/", nm))
        vals.append(float(cov[a, b]))
    k = kf + ne + len(rows)
    bvec = np.zeros(k)
    bvec[keep] = fit.beta
    bvec[kf:kf + ne] = fit.x[len(fit.x) - ne:] if ne else []
    bvec[kf + ne:] = vals
    V = np.zeros((k, k))
    if V_s is not None:
        p = len(fit.beta)
        J = _delta_jacobian(st, fit, rows, p, ne)
        Vf = J @ V_s @ J.T
        idx = np.concatenate([keep, kf + np.arange(ne + len(rows))])
        V[np.ix_(idx, idx)] = Vf
    return names, bvec, V, kf, rows


def _delta_jacobian(st, fit, rows, p, ne=0):
    """d(b, extra, variance entries)/d(b, s, extra) for the delta method (numerical in s;
    smooth maps)."""
    s0 = glmm.stata_point(fit, st)[p:]
    s0 = s0[:len(s0) - ne]
    k = len(s0)

    def entries(s):
        psi, _ = st.cov_from_stata(s)
        psi = psi[0, 0] * np.eye(st.q) if psi.shape[0] == 1 and st.q > 1 else psi
        return np.array([psi[a, b] for _, ((a, b),) in rows])

    J = np.zeros((p + ne + len(rows), p + k + ne))
    J[:p, :p] = np.eye(p)
    J[p:p + ne, p + k:] = np.eye(ne)
    for j in range(k):
        e = np.zeros(k)
        e[j] = 1e-6
        J[p + ne:, p + j] = (entries(s0 + e) - entries(s0 - e)) / 2e-6
    return J


def _run(session, cmd, name: str) -> None:
    if _split_spec(session, cmd)[0] is None:
        _replay(session, cmd, name)
        return
    spec, opts, depvar, design, blocks, column, mask, vlabels = _prepare(session, cmd, name)
    if not blocks:                           # no random-effects equation: the one-level model
        importlib.import_module("hlmshell.commands.me_onelevel").run(
            session, cmd, name, opts, depvar, design, column, mask, vlabels)
        return
    # several levels, `_all`, or an R.var factor: commands.me_multilevel
    multi = (len(blocks) > 1 or blocks[0].label == "_all"
             or not isinstance(blocks[0].Z, np.ndarray))
    wts, wkind = me_weights.level1_weights(session, cmd, mask, multi)
    if multi:
        _multilevel()["run"](session, cmd, name, opts, depvar, design, blocks, column, mask, vlabels)
        return
    block = blocks[0]
    fam_name, link = _family_of(name, opts)
    _eform_title(link, opts)                 # refused before anything is fitted
    method = _method(opts)
    points = 1 if method == "laplace" else opts.intpoints
    if method != "laplace" and not 1 <= points <= 195:
        raise StataError("intpoints() must be between 1 and 195", 198)
    n = int(mask.sum())
    trials = _trials(opts, column, n)
    vce = me_weights.robust_groups(wkind, _vce(session, opts, block, column), block)
    if fam_name == "ordinal":
        y, fam = _ordinal(np.asarray(column(depvar), dtype=float), link)
    else:
        y = _outcome(fam_name, np.asarray(column(depvar), dtype=float), trials,
                     opts.raw("binomial") is not None)
        fam = gf.family(fam_name, link, dispersion=_dispersion(opts))
    offset = _offset(opts, column, n)
    X = design.X_keep
    Z = np.asarray(block.Z, dtype=float)
    q = Z.shape[1]
    st = Structure(normalize_structure(block.covariance, q), q)
    data = glmm.GlmmData.build(y, X, Z, block.group, offset=offset, trials=trials, weights=wts)
    start = start_layout(session, opts, depvar, design, fam, [block], [block.label])
    try:
        ll0, fit = _fit(session, opts, data, fam, st, method, points, start)
        V_s = glmm.observed_vcov(fit, st)
        n_clust = None
        if vce is not None and V_s is not None:
            V_s, n_clust = _robust(fit, st, V_s, data, vce)
    except (np.linalg.LinAlgError, ValueError, FloatingPointError):
        raise StataError("could not calculate numerical derivatives -- discontinuous region "
                         "with missing values encountered", 430) from None
    names, b, V, kf, rows = _names_and_values(depvar, design, block, fit, st, V_s, fam)
    res = EstimationResults(cmd=name, names=names, b=b, V=V,
                            omitted=np.concatenate([design.omitted,
                                                    np.zeros(len(names) - len(design.omitted), bool)]),
                            k_f=kf, sample=mask.copy())
    title, base = TITLES[(fam_name, link)]
    _post(res, cmd, fit, ll0, data, title, method, points, fam_name, link, block, len(rows), V_s,
          free=st.m)
    for key in ("offset", "exposure", "binomial"):
        if opts.raw(key):
            res.macros[key] = opts.raw(key).strip()
    if fam_name == "nbinomial":
        res.macros["dispersion"] = fam.dispersion
    me_weights.post(res, cmd, wkind, data)
    if vce is not None:
        _post_robust(res, vce, n_clust)
    res.model = glmm.GlmmModel(data, fam, st, fit, [block], design, vlabels)
    session.post_estimation(res)
    _display(session, res, design, vlabels, block, rows, opts, base)


def _post(res, cmd, fit, ll0, data, title, method, points, fam, link, block, kr, V_s, free=None):
    """e(): kr rows of random-effects parameters, `free` of them free (the LR test's df)."""
    free = kr if free is None else free
    kf = res.k_f
    keep = np.flatnonzero(~np.asarray(res.omitted[:kf], dtype=bool))
    wt = [i for i in keep if res.names[i][1] != "_cons"]
    chi2 = float("nan")
    if wt and V_s is not None:
        bb = res.b[wt]
        chi2 = float(bb @ np.linalg.solve(res.V[np.ix_(wt, wt)], bb))
    chi2_c = max(2.0 * (fit.ll - ll0), 0.0)
    p_c = float(dist.chi2_sf(chi2_c, free))
    if free == 1:
        p_c = 0.5 * p_c if chi2_c > 0 else 1.0
    counts = np.bincount(data.codes)
    ne = len(res.names) - kf - kr
    res.scalars = {"N": float(len(data.y)), "ll": fit.ll, "k": float(len(keep) + ne + kr),
                   "k_f": float(kf), "k_r": float(kr), "df_m": float(len(wt)), "chi2": chi2,
                   "p": float(dist.chi2_sf(chi2, len(wt))) if wt and chi2 == chi2 else float("nan"),
                   "ll_c": ll0, "chi2_c": chi2_c, "df_c": float(free), "p_c": p_c,
                   "converged": 1.0 if fit.converged else 0.0, "ic": float(fit.iterations),
                   "rank": float(len(keep) + ne + kr), "n_quad": float(points)}
    res.macros = {"cmd": res.cmd, "cmdline": cmd.text, "depvar": res.names[0][0], "title": title,
                  "family": "bernoulli" if fam == "binomial" and np.all(data.trials == 1) else fam,
                  "link": link, "intmethod": method, "ivars": block.label, "chi2type": "Wald",
                  "vce": "oim", "properties": "b V", "model": "glmm",
                  "covariances": normalize_structure(block.covariance, len(block.names))}
    res.matrices = {"N_g": np.array([[len(counts)]], dtype=float),
                    "g_min": np.array([[counts.min()]], dtype=float),
                    "g_avg": np.array([[counts.mean()]], dtype=float),
                    "g_max": np.array([[counts.max()]], dtype=float)}


def _display(session, res, design, vlabels, block, rows, opts, base) -> None:
    out = session.out
    sc = res.scalars
    level = float(opts.level)
    counts = res.matrices
    head = meo.header_lines(title=res.macros["title"], n_obs=int(sc["N"]), group=block.label,
                            n_groups=int(counts["N_g"][0, 0]), g_min=int(counts["g_min"][0, 0]),
                            g_avg=float(counts["g_avg"][0, 0]), g_max=int(counts["g_max"][0, 0]),
                            method=res.macros["intmethod"], points=int(sc["n_quad"]),
                            wald_df=int(sc["df_m"]), wald_chi2=sc["chi2"], wald_p=sc["p"],
                            ll=sc["ll"])
    head = meo.header_view(overdispersion_line(head, res), opts)
    vt = res.macros.get("vcetype") or None
    if vt:
        head = [_pseudo(ln) for ln in head]
    out.line("")
    for line in head:
        out.line(line)
    if vt and head:
        out.line(cluster_note(int(sc["N_clust"]), res.macros["clustvar"]))
    kf = res.k_f
    groups = fixed_groups(design, vlabels, opts)
    se = np.sqrt(np.clip(np.diag(res.V), 0, None))
    table = fixed_table(res, groups, se, opts, level, vt)
    z = float(dist.norm_ppf(0.5 + level / 200.0))
    ne = len(res.names) - kf - len(rows)               # the family's own parameters
    ex_lines = meo.extra_rows([(res.names[kf + i][1], res.b[kf + i], se[kf + i])
                               for i in range(ne)], z)
    off = kf + ne
    re_lines = meo.variance_rows(block.label, [(nm.split("[")[0] + ")" if nm.count("[") == 1
                                                else _pair_label(nm),
                                                res.b[off + i], se[off + i] if res.V[off + i, off + i] > 0 else None,
                                                nm.startswith("var"))
                                               for i, (nm, _) in enumerate(rows)], z)
    for line in table_view(table[:-1] + ex_lines + re_lines + [table[-1]], res, opts):
        out.line(line)
    for line in eform_notes(res, opts):
        out.line(line)
    if not opts.nolrtest and "chi2_c" in sc:
        for line in meo.lr_lines(base, sc["chi2_c"], int(sc["df_c"]), sc["p_c"]):
            out.line(line)


def overdispersion_line(head: list[str], res) -> list[str]:
    """menbreg (and meglm's negative binomial): `Overdispersion: mean` (or `constant`) under
    the title, as Stata 17 prints it."""
    disp = res.macros.get("dispersion")
    if not disp:
        return head
    return head[:1] + [f"Overdispersion: {disp}"] + head[1:]


def fixed_groups(design, vlabels, opts):
    """The fixed part's rows, with base levels (baselevels) and without value labels
    (nofvlabel) when asked."""
    base = bool(getattr(opts, "baselevels", False) or getattr(opts, "allbaselevels", False))
    labels = None if getattr(opts, "nofvlabel", False) else vlabels
    return display_groups(design, baselevels=base, value_labels=labels)


def fixed_table(res, groups, se, opts, level: float, vcetype) -> list[str]:
    """The fixed part's table of an me* model: coefficients with z, or exponentiated (or, irr,
    eform) -- shared by the one-level, two-level and multilevel displays."""
    kf = res.k_f
    eform = _eform_title(res.macros.get("link"), opts)
    if eform:
        return eform_table(res.depvar, groups, res.b[:kf], se[:kf], title=eform, level=level,
                           vcetype=vcetype)
    return coef_table(res.depvar, groups, res.b[:kf], se[:kf], stat="z", level=level, vcetype=vcetype)


def eform_notes(res, opts) -> list[str]:
    """The two notes under an exponentiated me* table with a constant: only the first
    equation is transformed, and what _cons then estimates."""
    eform = _eform_title(res.macros.get("link"), opts)
    if not eform or not any(nm == "_cons" for _, nm in res.names[:res.k_f]):
        return []
    what = {"Odds ratio": "odds ratios", "IRR": "incidence-rate ratios"}.get(eform, "exp(b)")
    base = {"Odds ratio": "baseline odds", "IRR": "baseline incidence rate"}.get(eform, "baseline exp(b)")
    return [f"Note: Estimates are transformed only in the first equation to {what}.",
            f"Note: _cons estimates {base} (conditional on zero random effects)."]


def _eform_title(link: str, opts) -> str | None:
    """The first column's title of an exponentiated table, or None: or only with logit
    models, irr only with Poisson models (Stata's refusals), eform with any."""
    if getattr(opts, "or", False):
        if link != "logit":
            raise StataError("option or not allowed", 198)
        return "Odds ratio"
    if opts.irr:
        if link != "log":
            raise StataError("option irr not allowed", 198)
        return "IRR"
    return "exp(b)" if opts.eform else None


def _pair_label(nm: str) -> str:
    """`cov(x[id],_cons[id])` -> `cov(x,_cons)`."""
    inner = nm[4:-1]
    a, b = inner.split(",")
    return f"cov({a.split('[')[0]},{b.split('[')[0]})"


def _register(name: str, desc: str, example: str, extra=()):
    @command(name, rule="mixed", family="Estimation", body="fvvarlist", qualifiers="if in weight",
             desc=desc, example=example, options=_OPTIONS + tuple(extra))
    def handler(session, cmd) -> None:
        _run(session, cmd, name)
    return handler


melogit_cmd = _register("melogit", "multilevel mixed-effects logistic regression",
                        "melogit use age urban || district:")
meprobit_cmd = _register("meprobit", "multilevel mixed-effects probit regression",
                         "meprobit use age urban || district:")
mecloglog_cmd = _register("mecloglog", "multilevel mixed-effects complementary log-log regression",
                          "mecloglog use age urban || district:")
mepoisson_cmd = _register("mepoisson", "multilevel mixed-effects Poisson regression",
                          "mepoisson ticks year96 year97 height || brood:")
meologit_cmd = _register("meologit", "multilevel mixed-effects ordered logistic regression",
                          "meologit rating age || school:")
meoprobit_cmd = _register("meoprobit", "multilevel mixed-effects ordered probit regression",
                          "meoprobit rating age || school:")
menbreg_cmd = _register("menbreg", "multilevel mixed-effects negative binomial regression",
                        "menbreg deaths uvb || region:, exposure(expected)",
                        (Opt("dispersion", "disp", "string", "mean", "mean (the default) or constant"),))
meglm_cmd = _register("meglm", "multilevel mixed-effects generalized linear model",
                      "meglm use age urban || district:, family(bernoulli) link(logit)",
                      (Opt("family", "f", "string", "gaussian", "distribution: bernoulli, binomial, poisson"),
                       Opt("link", "li", "string", None, "link function: logit, probit, cloglog, log")))
