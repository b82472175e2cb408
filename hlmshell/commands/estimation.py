"""`mixed` (alias `xtmixed`) and `regress`: estimation sample, design, fit, e() and output.

Both replay their last results when typed without a model (`mixed`, `regress, level(90)`).
Everything that can fail (names, types, options, empty sample) is checked before the session
changes; the fit itself only reads the data.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from hlmshell import distributions as dist
from hlmshell.commands import mixed_dfmethod as mdf
from hlmshell.commands import mixed_residuals as mres
from hlmshell.commands import mixed_weights as mwt
from hlmshell.commands._postest import confidence_level, nonnegative_int
from hlmshell.commands._toolkit import sample_columns
from hlmshell.commands.model_terms import (
    engine_terms,
    factor_labels,
    resolve_terms,
    resolve_var,
)
from hlmshell.engine import design as dz
from hlmshell.engine import lmm, marginal, ols, sandwich
from hlmshell.engine.types import LmmFit, MixedModel
from hlmshell.engine.vcparams import normalize_structure
from hlmshell.errors import StataError, syntax_error
from hlmshell.output import mixed_output as mo
from hlmshell.output import regress_output as ro
from hlmshell.output.coeftable import (
    Group,
    Row,
    cluster_note,
    coef_table,
    equation_table,
    groups_from_names,
)
from hlmshell.output.labels import display_groups
from hlmshell.registry import Args, Opt, abbrev_lookup, bind_command, command
from hlmshell.results import EstimationResults
from hlmshell.results.mixed import MixedResults
from hlmshell.results.regress import RegressResults
from hlmshell.results.regress import from_fit as regress_from_fit
from hlmshell.syntax.ast import Command, FVTerm, MixedSpec, Option
from hlmshell.syntax.evaluate import marksample
from hlmshell.syntax.parser import parse_mixed, parse_options

# emiterate() is accepted for compatibility: the engine starts from its own values, no EM.
# Options are typed by the specs on the registration lines below (bind_command; help and Tab read
# the same specs); handlers read typed values only.
COVARIANCES = (("identity", "id"), ("independent", "ind"), ("exchangeable", "ex"),
               ("unstructured", "un"))


# --- shared helpers ---------------------------------------------------------------------------------
def _term_vars(terms: list[FVTerm]) -> list[str]:
    out = []
    for t in terms:
        for p in t.parts:
            if p.name not in out:
                out.append(p.name)
    return out


def _check_numeric(ds, names: list[str]) -> None:
    for nm in names:
        if ds.var(nm).is_string:
            raise StataError("type mismatch", 109)


# --- vce(): robust and cluster-robust variance estimators -----------------------------------------
_REGRESS_VCE = (("ols", "ols"), ("robust", "r"), ("cluster", "cl"), ("hc2", "hc2"), ("hc3", "hc3"))
_MIXED_VCE = (("oim", "oim"), ("robust", "r"), ("cluster", "cl"))
_VCETYPE = {"robust": "Robust", "cluster": "Robust", "hc2": "Robust HC2", "hc3": "Robust HC3"}


@dataclass
class VceRequest:
    """What vce(), robust and cluster() asked for: kind '' (the default), 'ols'/'oim',
    'robust', 'cluster', 'hc2' or 'hc3', and the cluster variable (unabbreviated)."""

    kind: str = ""
    clustvar: str | None = None

    @property
    def robust(self) -> bool:
        return self.kind in ("robust", "cluster", "hc2", "hc3")


def _one_cluster_var(ds, words: list[str]) -> str:
    names = [v for w in words for v in resolve_var(ds, w)]     # `variable x not found` r(111)
    if len(names) != 1:
        raise StataError("invalid vce() option", 198)
    return names[0]


def parse_vce(ds, opts: Args, table) -> VceRequest:
    """vce(vcetype [clustvar]) with the old `robust` and `cluster(varname)` options, checked as
    Stata's _vce_parse checks them (its messages and return codes)."""
    cluster = opts.raw("cluster") if "cluster" in opts else None
    if cluster is not None and not cluster.strip():
        raise syntax_error()
    if "vce" not in opts:
        if cluster is not None:
            return VceRequest("cluster", _one_cluster_var(ds, cluster.split()))
        return VceRequest("robust" if opts.robust else "")
    words = (opts.raw("vce") or "").replace(",", " ").split()
    name = words[0] if words else ""
    kind = abbrev_lookup(name.lower(), table) if name else None
    if kind is None:
        raise StataError(f"vcetype '{name}' not allowed", 198)
    if opts.robust and kind not in ("robust", "cluster", "oim"):
        raise StataError(f"options robust and vce({kind}) may not be combined", 198)
    if kind == "cluster":
        if len(words) < 2:
            raise StataError("invalid vce(cluster) option", 198)
        clustvar = _one_cluster_var(ds, words[1:])
        if cluster is not None and _one_cluster_var(ds, cluster.split()) != clustvar:
            raise StataError("options cluster() and vce(cluster) are in conflict", 100)
        return VceRequest(kind, clustvar)
    if cluster is not None and kind != "oim":
        raise StataError(f"options cluster() and vce({kind}) may not be combined", 198)
    if len(words) > 1:
        raise StataError("invalid vce() option", 198)
    return VceRequest(kind)


