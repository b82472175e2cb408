"""`mixed` (alias `xtmixed`) and `regress`: estimation sample, design, fit, e() and output.

Both replay their last results when typed without a model (`mixed`, `regress, level(90)`).
Everything that can fail (names, types, options, empty sample) is checked before the session
changes; the fit itself only reads the data.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from hlmshell import distributions as dist
from hlmshell.commands._postest import confidence_level, nonnegative_int
from hlmshell.commands.model_terms import engine_terms
from hlmshell.engine import design as dz
from hlmshell.engine import lmm, ols
from hlmshell.engine.types import LmmFit, MixedModel
from hlmshell.engine.vcparams import normalize_structure
from hlmshell.errors import StataError, syntax_error
from hlmshell.output import mixed_output as mo
from hlmshell.output import regress_output as ro
from hlmshell.output.coeftable import coef_table, groups_from_names
from hlmshell.output.labels import display_groups
from hlmshell.registry import Args, Opt, abbrev_lookup, bind_command, command
from hlmshell.results import EstimationResults
from hlmshell.results.mixed import MixedResults
from hlmshell.results.regress import RegressResults
from hlmshell.syntax.ast import Command, FVPart, FVTerm, MixedSpec, Option
from hlmshell.syntax.evaluate import marksample
from hlmshell.syntax.parser import parse_mixed, parse_options
from hlmshell.syntax.varlist import expand_varlist

# emiterate() is accepted for compatibility: the engine starts from its own values, no EM.
# Options are typed by the specs on the registration lines below (bind_command; help and Tab read
# the same specs); handlers read typed values only.
COVARIANCES = (("identity", "id"), ("independent", "ind"), ("exchangeable", "ex"),
               ("unstructured", "un"))


# --- shared helpers ---------------------------------------------------------------------------------
def _resolve_var(ds, name: str) -> list[str]:
    return expand_varlist(ds, name, ts=True)


def _resolve_terms(ds, terms: list[FVTerm]) -> list[FVTerm]:
    """Unabbreviate the variable names of each term (keeping repeats: Stata keeps a repeated
    continuous variable and notes it as omitted)."""
    out = []
    for t in terms:
        if t.is_interaction:
            parts = []
            for p in t.parts:
                vs = _resolve_var(ds, p.name)
                if len(vs) != 1:
                    raise syntax_error()
                parts.append(FVPart(vs[0], p.factor, p.levels, p.base))
            out.append(FVTerm(tuple(parts)))
        else:
            p = t.parts[0]
            for v in _resolve_var(ds, p.name):
                out.append(FVTerm((FVPart(v, p.factor, p.levels, p.base),)))
    return out


def _term_vars(terms: list[FVTerm]) -> list[str]:
    out = []
    for t in terms:
        for p in t.parts:
            if p.name not in out:
                out.append(p.name)
    return out


def _factor_labels(ds, terms: list[FVTerm]) -> dict:
    """Value labels of the factor variables: Stata shows them for the levels."""
    labels = {}
    for p in (p for t in terms for p in t.parts if p.factor):
        vl = ds.var(p.name).vallab
        if vl and vl in ds.value_labels:
            labels[p.name] = ds.value_labels[vl]
    return labels


def _check_numeric(ds, names: list[str]) -> None:
    for nm in names:
        if ds.var(nm).is_string:
            raise StataError("type mismatch", 109)


def _replay_target(session, cmdname: str) -> EstimationResults:
    res = session.e
    if res is None or res.cmd != cmdname:
        raise StataError("last estimates not found", 301)
    return res


def _split_spec(session, cmd: Command) -> tuple[MixedSpec | None, list[FVTerm] | None]:
    """MixedSpec of the command (None for a replay) and the fixed terms with repeats kept.

    The parser fills cmd.args once (registry rule "mixed": parser.parse_mixed with the grammar's
    re_equation rule); a Command built by hand (estimates replay) is parsed here the same way."""
    spec = cmd.args
    if spec is None and cmd.body.strip() and not cmd.body.strip().startswith(","):
        spec = cmd.args = parse_mixed(cmd.body, cmd)
    if spec is None or not spec.depvar:
        if spec is None and cmd.body.strip().startswith(",") and not cmd.options:
            cmd.options = parse_options(cmd.body.strip()[1:])
        return None, None
    return spec, list(spec.fixed)


# --- mixed -------------------------------------------------------------------------------------------
@dataclass
class MixedOptions:
    reml: bool = False
    stddev: bool = False
    level: float = 95.0
    noheader: bool = False
    nofetable: bool = False
    noretable: bool = False
    nolrtest: bool = False
    nolog: bool = False
    iterate: int = 300
    tolerance: float = 1e-6
    ltolerance: float = 1e-7
    baselevels: bool = False
    emiterate: int = 20
    fixed_nocons: bool = False
    level_opts: list[tuple[bool, str | None]] = field(default_factory=list)  # (nocons, cov)


def _norm_cov(opts: Args) -> str:
    """covariance(name) resolved by abbreviation to Stata's structure; anything else (also
    more than one word) is `<text>:  invalid covariance structure`."""
    arg = opts.raw("covariance")
    try:
        a = opts.covariance.lower()
    except StataError:
        a = None
    full = abbrev_lookup(a, COVARIANCES) if a else None
    if full is None:
        raise StataError(f"{arg}:  invalid covariance structure", 198)
    return full


def _display_opts(session, opts: Args, o: MixedOptions | None = None) -> MixedOptions:
    """Estimation and display options of `mixed` from its typed options."""
    o = o or MixedOptions()
    o.reml = opts.reml and not opts.mle
    o.stddev = opts.stddeviations and not opts.variance
    o.level = confidence_level(session, opts)
    o.noheader, o.nofetable, o.noretable = opts.noheader, opts.nofetable, opts.noretable
    o.nolrtest = opts.nolrtest
    o.nolog = opts.nolog and not opts.log
    o.baselevels = opts.baselevels or opts.allbaselevels
    o.iterate = nonnegative_int(opts, "iterate")
    o.tolerance, o.ltolerance = opts.tolerance, opts.ltolerance
    o.emiterate = nonnegative_int(opts, "emiterate")
    return o


def _option_name(opt: Option) -> str:
    """The full name of one typed option of `mixed` (`option x not allowed` otherwise)."""
    return next(iter(bind_command("mixed", [opt]).given))


def _level_options(lev, glob: list[Option]) -> tuple[bool, str | None]:
    """(noconstant, covariance) of one random-effects equation; its other options (Stata
    takes estimation options anywhere) go to `glob`."""
    nocons, cov = False, None
    for opt in lev.options:
        full = _option_name(opt)
        if full == "noconstant":
            nocons = True
        elif full == "covariance":
            cov = _norm_cov(bind_command("mixed", [opt]))
        else:
            glob.append(opt)
    return nocons, cov


def _mixed_options(session, spec: MixedSpec, cmd: Command) -> MixedOptions:
    """Sort level options (covariance, noconstant) from estimation options."""
    glob: list[Option] = []
    o = MixedOptions()
    for opt in spec.fixed_options:
        full = _option_name(opt)
        if full == "noconstant":
            o.fixed_nocons = True
        elif full == "covariance":
            raise StataError("option covariance() not allowed", 198)
        else:
            glob.append(opt)
    o.level_opts = [_level_options(lev, glob) for lev in spec.levels]
    glob += [op for op in cmd.options if op not in spec.fixed_options]
    return _display_opts(session, bind_command("mixed", glob), o)


@dataclass
class MixedData:
    """What `mixed` fits: the estimation sample and the model's arrays."""

    depvar: str
    design: dz.Design
    blocks: list
    y: np.ndarray
    mask: np.ndarray
    value_labels: dict


