"""predict after mixed (xb, stdp, fitted, residuals, rstandard, reffects, reses) and regress.

The fixed part is rebuilt from the e(b) column names (`1.female#2.sized`, `c.ses#c.sector`,
`_cons`), so predictions exist for every observation with nonmissing covariates, inside or
outside e(sample). BLUPs come from hlmshell.engine.blup on the estimation sample and are
carried to other observations of the same group (matched on the level variables' values).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from hlmshell.registry import Args, Opt, args_of, command
from hlmshell.commands._postest import active
from hlmshell.data.dataset import Variable, to_storage
from hlmshell.engine import marginal
from hlmshell.engine.blup import compute_blups
from hlmshell.errors import StataError
from hlmshell.results import EstimationResults
from hlmshell.syntax.evaluate import marksample

_LEVEL = re.compile(r"^(\d+)[bon]*\.(.+)$")
_TYPES = ("byte", "int", "long", "float", "double")
_NEWNAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,31}$")


# --------------------------------------------------------------------------- design columns
def column_values(data, name: str) -> np.ndarray:
    """Values of one e(b) column (`ses`, `2.sized`, `1.female#c.ses`, `_cons`) for all obs."""
    n = data.n
    if name == "_cons":
        return np.ones(n)
    out = np.ones(n)
    for part in name.split("#"):
        p = part
        if p.startswith("c."):
            p = p[2:]
        if p.startswith("o.") or p.startswith("b."):
            p = p[2:]
        m = _LEVEL.match(p)
        if m:
            v = np.asarray(data.values(m.group(2)), dtype=float)
            col = np.where(np.isnan(v), np.nan, (v == float(m.group(1))).astype(float))
        else:
            col = np.asarray(data.values(p), dtype=float)
        out = out * col
    return out


def fixed_part(res: EstimationResults, data) -> tuple[np.ndarray, np.ndarray]:
    """(X over all observations for the non-omitted fixed columns, their column indexes)."""
    idx = [j for j in range(res.k_f) if not res.omitted[j]]
    X = np.column_stack([column_values(data, res.names[j][1]) for j in idx]) if idx else np.zeros((data.n, 0))
    return X, np.array(idx, dtype=int)


def xb_all(res: EstimationResults, data) -> np.ndarray:
    X, idx = fixed_part(res, data)
    b = np.asarray(res.b, dtype=float).reshape(-1)[idx]
    return X @ b if len(idx) else np.zeros(data.n)


def stdp_all(res: EstimationResults, data) -> np.ndarray:
    X, idx = fixed_part(res, data)
    k = len(res.names)
    V = np.asarray(res.V, dtype=float).reshape(k, k)[np.ix_(idx, idx)]
    if not len(idx):
        return np.zeros(data.n)
    return np.sqrt(np.clip(np.einsum("ij,jk,ik->i", X, V, X), 0.0, None))


# --------------------------------------------------------------------------- groups outside the sample
def _level_keys(model) -> list[list[str]]:
    """Per block: the level variables identifying its groups (outer levels first)."""
    out = []
    for b in model.blocks:
        keys: list[str] = []
        for other in sorted(model.blocks, key=lambda x: x.depth):
            if other.depth <= b.depth and other.label != "_all" and other.label not in keys:
                keys.append(other.label)
        out.append(keys if b.label != "_all" else [])
    return out


def group_codes_all(model, data, sample: np.ndarray) -> list[np.ndarray]:
    """Per block: group code for every observation (-1 when its group is not in the sample)."""
    n = data.n
    pos = np.flatnonzero(sample)
    codes_all = []
    for b, keys in zip(model.blocks, _level_keys(model)):
        codes = np.full(n, -1, dtype=np.int64)
        codes[pos] = np.asarray(b.group, dtype=np.int64)
        if not keys:
            codes[:] = 0
        else:
            import pandas as pd   # heavy import (~0.2 s): only predict's out-of-sample codes

            frame = pd.DataFrame({k: data.values(k) for k in keys})
            known = frame.iloc[pos].copy()
            known["_code"] = np.asarray(b.group, dtype=np.int64)
            known = known.drop_duplicates(subset=keys)
            merged = frame.merge(known, on=keys, how="left")
            mapped = merged["_code"].to_numpy()
            miss = ~sample
            ok = miss & ~pd.isna(mapped)
            codes[ok] = mapped[ok].astype(np.int64)
        codes_all.append(codes)
    return codes_all


def z_values(b, data, sample: np.ndarray) -> np.ndarray:
    """Z of one block for all observations (sample rows from the fit; others from the data)."""
    n = data.n
    Z = np.full((n, len(b.names)), np.nan)
    for j, nm in enumerate(b.names):
        if nm == "_cons" or nm.startswith("R."):
            Z[:, j] = 1.0 if nm == "_cons" else np.nan
        else:
            try:
                Z[:, j] = column_values(data, nm)
            except StataError:
                pass
    Z[np.flatnonzero(sample)] = np.asarray(b.Z, dtype=float)
    return Z


# --------------------------------------------------------------------------- parsing
def _new_names(body: str, count: int | None) -> tuple[str, list[str]]:
    words = body.split()
    vtype = "float"
    if words and words[0] in _TYPES:
        vtype = words.pop(0)
    if not words:
        raise StataError("varlist required", 100)
    if count is None:
        if len(words) > 1:
            raise StataError("too many variables specified", 103)
        if words[0].endswith("*"):
            raise StataError("invalid syntax", 198)
        names = words
    elif len(words) == 1 and words[0].endswith("*"):
        stub = words[0][:-1]
        names = [f"{stub}{i}" for i in range(1, count + 1)]
    else:
        if len(words) != count:
            msg = "too few variables specified" if len(words) < count else "too many variables specified"
            raise StataError(f"{msg}\nyou must specify {count} new variable(s)", 102 if len(words) < count else 103)
        names = words
    for nm in names:
        if not _NEWNAME.match(nm):
            raise StataError(f"{nm} invalid name", 198)
    return vtype, names


def _touse(session, cmd) -> np.ndarray:
    n = session.data.n
    if cmd.if_ is None and cmd.in_ is None and getattr(session, "by_restrict", None) is None:
        return np.ones(n, dtype=bool)
    return np.asarray(marksample(session, cmd), dtype=bool)


def _add(session, names, columns, labels, vtype, touse) -> None:
    for nm in names:
        if nm in session.data:
            raise StataError(f"variable {nm} already defined", 110)
    if len(set(names)) != len(names):
        raise StataError(f"variable {names[0]} already defined", 110)
    for nm, col, lab in zip(names, columns, labels):
        vals = np.where(touse, col, np.nan)
        vals = to_storage(vals, vtype)
        session.data.add(Variable(nm, vals, vtype, label=lab))
        nmiss = int(np.count_nonzero(np.isnan(vals)))
        if nmiss:
            session.out.line(f"({nmiss:,} missing value{'s' if nmiss != 1 else ''} generated)")


# --------------------------------------------------------------------------- predict
_STATS = ("xb", "stdp", "fitted", "residuals", "rstandard", "reffects")


@dataclass
class PredictRequest:
    """What `predict` was asked for: the statistic (None = the default xb), the reses() stub
    list and the relevel() level, with the observations to fill."""

    stat: str | None
    reses: str | None
    relevel: str | None
    touse: np.ndarray


def _statistic(opts: Args) -> tuple[str | None, str | None, str | None]:
    """(statistic, reses() stubs, relevel() level) from the typed options, with Stata's
    refusals of arguments where none go, of two statistics, and of scores. `reses` is both a
    statistic (bare) and reffects' option (with stubs), so it is bound without strictness."""
    for name in _STATS + ("scores",):
        if name in opts and opts.raw(name) not in (None, ""):
            raise StataError(f"option {name} not allowed", 198)
    if "relevel" in opts and not (opts.raw("relevel") or "").strip():
        raise StataError("invalid syntax", 198)
    chosen = [s for s in _STATS if getattr(opts, s)]
    reses = " ".join(opts.reses) if "reses" in opts and opts.reses else None
    if "reses" in opts and not reses:
        chosen.append("reses")
    if len(chosen) > 1:
        raise StataError("only one of options xb, stdp, fitted, reffects, reses, scores, residuals, "
                         "or rstandard should be specified", 198)
    if opts.scores:
        raise StataError("option scores not allowed", 198)
    return (chosen[0] if chosen else None), reses, opts.relevel


