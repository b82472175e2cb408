"""`mixed` (alias `xtmixed`) and `regress`: estimation sample, design, fit, e() and output.

Both replay their last results when typed without a model (`mixed`, `regress, level(90)`).
Everything that can fail (names, types, options, empty sample) is checked before the session
changes; the fit itself only reads the data.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from hlmshell.commands.options import OptionSpec, int_option, level_option
from hlmshell.commands.registry import command
from hlmshell.engine import design as dz
from hlmshell.engine.types import LmmFit, MixedModel
from hlmshell.errors import StataError, syntax_error
from hlmshell.output import mixed_output as mo
from hlmshell.output import regress_output as ro
from hlmshell.output.coeftable import coef_table
from hlmshell.results import EstimationResults
from hlmshell.syntax.ast import Command, FVPart, FVTerm, MixedSpec, Option

# emiterate() is accepted for compatibility: the engine starts from its own values, no EM
MIXED_OPTIONS = OptionSpec(
    "reml mle variance(var) stddeviations(stddev) level(l)= noheader nofetable noretable "
    "nolrtest nolog log iterate= tolerance(tol)= ltolerance(ltol)= baselevels allbaselevels "
    "emiterate= noconstant(nocons) covariance(cov)=")
REGRESS_OPTIONS = OptionSpec("noconstant(nocons) level(l)= baselevels allbaselevels noheader "
                             "notable")
COVARIANCES = (("identity", "id"), ("independent", "ind"), ("exchangeable", "ex"),
               ("unstructured", "un"))


# --- shared helpers ---------------------------------------------------------------------------------
def _float_opt(arg: str | None, default: float, name: str) -> float:
    if arg is None:
        return default
    try:
        return float(arg)
    except ValueError:
        raise StataError(f"option {name}() incorrectly specified", 198) from None


def _resolve_var(ds, name: str) -> list[str]:
    from hlmshell.syntax.varlist import expand_varlist

    return expand_varlist(ds, name)


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


def _fixed_terms_from_text(varlist_text: str) -> list[FVTerm]:
    """The fixed-part terms in the order typed. Each word is parsed by itself so that a
    variable repeated across words (`c.ses##c.sector c.ses##i.sized`) stays repeated."""
    from hlmshell.syntax.parser import parse_fvlist
    from hlmshell.syntax.scan import top_words

    out: list[FVTerm] = []
    for a, b in top_words(varlist_text):
        out += list(parse_fvlist(varlist_text[a:b]))
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
    """MixedSpec of the command (None for a replay) and the fixed terms with repeats kept."""
    from hlmshell.syntax.parser import parse_mixed, parse_options
    from hlmshell.syntax.scan import find_top, split_top

    text = cmd.body
    spec = cmd.args
    if spec is None:
        stripped = (text or "").strip()
        if not stripped or stripped.startswith(","):
            cmd.options = parse_options(stripped[1:]) if stripped else list(cmd.options)
            return None, None
        spec = parse_mixed(stripped, cmd)
        cmd.args = spec
    if not spec.depvar:
        return None, None
    # the fixed part as typed: before the first ||, before if/in/weight/options
    head = split_top(cmd.body or "", "||")[0] if cmd.body else ""
    words = []
    if head:
        from hlmshell.syntax.parser import fill_qualifiers

        scratch = Command(name=cmd.name)
        comma = find_top(head, ",")
        fill_qualifiers(scratch, head if comma < 0 else head[:comma], allow_exp=False)
        words = scratch.body.split(None, 1)
    fixed = _fixed_terms_from_text(words[1]) if len(words) > 1 else (list(spec.fixed) if not words else [])
    return spec, fixed


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


def _norm_cov(arg: str | None) -> str:
    a = (arg or "").strip().lower()
    for full, mn in COVARIANCES:
        if len(a) >= len(mn) and full.startswith(a):
            return full
    raise StataError(f"{arg}:  invalid covariance structure", 198)


def _display_opts(session, opts: dict, o: MixedOptions | None = None) -> MixedOptions:
    o = o or MixedOptions()
    if "reml" in opts:
        o.reml = True
    if "mle" in opts:
        o.reml = False
    if "stddeviations" in opts:
        o.stddev = True
    if "variance" in opts:
        o.stddev = False
    o.level = level_option(opts.get("level"), session)
    for flag in ("noheader", "nofetable", "noretable", "nolrtest", "nolog", "baselevels"):
        if flag in opts:
            setattr(o, flag, True)
    if "allbaselevels" in opts:
        o.baselevels = True
    if "log" in opts:
        o.nolog = False
    o.iterate = int_option(opts, "iterate", o.iterate, minimum=0)
    o.tolerance = _float_opt(opts.get("tolerance"), o.tolerance, "tolerance")
    o.ltolerance = _float_opt(opts.get("ltolerance"), o.ltolerance, "ltolerance")
    o.emiterate = int_option(opts, "emiterate", o.emiterate, minimum=0)
    return o


def _mixed_options(session, spec: MixedSpec, cmd: Command) -> MixedOptions:
    """Sort level options (covariance, noconstant) from estimation options."""
    glob: dict = {}
    o = MixedOptions()
    for opt in spec.fixed_options:
        full, _ = MIXED_OPTIONS.resolve(opt.name)
        if full == "noconstant":
            o.fixed_nocons = True
        elif full == "covariance":
            raise StataError("option covariance() not allowed", 198)
        else:
            glob.update(MIXED_OPTIONS.parse([opt]))
    for lev in spec.levels:
        nocons, cov = False, None
        for opt in lev.options:
            full, _ = MIXED_OPTIONS.resolve(opt.name)
            parsed = MIXED_OPTIONS.parse([opt])
            if full == "noconstant":
                nocons = True
            elif full == "covariance":
                cov = _norm_cov(parsed["covariance"])
            else:
                glob.update(parsed)
        o.level_opts.append((nocons, cov))
    glob.update(MIXED_OPTIONS.parse([op for op in cmd.options if op not in spec.fixed_options]))
    return _display_opts(session, glob, o)


@dataclass
class MixedData:
    depvar: str
    fixed: list[FVTerm]
    design: dz.Design
    blocks: list
    y: np.ndarray
    mask: np.ndarray
    levels: list[mo.LevelInfo]
    ivars: list[str]
    revars: list[list[str]]


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


def _prepare_mixed(session, cmd: Command, spec: MixedSpec, fixed_raw: list[FVTerm],
                   o: MixedOptions) -> MixedData:
    ds = session.data
    if cmd.weight is not None:
        raise StataError("weights not allowed", 101)
    depvar, fixed, fvars = _resolve_fixed_part(ds, spec, fixed_raw)
    groups: list[str] = []
    rspecs: list[dz.RandomSpec] = []
    rvars: list[str] = []
    for lev, (nocons, cov) in zip(spec.levels, o.level_opts):
        if lev.group == "_all":
            g = "_all"
        else:
            gs = _resolve_var(ds, lev.group)
            if len(gs) != 1:
                raise syntax_error()
            g = gs[0]
            groups.append(g)
        terms = _resolve_terms(ds, list(lev.terms))
        rterms = []
        for w in lev.raw_terms:
            if w.startswith("R."):
                vs = _resolve_var(ds, w[2:])
                if len(vs) != 1:
                    raise syntax_error()
                rterms.append(vs[0])
        tv = _term_vars(terms) + rterms
        _check_numeric(ds, tv)
        rvars += [v for v in tv if v not in rvars]
        rspecs.append(dz.RandomSpec(g, terms, rterms, constant=not nocons, covariance=cov))
    numeric = [depvar] + [v for v in fvars + rvars if v != depvar]
    numeric += [g for g in groups if not ds.var(g).is_string and g not in numeric]
    strgroups = [g for g in groups if ds.var(g).is_string]
    from hlmshell.syntax.evaluate import marksample

    mask = marksample(session, cmd, numeric)
    if strgroups:
        mask &= marksample(session, None, strgroups, strok=True)
    n = int(mask.sum())
    if n == 0:
        raise StataError("no observations", 2000)

    cache: dict[str, np.ndarray] = {}

    def column(nm: str) -> np.ndarray:
        if nm not in cache:
            var = ds.var(nm)
            v = var.values[mask]
            if var.is_string:
                _, v = np.unique(v.astype(str), return_inverse=True)
            cache[nm] = np.asarray(v, dtype=np.float64)
        return cache[nm]

    design = dz.build_fixed(fixed, column, n, constant=not o.fixed_nocons,
                            value_labels=_factor_labels(ds, fixed))
    blocks = dz.build_random(rspecs, column, n) if rspecs else []
    for b in blocks:
        if len(b.names) == 1 and b.covariance != "identity":
            b.covariance = "identity"
    y = column(depvar)
    levels = []
    for b in blocks:
        counts = np.bincount(b.group)
        counts = counts[counts > 0]
        levels.append(mo.LevelInfo(b.label, len(counts), int(counts.min()), float(counts.mean()),
                                   int(counts.max())))
    return MixedData(depvar, fixed, design, blocks, y, mask, levels, groups,
                     [list(b.names) for b in blocks])


def _wald(beta: np.ndarray, V: np.ndarray, names: list[str]) -> tuple[int, float | None, float | None]:
    idx = [i for i, nm in enumerate(names) if nm != "_cons"]
    if not idx:
        return 0, None, None
    b = beta[idx]
    Vs = V[np.ix_(idx, idx)]
    try:
        chi2 = float(b @ np.linalg.solve(Vs, b))
    except np.linalg.LinAlgError:
        chi2 = float(b @ np.linalg.pinv(Vs) @ b)
    return len(idx), chi2, float(stats.chi2.sf(chi2, len(idx)))


def _n_re_params(blocks) -> int:
    from hlmshell.engine.vcparams import normalize_structure

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


# raw: the handler parses the body itself (parser.parse_mixed) so that a bare `mixed` or
# `mixed, stddev` can replay instead of failing as a model without a varlist
@command("mixed", abbrev="mixed", aliases=("xtmixed",), raw=True)
def mixed_cmd(session, cmd: Command) -> None:
    spec, fixed_raw = _split_spec(session, cmd)
    if spec is None:
        res = _replay_target(session, "mixed")
        opts = MIXED_OPTIONS.parse(cmd.options)
        bad = [k for k in opts if k not in ("variance", "stddeviations", "level", "noheader",
                                             "nofetable", "noretable", "nolrtest", "baselevels",
                                             "allbaselevels")]
        if bad:
            raise StataError(f"option {bad[0]} not allowed", 198)
        replay_results(session, res, cmd.options)
        return
    o = _mixed_options(session, spec, cmd)
    data = _prepare_mixed(session, cmd, spec, fixed_raw, o)
    from hlmshell.engine.lmm import fit_lmm, linear_ll

    for note in data.design.notes:
        session.out.line(note)
    keep = data.design.keep
    Xk = data.design.X[:, keep]
    if len(data.y) <= Xk.shape[1]:
        raise StataError("insufficient observations", 2001)
    if not o.nolog:
        session.out.line("")
        session.out.line("Performing EM optimization ...")
    try:
        if data.blocks:
            fit = fit_lmm(data.y, Xk, data.blocks, reml=o.reml, maxiter=o.iterate, tol=o.tolerance,
                          ltol=o.ltolerance, callback=_iteration_printer(session, o))
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
    ll_c = float(linear_ll(data.y, Xk, o.reml))
    res = _mixed_results(session, cmd, data, fit, o, ll_c)
    session.post_estimation(res)
    display_mixed(session, res, o)


def _fit_linear(y: np.ndarray, X: np.ndarray, reml: bool, callback) -> LmmFit:
    """`mixed` without a random-effects equation: the linear model by ML (or REML), in the
    same metric as fit_lmm (only lnsig_e in the variance part)."""
    from hlmshell.engine import ols

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


def _mixed_results(session, cmd: Command, data: MixedData, fit, o: MixedOptions,
                   ll_c: float) -> EstimationResults:
    d = data.design
    keep = d.keep
    names_f = d.stata_names
    kf = len(names_f)
    kv = len(fit.vc_names)
    b = np.zeros(kf + kv)
    V = np.zeros((kf + kv, kf + kv))
    kidx = np.flatnonzero(keep)
    b[kidx] = fit.beta
    V[np.ix_(kidx, kidx)] = fit.V_beta
    b[kf:] = fit.vc_theta
    if fit.vc_V is not None:
        V[kf:, kf:] = fit.vc_V
    kept_names = [names_f[i] for i in kidx]
    wdf, wchi2, wp = _wald(np.asarray(fit.beta), np.asarray(fit.V_beta), kept_names)
    df_c = _n_re_params(data.blocks)
    chi2_c = max(2.0 * (fit.ll - ll_c), 0.0)
    if not data.blocks:
        chi2_c = 0.0
    p_c = float(stats.chi2.sf(chi2_c, df_c)) if df_c else float("nan")
    if df_c == 1:
        p_c = 0.5 * p_c if chi2_c > 0 else 1.0
    names = [(data.depvar, nm) for nm in names_f] + list(fit.vc_names)
    omitted = np.concatenate([d.omitted, np.zeros(kv, dtype=bool)])
    method = "REML" if o.reml else "ML"
    title = f"Mixed-effects {method} regression"
    n = int(data.mask.sum())
    k_rs = sum(1 for nm, _ in fit.vc_names if nm.startswith("lns"))
    k_rc = sum(1 for nm, _ in fit.vc_names if nm.startswith("atr"))
    scalars = {
        "N": n, "ll": fit.ll, "k": kf + kv, "k_f": kf, "k_r": kv, "k_rs": k_rs, "k_rc": k_rc,
        "k_res": 0, "df_m": wdf, "chi2": wchi2 if wchi2 is not None else float("nan"),
        "p": wp if wp is not None else float("nan"), "rank": int(keep.sum()) + kv,
        "ll_c": ll_c, "chi2_c": chi2_c, "df_c": df_c, "p_c": p_c,
        "converged": 1.0 if fit.converged else 0.0, "ic": fit.iterations,
        "nrgroups": len(data.blocks),
    }
    vartypes = " ".join(mo.COV_TITLES.get(bk.covariance, bk.covariance).replace(" ", "")
                        for bk in data.blocks)
    macros = {
        "cmd": "mixed", "cmdline": cmd.text, "depvar": data.depvar, "title": title, "method": method,
        "ivars": " ".join(bk.label for bk in data.blocks), "redim": " ".join(str(len(bk.names)) for bk in data.blocks),
        "vartypes": vartypes, "revars": " ".join(" ".join(r) for r in data.revars),
        "chi2type": "Wald", "vce": "oim", "optmetric": "matsqrt", "properties": "b V",
        "predict": "mixed_p", "estat_cmd": "mixed_estat", "model": "lmm",
    }
    lv = data.levels
    matrices = {
        "N_g": np.array([[L.n_groups for L in lv]], dtype=float),
        "g_min": np.array([[L.g_min for L in lv]], dtype=float),
        "g_avg": np.array([[L.g_avg for L in lv]], dtype=float),
        "g_max": np.array([[L.g_max for L in lv]], dtype=float),
    }
    model = MixedModel(y=data.y, X=d.X[:, keep], blocks=data.blocks, fit=fit, fixed_names=names_f,
                       omitted=d.omitted, fixed_terms=data.fixed,
                       extra={"design": d, "levels": lv, "fixed_nocons": o.fixed_nocons,
                              "wald": (wdf, wchi2, wp), "status": [d.status(j) for j in range(kf)]})
    return EstimationResults(cmd="mixed", names=names, b=b, V=V, omitted=omitted, k_f=kf,
                             scalars=scalars, macros=macros, matrices=matrices,
                             sample=data.mask.copy(), model=model)


def display_mixed(session, res: EstimationResults, o: MixedOptions) -> None:
    """The full `mixed` output from stored results (used by estimation and by replay)."""
    from hlmshell.engine.lmm import re_table

    model: MixedModel = res.model
    fit = model.fit
    d: dz.Design = model.extra["design"]
    out = session.out
    reml = res.macros.get("method") == "REML"
    wdf, wchi2, wp = model.extra["wald"]
    if not o.noheader:
        out.line("")
        levels = model.extra["levels"]
        for line in mo.header_lines(reml=reml, n_obs=int(res.scalars["N"]), levels=levels,
                                    wald_df=wdf, wald_chi2=wchi2, wald_p=wp, ll=fit.ll):
            out.line(line)
    if not o.nofetable:
        out.line("")
        groups = dz.display_groups(d, baselevels=o.baselevels)
        kf = res.k_f
        se = np.sqrt(np.clip(np.diag(res.V)[:kf], 0, None))
        for line in coef_table(res.depvar, groups, res.b[:kf], se, stat="z", level=o.level):
            out.line(line)
    if not o.noretable:
        out.line("")
        levels, resid = re_table(fit, model.blocks, metric="sd" if o.stddev else "variance", level=o.level)
        resid = resid if isinstance(resid, list) else [resid]
        for line in mo.re_table_lines(levels, resid, o.level):
            out.line(line)
    if not o.nolrtest and res.scalars.get("df_c"):
        if o.noretable:
            out.line("")
        for line in mo.lr_lines(res.scalars["chi2_c"], int(res.scalars["df_c"]), res.scalars["p_c"]):
            out.line(line)
    if fit.vc_V is None:
        out.line(mo.SE_WARNING)


# --- regress -----------------------------------------------------------------------------------------
@command("regress", abbrev="reg", raw=True)
def regress_cmd(session, cmd: Command) -> None:
    spec, fixed_raw = _split_spec(session, cmd)
    if spec is None:
        res = _replay_target(session, "regress")
        opts = REGRESS_OPTIONS.parse(cmd.options)
        display_regress(session, res, level_option(opts.get("level"), session), "baselevels" in opts
                        or "allbaselevels" in opts, header=True)
        return
    if spec.levels:
        raise syntax_error()
    ds = session.data
    opts = REGRESS_OPTIONS.parse(list(spec.fixed_options) + [op for op in cmd.options
                                                             if op not in spec.fixed_options])
    level = level_option(opts.get("level"), session)
    if cmd.weight is not None:
        raise StataError("weights not allowed", 101)
    depvar, fixed, fvars = _resolve_fixed_part(ds, spec, fixed_raw)
    from hlmshell.syntax.evaluate import marksample

    mask = marksample(session, cmd, [depvar] + [v for v in fvars if v != depvar])
    n = int(mask.sum())
    if n == 0:
        raise StataError("no observations", 2000)

    def column(nm: str) -> np.ndarray:
        return np.asarray(ds.var(nm).values[mask], dtype=np.float64)

    design = dz.build_fixed(fixed, column, n, constant="noconstant" not in opts,
                            value_labels=_factor_labels(ds, fixed))
    y = column(depvar)
    keep = design.keep
    X = design.X[:, keep]
    k = X.shape[1]
    if n - k <= 0:
        raise StataError("insufficient observations", 2001)
    from hlmshell.engine import ols

    reg = ols.regress(y, X, constant=design.constant)
    kf = len(design.columns)
    b = np.zeros(kf)
    Vf = np.zeros((kf, kf))
    kidx = np.flatnonzero(keep)
    b[kidx] = reg.beta
    Vf[np.ix_(kidx, kidx)] = reg.V
    scalars = {"N": n, "df_m": reg.df_m, "df_r": reg.df_r, "F": reg.F, "r2": reg.r2,
               "r2_a": reg.r2_a, "rmse": reg.rmse, "mss": reg.mss, "rss": reg.rss, "ll": reg.ll,
               "ll_0": reg.ll_0, "rank": k, "k": kf}
    macros = {"cmd": "regress", "cmdline": cmd.text, "depvar": depvar, "title": "Linear regression",
              "model": "ols", "vce": "ols", "properties": "b V", "predict": "regres_p",
              "estat_cmd": "regress_estat"}
    res = EstimationResults(cmd="regress", names=[(depvar, nm) for nm in design.stata_names], b=b, V=Vf,
                            omitted=design.omitted, k_f=kf, scalars=scalars, macros=macros,
                            sample=mask.copy(),
                            model={"design": design, "y": y, "X": X, "pF": reg.pF, "tss": reg.tss,
                                   "status": [design.status(j) for j in range(kf)]})
    for note in design.notes:
        session.out.line(note)
    session.post_estimation(res)
    display_regress(session, res, level, "baselevels" in opts or "allbaselevels" in opts,
                    header="noheader" not in opts, table="notable" not in opts)


def display_regress(session, res: EstimationResults, level: float, baselevels: bool, *,
                    header: bool = True, table: bool = True) -> None:
    sc = res.scalars
    m = res.model
    out = session.out
    if header:
        out.line("")
        for line in ro.anova_lines(mss=sc["mss"], rss=sc["rss"], df_m=int(sc["df_m"]), df_r=int(sc["df_r"]),
                                   n=int(sc["N"]), F=sc["F"], pF=m["pF"], r2=sc["r2"], r2_a=sc["r2_a"],
                                   rmse=sc["rmse"]):
            out.line(line)
    if table:
        out.line("")
        groups = dz.display_groups(m["design"], baselevels=baselevels)
        se = np.sqrt(np.clip(np.diag(res.V), 0, None))
        for line in coef_table(res.depvar, groups, res.b, se, stat="t", df_r=sc["df_r"], level=level):
            out.line(line)


# --- replay for other commands (estimates replay, estimates restore + replay) -----------------------
def replay_results(session, res: EstimationResults, options: list[Option] | None = None) -> None:
    """Print stored `mixed` or `regress` results as the command itself would replay them."""
    options = list(options or [])
    if res.cmd == "mixed":
        opts = MIXED_OPTIONS.parse(options)
        o = _display_opts(session, opts)
        o.reml = res.macros.get("method") == "REML"
        display_mixed(session, res, o)
    elif res.cmd == "regress":
        opts = REGRESS_OPTIONS.parse(options)
        display_regress(session, res, level_option(opts.get("level"), session),
                        "baselevels" in opts or "allbaselevels" in opts)
    else:
        raise StataError("last estimates not found", 301)


replay = replay_results   # the name `estimates replay` looks for