def _resolve_fixed_part(ds, spec: MixedSpec, fixed_raw: list[FVTerm]):
    """Depvar and fixed terms unabbreviated and checked numeric (shared by mixed and regress)."""
    dep = _resolve_var(ds, spec.depvar)
    if len(dep) != 1:
        raise syntax_error()
    depvar = dep[0]
    if ds.var(depvar).is_string:
        raise StataError("type mismatch", 109)
    fixed = _resolve_terms(ds, fixed_raw)
    fvars = _term_vars(fixed)
    _check_numeric(ds, fvars)
    return depvar, fixed, fvars


def _one_var(ds, name: str) -> str:
    vs = _resolve_var(ds, name)
    if len(vs) != 1:
        raise syntax_error()
    return vs[0]


def _random_spec(ds, lev, nocons: bool, cov: str | None) -> tuple[dz.RandomSpec, list[str]]:
    """One `|| level: terms, options` resolved and checked, and the variables it reads."""
    g = "_all" if lev.group == "_all" else _one_var(ds, lev.group)
    terms = _resolve_terms(ds, list(lev.terms))
    rterms = [_one_var(ds, w[2:]) for w in lev.raw_terms if w.startswith("R.")]
    tv = _term_vars(terms) + rterms
    _check_numeric(ds, tv)
    return dz.RandomSpec(g, engine_terms(terms), rterms, constant=not nocons, covariance=cov), tv


