"""meqrlogit and meqrpoisson, Stata 17's legacy GLMM commands, and their pre-13 names xtmelogit
and xtmepoisson (Stata runs those as meqrlogit/meqrpoisson: e(cmd) says so).

The model and the random-effects syntax are melogit's and mepoisson's, and so is the fit: the
command is handed to commands.me_glmm (one level) or commands.me_multilevel (several) with
its estimation options; no second engine. What differs is Stata's:
- the method: adaptive Gauss-Hermite quadrature at the conditional modes with 7 points
  (me_glmm's mcaghermite, the adaptation meqrlogit and lme4's nAGQ use) for one level;
  several nested levels use the mean-variance adaptation (the only one the multilevel engine
  has), crossed ones Laplace; `laplace` (or intpoints(1)) for the Laplacian approximation;
- the two stages and their log: `Refining starting values:` (here two Laplace iterations from
  melogit's start; refineopts(iterate(#)) sets how many, 0 none; Stata holds its quadrature
  nodes fixed instead), then `Performing gradient-based optimization:` (the full model from
  the refined values by from(e(b), copy)); the fixed-effects model is fitted silently, for
  the LR test only;
- e(b): the fixed part, then each level's random-effects parameters in the estimation metric
  as `mixed` stores them (`lns1_1_1:_cons` ln standard deviations, `atr1_1_1_2:_cons` atanh
  correlations), e(V) by the delta method from melogit's;
- the table: the random effects in a table of their own (`district: Identity`), as
  variances (meqr*: the default; stddeviations for standard deviations) or as standard
  deviations (xtme*: their default; variance for variances).
estat icc, estat group, estat recovariance and predict work on `me_view(res)`, the same
results in melogit's variance metric (predict's reffects are the posterior modes, as
meqrlogit's).
"""
from __future__ import annotations

import copy
import dataclasses
import math
import re
from types import SimpleNamespace

import numpy as np

from hlmshell.commands import me_glmm, me_start
from hlmshell.commands.estimation import _split_spec
from hlmshell.engine.types import IndicatorMatrix
from hlmshell.engine.vcparams import normalize_structure
from hlmshell.errors import StataError
from hlmshell.output import me_output as meo
from hlmshell.output import meqr_output as mqo
from hlmshell.output.coeftable import Group, Row, coef_table, equation_table
from hlmshell.output.eform_table import eform_table
from hlmshell.output.labels import display_groups, re_rows
from hlmshell.output.mixed_output import LevelInfo
from hlmshell.output.writer import Capture
from hlmshell.registry import Opt, bind_command, command
from hlmshell.results import EstimationResults
from hlmshell.syntax.ast import Option

# typed name -> (the e(cmd) Stata stores, the me* command that fits it, sd by default)
COMMANDS = {"meqrlogit": ("meqrlogit", "melogit", False),
            "meqrpoisson": ("meqrpoisson", "mepoisson", False),
            "xtmelogit": ("meqrlogit", "melogit", True),
            "xtmepoisson": ("meqrpoisson", "mepoisson", True)}
STORED = {"meqrlogit": "melogit", "meqrpoisson": "mepoisson"}
_MODEL = {"melogit": ("logistic", "logit", "Odds ratio"),
          "mepoisson": ("Poisson", "log", "IRR")}
_LEVEL_OPTS = ("noconstant", "covariance")
_PASS = ("binomial", "offset", "exposure", "iterate", "tolerance", "ltolerance", "level")
_REPLAY = ("or", "irr", "level", "variance", "stddeviations", "noretable", "nofetable",
           "noheader", "nogroup", "nolrtest", "estmetric")