def _replay_target(session, cmdname: str) -> EstimationResults:
    """The active results that `cmdname` typed alone replays (`regress` also shows anova's
    coefficients, as Stata does)."""
    res = session.e
    if res is None or (res.cmd != cmdname and not (cmdname == "regress" and res.cmd == "anova")):
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
        if spec is None and cmd.body.strip().startswith(",") and not cmd.options \
                and not cmd.formats:            # cformat() alone was taken out by the parser
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
    nogroup: bool = False
    nostderr: bool = False
    estmetric: bool = False
    nolog: bool = False
    iterate: int = 300
    tolerance: float = 1e-6
    ltolerance: float = 1e-7
    baselevels: bool = False
    emiterate: int = 20
    fixed_nocons: bool = False
    level_opts: list[tuple[bool, str | None]] = field(default_factory=list)  # (nocons, cov)
    vce: VceRequest = field(default_factory=lambda: VceRequest())
    residuals: mres.ResidualRequest | None = None
    dfmethod: mdf.DfRequest | None = None
    pwscale: str | None = None   # pwscale(size|effective|gk), unabbreviated
    pwscale_typed: str | None = None   # as typed (e(pwscale))
    level_weights: list = field(default_factory=list)   # (kind, exp) of fweight()/pweight()
    xtmixed: bool = False     # typed as xtmixed: REML and standard deviations by default
    dftable: str = "default"  # dfmethod()'s fixed-effects table: default | ci | pvalue
    rows: dict = field(default_factory=dict)   # vsquish/noomitted/noemptycells (me_table_view)


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
    o.nogroup, o.nostderr, o.estmetric = opts.nogroup, opts.nostderr, opts.estmetric
    o.nolog = opts.nolog and not opts.log
    o.baselevels = opts.baselevels or opts.allbaselevels
    o.iterate = nonnegative_int(opts, "iterate")
    o.tolerance, o.ltolerance = opts.tolerance, opts.ltolerance
    o.emiterate = nonnegative_int(opts, "emiterate")
    o.dftable = _dftable(opts)
    o.rows = {k: True for k in ("vsquish", "noomitted", "noemptycells") if getattr(opts, k)}
    return o


def _dftable(opts: Args) -> str:
    """dftable(default|ci|pvalue): with dfmethod(), the DF column beside the intervals (ci) or
    beside t and its p-value (pvalue); the default table shows neither DF."""
    text = (opts.raw("dftable") or "default").strip().lower()
    for full in ("default", "ci", "pvalue"):
        if text and full.startswith(text) and (len(text) >= 2 or full == "ci"):
            return full
    raise StataError(f"option dftable() invalid; {text} not allowed", 198)


def _option_name(opt: Option) -> str:
    """The full name of one typed option of `mixed` (`option x not allowed` otherwise)."""
    return next(iter(bind_command("mixed", [opt]).given))


def _level_options(lev, glob: list[Option], level_weights: list) -> tuple[bool, str | None]:
    """(noconstant, covariance) of one random-effects equation; fweight()/pweight() go to
    `level_weights`, its other options (Stata takes estimation options anywhere) to `glob`."""
    nocons, cov = False, None
    for opt in lev.options:
        full = _option_name(opt)
        if full == "noconstant":
            nocons = True
        elif full == "covariance":
            cov = _norm_cov(bind_command("mixed", [opt]))
        elif full in ("fweight", "pweight"):
            level_weights.append(mwt.parse_level_weight(bind_command("mixed", [opt]), full))
        else:
            glob.append(opt)
    return nocons, cov


def _xtmixed_defaults(o: MixedOptions, opts: Args, weighted: bool = False) -> None:
    """xtmixed as Stata's xtmixed before version 13 (published xtmixed output): REML unless
    `mle` (ML with vce(robust) or weights, as the Stata 13+ xtmixed that allows them),
    standard deviations unless `variance`."""
    o.xtmixed = True
    if not opts.mle and not o.vce.robust and not weighted:
        o.reml = True
    o.stddev = not opts.variance


def _mixed_options(session, spec: MixedSpec, cmd: Command) -> MixedOptions:
    """Sort level options (covariance, noconstant) from estimation options."""
    glob: list[Option] = []
    o = MixedOptions()
    for opt in spec.fixed_options:
        full = _option_name(opt)
        if full == "noconstant":
            o.fixed_nocons = True
        elif full in ("covariance", "fweight", "pweight"):    # random-effects options
            raise StataError(f"option {full}() not allowed", 198)
        else:
            glob.append(opt)
    o.level_opts = [_level_options(lev, glob, o.level_weights) for lev in spec.levels]
    glob += [op for op in cmd.options if op not in spec.fixed_options]
    opts = bind_command("mixed", glob)
    if opts.reml and opts.mle:
        raise StataError("options reml and mle may not be combined", 198)
    o = _display_opts(session, opts, o)
    o.vce = parse_vce(session.data, opts, _MIXED_VCE)
    o.residuals = mres.parse_residuals(session.data, opts.raw("residuals")) \
        if "residuals" in opts else None
    o.dfmethod = mdf.parse_dfmethod(opts.raw("dfmethod")) if "dfmethod" in opts else None
    o.pwscale = mwt.parse_pwscale(opts.raw("pwscale")) if "pwscale" in opts else None
    o.pwscale_typed = (opts.raw("pwscale") or "").strip() if o.pwscale else None
    if (cmd.typed or "").lower() == "xtmixed":
        _xtmixed_defaults(o, opts, cmd.weight is not None or bool(o.level_weights))
    return o


@dataclass
class MixedData:
    """What `mixed` fits: the estimation sample and the model's arrays."""

    depvar: str
    design: dz.Design
    blocks: list
    y: np.ndarray
    mask: np.ndarray
    value_labels: dict
    clusters: np.ndarray | None = None     # vce(cluster var): its values (codes) on the sample
    resid: marginal.ResidualData | None = None   # residuals(): the structure and its codes
    resid_labels: list[str] = field(default_factory=list)   # by() categories as shown
    weights: np.ndarray | None = None      # [fweight|pweight = exp] of the sample rows
    wkind: str | None = None
    group_weights: np.ndarray | None = None   # fweight()/pweight() per group of the level