def _estimation_sample(res: EstimationResults, data) -> np.ndarray:
    sample = res.sample
    if sample is None or len(sample) != data.n:
        raise StataError("predict requires that the data used in estimation be in memory", 459)
    return np.asarray(sample, dtype=bool)


def _check_mixed_request(model, req: PredictRequest) -> None:
    if req.reses and req.stat != "reffects":
        raise StataError("option reses() requires option reffects", 198)
    if req.relevel:
        if req.relevel not in [b.label for b in model.blocks]:
            raise StataError(f"{req.relevel} is not a level variable in this model", 198)
        if req.stat in (None, "xb", "stdp"):
            what = "default statistic xb" if req.stat is None else f"statistic {req.stat}"
            raise StataError(f"option relevel() not allowed with {what}", 198)


# after regress: the influence statistics of [R] regress postestimation (commands.reg_diagnostics)
REGRESS_INFLUENCE_OPTS = (
    Opt("rstudent", "rstu", desc="after regress: Studentized (jackknifed) residuals"),
    Opt("leverage", "lev", desc="after regress: leverage (diagonal of the hat matrix)"),
    Opt("hat", "hat", desc="after regress: synonym for leverage"),
    Opt("cooksd", "cooksd", desc="after regress: Cook's distance"),
    Opt("dfbeta", "dfbeta", "string", None, "after regress: DFBETA for varname"),
    Opt("dfits", "dfits", desc="after regress: DFITS"),
    Opt("covratio", "covratio", desc="after regress: COVRATIO"),
    Opt("welsch", "welsch", desc="after regress: Welsch distance"),
    Opt("stdf", "stdf", desc="after regress: standard error of the forecast"),
    Opt("stdr", "stdr", desc="after regress: standard error of the residual"))