_OPTIONS = (
    Opt("noconstant", "nocons", desc="suppress the constant term (fixed part or a random-effects equation)"),
    Opt("covariance", "cov", "name", "independent", "variance-covariance structure of the random effects"),
    Opt("offset", "offset", "string", None, "include varname in the model with coefficient 1"),
    Opt("laplace", "lap", desc="use the Laplacian approximation; equivalent to intpoints(1)"),
    Opt("intpoints", "intp", "int", 7, "number of integration points; default is intpoints(7)"),
    Opt("level", "l", "real", 95, "set confidence level; default is level(95)"),
    Opt("variance", "var", desc="show the random effects as variances and covariances"),
    Opt("stddeviations", "stddev", desc="show the random effects as standard deviations and correlations"),
    Opt("noretable", "noret", desc="suppress the random-effects table"),
    Opt("nofetable", "nofet", desc="suppress the fixed-effects table"),
    Opt("noheader", "nohe", desc="suppress the output header"),
    Opt("nogroup", "nogr", desc="suppress the table summarizing the groups"),
    Opt("nolrtest", "nolr", desc="do not perform the LR test against the one-level model"),
    Opt("estmetric", "estm", desc="show the parameters in their estimation metric (e(b))"),
    Opt("nolog", desc="do not show the iteration log"),
    Opt("log", desc="show the iteration log; the default"),
    Opt("iterate", "iter", "int", 300, "maximum number of iterations"),
    Opt("tolerance", "tol", "real", 1e-6, "accepted: the fit runs to a vanishing gradient"),
    Opt("ltolerance", "ltol", "real", 1e-7, "accepted: the fit runs to a vanishing gradient"),
    Opt("difficult", desc="accepted for compatibility"),
    Opt("mle", "ml", desc="accepted: the fit is by maximum likelihood (course do-files type `var ml`)"),
    Opt("refineopts", "refine", "string", None, "accepted: the starting values are refined as melogit's"),
    Opt("retolerance", "retol", "real", 1e-8, "accepted: the random effects are found to convergence"),
    Opt("reiterate", "reiter", "int", 50, "accepted: the random effects are found to convergence"),
    Opt("matsqrt", desc="accepted: the fit's metric is ln sd and atanh corr"),
    Opt("matlog", desc="accepted: the fit's metric is ln sd and atanh corr"),
)
_LOGIT = (Opt("binomial", "bin", "string", None, "binomial trials: a variable or a number"),
          Opt("or", desc="report fixed effects as odds ratios"))
_POISSON = (Opt("exposure", "exp", "string", None, "include ln(varname) with coefficient 1"),
            Opt("irr", desc="report fixed effects as incidence-rate ratios"))


# --------------------------------------------------------------------------- the metric
def _kinds(blocks, rows) -> list[tuple[str, int]]:
    """(covariance structure, number of random effects) of each level, as e(b) holds it."""
    out = []
    for blk, r in zip(blocks, rows):
        if isinstance(blk.Z, IndicatorMatrix) or len(r) == 1:
            out.append(("identity", 1))
        else:
            out.append((normalize_structure(blk.covariance, len(blk.names)), len(blk.names)))
    return out


def _to_stata(kind: str, q: int, e: np.ndarray) -> np.ndarray:
    """A level's variance entries (melogit's e(b) rows) -> ln sd / atanh corr."""
    with np.errstate(divide="ignore", invalid="ignore"):
        v = np.maximum(e[:q] if kind != "identity" else e[:1], 1e-300)
        lns = 0.5 * np.log(v)
        if kind in ("identity", "independent"):
            return lns
        if kind == "exchangeable":
            return np.array([lns[0], np.arctanh(np.clip(e[q] / v[0], -1 + 1e-15, 1 - 1e-15))])
        pairs = [(a, b) for a in range(q) for b in range(a + 1, q)]
        r = [e[q + k] / math.sqrt(v[a] * v[b]) for k, (a, b) in enumerate(pairs)]
        return np.concatenate([lns, np.arctanh(np.clip(r, -1 + 1e-15, 1 - 1e-15))])