def _resolve_fixed_part(ds, spec: MixedSpec, fixed_raw: list[FVTerm]):
    """Depvar and fixed terms unabbreviated and checked numeric (shared by mixed and regress)."""
    dep = resolve_var(ds, spec.depvar)
    if len(dep) != 1:
        raise syntax_error()
    depvar = dep[0]
    if ds.var(depvar).is_string:
        raise StataError("type mismatch", 109)
    fixed = resolve_terms(ds, fixed_raw)
    fvars = _term_vars(fixed)
    _check_numeric(ds, fvars)
    return depvar, fixed, fvars


def _one_var(ds, name: str) -> str:
    vs = resolve_var(ds, name)
    if len(vs) != 1:
        raise syntax_error()
    return vs[0]


def _random_spec(ds, lev, nocons: bool, cov: str | None) -> tuple[dz.RandomSpec, list[str]]:
    """One `|| level: terms, options` resolved and checked, and the variables it reads."""
    g = "_all" if lev.group == "_all" else _one_var(ds, lev.group)
    terms = resolve_terms(ds, list(lev.terms))
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


def _prepare_mixed(session, cmd: Command, spec: MixedSpec, fixed_raw: list[FVTerm],
                   o: MixedOptions) -> MixedData:
    ds = session.data
    if cmd.weight is not None and cmd.weight.kind not in mwt.KINDS:
        raise StataError(f"{cmd.weight.kind}s not allowed", 101)
    depvar, fixed, fvars = _resolve_fixed_part(ds, spec, fixed_raw)
    rspecs: list[dz.RandomSpec] = []
    rvars: list[str] = []
    for lev, (nocons, cov) in zip(spec.levels, o.level_opts):
        rs, tv = _random_spec(ds, lev, nocons, cov)
        rspecs.append(rs)
        rvars += [v for v in tv if v not in rvars]
    groups = [rs.group for rs in rspecs if rs.group != "_all"]
    if o.vce.clustvar:
        groups.append(o.vce.clustvar)     # Stata's markout, strok
    rvars += o.residuals.numeric_vars() if o.residuals is not None else []
    groups += o.residuals.group_vars() if o.residuals is not None else []
    numeric = [depvar] + [v for v in fvars + rvars if v != depvar]
    numeric += [g for g in groups if not ds.var(g).is_string and g not in numeric]
    mask = _mixed_sample(session, cmd, numeric, [g for g in groups if ds.var(g).is_string])
    mask, w, wkind = mwt.weighted_sample(session, cmd, mask, o.level_weights)
    n = int(mask.sum())
    column = sample_columns(ds, mask)
    design = dz.build_fixed(engine_terms(fixed), column, n, constant=not o.fixed_nocons)
    blocks = dz.build_random(rspecs, column, n, allow_empty=o.residuals is not None) \
        if rspecs else []
    for b in blocks:
        if len(b.names) == 1 and b.covariance != "identity":
            b.covariance = "identity"
    clusters = column(o.vce.clustvar) if o.vce.clustvar else None
    data = MixedData(depvar, design, blocks, column(depvar), mask, factor_labels(ds, fixed),
                     clusters, weights=w, wkind=wkind)
    data.group_weights = mwt.group_weights(session, data, o.level_weights)
    if o.residuals is not None:
        data.resid, data.resid_labels = mres.resolve(o.residuals, blocks, column,
                                                     mres.by_value_labels(ds, o.residuals))
    return data


def _check_robust(data: MixedData, o: MixedOptions) -> None:
    """Stata's conditions on vce(robust | cluster) for mixed, in its order: the top-level
    groups nested within the clusters, a top level other than _all, ML."""
    top = min(data.blocks, key=lambda b: b.depth) if data.blocks else None
    if data.clusters is not None and top is not None and top.label != "_all":
        codes = np.asarray(top.group, dtype=np.int64)
        first = np.full(int(codes.max()) + 1, np.nan)
        first[codes] = data.clusters
        if np.any(first[codes] != data.clusters):
            raise StataError(f"highest-level groups are not nested within {o.vce.clustvar}", 459)
    if top is not None and top.label == "_all":
        raise StataError("robust variances and pweights not supported when highest-level group "
                         "encompasses all the data", 498)
    if o.reml:
        raise StataError("REML not supported with robust variance estimation", 198)


def _n_re_params(blocks) -> int:
    k = 0
    for b in blocks:
        q = len(b.names)
        if q == 0:
            continue
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
        line = mo.iteration_line(it, ll, o.reml)
        if o.vce.robust:
            line = line.replace("log likelihood =", "log pseudolikelihood =", 1)
        session.out.line(line)

    return cb