_RSTANDARD = Opt("rstandard", "rsta")


_OLD_RE_NAMES = {"remeans": ("reffects", "ebmeans"), "remodes": ("reffects", "ebmodes")}


def _old_re_names(cmd) -> None:
    """remeans/remodes: the names of Stata 13's me* predict (reffects with ebmeans/ebmodes
    since Stata 14, which still takes the old ones), and xtmixed's level(): relevel(), read as
    the new names and bound again."""
    from hlmshell.syntax.ast import Option
    if not any(o.name in _OLD_RE_NAMES or o.name == "level" for o in cmd.options):
        return
    out = []
    for o in cmd.options:
        if o.name == "level":           # xtmixed's predict: reffects level(id) = relevel(id)
            out.append(Option("relevel", o.arg))
        else:
            out += [Option(n) for n in _OLD_RE_NAMES[o.name]] if o.name in _OLD_RE_NAMES else [o]
    cmd.options, cmd.opts = out, None


@command("predict", qualifiers="if in",
          family="Postestimation", body="newvarlist",  desc="predictions, residuals and random effects",
          example="predict u1 u0, reffects reses(se_u1 se_u0)",
          options=(Opt("xb", desc="linear prediction of the fixed part; the default"),
                   Opt("stdp", desc="standard error of the fixed-part prediction"),
                   Opt("fitted", "fit", desc="fixed plus random effects (fitted values)"),
                   Opt("residuals", "r", desc="residuals (y minus fitted values)"),
                   Opt("rstandard", "rsta", desc="standardized residuals"),
                   Opt("reffects", "ref", desc="best linear unbiased predictions (BLUPs) of the random effects"),
                   Opt("reses", "rese", "varlist", None, "standard errors of the BLUPs into these new variables"),
                   Opt("relevel", "relev", "name", None, "random effects of this level only"),
                   Opt("scores", "sc", desc="parameter-level scores"),
                   Opt("u", desc="after xtreg: the panel effect u_i"),
                   Opt("d", desc="after reghdfe: the sum of the absorbed fixed effects"),
                   Opt("xbd", desc="after reghdfe: xb + d"),
                   Opt("e", desc="after xtreg: the idiosyncratic error e_it"),
                   Opt("ue", desc="after xtreg: u_i + e_it (y minus xb)"),
                   Opt("xbu", desc="after xtreg: xb + u_i"),
                   Opt("mu", desc="after me* models: the predicted mean (the default there)"),
                   Opt("pr", desc="after me* binary models: the predicted probability"),
                   Opt("eta", desc="after me* models: the linear predictor with the random effects"),
                   Opt("ebmeans", desc="after me* models: random effects at their posterior means (default)"),
                   Opt("ebmodes", desc="after me* models: random effects at their posterior modes"),
                   Opt("remeans", desc="after me* models: Stata 13's name of reffects ebmeans"),
                   Opt("remodes", desc="after me* models: Stata 13's name of reffects ebmodes"),
                   Opt("level", "level", "name", None, "after xtmixed: the old name of relevel()"),
                   Opt("fixedonly", desc="after me* models: random effects set to zero"),
                   Opt("conditional", "cond", "string", None, "after me* models: ebmeans, ebmodes or fixedonly"),
                   Opt("nooffset", desc="after me* models: ignore offset() or exposure()"),
                   Opt("pearson", "pe", desc="after me* models: Pearson residuals"),
                   Opt("deviance", "dev", desc="after me* models: deviance residuals"),
                   Opt("anscombe", "ans", desc="after me* models: Anscombe residuals"),
                   Opt("outcome", "out", "string", None, "after meologit/meoprobit: the category (# or #k)"),
                   Opt("marginal", "marg", desc="after me* models: mu or pr integrated over the random effects"),
                   Opt("n", desc="after poisson and nbreg: the predicted number of events"),
                   Opt("nu0", desc="after xtnbreg: the predicted number of events with u_i = 0"),
                   Opt("pu0", desc="after xtologit/xtoprobit: probabilities with u_i = 0"),
                   Opt("pc1", desc="after clogit: probability of a positive outcome given one per group"),
                   Opt("equation", "eq", "string", None, "after mvreg: the equation (name or #k)"),
                   Opt("te", desc="after teffects: the treatment effect"),
                   Opt("po", desc="after teffects: the potential outcomes"),
                   Opt("ps", desc="after teffects: the propensity scores"),
                   Opt("tlevel", "tlevel", "string", None, "after teffects: the treatment level"),
                   Opt("iru0", desc="after xtnbreg: the incidence rate exp(xb) with u_i = 0"),
                   Opt("hr", desc="after stcox/streg: predicted hazard ratio"),
                   Opt("basesurv", desc="after stcox: baseline survivor function"),
                   Opt("basechazard", desc="after stcox: baseline cumulative hazard"),
                   Opt("csnell", desc="after stcox: Cox-Snell residuals"),
                   Opt("schoenfeld", desc="after stcox: Schoenfeld residuals"),
                   Opt("scaledsch", desc="after stcox: scaled Schoenfeld residuals"),
                   Opt("median", desc="after streg: median survival time (with time)"),
                   Opt("time", desc="after streg: with median or mean"),
                   Opt("mean", desc="after streg: mean survival time (with time)"),
                   Opt("surv", desc="after streg: S(_t|_t0)"),
                   Opt("hazard", "haz", desc="after mestreg: the hazard at _t"),
                   Opt("density", "dens", desc="after mestreg: the density at _t"),
                   Opt("distribution", "distr", desc="after me* models: the distribution function at the outcome"),
                   Opt("intpoints", "intp", "int", None, "after me* models: quadrature points of the empirical Bayes means"),
                   Opt("survival", "survi", desc="after mestreg: the survivor function at _t"),
                   Opt("ystar", "ystar", "string", None, "after tobit: E(y) of y* censored at (a,b)"),
                   Opt("pr0", "pr0", "string", None, "after xttobit: Pr(a < y* < b) with u_i = 0"),
                   Opt("e0", "e0", "string", None, "after xttobit: E(y* | a < y* < b) with u_i = 0"),
                   Opt("ystar0", "ystar0", "string", None, "after xttobit: E(y) censored at (a,b), u_i = 0"),
                   Opt("ir", desc="after poisson and nbreg: the incidence rate exp(xb)"),
                   Opt("rate", desc="after xtgee and xt*, pa: the mean ignoring offset()/exposure()"),
                   Opt("response", "resp", desc="after glm: response residuals y - mu"),
                   Opt("latent", "lat", "string", None, "after sem: empirical Bayes means of the latent variables"),
                   Opt("regression", "reg", desc="after factor: regression scoring (the default)"),
                   Opt("bartlett", "b", desc="after factor: Bartlett scoring"),
                   Opt("norotated", "norot", desc="after factor and pca: use the unrotated results"),
                   Opt("notable", "notab", desc="after factor and pca: no table of scoring coefficients"),
                   Opt("format", "for", "string", None, "after factor and pca: accepted for compatibility"),
                   *REGRESS_INFLUENCE_OPTS))