def _from_stata(kind: str, q: int, s: np.ndarray) -> np.ndarray:
    """ln sd / atanh corr -> the level's variance entries."""
    if kind in ("identity", "independent"):
        return np.exp(2 * s)
    if kind == "exchangeable":
        v = math.exp(2 * s[0])
        return np.array([v] * q + [math.tanh(s[1]) * v])
    sd = np.exp(s[:q])
    pairs = [(a, b) for a in range(q) for b in range(a + 1, q)]
    cov = [math.tanh(s[q + k]) * sd[a] * sd[b] for k, (a, b) in enumerate(pairs)]
    return np.concatenate([sd * sd, cov])


def _stata_names(kind: str, q: int, depth: int) -> list[str]:
    if kind == "identity":
        return [f"lns{depth}_1_1"]
    names = [f"lns{depth}_1_{j + 1}" for j in range(q)]
    if kind == "exchangeable":
        return names[:1] + [f"atr{depth}_1_1_1"]
    if kind == "unstructured":
        names += [f"atr{depth}_1_{a + 1}_{b + 1}" for a in range(q) for b in range(a + 1, q)]
    return names


def _convert(b, V, kf, layout, forward: bool):
    """e(b), e(V) with each level's variance part mapped to the other metric (forward: from
    melogit's variances to ln sd / atanh corr), e(V) by the delta method (central
    differences)."""
    parts, jac, pos = [b[:kf]], [np.eye(kf)], kf
    for kind, q, n_in in layout:
        x = np.asarray(b[pos:pos + n_in], dtype=float)
        f = (lambda t, k=kind, qq=q: _to_stata(k, qq, t)) if forward else \
            (lambda t, k=kind, qq=q: _from_stata(k, qq, t))
        y = f(x)
        J = np.zeros((len(y), len(x)))
        for j in range(len(x)):
            h = (1e-6 * abs(x[j]) or 1e-10) if forward else 1e-6   # variances: relative steps
            d = np.zeros(len(x))
            d[j] = h
            J[:, j] = (f(x + d) - f(x - d)) / (2 * h)
        parts.append(y)
        jac.append(J)
        pos += n_in
    Jfull = np.zeros((sum(len(p) for p in parts), len(b)))
    r = c = 0
    for J in jac:
        Jfull[r:r + J.shape[0], c:c + J.shape[1]] = J
        r, c = r + J.shape[0], c + J.shape[1]
    V2 = Jfull @ np.asarray(V, dtype=float) @ Jfull.T
    return np.concatenate(parts), 0.5 * (V2 + V2.T)


def _labels(blocks) -> list[str]:
    if len(blocks) == 1 and not isinstance(blocks[0].Z, IndicatorMatrix) and blocks[0].label != "_all":
        return [blocks[0].label]
    from hlmshell.commands.me_multilevel import level_labels
    return level_labels(blocks)


def _layout(blocks):
    """Per level (structure, q, how many variance entries melogit's e(b) has)."""
    rows = me_start.var_rows(blocks, _labels(blocks))
    return [(k, q, len(r)) for (k, q), r in zip(_kinds(blocks, rows), rows)], rows


def me_view(res: EstimationResults) -> EstimationResults:
    """After meqrlogit/meqrpoisson: the same results as melogit/mepoisson would post them
    (variances in e(b), e(family), e(link), e(intmethod)), for estat and predict; any other
    results unchanged."""
    if res.cmd not in STORED or res.model is None:
        return res
    me_name = STORED[res.cmd]
    blocks = res.model.blocks
    layout, rows = _layout(blocks)
    b, V = _convert(np.asarray(res.b, dtype=float), res.V, res.k_f, layout, forward=False)
    names = list(res.names[:res.k_f]) + [("/", nm) for r in rows for nm, _ in r]
    _model, link, _ = _MODEL[me_name]
    macros = dict(res.macros, cmd=me_name, link=link, model="glmm",
                  family=("poisson" if me_name == "mepoisson" else
                          "binomial" if res.macros.get("binomial") else "bernoulli"),
                  intmethod=("laplace" if res.scalars.get("n_quad") == 1 else
                             "mcaghermite" if len(blocks) == 1 else "mvaghermite"))
    return EstimationResults(cmd=me_name, names=names, b=b, V=V, omitted=res.omitted,
                             k_f=res.k_f, scalars=dict(res.scalars), macros=macros,
                             matrices=dict(res.matrices), sample=res.sample, model=res.model,
                             name=res.name, serial=res.serial)