# rule "mixed": the parser fills cmd.args (MixedSpec) once; a bare `mixed` or `mixed, stddev`
# is None (a replay) with the options on cmd.options
@command("mixed", abbrev="mixed", aliases=("xtmixed",), rule="mixed",
          family="Estimation", body="fvvarlist", qualifiers="if in weight", desc="multilevel mixed-effects linear regression",
          example="mixed mathach ses || id: ses, covariance(unstructured) reml",
          options=(Opt("reml", desc="fit by restricted maximum likelihood"),
                   Opt("mle", "ml", desc="fit by maximum likelihood; the default"),
                   Opt("covariance", "cov", "name", "independent", "variance-covariance structure of the random effects: identity, independent, exchangeable, unstructured"),
                   Opt("noconstant", "nocon", desc="suppress the constant term (fixed part or a random-effects equation)"),
                   Opt("fweight", "fw", "string", None, "frequency weights at the second level of a two-level model"),
                   Opt("pweight", "pw", "string", None, "sampling weights at the second level of a two-level model"),
                   Opt("variance", "var", desc="show random-effects parameters as variances and covariances; the default"),
                   Opt("stddeviations", "stddev", desc="show random-effects parameters as standard deviations and correlations"),
                   Opt("level", "l", "real", 95, "set confidence level; default is level(95)"),
                   Opt("noheader", desc="suppress the output header"),
                   Opt("nofetable", desc="suppress the fixed-effects table"),
                   Opt("noretable", desc="suppress the random-effects table"),
                   Opt("nolrtest", "nolr", desc="do not perform the LR test comparing with linear regression"),
                   Opt("nogroup", "nogr", desc="suppress the group summary in the header"),
                   Opt("nostderr", desc="do not show standard errors of the random-effects parameters"),
                   Opt("vsquish", desc="suppress the blank separator rows of the fixed-effects table"),
                   Opt("noomitted", desc="do not display omitted collinear variables"),
                   Opt("noemptycells", desc="do not display empty interaction cells"),
                   Opt("estmetric", "estm", desc="show the parameters in their estimation metric (e(b))"),
                   Opt("dftable", "dftable", "string", None, "with dfmethod(): default, ci or pvalue (a DF column)"),
                   Opt("nolog", desc="do not show the iteration log"),
                   Opt("log", desc="show the iteration log; the default"),
                   Opt("iterate", "iter", "int", 300, "maximum number of iterations"),
                   Opt("tolerance", "tol", "real", 1e-6, "tolerance for the coefficient vector"),
                   Opt("ltolerance", "ltol", "real", 1e-7, "tolerance for the log likelihood"),
                   Opt("emiterate", "", "int", 20, "accepted for compatibility (no EM iterations)"),
                   # maximization controls Stata's do-files pass: hlmshell's optimizer reaches
                   # the same optimum without them, so they are accepted and change nothing
                   Opt("emtolerance", "", "real", 1e-10, "accepted for compatibility"),
                   Opt("emonly", desc="accepted for compatibility (the optimum is reached by Newton steps)"),
                   Opt("emlog", desc="accepted for compatibility"),
                   Opt("emdots", desc="accepted for compatibility"),
                   Opt("difficult", desc="accepted for compatibility"),
                   Opt("technique", "tech", "string", None, "accepted for compatibility"),
                   Opt("nrtolerance", "nrtol", "real", 1e-5, "accepted for compatibility"),
                   Opt("nonrtolerance", desc="accepted for compatibility"),
                   Opt("matsqrt", desc="accepted for compatibility (the parametrization of the search)"),
                   Opt("matlog", desc="accepted for compatibility (the parametrization of the search)"),
                   Opt("trace", desc="accepted for compatibility"),
                   Opt("gradient", desc="accepted for compatibility"),
                   Opt("showstep", desc="accepted for compatibility"),
                   Opt("hessian", desc="accepted for compatibility"),
                   Opt("showtolerance", desc="accepted for compatibility"),
                   Opt("baselevels", "base", desc="report base levels of factor variables"),
                   Opt("allbaselevels", "allbase", desc="display all base levels"),
                   Opt("vce", "vce", "string", None, "vcetype: oim, robust or cluster clustvar (ML only)"),
                   Opt("robust", "r", desc="old syntax of vce(robust)"),
                   Opt("cluster", "cl", "string", None, "old syntax of vce(cluster clustvar)"),
                   Opt("residuals", "res", "string", None, "structure of the residual errors: independent, exchangeable, ar #, ma #, unstructured, banded #, toeplitz #, exponential; t(varname) by(varname)"),
                   Opt("dfmethod", "dfm", "string", None, "small-sample degrees of freedom: residual, repeated, anova, satterthwaite [, eim|oim], kroger [, eim|oim]"),
                   Opt("pwscale", "pwscale", "string", None, "scaling of sampling weights in two-level models: size, effective or gk")))
def mixed_cmd(session, cmd: Command) -> None:
    spec, fixed_raw = _split_spec(session, cmd)
    if spec is None:
        _replay_mixed(session, cmd)
        return
    from hlmshell.commands.vce_resample import vce_resampling
    if vce_resampling(session, cmd):        # vce(bootstrap) / vce(jackknife): the prefix
        return
    o = _mixed_options(session, spec, cmd)
    data = _prepare_mixed(session, cmd, spec, fixed_raw, o)
    mwt.check_options(data.wkind, o, data.weights is not None)
    mwt.apply_pwscale(data, o.pwscale)
    if o.vce.robust:
        _check_robust(data, o)
    if o.dfmethod is not None:
        mdf.check(o.dfmethod, reml=o.reml, robust=o.vce.robust, blocks=data.blocks,
                  n_fixed=data.design.X_keep.shape[1])
    for note in data.design.notes:
        session.out.line(note)
    fit, ll_c = _fit_mixed(session, data, o)
    robust = _robust_vce(data, fit) if o.vce.robust else None
    res = _mixed_results(cmd, data, fit, o, ll_c, robust)
    if o.dfmethod is not None:
        _post_dfmethod(res, data, fit, o.dfmethod)
    session.post_estimation(res)
    display_mixed(session, res, o)


def _post_dfmethod(res: MixedResults, data: MixedData, fit: LmmFit, req) -> None:
    """The small-sample DFs of dfmethod() into e() (a failure is Stata's r(430))."""
    d = data.design
    keep = np.flatnonzero(d.keep)
    names = [d.stata_names[j] for j in keep]
    try:
        dfr = mdf.compute(req, data.y, d.X_keep, data.blocks, fit, names)
    except (np.linalg.LinAlgError, ValueError, FloatingPointError):
        raise StataError("could not compute the degrees of freedom", 430) from None
    mdf.post(res, dfr, keep, len(d.stata_names))


def _robust_vce(data: MixedData, fit: LmmFit) -> sandwich.RobustVCE:
    """The sandwich over the top-level groups (or the clusters of vce(cluster)); for the
    linear model, over the observations (or the clusters)."""
    Xk = data.design.X_keep
    try:
        if data.blocks:
            return sandwich.lmm_robust(data.y, Xk, data.blocks, fit, data.clusters, data.weights,
                                       data.group_weights, data.wkind == "fweight")
        if data.weights is not None:
            raise StataError("weights with vce(robust) need a random-effects equation", 198)
        return sandwich.linear_robust(data.y, Xk, data.clusters)
    except (np.linalg.LinAlgError, ValueError, FloatingPointError):
        raise StataError("error calculating robust variance", 430) from None