def predict_cmd(session, cmd) -> None:
    res = active(session)
    _old_re_names(cmd)
    opts = args_of(cmd)
    _load_predictors()
    if res.cmd in PREDICTORS:           # commands with statistics of their own (the me* GLMMs)
        PREDICTORS[res.cmd](session, cmd, res, opts)
        return
    if res.cmd in INFLUENCE and any(o.name in opts for o in REGRESS_INFLUENCE_OPTS + (_RSTANDARD,)):
        INFLUENCE[res.cmd](session, cmd, res, opts)      # leverage, cooksd, ... after regress
        return
    for name in _GLMM_ONLY:
        if name in opts:
            raise StataError(f"option {name} not allowed", 198)
    if hasattr(res, "prediction"):      # xtreg's results compute u, e, ue and xbu themselves
        _predict_panel(session, cmd, res, args_of(cmd))
        return
    _no_panel_statistic(args_of(cmd))
    stat, reses, relevel = _statistic(args_of(cmd))
    sample = _estimation_sample(res, session.data)
    req = PredictRequest(stat, reses, relevel, _touse(session, cmd))
    if res.cmd not in ("mixed", "xtmixed"):
        _predict_linear(session, cmd, res, stat, req.touse)
        return
    for name in args_of(cmd).given:          # hazard, density, ir, ...: not statistics of mixed
        if name not in _MIXED_OPTIONS:
            raise StataError(f"option {name} not allowed", 198)
    _check_mixed_request(res.model, req)
    if stat in (None, "xb", "stdp"):
        _predict_fixed(session, cmd, res, req)
    elif stat in ("reffects", "reses"):
        _predict_reffects(session, cmd, res, req, sample)
    else:
        _predict_fitted(session, cmd, res, req, sample)