# --------------------------------------------------------------------------- the command
def _bind(name: str, options) -> object:
    return bind_command(name, options)


def _split(name: str, cmd, spec):
    """The command melogit/mepoisson fits (its level options kept in place, the estimation
    options it shares passed on, the method set) and meqr's own options."""
    spec2 = copy.deepcopy(spec)
    glob = []

    def keep_level(opts):
        kept = []
        for op in opts:
            full = me_glmm._option_name(name, op)
            (kept if full in _LEVEL_OPTS else glob).append(op)
        return kept

    spec2.fixed_options = keep_level(spec2.fixed_options)
    for lev in spec2.levels:
        lev.options = keep_level(lev.options)
    glob += [op for op in cmd.options if op not in spec.fixed_options]
    opts = _bind(name, glob)
    if opts.variance and opts.stddeviations:
        raise StataError("options variance and stddeviations may not be combined", 198)
    passed = [Option(k, opts.raw(k)) for k in _PASS if k in opts]
    one_level = (len(spec.levels) == 1 and spec.levels[0].group != "_all"
                 and not any(t.upper().startswith("R.") for t in spec.levels[0].raw_terms))
    if opts.laplace or opts.intpoints == 1:
        passed.append(Option("intmethod", "laplace"))
    else:
        if not 1 <= opts.intpoints <= 195:
            raise StataError("intpoints() must be between 1 and 195", 198)
        passed.append(Option("intpoints", str(opts.intpoints)))
        if one_level:
            passed.append(Option("intmethod", "mcaghermite"))
    if opts.nolog and not opts.log:
        passed.append(Option("nolog"))
    me_cmd = copy.copy(cmd)
    me_cmd.args = spec2
    me_cmd.options = passed
    me_cmd.opts = None
    return me_cmd, opts


_HEADINGS = ("Fitting fixed-effects model:", "Fitting constant-only model:",
             "Refining starting values:", "Fitting full model:")


def _capture(session, me_cmd, me_name) -> list[str]:
    """One melogit/mepoisson run with its printed lines kept up to the results' title (the
    log). After an error, the notes and iterations it had shown are printed as they came."""
    outer = session.out
    cap = Capture()
    session.out = cap
    try:
        me_glmm._run(session, me_cmd, me_name)
    except StataError:
        session.out = outer
        lines = cap.getvalue().split("\n")
        for line in _notes(lines) + _iterations(lines, keep_note=True):
            outer.line(line)
        raise
    finally:
        session.out = outer
    lines = cap.getvalue().split("\n")
    title = me_glmm.TITLES[("poisson" if me_name == "mepoisson" else "binomial",
                            _MODEL[me_name][1])][0]
    end = next((i for i, ln in enumerate(lines) if ln.startswith(title)), len(lines))
    return lines[:end]


def _notes(lines: list[str]) -> list[str]:
    """What the run printed before its first log heading (`note: x omitted ...`)."""
    end = next((i for i, ln in enumerate(lines) if ln.startswith(_HEADINGS)), len(lines))
    return [ln for ln in lines[:end] if ln.strip()]


def _iterations(lines: list[str], keep_note: bool) -> list[str]:
    """The full model's iteration lines (and `convergence not achieved` when keep_note)."""
    start = next((i for i, ln in enumerate(lines) if ln.startswith("Fitting full model:")),
                 len(lines))
    return [ln for ln in lines[start + 1:] if ln.startswith("Iteration")
            or (keep_note and ln.startswith("convergence not achieved"))]


def _refine_iterations(opts) -> int:
    """refineopts(iterate(#)): the refining stage's iterations (2 by default, as Stata's)."""
    m = re.search(r"\biter(?:a|at|ate)?\(\s*(\d+)\s*\)", opts.raw("refineopts") or "")
    return int(m.group(1)) if m else 2