_MIXED_REPLAY_OPTIONS = ("variance", "stddeviations", "level", "noheader", "nofetable", "noretable",
                         "nolrtest", "baselevels", "allbaselevels", "nogroup", "nostderr",
                         "estmetric", "dftable", "vsquish", "noomitted", "noemptycells")


def _replay_mixed(session, cmd: Command) -> None:
    """`mixed` or `mixed, options` alone: show the active `mixed` results again (`xtmixed`
    alone: the active `xtmixed` results)."""
    res = _replay_target(session, "xtmixed" if (cmd.typed or "").lower() == "xtmixed" else "mixed")
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
        if data.resid is not None:
            fit = marginal.fit_marginal(data.y, Xk, data.blocks, data.resid, reml=o.reml,
                                        maxiter=o.iterate, callback=_iteration_printer(session, o))
        elif data.group_weights is not None:
            from hlmshell.engine import lmm_group_weights
            fit = lmm_group_weights.fit(data.y, Xk, data.blocks[0], data.weights,
                                        data.group_weights, reml=o.reml, maxiter=o.iterate,
                                        callback=_iteration_printer(session, o))
        elif data.blocks:
            fit = lmm.fit_lmm(data.y, Xk, data.blocks, reml=o.reml, maxiter=o.iterate,
                              tol=o.tolerance, ltol=o.ltolerance,
                              callback=_iteration_printer(session, o), weights=data.weights)
        elif data.weights is not None:
            fit = mwt.fit_linear(data.y, Xk, data.weights, o.reml, _iteration_printer(session, o))
        else:
            fit = _fit_linear(data.y, Xk, o.reml, _iteration_printer(session, o))
    except (np.linalg.LinAlgError, ValueError, FloatingPointError):
        raise _numeric_failure() from None
    except MemoryError:
        raise StataError("insufficient memory: the outermost groups are too large for a "
                         "residual structure", 909) from None
    if not fit.converged:
        # as Stata's ml: results are still posted and shown, flagged by e(converged) = 0
        session.out.line("convergence not achieved")
    if not o.nolog:
        session.out.line("")
        session.out.line("Computing standard errors ...")
    ll_lin = fit.extra.get("ll_linear") if fit.extra else None
    if ll_lin is None and (data.weights is not None or data.group_weights is not None):
        ll_lin = mwt.weighted_linear_ll(data.y, Xk, mwt.row_weights(data), o.reml)
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
    rs = fit.extra.get("residual") if fit.extra else None
    df_c = _n_re_params(blocks) + (rs.n_params if rs is not None else 0)
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
        "k_res": _k_res(fit), "df_m": wdf, "chi2": wchi2 if wchi2 is not None else float("nan"),
        "p": wp if wp is not None else float("nan"), "rank": int(d.keep.sum()) + kv,
        "ll_c": ll_c, "chi2_c": chi2_c, "df_c": df_c, "p_c": p_c,
        "converged": 1.0 if fit.converged else 0.0, "ic": fit.iterations,
        "nrgroups": len(res.blocks),
    }


def _k_res(fit: LmmFit) -> int:
    """e(k_res): the residual structure's parameters (0 for sigma^2 I errors)."""
    rs = fit.extra.get("residual") if fit.extra else None
    return rs.n_params if rs is not None else 0


def _residual_macros(res: MixedResults, o: MixedOptions, data: MixedData) -> None:
    """e(rstructure), e(rstructlab), e(timevar), e(rbyvar), e(rglabels), e(res_order)."""
    r = o.residuals
    if r is None:
        res.macros["rstructure"] = "independent"
        return
    rs = data.resid.structure
    res.macros["rstructure"] = {"ar": "ar", "ma": "ma"}.get(r.kind, r.kind)
    res.macros["rstructlab"] = rs.title()
    if r.tvar:
        res.macros["timevar"] = r.tvar
    if r.byvar:
        res.macros["rbyvar"] = r.byvar
        res.macros["rglabels"] = " ".join(data.resid_labels)
    if r.kind == "ar":
        res.scalars["ar_p"] = rs.order
    elif r.kind == "ma":
        res.scalars["ma_q"] = rs.order
    elif r.kind in ("banded", "toeplitz"):
        res.scalars["res_order"] = rs.order


def _mixed_macros(cmd: Command, depvar: str, blocks, reml: bool, name: str = "mixed") -> dict:
    method = "REML" if reml else "ML"
    vartypes = " ".join(mo.COV_TITLES.get(bk.covariance, bk.covariance).replace(" ", "")
                        for bk in blocks)
    return {
        "cmd": name, "cmdline": cmd.text, "depvar": depvar, "title": mo.title(method),
        "method": method, "ivars": " ".join(bk.label for bk in blocks),
        "redim": " ".join(str(len(bk.names)) for bk in blocks),
        "vartypes": vartypes, "revars": " ".join(" ".join(bk.names) for bk in blocks),
        "chi2type": "Wald", "vce": "oim", "optmetric": "matsqrt", "properties": "b V",
        "predict": f"{name}_p", "estat_cmd": f"{name}_estat", "model": "lmm",
    }


def _robust_full(V_rob: np.ndarray, d: dz.Design, kv: int) -> np.ndarray:
    """The sandwich (estimated fixed columns, then the variance parameters) as e(V): zero rows
    and columns for the omitted fixed columns."""
    kf = len(d.columns)
    idx = np.concatenate([np.flatnonzero(d.keep), kf + np.arange(kv)])
    V = np.zeros((kf + kv, kf + kv))
    V[np.ix_(idx, idx)] = V_rob
    return V