def _mixed_sample(session, cmd: Command, numeric: list[str], strgroups: list[str]) -> np.ndarray:
    """e(sample): nonmissing depvar, covariates and level variables, within if/in."""
    mask = marksample(session, cmd, numeric)
    if strgroups:
        mask &= marksample(session, None, strgroups, strok=True)
    if not mask.any():
        raise StataError("no observations", 2000)
    return mask


def _sample_columns(ds, mask: np.ndarray):
    """column(name) -> that variable on the sample as float64 (a string level variable as
    codes of its sorted values), each read once."""
    cache: dict[str, np.ndarray] = {}
    whole = bool(mask.all())     # every row in the sample: the (read-only) column itself, no copy

    def column(nm: str) -> np.ndarray:
        if nm not in cache:
            var = ds.var(nm)
            v = var.values if whole else var.values[mask]
            if var.is_string:
                _, v = np.unique(v.astype(str), return_inverse=True)
            cache[nm] = np.asarray(v, dtype=np.float64)
        return cache[nm]

    return column


def _prepare_mixed(session, cmd: Command, spec: MixedSpec, fixed_raw: list[FVTerm],
                   o: MixedOptions) -> MixedData:
    ds = session.data
    if cmd.weight is not None:
        raise StataError("weights not allowed", 101)
    depvar, fixed, fvars = _resolve_fixed_part(ds, spec, fixed_raw)
    rspecs: list[dz.RandomSpec] = []
    rvars: list[str] = []
    for lev, (nocons, cov) in zip(spec.levels, o.level_opts):
        rs, tv = _random_spec(ds, lev, nocons, cov)
        rspecs.append(rs)
        rvars += [v for v in tv if v not in rvars]
    groups = [rs.group for rs in rspecs if rs.group != "_all"]
    numeric = [depvar] + [v for v in fvars + rvars if v != depvar]
    numeric += [g for g in groups if not ds.var(g).is_string and g not in numeric]
    mask = _mixed_sample(session, cmd, numeric, [g for g in groups if ds.var(g).is_string])
    n = int(mask.sum())
    column = _sample_columns(ds, mask)
    design = dz.build_fixed(engine_terms(fixed), column, n, constant=not o.fixed_nocons)
    blocks = dz.build_random(rspecs, column, n) if rspecs else []
    for b in blocks:
        if len(b.names) == 1 and b.covariance != "identity":
            b.covariance = "identity"
    return MixedData(depvar, design, blocks, column(depvar), mask, _factor_labels(ds, fixed))