def _fit(session, me_cmd, me_name, opts):
    """meqrlogit's two stages on melogit's engine: the starting values refined by a few
    Laplace iterations (Stata refines them with the quadrature nodes held fixed), then the
    full model by the method asked for from there (from(e(b), copy)). (log lines, results)"""
    n_refine = _refine_iterations(opts)
    refine, main_cmd = [], me_cmd
    if n_refine > 0:
        r_cmd = copy.copy(me_cmd)
        r_cmd.options = [op for op in me_cmd.options
                         if op.name not in ("intmethod", "intpoints", "iterate", "nolog")]
        r_cmd.options += [Option("intmethod", "laplace"), Option("iterate", str(n_refine))]
        r_cmd.opts = None
        try:
            refine = _capture(session, r_cmd, me_name)
        except StataError as err:
            if err.rc != 430:               # no refining where Laplace fails; errors of the
                raise                       # command itself are the full fit's too
        else:
            main_cmd = copy.copy(me_cmd)
            main_cmd.options = me_cmd.options + [Option("from", "e(b), copy")]
            main_cmd.opts = None
    main = _capture(session, main_cmd, me_name)
    log = [""] + _notes(refine or main)
    if refine:
        log += ["", "Refining starting values:", ""] + _iterations(refine, keep_note=False)
    log += ["", "Performing gradient-based optimization:", ""] + _iterations(main, keep_note=True)
    if opts.nolog and not opts.log:
        log = [""] + _notes(refine or main) + [ln for ln in _iterations(main, True)
                                               if not ln.startswith("Iteration")]
    while len(log) > 1 and not log[1].strip():
        del log[1]
    return (log if len(log) > 1 else []), session.e


def _post(session, cmd, typed: str, me_res) -> EstimationResults:
    stored, me_name, _ = COMMANDS[typed]
    blocks = me_res.model.blocks
    layout, _rows = _layout(blocks)
    kf = me_res.k_f
    b, V = _convert(np.asarray(me_res.b, dtype=float), me_res.V, kf, layout, forward=True)
    names = list(me_res.names[:kf])
    for depth, (kind, q, _) in enumerate(layout, start=1):
        names += [(nm, "_cons") for nm in _stata_names(kind, q, depth)]
    model = _MODEL[me_name][0]
    mac = me_res.macros
    macros = {"cmd": stored, "cmdline": cmd.text, "depvar": mac.get("depvar", ""),
              "title": mac.get("title", ""), "model": model, "ivars": mac.get("ivars", ""),
              "redim": " ".join(str(1 if isinstance(bl.Z, IndicatorMatrix) else len(bl.names))
                                for bl in blocks),
              "vartypes": " ".join(mqo_title(k) for k, _, _ in layout),
              "revars": " ".join(" ".join(bl.names) for bl in blocks),
              "chi2type": "Wald", "vce": "oim", "properties": "b V",
              "predict": f"{stored}_p", "estat_cmd": f"{stored}_estat"}
    if me_res.scalars.get("n_quad") == 1:
        macros["laplace"] = "laplace"
    for key in ("offset", "exposure", "binomial"):
        if mac.get(key):
            macros[key] = mac[key]
    scalars = {k: v for k, v in me_res.scalars.items()}
    res = EstimationResults(cmd=stored, names=names, b=b, V=V, omitted=me_res.omitted, k_f=kf,
                            scalars=scalars, macros=macros, matrices=dict(me_res.matrices),
                            sample=me_res.sample, model=me_res.model)
    session.post_estimation(res)
    return res


def mqo_title(kind: str) -> str:
    from hlmshell.output.mixed_output import COV_TITLES
    return COV_TITLES.get(kind, kind.capitalize())