def _vce_results(res: MixedResults, o: MixedOptions, robust: sandwich.RobustVCE | None,
                 V_model: np.ndarray) -> None:
    """e() of vce(): Stata reports no LR test against the linear model once vce() is typed
    (even vce(oim)); a robust VCE adds e(vce) cluster (robust for the linear model without
    clusters), e(vcetype), e(clustvar), e(N_clust), e(V_modelbased) and the title of a
    pseudolikelihood."""
    for k in ("ll_c", "chi2_c", "df_c", "p_c"):
        res.scalars.pop(k, None)
    res.macros["vce"] = o.vce.kind
    if robust is None:
        return
    blocks = res.blocks
    clustvar = o.vce.clustvar or (min(blocks, key=lambda b: b.depth).label if blocks else None)
    res.macros["vce"] = "cluster" if clustvar else "robust"
    res.macros["vcetype"] = "Robust"
    res.macros["title"] = "Mixed-effects regression"
    if clustvar:
        res.macros["clustvar"] = clustvar
        res.scalars["N_clust"] = robust.n_clusters
    res.matrices["V_modelbased"] = V_model


def _group_matrices(groups: list[mo.LevelInfo]) -> dict:
    """e(N_g), e(g_min), e(g_avg), e(g_max): one column per random-effects equation."""
    return {
        "N_g": np.array([[L.n_groups for L in groups]], dtype=float),
        "g_min": np.array([[L.g_min for L in groups]], dtype=float),
        "g_avg": np.array([[L.g_avg for L in groups]], dtype=float),
        "g_max": np.array([[L.g_max for L in groups]], dtype=float),
    }


def _mixed_results(cmd: Command, data: MixedData, fit: LmmFit, o: MixedOptions,
                   ll_c: float, robust: sandwich.RobustVCE | None = None) -> MixedResults:
    d = data.design
    names_f, b, V, omitted = _coefficients(d, fit)
    V_model = V
    if robust is not None:
        V = _robust_full(robust.V, d, len(fit.vc_names))
    model = MixedModel(y=data.y, X=d.X_keep, blocks=data.blocks, fit=fit, fixed_names=names_f,
                       omitted=d.omitted, weights=data.weights, group_weights=data.group_weights)
    name = "xtmixed" if o.xtmixed else "mixed"
    res = MixedResults(cmd=name, names=[(data.depvar, nm) for nm in names_f] + list(fit.vc_names),
                       b=b, V=V, omitted=omitted, k_f=len(names_f), sample=data.mask.copy(),
                       model=model, design=d, value_labels=data.value_labels)
    res.scalars = _mixed_scalars(res, fit, ll_c)
    res.macros = _mixed_macros(cmd, data.depvar, data.blocks, o.reml, name)
    mwt.post(res, cmd, data.wkind, mwt.row_weights(data), o.level_weights,
             o.pwscale_typed)                       # before the group sizes
    res.matrices = _group_matrices(res.block_groups)
    _residual_macros(res, o, data)
    if o.vce.kind:
        _vce_results(res, o, robust, V_model)
    return res


def _fixed_groups(res, baselevels: bool, fvlabel: bool = True):
    """The coefficient table's groups: from the design when the results carry one, else
    rebuilt from the e(b) names. fvlabel=False (`nofvlabel`): levels by number, not by their
    value labels."""
    value_labels = getattr(res, "value_labels", None) if fvlabel else None
    if getattr(res, "design", None) is None:
        names = [nm for _, nm in res.names[: res.k_f]]
        return groups_from_names(names, baselevels=baselevels, value_labels=value_labels)
    return display_groups(res.design, baselevels=baselevels, value_labels=value_labels)


def display_mixed(session, res: EstimationResults, o: MixedOptions) -> None:
    """The full `mixed` output from stored results (used by estimation and by replay)."""
    res = MixedResults.of(res)
    fit = res.model.fit
    out = session.out
    vcetype = res.macros.get("vcetype") or None
    if not o.noheader:
        _mixed_header(out, res, fit, vcetype, o.nogroup)
    if o.estmetric:
        out.line("")
        for line in _estmetric_lines(res, o):
            out.line(line)
    if not o.nofetable and not o.estmetric:
        out.line("")
        from types import SimpleNamespace

        from hlmshell.commands.me_table_view import table_view
        shown = SimpleNamespace(baselevels=o.baselevels, **o.rows)
        for line in table_view(res.fe_table_lines(o.level, o.baselevels, o.dftable), res, shown):
            out.line(line)
    if not o.noretable and not o.estmetric:
        out.line("")
        for line in _re_lines(res, o):
            out.line(line)
    if not o.nolrtest and res.scalars.get("df_c"):
        if o.noretable and not o.estmetric:
            out.line("")
        for line in mo.lr_lines(res.scalars["chi2_c"], int(res.scalars["df_c"]), res.scalars["p_c"]):
            out.line(line)
    if fit.vc_V is None:
        out.line(mo.SE_WARNING)


def _mixed_header(out, res, fit, vcetype, nogroup: bool) -> None:
    """The header; `nogroup` leaves out the group summary (number of groups, sizes)."""
    wdf, wchi2, wp = res.wald
    out.line("")
    lines = mo.header_lines(reml=res.macros.get("method") == "REML",
                            n_obs=int(res.scalars["N"]), levels=[] if nogroup else res.block_groups,
                            wald_df=wdf, wald_chi2=wchi2, wald_p=wp, ll=fit.ll,
                            df=res.df_header)
    if nogroup and res.block_groups:
        lines = lines[:1] + [""] + lines[1:]
    for line in (_pseudo_header(lines) if vcetype else lines):
        out.line(line)


def _re_lines(res: MixedResults, o: MixedOptions) -> list[str]:
    """The random-effects table; `nostderr` shows the estimates only."""
    metric = "sd" if o.stddev else "variance"
    if not o.nostderr or res.residual_section(metric, o.level) is not None:
        return res.re_table_lines(metric, o.level)
    levels, resid = res.re_table(metric, o.level)
    bare = lambda r: replace(r, se=None, lo=None, hi=None)
    return mo.re_table_lines([(h, [bare(r) for r in rows]) for h, rows in levels], [bare(resid)],
                             o.level)