def _n_re_params(blocks) -> int:
    k = 0
    for b in blocks:
        q = len(b.names)
        kind = normalize_structure(b.covariance, q)
        k += {"identity": 1, "independent": q, "exchangeable": 2}.get(kind, q * (q + 1) // 2)
    return k


def _numeric_failure() -> StataError:
    """Stata's ml message when the likelihood cannot be evaluated along the way."""
    return StataError("could not calculate numerical derivatives -- discontinuous region with "
                      "missing values encountered", 430)


def _iteration_printer(session, o: MixedOptions):
    state = {"gradient": False}

    def cb(phase, it, ll, *rest):
        if phase != "em" and not math.isfinite(ll):
            # a log likelihood that overflows is Stata's missing: ml stops instead of iterating on
            raise StataError("initial values not feasible", 1400) if it == 0 else _numeric_failure()
        if o.nolog:
            return
        if phase == "em":
            return
        if not state["gradient"]:
            state["gradient"] = True
            session.out.line("")
            session.out.line("Performing gradient-based optimization: ")
        session.out.line(mo.iteration_line(it, ll, o.reml))

    return cb


# rule "mixed": the parser fills cmd.args (MixedSpec) once; a bare `mixed` or `mixed, stddev`
# is None (a replay) with the options on cmd.options
@command("mixed", abbrev="mixed", aliases=("xtmixed",), rule="mixed",
          family="Estimation", body="fvvarlist", qualifiers="if in weight", desc="multilevel mixed-effects linear regression",
          example="mixed mathach ses || id: ses, covariance(unstructured) reml",
          options=(Opt("reml", desc="fit by restricted maximum likelihood"),
                   Opt("mle", desc="fit by maximum likelihood; the default"),
                   Opt("covariance", "cov", "name", "independent", "variance-covariance structure of the random effects: identity, independent, exchangeable, unstructured"),
                   Opt("noconstant", "nocons", desc="suppress the constant term (fixed part or a random-effects equation)"),
                   Opt("variance", "var", desc="show random-effects parameters as variances and covariances; the default"),
                   Opt("stddeviations", "stddev", desc="show random-effects parameters as standard deviations and correlations"),
                   Opt("level", "l", "real", 95, "set confidence level; default is level(95)"),
                   Opt("noheader", desc="suppress the output header"),
                   Opt("nofetable", desc="suppress the fixed-effects table"),
                   Opt("noretable", desc="suppress the random-effects table"),
                   Opt("nolrtest", desc="do not perform the LR test comparing with linear regression"),
                   Opt("nolog", desc="do not show the iteration log"),
                   Opt("log", desc="show the iteration log; the default"),
                   Opt("iterate", "iter", "int", 300, "maximum number of iterations"),
                   Opt("tolerance", "tol", "real", 1e-6, "tolerance for the coefficient vector"),
                   Opt("ltolerance", "ltol", "real", 1e-7, "tolerance for the log likelihood"),
                   Opt("emiterate", "", "int", 20, "accepted for compatibility (no EM iterations)"),
                   Opt("baselevels", desc="report base levels of factor variables"),
                   Opt("allbaselevels", desc="display all base levels")))
def mixed_cmd(session, cmd: Command) -> None:
    spec, fixed_raw = _split_spec(session, cmd)
    if spec is None:
        _replay_mixed(session, cmd)
        return
    o = _mixed_options(session, spec, cmd)
    data = _prepare_mixed(session, cmd, spec, fixed_raw, o)
    for note in data.design.notes:
        session.out.line(note)
    fit, ll_c = _fit_mixed(session, data, o)
    res = _mixed_results(cmd, data, fit, o, ll_c)
    session.post_estimation(res)
    display_mixed(session, res, o)


_MIXED_REPLAY_OPTIONS = ("variance", "stddeviations", "level", "noheader", "nofetable", "noretable",
                         "nolrtest", "baselevels", "allbaselevels")


def _replay_mixed(session, cmd: Command) -> None:
    """`mixed` or `mixed, options` alone: show the active `mixed` results again."""
    res = _replay_target(session, "mixed")
    bad = [k for k in bind_command("mixed", cmd.options).given if k not in _MIXED_REPLAY_OPTIONS]
    if bad:
        raise StataError(f"option {bad[0]} not allowed", 198)
    replay_results(session, res, cmd.options)


def _fit_mixed(session, data: MixedData, o: MixedOptions) -> tuple[LmmFit, float]:
    """The fit (printing Stata's iteration log) and the linear model's log likelihood for the
    LR test against it."""
    Xk = data.design.X_keep
    if len(data.y) <= Xk.shape[1]:
        raise StataError("insufficient observations", 2001)
    if not o.nolog:
        session.out.line("")
        session.out.line("Performing EM optimization ...")
    try:
        if data.blocks:
            fit = lmm.fit_lmm(data.y, Xk, data.blocks, reml=o.reml, maxiter=o.iterate,
                              tol=o.tolerance, ltol=o.ltolerance,
                              callback=_iteration_printer(session, o))
        else:
            fit = _fit_linear(data.y, Xk, o.reml, _iteration_printer(session, o))
    except (np.linalg.LinAlgError, ValueError, FloatingPointError):
        raise _numeric_failure() from None
    if not fit.converged:
        # as Stata's ml: results are still posted and shown, flagged by e(converged) = 0
        session.out.line("convergence not achieved")
    if not o.nolog:
        session.out.line("")
        session.out.line("Computing standard errors ...")
    ll_lin = fit.extra.get("ll_linear") if fit.extra else None
    return fit, float(ll_lin if ll_lin is not None else lmm.linear_ll(data.y, Xk, o.reml))


def _fit_linear(y: np.ndarray, X: np.ndarray, reml: bool, callback) -> LmmFit:
    """`mixed` without a random-effects equation: the linear model by ML (or REML), in the
    same metric as fit_lmm (only lnsig_e in the variance part)."""
    n, p = X.shape
    nu = n - p if reml else n
    if nu <= 0:
        raise StataError("insufficient observations", 2001)
    f = ols.fit(y, X)
    sigma2 = f.rss / nu
    ll = float(ols.loglik(f.rss, n, p, reml, f.logdet_XtX))
    callback("gradient", 0, ll)
    callback("gradient", 1, ll)
    return LmmFit(beta=f.beta, V_beta=sigma2 * f.XtX_inv, ll=ll, reml=reml, converged=True,
                  iterations=1, sigma2=sigma2, covs=[], vc_names=[("lnsig_e", "_cons")],
                  vc_theta=np.array([0.5 * math.log(sigma2)]), vc_V=np.array([[1.0 / (2 * nu)]]),
                  n_obs=n)


def _coefficients(d: dz.Design, fit: LmmFit):
    """e(b) names, e(b), e(V) and the omitted flags: every fixed column (zero where not
    estimated), then the variance parameters in Stata's metric."""
    names_f = d.stata_names
    kf, kv = len(names_f), len(fit.vc_names)
    b = np.zeros(kf + kv)
    V = np.zeros((kf + kv, kf + kv))
    kidx = np.flatnonzero(d.keep)
    b[kidx] = fit.beta
    V[np.ix_(kidx, kidx)] = fit.V_beta
    b[kf:] = fit.vc_theta
    if fit.vc_V is not None:
        V[kf:, kf:] = fit.vc_V
    omitted = np.concatenate([d.omitted, np.zeros(kv, dtype=bool)])
    return names_f, b, V, omitted


def _lr_vs_linear(blocks, fit: LmmFit, ll_c: float) -> tuple[float, int, float]:
    """e(chi2_c), e(df_c), e(p_c): the LR test against the linear model, halved (chibar2(01))
    for a single variance component on its boundary."""
    df_c = _n_re_params(blocks)
    chi2_c = max(2.0 * (fit.ll - ll_c), 0.0) if blocks else 0.0
    p_c = float(dist.chi2_sf(chi2_c, df_c)) if df_c else float("nan")
    if df_c == 1:
        p_c = 0.5 * p_c if chi2_c > 0 else 1.0
    return chi2_c, df_c, p_c


def _mixed_scalars(res: MixedResults, fit: LmmFit, ll_c: float) -> dict:
    d = res.design
    kf, kv = res.k_f, len(fit.vc_names)
    wdf, wchi2, wp = res.wald
    chi2_c, df_c, p_c = _lr_vs_linear(res.blocks, fit, ll_c)
    return {
        "N": int(res.sample.sum()), "ll": fit.ll, "k": kf + kv, "k_f": kf, "k_r": kv,
        "k_rs": sum(1 for nm, _ in fit.vc_names if nm.startswith("lns")),
        "k_rc": sum(1 for nm, _ in fit.vc_names if nm.startswith("atr")),
        "k_res": 0, "df_m": wdf, "chi2": wchi2 if wchi2 is not None else float("nan"),
        "p": wp if wp is not None else float("nan"), "rank": int(d.keep.sum()) + kv,
        "ll_c": ll_c, "chi2_c": chi2_c, "df_c": df_c, "p_c": p_c,
        "converged": 1.0 if fit.converged else 0.0, "ic": fit.iterations,
        "nrgroups": len(res.blocks),
    }


def _mixed_macros(cmd: Command, depvar: str, blocks, reml: bool) -> dict:
    method = "REML" if reml else "ML"
    vartypes = " ".join(mo.COV_TITLES.get(bk.covariance, bk.covariance).replace(" ", "")
                        for bk in blocks)
    return {
        "cmd": "mixed", "cmdline": cmd.text, "depvar": depvar, "title": mo.title(method),
        "method": method, "ivars": " ".join(bk.label for bk in blocks),
        "redim": " ".join(str(len(bk.names)) for bk in blocks),
        "vartypes": vartypes, "revars": " ".join(" ".join(bk.names) for bk in blocks),
        "chi2type": "Wald", "vce": "oim", "optmetric": "matsqrt", "properties": "b V",
        "predict": "mixed_p", "estat_cmd": "mixed_estat", "model": "lmm",
    }


def _group_matrices(groups: list[mo.LevelInfo]) -> dict:
    """e(N_g), e(g_min), e(g_avg), e(g_max): one column per random-effects equation."""
    return {
        "N_g": np.array([[L.n_groups for L in groups]], dtype=float),
        "g_min": np.array([[L.g_min for L in groups]], dtype=float),
        "g_avg": np.array([[L.g_avg for L in groups]], dtype=float),
        "g_max": np.array([[L.g_max for L in groups]], dtype=float),
    }


def _mixed_results(cmd: Command, data: MixedData, fit: LmmFit, o: MixedOptions,
                   ll_c: float) -> MixedResults:
    d = data.design
    names_f, b, V, omitted = _coefficients(d, fit)
    model = MixedModel(y=data.y, X=d.X_keep, blocks=data.blocks, fit=fit, fixed_names=names_f,
                       omitted=d.omitted)
    res = MixedResults(cmd="mixed", names=[(data.depvar, nm) for nm in names_f] + list(fit.vc_names),
                       b=b, V=V, omitted=omitted, k_f=len(names_f), sample=data.mask.copy(),
                       model=model, design=d, value_labels=data.value_labels)
    res.scalars = _mixed_scalars(res, fit, ll_c)
    res.macros = _mixed_macros(cmd, data.depvar, data.blocks, o.reml)
    res.matrices = _group_matrices(res.block_groups)
    return res


def _fixed_groups(res, baselevels: bool):
    """The coefficient table's groups: from the design when the results carry one, else
    rebuilt from the e(b) names."""
    value_labels = getattr(res, "value_labels", None)
    if getattr(res, "design", None) is None:
        names = [nm for _, nm in res.names[: res.k_f]]
        return groups_from_names(names, baselevels=baselevels, value_labels=value_labels)
    return display_groups(res.design, baselevels=baselevels, value_labels=value_labels)


def display_mixed(session, res: EstimationResults, o: MixedOptions) -> None:
    """The full `mixed` output from stored results (used by estimation and by replay)."""
    res = MixedResults.of(res)
    fit = res.model.fit
    out = session.out
    if not o.noheader:
        wdf, wchi2, wp = res.wald
        out.line("")
        for line in mo.header_lines(reml=res.macros.get("method") == "REML",
                                    n_obs=int(res.scalars["N"]), levels=res.block_groups,
                                    wald_df=wdf, wald_chi2=wchi2, wald_p=wp, ll=fit.ll):
            out.line(line)
    if not o.nofetable:
        out.line("")
        kf = res.k_f
        for line in coef_table(res.depvar, _fixed_groups(res, o.baselevels), res.b[:kf],
                               res.se[:kf], stat="z", level=o.level):
            out.line(line)
    if not o.noretable:
        out.line("")
        levels, resid = res.re_table("sd" if o.stddev else "variance", o.level)
        for line in mo.re_table_lines(levels, [resid], o.level):
            out.line(line)
    if not o.nolrtest and res.scalars.get("df_c"):
        if o.noretable:
            out.line("")
        for line in mo.lr_lines(res.scalars["chi2_c"], int(res.scalars["df_c"]), res.scalars["p_c"]):
            out.line(line)
    if fit.vc_V is None:
        out.line(mo.SE_WARNING)


# --- regress -----------------------------------------------------------------------------------------
@command("regress", abbrev="reg", rule="mixed",
          family="Estimation", body="fvvarlist", qualifiers="if in weight", desc="linear regression",
          example="regress mathach ses i.sector",
          options=(Opt("noconstant", "nocons", desc="suppress the constant term"),
                   Opt("level", "l", "real", 95, "set confidence level; default is level(95)"),
                   Opt("baselevels", desc="report base levels of factor variables"),
                   Opt("allbaselevels", desc="display all base levels"),
                   Opt("noheader", desc="suppress the output header"),
                   Opt("notable", desc="suppress the coefficient table")))
def regress_cmd(session, cmd: Command) -> None:
    spec, fixed_raw = _split_spec(session, cmd)
    if spec is None:
        res = _replay_target(session, "regress")
        opts = bind_command("regress", cmd.options)
        display_regress(session, res, confidence_level(session, opts),
                        opts.baselevels or opts.allbaselevels, header=True)
        return
    if spec.levels:
        raise syntax_error()
    opts = bind_command("regress", list(spec.fixed_options) + [op for op in cmd.options
                                                            if op not in spec.fixed_options])
    level = confidence_level(session, opts)
    if cmd.weight is not None:
        raise StataError("weights not allowed", 101)
    res = _regress(session, cmd, spec, fixed_raw, constant=not opts.noconstant)
    for note in res.design.notes:
        session.out.line(note)
    session.post_estimation(res)
    display_regress(session, res, level, opts.baselevels or opts.allbaselevels,
                    header=not opts.noheader, table=not opts.notable)


def _regress(session, cmd: Command, spec: MixedSpec, fixed_raw: list[FVTerm], *,
             constant: bool) -> RegressResults:
    """Sample, design and OLS fit of `regress`, packaged as its e()."""
    ds = session.data
    depvar, fixed, fvars = _resolve_fixed_part(ds, spec, fixed_raw)
    mask = marksample(session, cmd, [depvar] + [v for v in fvars if v != depvar])
    n = int(mask.sum())
    if n == 0:
        raise StataError("no observations", 2000)

    def column(nm: str) -> np.ndarray:
        return np.asarray(ds.var(nm).values[mask], dtype=np.float64)

    design = dz.build_fixed(engine_terms(fixed), column, n, constant=constant)
    X = design.X_keep
    k = X.shape[1]
    if n - k <= 0:
        raise StataError("insufficient observations", 2001)
    reg = ols.regress(column(depvar), X, constant=design.constant)
    kf = len(design.columns)
    b = np.zeros(kf)
    Vf = np.zeros((kf, kf))
    kidx = np.flatnonzero(design.keep)
    b[kidx] = reg.beta
    Vf[np.ix_(kidx, kidx)] = reg.V
    scalars = {"N": n, "df_m": reg.df_m, "df_r": reg.df_r, "F": reg.F, "r2": reg.r2,
               "r2_a": reg.r2_a, "rmse": reg.rmse, "mss": reg.mss, "rss": reg.rss, "ll": reg.ll,
               "ll_0": reg.ll_0, "rank": k, "k": kf}
    macros = {"cmd": "regress", "cmdline": cmd.text, "depvar": depvar, "title": "Linear regression",
              "model": "ols", "vce": "ols", "properties": "b V", "predict": "regres_p",
              "estat_cmd": "regress_estat"}
    return RegressResults(cmd="regress", names=[(depvar, nm) for nm in design.stata_names], b=b,
                          V=Vf, omitted=design.omitted, k_f=kf, scalars=scalars, macros=macros,
                          sample=mask.copy(), model=reg, design=design,
                          value_labels=_factor_labels(ds, fixed))


def _regress_pF(res: EstimationResults) -> float:
    """Prob > F: the fit's, or from e(F), e(df_m), e(df_r) for results that carry no fit."""
    if res.model is not None:
        return res.model.pF
    sc = res.scalars
    F, df_m, df_r = sc.get("F", math.nan), sc.get("df_m", 0), sc.get("df_r", 0)
    return float(dist.f_sf(F, df_m, df_r)) if df_m > 0 and math.isfinite(F) else math.nan


def display_regress(session, res: EstimationResults, level: float, baselevels: bool, *,
                    header: bool = True, table: bool = True) -> None:
    sc = res.scalars
    out = session.out
    if header:
        out.line("")
        for line in ro.anova_lines(mss=sc["mss"], rss=sc["rss"], df_m=int(sc["df_m"]), df_r=int(sc["df_r"]),
                                   n=int(sc["N"]), F=sc["F"], pF=_regress_pF(res), r2=sc["r2"],
                                   r2_a=sc["r2_a"], rmse=sc["rmse"]):
            out.line(line)
    if table:
        out.line("")
        for line in coef_table(res.depvar, _fixed_groups(res, baselevels), res.b, res.se, stat="t",
                               df_r=sc["df_r"], level=level):
            out.line(line)


# --- replay: the command typed without a model (`estimates replay` runs it that way too) ----------
def replay_results(session, res: EstimationResults, options: list[Option] | None = None) -> None:
    """Print stored `mixed` or `regress` results as the command itself would replay them."""
    options = list(options or [])
    if res.cmd == "mixed":
        o = _display_opts(session, bind_command("mixed", options))
        o.reml = res.macros.get("method") == "REML"
        display_mixed(session, res, o)
    elif res.cmd == "regress":
        opts = bind_command("regress", options)
        display_regress(session, res, confidence_level(session, opts),
                        opts.baselevels or opts.allbaselevels)
    else:
        raise StataError("last estimates not found", 301)