_PANEL = ("xb", "stdp", "ue", "e", "u", "xbu")
# e(cmd) -> predict handler(session, cmd, res, opts), registered by the modules that own
# those commands' statistics (commands.me_predict), so this module imports none of them
PREDICTORS: dict = {}
# the modules that register into PREDICTORS, in the order a full load imports them (command
# modules are imported when their command is first used, so predict imports these itself)
_PREDICTOR_MODULES = ("glm_predict", "xtregar", "st_cox", "st_streg", "me_multilevel_predict", "me_predict", "meqr", "resample",
                      "xt_glmm", "xtgee", "xtnbreg", "tobit", "xttobit", "xtintreg", "xtpqml",
                      "factor_post", "sem_predict", "mlogit", "reg_diagnostics", "reghdfe",
                      "xt_ordinal", "gsem_predict", "mestreg_predict", "clogit", "xtmlogit", "mvreg", "ivregress", "xtivreg", "teffects_predict")
# e(cmd) -> handler of the influence statistics (rstudent, leverage, cooksd, ...), registered by
# commands.reg_diagnostics for regress
INFLUENCE: dict = {}


def _load_predictors() -> None:
    import importlib
    import sys
    for m in _PREDICTOR_MODULES:
        if f"hlmshell.commands.{m}" not in sys.modules:
            importlib.import_module(f"hlmshell.commands.{m}")