def _run(session, cmd, typed: str) -> None:
    spec = _split_spec(session, cmd)[0]
    if spec is None:
        _replay(session, cmd, typed)
        return
    if not spec.levels:
        raise StataError("random-effects equation(s) empty", 198)
    _stored, me_name, _sd = COMMANDS[typed]
    me_cmd, opts = _split(typed, cmd, spec)
    _eform(me_name, opts)
    before = session.e
    try:
        log, me_res = _fit(session, me_cmd, me_name, opts)
    except StataError:
        session.e = before
        raise
    res = _post(session, cmd, typed, me_res)
    for line in log:
        session.out.line(line)
    _display(session, res, opts, typed)


def _replay(session, cmd, typed: str) -> None:
    from hlmshell.commands._postest import active
    res = active(session)
    stored, _me, _sd = COMMANDS[typed]
    if res.cmd != stored or res.model is None:
        raise StataError("last estimates not found", 301)
    opts = _bind(typed, cmd.options)
    bad = [k for k in opts.given if k not in _REPLAY]
    if bad:
        raise StataError(f"option {bad[0]} not allowed", 198)
    if opts.variance and opts.stddeviations:
        raise StataError("options variance and stddeviations may not be combined", 198)
    _display(session, res, opts, typed)


def _eform(me_name: str, opts) -> str | None:
    if getattr(opts, "or", False) or getattr(opts, "irr", False):
        return _MODEL[me_name][2]
    return None


def _group_info(blocks) -> list[LevelInfo]:
    out = []
    for blk in blocks:
        counts = np.bincount(np.asarray(blk.group, dtype=np.int64))
        counts = counts[counts > 0]
        out.append(LevelInfo(blk.label, len(counts), int(counts.min()), float(counts.mean()),
                             int(counts.max())))
    return out


def _random_rows(res, metric: str, level: float):
    """The random-effects table's levels: mixed's rows (engine.lmm.variance_components) from
    e(b)'s ln sd / atanh corr and e(V)."""
    from hlmshell.engine import lmm
    blocks = [dataclasses.replace(bl, depth=i + 1) for i, bl in enumerate(res.model.blocks)]
    kf = res.k_f
    s = np.append(np.asarray(res.b[kf:], dtype=float), 0.0)
    k = len(s)
    V = np.zeros((k, k))
    V[:k - 1, :k - 1] = np.asarray(res.V, dtype=float)[kf:, kf:]
    fit = SimpleNamespace(vc_theta=s, vc_V=V)
    comps, resid = lmm.variance_components(fit, blocks, metric=metric, level=level)
    tables, _ = re_rows(comps, resid)
    return tables


def _display(session, res, opts, typed: str) -> None:
    """The header, then the fixed effects (or, with estmetric, e(b) as estimated), the
    random-effects table and the LR test; the no* options leave parts out."""
    out = session.out
    sc = res.scalars
    level = float(opts.level)
    me_name = STORED[res.cmd]
    m = res.model
    if not opts.noheader:
        head = mqo.header_lines(title=res.macros["title"], n_obs=int(sc["N"]),
                                levels=_group_info(m.blocks), points=int(sc["n_quad"]),
                                wald_df=int(sc["df_m"]), wald_chi2=sc["chi2"], wald_p=sc["p"],
                                ll=sc["ll"], group=not opts.nogroup)
        out.line("")
        for line in head:
            out.line(line)
    lines = []
    if opts.estmetric:
        lines = [""] + _estmetric_lines(res, level)
    else:
        if not opts.nofetable:
            lines += [""] + _fixed_lines(res, _eform(me_name, opts), level)
        if not opts.noretable:
            sd_default = COMMANDS[typed][2]
            metric = "sd" if opts.stddeviations or (sd_default and not opts.variance) else "variance"
            lines += [""] + mqo.random_table_lines(_random_rows(res, metric, level), level)
    if not opts.nolrtest and "chi2_c" in sc:
        lines += meo.lr_lines(_MODEL[me_name][0], sc["chi2_c"], int(sc["df_c"]), sc["p_c"])
    for line in lines:
        out.line(line)