def _estmetric_lines(res: MixedResults, o: MixedOptions) -> list[str]:
    """`estmetric`: one table of e(b) as estimated, an equation per block (the fixed part under
    the dependent variable, then lns1_1_1, atr1_1_1_2, ..., lnsig_e) as Stata shows it."""
    kf = res.k_f
    sections = [(res.depvar, _fixed_groups(res, o.baselevels))]
    for j in range(kf, len(res.names)):
        eq, nm = res.names[j]
        if not sections or sections[-1][0] != eq or j == kf:
            sections.append((eq, []))
        sections[-1][1].append(Group(None, [Row(nm, j, None)]))
    return equation_table(res.depvar, sections, res.b, res.se, stat="z", level=o.level)


def _pseudo_header(lines: list[str]) -> list[str]:
    """The header of a fit with a robust VCE: Stata's title `Mixed-effects regression` and
    `Log pseudolikelihood` (the right-hand column unchanged)."""
    out = []
    for ln in lines:
        left, right = ln[:48], ln[48:]
        if left.startswith("Mixed-effects "):
            left = "Mixed-effects regression"
        elif left.startswith("Log likelihood = "):
            left = "Log pseudolikelihood = " + left[len("Log likelihood = "):]
        out.append((left.rstrip().ljust(48) + right).rstrip() if right else left.rstrip())
    return out


# --- regress -----------------------------------------------------------------------------------------
@command("regress", abbrev="reg", rule="mixed",
          family="Estimation", body="fvvarlist", qualifiers="if in weight", desc="linear regression",
          example="regress mathach ses i.sector",
          options=(Opt("noconstant", "nocon", desc="suppress the constant term"),
                   Opt("level", "l", "real", 95, "set confidence level; default is level(95)"),
                   Opt("baselevels", "base", desc="report base levels of factor variables"),
                   Opt("allbaselevels", "allbase", desc="display all base levels"),
                   Opt("noheader", desc="suppress the output header"),
                   Opt("notable", desc="suppress the coefficient table"),
                   Opt("nofvlabel", desc="show factor-variable levels by number, not value label"),
                   Opt("beta", "b", desc="report standardized beta coefficients"),
                   Opt("vce", "vce", "string", None, "vcetype: ols, robust, cluster clustvar, hc2 or hc3"),
                   Opt("robust", "r", desc="old syntax of vce(robust)"),
                   Opt("cluster", "cl", "string", None, "old syntax of vce(cluster clustvar)")))
def regress_cmd(session, cmd: Command) -> None:
    spec, fixed_raw = _split_spec(session, cmd)
    if spec is None:
        res = _replay_target(session, "regress")
        if res.macros.get("prefix") == "svy":           # svy: regress replays as svy does
            from hlmshell.registry import resolve
            opts = " ".join(o.name + (f"({o.arg})" if o.arg is not None else "") for o in cmd.options)
            resolve("svy").handler(session, Command("svy", typed="svy", text="svy",
                                                    body=f", {opts}" if opts else ""))
            return
        from hlmshell.commands.vce_resample import replay_prefix
        if replay_prefix(session, res, cmd.options):       # after bootstrap/jackknife _b
            return
        opts = bind_command("regress", cmd.options)
        display_regress(session, res, confidence_level(session, opts),
                        opts.baselevels or opts.allbaselevels, header=True,
                        beta=_beta(session, res) if opts.beta else None, fvlabel=not opts.nofvlabel)
        return
    if spec.levels:
        raise syntax_error()
    from hlmshell.commands.vce_resample import vce_resampling
    if vce_resampling(session, cmd):        # vce(bootstrap) / vce(jackknife): the prefix
        return
    opts = bind_command("regress", list(spec.fixed_options) + [op for op in cmd.options
                                                            if op not in spec.fixed_options])
    level = confidence_level(session, opts)
    vce = parse_vce(session.data, opts, _REGRESS_VCE)
    if cmd.weight is not None:
        from hlmshell.commands import regress_weights
        depvar, fixed, fvars = _resolve_fixed_part(session.data, spec, fixed_raw)
        res = regress_weights.estimate(session, cmd, depvar, fixed, fvars, opts, vce)
    else:
        res = _regress(session, cmd, spec, fixed_raw, constant=not opts.noconstant, vce=vce)
    beta = _beta(session, res) if opts.beta else None
    for note in res.design.notes:
        session.out.line(note)
    session.post_estimation(res)
    display_regress(session, res, level, opts.baselevels or opts.allbaselevels,
                    header=not opts.noheader, table=not opts.notable, beta=beta,
                    fvlabel=not opts.nofvlabel)


def _beta(session, res: EstimationResults) -> np.ndarray:
    """Standardized coefficients b_j sd(x_j) / sd(y) on the estimation sample (`regress,
    beta`); missing for _cons, zero for base and omitted columns."""
    d = getattr(res, "design", None)
    if d is None or session.data is None or res.sample is None:
        raise StataError("beta not available", 198)
    try:
        y = session.data.var(res.depvar).values[res.sample].astype(float)
    except (StataError, KeyError, ValueError):
        raise StataError("beta not available", 198) from None
    sy = float(np.std(y))
    out = np.full(len(d.columns), np.nan)
    for j, c in enumerate(d.columns):
        if c.name != "_cons":
            sx = float(np.std(d.column(j)))
            out[j] = res.b[j] * sx / sy if sy > 0 else np.nan
    return out