_MIXED_OPTIONS = ("xb", "stdp", "fitted", "residuals", "rstandard", "reffects", "reses", "relevel",
                  "scores")
_GLMM_ONLY = ("mu", "pr", "eta", "ebmeans", "ebmodes", "fixedonly", "conditional", "nooffset",
              "pearson", "deviance", "anscombe", "outcome", "marginal")


def _no_panel_statistic(opts: Args) -> None:
    for name in _PANEL[2:]:
        if name in opts:
            raise StataError(f"option {name} not allowed", 198)


def _predict_panel(session, cmd, res, opts: Args) -> None:
    """predict after xtreg: xb (the default), stdp, ue, e, u, xbu (e, u, xbu in e(sample))."""
    for name in ("fitted", "residuals", "rstandard", "reffects", "reses", "relevel", "scores"):
        if name in opts:
            raise StataError(f"option {name} not allowed", 198)
    chosen = [s for s in _PANEL if s in opts]
    if len(chosen) > 1:
        raise StataError("only one statistic may be specified", 198)
    stat = chosen[0] if chosen else None
    vtype, names = _new_names(cmd.body or "", None)
    data = session.data
    touse = _touse(session, cmd)
    if stat is None:
        session.out.line("(option xb assumed; fitted values)")
    if stat == "stdp":
        col, lab = stdp_all(res, data), "S.E. of the prediction"
    elif stat in (None, "xb"):
        col, lab = xb_all(res, data), "Linear prediction"
    else:
        sample = _estimation_sample(res, data)
        col, lab = res.prediction(stat, xb_all(res, data), np.asarray(data.values(res.depvar), dtype=float),
                                  data.values(res.macros.get("ivar", "")), sample)
    _add(session, names, [col], [lab], vtype, touse)


def _predict_fixed(session, cmd, res: EstimationResults, req: PredictRequest) -> None:
    """xb or stdp of the fixed portion."""
    vtype, names = _new_names(cmd.body or "", None)
    if req.stat is None:
        session.out.line("(option xb assumed)")
    if req.stat == "stdp":
        col, lab = stdp_all(res, session.data), "S.E. of the linear prediction, fixed portion"
    else:
        col, lab = xb_all(res, session.data), "Linear prediction, fixed portion"
    _add(session, names, [col], [lab], vtype, req.touse)


def _blup_columns(model, data, sample, sel: list[int], with_se: bool):
    """BLUPs (and their standard errors) of the selected blocks for every observation whose
    group is in the sample, with their variable labels."""
    blocks = list(model.blocks)
    blups = compute_blups(model, with_se=with_se)
    codes = group_codes_all(model, data, sample)
    cols, labs, se_cols, se_labs = [], [], [], []
    for i in sel:
        b, c = blocks[i], codes[i]
        ok = c >= 0
        for j, nm in enumerate(b.names):
            col = np.full(data.n, np.nan)
            col[ok] = blups[i].u[c[ok], j]
            cols.append(col)
            labs.append(f"BLUP r.e. for {b.label}: {nm}")
            if blups[i].se is not None:
                sc = np.full(data.n, np.nan)
                sc[ok] = blups[i].se[c[ok], j]
                se_cols.append(sc)
                se_labs.append(f"S.E. of BLUP r.e. for {b.label}: {nm}")
    return cols, labs, se_cols, se_labs


def _check_new(data, names: list[str]) -> None:
    """Every new name is distinct and not yet a variable (before anything is added)."""
    if len(set(names)) != len(names):
        dup = next(nm for nm in names if names.count(nm) > 1)
        raise StataError(f"variable {dup} already defined", 110)
    for nm in names:
        if nm in data:
            raise StataError(f"variable {nm} already defined", 110)