def _fixed_lines(res, eform: str | None, level: float) -> list[str]:
    """The fixed-effects table (odds ratios or IRRs with or/irr, and the note on _cons)."""
    m = res.model
    kf = res.k_f
    groups = display_groups(m.design, baselevels=False, value_labels=m.value_labels)
    se = np.sqrt(np.clip(np.diag(np.asarray(res.V, dtype=float)), 0, None))
    if not eform:
        return coef_table(res.depvar, groups, res.b[:kf], se[:kf], stat="z", level=level)
    table = eform_table(res.depvar, groups, res.b[:kf], se[:kf], title=eform, level=level)
    if any(nm == "_cons" for _, nm in res.names[:kf]):
        base = "baseline odds" if eform == "Odds ratio" else "baseline incidence rate"
        table.append(f"Note: _cons estimates {base} (conditional on zero random effects).")
    return table


def _estmetric_lines(res, level: float) -> list[str]:
    """`estmetric`: e(b) as estimated in one table, an equation per parameter after the fixed
    part (lns1_1_1, atr1_1_1_2, ...), as `mixed, estmetric` shows it."""
    m = res.model
    kf = res.k_f
    sections = [(res.depvar, display_groups(m.design, baselevels=False,
                                            value_labels=m.value_labels))]
    sections += [(res.names[j][0], [Group(None, [Row(res.names[j][1], j, None)])])
                 for j in range(kf, len(res.names))]
    se = np.sqrt(np.clip(np.diag(np.asarray(res.V, dtype=float)), 0, None))
    return equation_table(res.depvar, sections, res.b, se, stat="z", level=level)


# --------------------------------------------------------------------------- predict
_PREDICT_REFUSED = ("ebmeans", "ebmodes", "marginal", "conditional", "pr", "eta", "outcome")


def _predict(session, cmd, res, opts) -> None:
    """predict after meqrlogit/meqrpoisson: melogit's statistics on me_view(res), the random
    effects at their posterior modes (meqrlogit's reffects and the default mu use them);
    `fitted`, the fitted linear predictor xb + Zu, is melogit's eta there."""
    from hlmshell.commands.predict import PREDICTORS
    from hlmshell.registry import args_of
    for name in _PREDICT_REFUSED:
        if name in opts:
            raise StataError(f"option {name} not allowed", 198)
    cmd2 = copy.copy(cmd)
    cmd2.options = list(cmd.options) + [Option("ebmodes")]
    if "fitted" in opts:        # meqrlogit's `fitted`: xb + Zu, melogit's eta at the modes
        from hlmshell.registry import abbrev_match
        cmd2.options = [o for o in cmd2.options if not abbrev_match(o.name, "fitted", 3)]
        cmd2.options.append(Option("eta"))
    cmd2.opts = None
    view = me_view(res)
    PREDICTORS[view.cmd](session, cmd2, view, args_of(cmd2))


def _install_predict() -> None:
    from hlmshell.commands.predict import PREDICTORS
    for stored in STORED:
        PREDICTORS[stored] = _predict


_install_predict()


# --------------------------------------------------------------------------- registration
def _register(name: str, desc: str, example: str, extra):
    @command(name, rule="mixed", family="Estimation", body="fvvarlist", qualifiers="if in",
             desc=desc, example=example, options=_OPTIONS + extra)
    def handler(session, cmd) -> None:
        _run(session, cmd, name)
    return handler


meqrlogit_cmd = _register("meqrlogit", "multilevel mixed-effects logistic regression (QR decomposition)",
                          "meqrlogit use age urban || district:", _LOGIT)
meqrpoisson_cmd = _register("meqrpoisson", "multilevel mixed-effects Poisson regression (QR decomposition)",
                            "meqrpoisson deaths uvb || region:, exposure(expected)", _POISSON)
xtmelogit_cmd = _register("xtmelogit", "meqrlogit's name before Stata 13 (standard deviations shown)",
                          "xtmelogit use age urban || district:", _LOGIT)
xtmepoisson_cmd = _register("xtmepoisson", "meqrpoisson's name before Stata 13 (standard deviations shown)",
                            "xtmepoisson deaths uvb || region:, exposure(expected)", _POISSON)