def _regress(session, cmd: Command, spec: MixedSpec, fixed_raw: list[FVTerm], *,
             constant: bool, vce: VceRequest | None = None) -> RegressResults:
    """Sample, design and OLS fit of `regress`, packaged as its e()."""
    ds = session.data
    vce = vce or VceRequest()
    depvar, fixed, fvars = _resolve_fixed_part(ds, spec, fixed_raw)
    mask = marksample(session, cmd, [depvar] + [v for v in fvars if v != depvar])
    if vce.clustvar:
        mask &= marksample(session, None, [vce.clustvar], strok=True)
    n = int(mask.sum())
    if n == 0:
        raise StataError("no observations", 2000)

    column = sample_columns(ds, mask)
    design = dz.build_fixed(engine_terms(fixed), column, n, constant=constant)
    X = design.X_keep
    k = X.shape[1]
    if n - k < 0 or n < 2:         # n = k >= 2 fits, with zero residual degrees of freedom
        raise StataError("insufficient observations", 2001)
    reg = ols.regress(column(depvar), X, constant=design.constant)
    res = regress_from_fit(cmd.text, depvar, design, mask, reg, factor_labels(ds, fixed))
    kidx = np.flatnonzero(design.keep)
    if vce.kind not in ("", "ols") and reg.df_r == 0:
        # no residual degrees of freedom: no robust VCE either (missing, as the model one)
        res.scalars["F"] = math.nan
        res.macros["vce"], res.macros["vcetype"] = vce.kind, _VCETYPE[vce.kind]
    elif vce.kind not in ("", "ols"):
        clusters = ds.var(vce.clustvar).values[mask] if vce.clustvar else None
        res.matrices["V_modelbased"] = res.V.copy()
        _regress_robust(design, reg, X, column(depvar), vce, clusters, kidx, res.V, res.scalars,
                        res.macros)
    return res


def _regress_robust(design: dz.Design, reg, X, y, vce: VceRequest, clusters, kidx, Vf,
                    scalars: dict, macros: dict) -> None:
    """Replace e(V) (in place) by the robust VCE and the model F test by its Wald form:
    F = b'V^-1 b / df_m over every coefficient but _cons, on (df_m, df_r) degrees of freedom,
    df_r = G - 1 with clusters; missing when V is singular there (too few clusters)."""
    names = [design.names[j] for j in kidx]
    test = [i for i, nm in enumerate(names) if nm != "_cons"]
    try:
        rv = sandwich.ols_robust(y, X, vce.kind, clusters, test)
    except (np.linalg.LinAlgError, ValueError, FloatingPointError):
        raise _numeric_failure() from None
    Vf[np.ix_(kidx, kidx)] = rv.V
    df_m = len(test)
    if vce.kind == "cluster":
        scalars["N_clust"] = rv.n_clusters
        scalars["df_r"] = rv.n_clusters - 1
        macros["clustvar"] = vce.clustvar
    df_r = scalars["df_r"]
    F = rv.wald / df_m if (rv.wald is not None and df_m and df_r > 0) else (0.0 if not df_m else math.nan)
    scalars["F"] = F
    scalars["df_m"] = df_m
    macros["vce"] = vce.kind
    macros["vcetype"] = _VCETYPE[vce.kind]


def _regress_pF(res: EstimationResults) -> float:
    """Prob > F: the fit's, or from e(F), e(df_m), e(df_r) for results that carry no fit or
    whose F is the robust Wald test."""
    if res.model is not None and not res.macros.get("vcetype"):
        return res.model.pF
    sc = res.scalars
    F, df_m, df_r = sc.get("F", math.nan), sc.get("df_m", 0), sc.get("df_r", 0)
    return float(dist.f_sf(F, df_m, df_r)) if df_m > 0 and math.isfinite(F) else math.nan


def display_regress(session, res: EstimationResults, level: float, baselevels: bool, *,
                    header: bool = True, table: bool = True, beta=None, fvlabel: bool = True) -> None:
    sc = res.scalars
    out = session.out
    vcetype = res.macros.get("vcetype") or None
    if header:
        out.line("")
        if vcetype:
            lines = ro.robust_header_lines(n=int(sc["N"]), df_m=int(sc["df_m"]), df_r=int(sc["df_r"]),
                                           F=sc["F"], pF=_regress_pF(res), r2=sc["r2"], rmse=sc["rmse"])
        else:
            lines = ro.anova_lines(mss=sc["mss"], rss=sc["rss"], df_m=int(sc["df_m"]), df_r=int(sc["df_r"]),
                                   n=int(sc["N"]), F=sc["F"], pF=_regress_pF(res), r2=sc["r2"],
                                   r2_a=sc["r2_a"], rmse=sc["rmse"])
        for line in lines:
            out.line(line)
    if table:
        out.line("")
        if sc.get("N_clust") and res.macros.get("clustvar"):
            out.line(cluster_note(int(sc["N_clust"]), res.macros["clustvar"]))
        for line in coef_table(res.depvar, _fixed_groups(res, baselevels, fvlabel), res.b, res.se, stat="t",
                               df_r=sc["df_r"], level=level, vcetype=vcetype, beta=beta,
                               dots=sc["df_r"] == 0):
            out.line(line)


# --- replay: the command typed without a model (`estimates replay` runs it that way too) ----------
def replay_results(session, res: EstimationResults, options: list[Option] | None = None) -> None:
    """Print stored `mixed` or `regress` results as the command itself would replay them."""
    options = list(options or [])
    from hlmshell.commands.vce_resample import replay_prefix
    if replay_prefix(session, res, options):      # after bootstrap/jackknife _b
        return
    if res.cmd in ("mixed", "xtmixed"):
        opts = bind_command("mixed", options)
        o = _display_opts(session, opts)
        o.reml = res.macros.get("method") == "REML"
        if res.cmd == "xtmixed":
            o.stddev = not opts.variance
        display_mixed(session, res, o)
    elif res.cmd == "regress":
        opts = bind_command("regress", options)
        display_regress(session, res, confidence_level(session, opts),
                        opts.baselevels or opts.allbaselevels)
    else:
        raise StataError("last estimates not found", 301)