def _predict_reffects(session, cmd, res: EstimationResults, req: PredictRequest,
                      sample: np.ndarray) -> None:
    """reffects (with reses() stubs) or reses: one new variable per random effect of the
    selected level(s)."""
    model = res.model
    blocks = list(model.blocks)
    sel = [i for i, b in enumerate(blocks) if not req.relevel or b.label == req.relevel]
    count = sum(len(blocks[i].names) for i in sel)
    if count == 0:
        raise StataError("random-effects equation(s) empty; BLUPs of random effects not available", 459)
    vtype, names = _new_names(cmd.body or "", count)
    se_names = _new_names(req.reses, count)[1] if req.reses else None
    cols, labs, se_cols, se_labs = _blup_columns(model, session.data, sample, sel,
                                                 with_se=(req.stat == "reses" or bool(req.reses)))
    if req.stat == "reses":
        _add(session, names, se_cols, se_labs, vtype, req.touse)
        return
    _check_new(session.data, names + (se_names or []))
    _add(session, names, cols, labs, vtype, req.touse)
    if se_names:
        _add(session, se_names, se_cols, se_labs, vtype, req.touse)


def _fitted_all(res: EstimationResults, data, sample: np.ndarray, depth: int | None) -> np.ndarray:
    """xb + Zu over every observation, with the random effects of levels down to `depth`
    (all when None)."""
    model = res.model
    blups = compute_blups(model, with_se=False)
    codes = group_codes_all(model, data, sample)
    fitted = xb_all(res, data)
    for b, bl, c in zip(model.blocks, blups, codes):
        if depth is not None and b.depth > depth:
            continue
        Z = z_values(b, data, sample)
        u = np.full((data.n, len(b.names)), np.nan)
        ok = c >= 0
        u[ok] = bl.u[c[ok]]
        fitted = fitted + np.sum(Z * u, axis=1)
    return fitted


def _predict_fitted(session, cmd, res: EstimationResults, req: PredictRequest,
                    sample: np.ndarray) -> None:
    """fitted, residuals or rstandard, to the level of relevel() when given."""
    vtype, names = _new_names(cmd.body or "", None)
    data = session.data
    depth = None
    if req.relevel:
        depth = max(b.depth for b in res.model.blocks if b.label == req.relevel)
    fitted = _fitted_all(res, data, sample, depth)
    suffix = f", level({req.relevel})" if req.relevel else ""
    if req.stat == "fitted":
        _add(session, names, [fitted], [f"Fitted values: xb + Zu{suffix}"], vtype, req.touse)
        return
    resid = np.asarray(data.values(res.depvar), dtype=float) - fitted
    if req.stat == "residuals":
        _add(session, names, [resid], [f"Residuals{suffix}"], vtype, req.touse)
        return
    fit = res.model.fit
    if isinstance(fit.extra, dict) and fit.extra.get("residual_data") is not None:
        # a residual structure: each group's residuals times R_g^-1/2 (Cholesky), as Stata's
        std = np.full(data.n, np.nan)
        rows = np.flatnonzero(sample)
        std[rows] = marginal.whiten_residuals(res.model, resid[rows])
    else:
        std = resid / float(np.sqrt(fit.sigma2))
    _add(session, names, [std], [f"Standardized residuals{suffix}"], vtype,
         req.touse & sample)


def _predict_linear(session, cmd, res, stat, touse) -> None:
    """predict after regress: xb (fitted values), stdp, residuals."""
    if stat not in (None, "xb", "stdp", "residuals"):
        raise StataError(f"option {stat} not allowed", 198)
    vtype, names = _new_names(cmd.body or "", None)
    data = session.data
    if stat is None:
        session.out.line("(option xb assumed; fitted values)")
    if stat == "stdp":
        col, lab = stdp_all(res, data), "S.E. of the prediction"
    elif stat == "residuals":
        y = np.asarray(data.values(res.depvar), dtype=float)
        col, lab = y - xb_all(res, data), "Residuals"
    else:
        col, lab = xb_all(res, data), "Fitted values"
    _add(session, names, [col], [lab], vtype, touse)
