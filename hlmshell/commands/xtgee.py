"""`xtgee depvar indepvars, family() link() corr() ...`: population-averaged panel models by
generalized estimating equations, as Stata 17's xtgee fits and prints them.

parse (family/link as glm's, corr(), vce, scale) -> sample and panel layout (xtset's panel and
time variables, or i()/t()) -> fit (hlmshell.engine.gee) -> e() -> print (output.xtgee_output).
Everything that can fail is checked before the session changes; `xtgee` alone replays.
`estat wcorrelation` after it shows e(R). xtlogit/xtprobit/xtpoisson `, pa` run through
`run_gee` with their family and link fixed.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from hlmshell import distributions as dist
from hlmshell.commands._panel import xt_settings
from hlmshell.commands._toolkit import sample_columns
from hlmshell.commands.estimation import _mixed_sample, _resolve_fixed_part, _split_spec
from hlmshell.commands.glm_cmds import _offset, offset_macros
from hlmshell.commands.glm_family_cmd import _check_outcome, parse_family, parse_link
from hlmshell.commands.model_terms import engine_terms, factor_labels
from hlmshell.engine import design as dz
from hlmshell.engine import gee
from hlmshell.engine.factorize import factorize
from hlmshell.errors import StataError
from hlmshell.output import xtgee_output as xo
from hlmshell.output.coeftable import coef_table, groups_from_names
from hlmshell.output.eform_table import eform_table
from hlmshell.output.labels import display_groups
from hlmshell.output.text import abbrev
from hlmshell.registry import Opt, abbrev_lookup, bind_command, command
from hlmshell.results import EstimationResults

_CORRS = (("exchangeable", 3), ("independent", 3), ("unstructured", 3), ("fixed", 3),
          ("ar", 2), ("stationary", 3), ("nonstationary", 3))
_FAMILY_TITLE = {"gaussian": "Gaussian", "binomial": "Binomial", "poisson": "Poisson",
                 "gamma": "Gamma", "igaussian": "Inverse Gaussian", "nbinomial": "Negative binomial"}
_VCE = (("conventional", 4), ("robust", 1), ("bootstrap", 4), ("jackknife", 4))


@dataclass
class GeeRequest:
    corr: gee.Corr
    corr_text: str
    robust: bool
    level: float
    eform: bool
    nolog: bool
    opts: object
    title: str | None = None          # eform column title (xtlogit's or, xtpoisson's irr)


def parse_corr(session, text: str | None) -> tuple[gee.Corr, str]:
    """corr(exchangeable | independent | unstructured | fixed matname | ar # | stationary # |
    nonstationary #), the number attached or apart (ar1, ar 2); the header's name."""
    t = (text or "exchangeable").strip()
    m = re.fullmatch(r"([A-Za-z]+)\s*(\S*)", t)
    if not m:
        raise StataError("invalid correlation structure", 198)
    kind = abbrev_lookup(m.group(1).lower(), _CORRS)
    arg = m.group(2)
    if kind is None:
        raise StataError(f"unknown correlation structure: {m.group(1)}", 198)
    if kind == "fixed":
        if not arg:
            raise StataError("corr(fixed) requires a matrix name", 198)
        mat = session.matrices.get(arg)
        if mat is None:
            raise StataError(f"matrix {arg} not found", 111)
        R = np.asarray(getattr(mat, "values", mat), dtype=float)
        if R.ndim != 2 or R.shape[0] != R.shape[1] or not np.allclose(R, R.T):
            raise StataError(f"matrix {arg} must be square and symmetric", 505)
        return gee.Corr("fixed", 0, R), "fixed (specified)"
    if kind in ("ar", "stationary", "nonstationary"):
        try:
            k = int(arg) if arg else 1
        except ValueError:
            raise StataError("invalid correlation structure", 198) from None
        if k < 1:
            raise StataError("invalid correlation structure", 198)
        name = {"ar": f"AR({k})", "stationary": f"stationary({k})",
                "nonstationary": f"nonstationary({k})"}[kind]
        return gee.Corr(kind, k), name
    if arg:
        raise StataError("invalid correlation structure", 198)
    return gee.Corr(kind), kind


def _robust(opts) -> bool:
    if "vce" in opts:
        w = (opts.raw("vce") or "").split()
        full = abbrev_lookup(w[0].lower(), _VCE) if w else None
        if full is None or len(w) != 1 or full in ("bootstrap", "jackknife"):
            raise StataError(f"vcetype '{w[0] if w else ''}' not allowed", 198)
        return full == "robust" or bool(opts.robust)
    return bool(opts.robust)


def _scale(opts) -> tuple[str, float]:
    text = (opts.raw("scale") or "").strip().lower()
    if not text:
        return "default", 1.0
    if text in ("x2", "dev", "phi"):
        return text, 1.0
    try:
        v = float(text)
    except ValueError:
        raise StataError("scale() invalid", 198) from None
    if not v > 0:
        raise StataError("scale() invalid", 198)
    return "#", v


# --------------------------------------------------------------------------- data
@dataclass
class GeeData:
    depvar: str
    design: dz.Design
    y: np.ndarray
    off: np.ndarray
    mask: np.ndarray
    groups: np.ndarray
    times: np.ndarray | None
    ivar: str
    tvar: str | None
    column: object
    value_labels: dict
    weights: np.ndarray | None = None       # per panel
    wkind: str | None = None


def _times(column, tvar: str, groups, delta: float) -> np.ndarray:
    t = np.asarray(column(tvar), dtype=float)
    idx = (t - t.min()) / delta
    if np.any(np.abs(idx - np.round(idx)) > 1e-9):
        raise StataError(f"{tvar} is not regularly spaced", 459)
    idx = np.round(idx).astype(np.int64)
    if np.any(np.bincount(groups * (int(idx.max()) + 1) + idx) > 1):
        raise StataError("repeated time values within panel", 451)
    return idx


def prepare(session, cmd, spec, fixed_raw, opts, corr: gee.Corr) -> GeeData:
    ds = session.data
    depvar, fixed, fvars = _resolve_fixed_part(ds, spec, fixed_raw)
    need_t = corr.kind not in ("exchangeable", "independent")
    ps = xt_settings(session, opts.raw("i") if "i" in opts else None,
                     opts.raw("t") if "t" in opts else None, trequired=need_t)
    ivar, tvar = ps.panelvar, ps.timevar if need_t else None
    extra = [v.strip() for v in (opts.raw("offset"), opts.raw("exposure")) if v]
    numeric = [depvar] + [v for v in fvars + extra + [ivar] + ([tvar] if tvar else [])
                          if v != depvar]
    mask = _mixed_sample(session, cmd, numeric, [])
    column = sample_columns(ds, mask)
    n = int(mask.sum())
    design = dz.build_fixed(engine_terms(fixed), column, n, constant=not opts.noconstant)
    groups = factorize(np.asarray(column(ivar), dtype=float))[1]
    times = _times(column, tvar, groups, ps.delta) if tvar else None
    if corr.kind == "fixed" and corr.fixed.shape[0] < (int(times.max()) + 1 if times is not None
                                                        else int(np.bincount(groups).max())):
        raise StataError("matrix specified in corr(fixed) is too small", 503)
    wg, wkind = _panel_weights(session, cmd, mask, groups, ivar)
    return GeeData(depvar, design, np.asarray(column(depvar), dtype=float), _offset(opts, column, n),
                   mask, groups, times, ivar, tvar, column, factor_labels(ds, fixed), wg, wkind)


def _panel_weights(session, cmd, mask, groups, ivar):
    """fweights, pweights, iweights: constant within panel (Stata's rule), one per panel."""
    if cmd.weight is None:
        return None, None
    from hlmshell.commands._toolkit import weights
    w = weights(session, cmd, mask, allowed=("fweight", "pweight", "iweight"))[mask]
    if np.any(np.isnan(w)):
        raise StataError("missing weights encountered", 402)
    G = int(groups.max()) + 1
    first = np.zeros(G)
    first[groups] = w
    if np.any(first[groups] != w):
        raise StataError(f"weight must be constant within {ivar}", 199)
    return first, cmd.weight.kind


# --------------------------------------------------------------------------- fit and e()
def _fit(session, data: GeeData, fam, link, req: GeeRequest) -> gee.GeeFit:
    X = data.design.X_keep
    if len(data.y) <= X.shape[1]:
        raise StataError("insufficient observations", 2001)
    kind, value = _scale(req.opts)
    o = req.opts
    gopts = gee.Options(req.corr, nmp=bool(o.nmp), rgf=bool(o.rgf), robust=req.robust, scale=kind,
                        scale_value=value, tol=float(o.tolerance), maxiter=int(o.iterate),
                        fixed_scale=fam.name in ("binomial", "poisson", "nbinomial"),
                        weights=data.weights, wkind=data.wkind or "fweight")
    lines: list[str] = []

    def log(it, tol):
        lines.append(xo.iteration_line(it, tol))
    try:
        with np.errstate(all="ignore"):
            fit = gee.fit(data.y, X, data.off, fam, link, data.groups, data.times, gopts,
                          callback=log)
    except (np.linalg.LinAlgError, FloatingPointError, ValueError):
        raise StataError("estimates diverging (absolute correlation > 1)", 430) from None
    if not np.all(np.isfinite(fit.V)):
        raise StataError("estimates diverging (absolute correlation > 1)", 430)
    if not req.nolog:
        session.out.line("")
        for ln in lines:
            session.out.line(ln)
    if not fit.converged:
        session.out.line("convergence not achieved")
    return fit


def _wald(b, V, idx) -> tuple[float, int]:
    if not idx:
        return 0.0, 0
    bb, VV = b[idx], V[np.ix_(idx, idx)]
    try:
        return float(bb @ np.linalg.solve(VV, bb)), len(idx)
    except np.linalg.LinAlgError:
        return float("nan"), len(idx)


def _scale_shown(fit: gee.GeeFit, fam, opts) -> float:
    kind, value = _scale(opts)
    n, p = fit.mu.shape[0], len(fit.beta)
    if kind == "#":
        return value
    if kind == "x2":
        return fit.pearson / (n - p)
    if kind == "dev":
        return fit.deviance / (n - p)
    if kind == "phi" or fam.name not in ("binomial", "poisson", "nbinomial"):
        return fit.phi
    return 1.0


def results(cmd, name: str, data: GeeData, fit: gee.GeeFit, fam, link, req: GeeRequest,
            corr_name: str) -> EstimationResults:
    design = data.design
    names = [(data.depvar, nm) for nm in design.stata_names]
    k = len(names)
    keep = np.flatnonzero(design.keep)
    V = fit.V_robust if fit.V_robust is not None else fit.V
    b = np.zeros(k)
    b[keep] = fit.beta
    Vf = np.zeros((k, k))
    Vf[np.ix_(keep, keep)] = V
    res = EstimationResults(cmd=name, names=names, b=b, V=Vf, omitted=design.omitted.copy(),
                            k_f=k, sample=data.mask.copy())
    chi2, df_m = _wald(b, Vf, [int(i) for i in keep if names[i][1] != "_cons"])
    counts = np.bincount(data.groups).astype(float)
    n, p = len(data.y), len(keep)
    n_g = float(len(counts))
    if data.wkind == "fweight":                 # a panel of weight w counts as w panels
        n = int(round(float(np.sum(counts * data.weights))))
        n_g = float(np.sum(data.weights))
    phi = _scale_shown(fit, fam, req.opts)
    res.scalars = {"N": float(n), "N_g": n_g, "g_min": float(counts.min()),
                   "g_avg": float(counts.mean()), "g_max": float(counts.max()),
                   "df_m": float(df_m), "chi2": chi2,
                   "p": float(dist.chi2_sf(chi2, df_m)) if df_m else math.nan,
                   "df_pear": float(n - p), "chi2_dev": fit.deviance / phi,
                   "chi2_dis": fit.pearson / phi, "deviance": fit.deviance,
                   "dispers": fit.pearson / (n - p), "phi": phi, "rank": float(p),
                   "tol": float(req.opts.tolerance),
                   "dif": float(fit.tolerances[-1]) if fit.tolerances else 0.0,
                   "rc": 0.0 if fit.converged else 430.0, "converged": 1.0 if fit.converged else 0.0}
    res.macros = {"cmd": name, "cmd2": "xtgee", "cmdline": cmd.text, "depvar": data.depvar,
                  "family": _FAMILY_TITLE[fam.name].lower(), "link": link.name,
                  "corr": corr_name, "scale": (req.opts.raw("scale") or "").strip().lower()
                  or ("1" if fam.name in ("binomial", "poisson") else "phi"),
                  "ivar": data.ivar, "model": "pa", "chi2type": "Wald",
                  "vce": "robust" if req.robust else "conventional", "properties": "b V",
                  "predict": "xtgee_p", "title": "GEE population-averaged model",
                  "crittype": "", "nmp": "nmp" if req.opts.nmp else ""}
    if data.tvar:
        res.macros["tvar"] = data.tvar
    if req.robust:
        res.macros["vcetype"] = "Robust"
        res.macros["clustvar"] = data.ivar
        res.scalars["N_clust"] = float(fit.n_groups)
    offset_macros(res, req.opts)
    if data.wkind:
        import re as _re
        m = _re.search(r"\[\s*\w+\s*=\s*([^\]]*)\]", cmd.text or "")
        res.macros.update(wtype=data.wkind, wexp=f"= {m.group(1).strip()}" if m else "")
    res.matrices["R"] = fit.R
    res.scalars["power"] = float(link.power)
    return res


def _link_title(res) -> str:
    from hlmshell.engine import glm_family as gfm
    try:
        return gfm.make_link(res.macros["link"], float(res.scalars.get("power", 0.0))).title
    except ValueError:
        return res.macros["link"].capitalize()


# --------------------------------------------------------------------------- display
def eform_title(fam_name: str, link_name: str) -> str:
    if fam_name == "binomial" and link_name == "logit":
        return "Odds ratio"
    if fam_name in ("poisson", "nbinomial") and link_name == "log":
        return "IRR"
    return "exp(b)"


def display(session, res: EstimationResults, groups, level: float, eform: bool,
            title: str | None = None) -> None:
    sc, mac = res.scalars, res.macros
    head = xo.header_lines(ivar=mac["ivar"], tvar=mac.get("tvar"),
                           family=_FAMILY_TITLE.get(_family_key(mac["family"]),
                                                    mac["family"].capitalize()),
                           link=_link_title(res), corr=mac["corr"], scale=sc["phi"],
                           n=int(sc["N"]), n_g=int(sc["N_g"]),
                           g=(sc["g_min"], sc["g_avg"], sc["g_max"]), df_m=int(sc["df_m"]),
                           chi2=sc["chi2"], p=sc["p"])
    out = session.out
    for ln in head:
        out.line(ln)
    out.line("")
    vt = mac.get("vcetype")
    if vt:
        out.line(f"(Std. err. adjusted for clustering on {abbrev(mac['ivar'], 12)})".rjust(78))
    se = np.sqrt(np.clip(np.diag(res.V), 0, None))
    if eform:
        lines = eform_table(res.depvar, groups, res.b, se, level=level, vcetype=vt,
                            title=title or eform_title(_family_key(mac["family"]), mac["link"]))
    else:
        lines = coef_table(res.depvar, groups, res.b, se, stat="z", level=level, vcetype=vt)
    from hlmshell.output.glm_output import offset_rows
    lines = lines[:-1] + offset_rows(mac.get("offset")) + lines[-1:]
    for ln in lines:
        out.line(ln)


def _family_key(title: str) -> str:
    for k, v in _FAMILY_TITLE.items():
        if v.lower() == title:
            return k
    return title


# --------------------------------------------------------------------------- the command
def run_gee(session, cmd, name: str, fam_text: str | None, link_text: str | None,
            eform_title_: str | None = None) -> None:
    """Fit and show a GEE for `name` (xtgee, or xtlogit/xtprobit/xtpoisson with pa)."""
    spec, fixed_raw = _split_spec(session, cmd)
    if spec.levels:
        raise StataError("invalid syntax", 198)
    opts = bind_command(name, list(spec.fixed_options)
                        + [o for o in cmd.options if o not in spec.fixed_options])
    corr, corr_name = parse_corr(session, opts.raw("corr"))
    eform = bool(getattr(opts, "eform", False) or getattr(opts, "or", False)
                 or getattr(opts, "irr", False))
    req = GeeRequest(corr, corr_name, _robust(opts), float(opts.level), eform,
                     bool(opts.nolog and not opts.log), opts, eform_title_)
    _scale(opts)
    if "exposure" in opts and opts.raw("exposure") and opts.raw("offset"):
        raise StataError("only one of offset() or exposure() can be specified", 198)
    data = prepare(session, cmd, spec, fixed_raw, opts, corr)
    if data.wkind == "pweight":
        req.robust = True
    n = len(data.y)
    fam = parse_family(fam_text if fam_text is not None else opts.raw("family"), data.column, n)
    link = parse_link(link_text if link_text is not None else opts.raw("link"), fam)
    if fam.name == "binomial" and fam.bernoulli and name != "xtgee":
        data.y = (data.y != 0).astype(float)
    _check_outcome(fam, data.y, data.depvar)
    if np.all(data.y == data.y[0]):
        raise StataError("outcome does not vary", 2000)
    for note in data.design.notes:                 # collinearity (_rmcoll's notes)
        session.out.line(note)
    fit = _fit(session, data, fam, link, req)
    res = results(cmd, name, data, fit, fam, link, req, corr_name)
    session.post_estimation(res)
    groups = display_groups(data.design, baselevels=False, value_labels=data.value_labels)
    display(session, res, groups, req.level, eform, eform_title_)


def _replay(session, cmd, name: str) -> None:
    res = session.e
    if res is None or res.cmd != name or res.macros.get("model") != "pa":
        raise StataError("last estimates not found", 301)
    opts = bind_command(name, cmd.options)
    bad = [k for k in opts.given if k not in ("eform", "level", "or", "irr")]
    if bad:
        raise StataError(f"option {bad[0]} not allowed", 198)
    eform = bool(getattr(opts, "eform", False) or getattr(opts, "or", False)
                 or getattr(opts, "irr", False))
    display(session, res, groups_from_names([nm for _, nm in res.names]), float(opts.level), eform)


def gee_options(extra=()) -> tuple:
    return (Opt("family", "f", "string", None, "distribution: gaussian, binomial [#|var], "
                "poisson, nbinomial [#], gamma, igaussian"),
            Opt("link", "l", "string", None, "identity, log, logit, probit, cloglog, power #, "
                "opower #, nbinomial, reciprocal"),
            Opt("corr", "c", "string", None, "exchangeable, independent, unstructured, fixed "
                "matname, ar #, stationary #, nonstationary #"),
            Opt("i", "i", "string", None, "panel variable (sets xtset's)"),
            Opt("t", "t", "string", None, "time variable (sets xtset's)"),
            Opt("vce", "vce", "string", None, "conventional or robust"),
            Opt("robust", "r", desc="old syntax of vce(robust)"),
            Opt("nmp", desc="divisor N-P instead of N for the scale and correlations"),
            Opt("rgf", desc="multiply the robust VCE by (N-1)/(N-P)"),
            Opt("scale", "s", "string", None, "x2, dev, phi or #"),
            Opt("offset", "off", "string", None, "include varname with coefficient 1"),
            Opt("exposure", "exp", "string", None, "include ln(varname) with coefficient 1"),
            Opt("noconstant", "nocons", desc="suppress the constant term"),
            Opt("force", desc="estimate even if the times are unequally spaced"),
            Opt("asis", desc="accepted for compatibility"),
            Opt("level", "le", "real", 95, "set confidence level; default is level(95)"),
            Opt("eform", "ef", desc="report exponentiated coefficients"),
            Opt("nolog", "nolog", desc="do not show the iteration log"),
            Opt("log", desc="show the iteration log; the default"),
            Opt("iterate", "iter", "int", 100, "maximum number of iterations"),
            Opt("tolerance", "tol", "real", 1e-6, "convergence tolerance"),
            Opt("nodisplay", "nodis", desc="accepted for compatibility")) + tuple(extra)


@command("xtgee", abbrev="xtgee", rule="mixed", family="Estimation", body="fvvarlist",
         qualifiers="if in weight", weights="fweight pweight iweight", desc="population-averaged panel models by GEE",
         example="xtgee resp age smoke, family(binomial) link(logit) corr(exchangeable)",
         options=gee_options())
def xtgee_cmd(session, cmd) -> None:
    spec, _ = _split_spec(session, cmd)
    if spec is None:
        _replay(session, cmd, "xtgee")
        return
    run_gee(session, cmd, "xtgee", None, None)


def estat_wcorrelation(session, res, opts) -> None:
    """estat wcorrelation after xtgee: e(R), the estimated working correlation, lower triangle;
    r(R)."""
    from hlmshell.commands.program import NamedMatrix
    from hlmshell.output.numfmt import FormatError, fmt
    from hlmshell.results import RResults
    R = np.asarray(res.matrices["R"], dtype=float)
    form = (opts.format or "").strip() or "%9.4f"
    try:
        fmt(0.5, form)
    except FormatError:
        raise StataError(f"invalid format {form}", 120) from None
    for ln in xo.matrix_lines(f"Estimated within-{res.macros['ivar']} correlation matrix R", R, form):
        session.out.line(ln)
    names_r = [f"r{i + 1}" for i in range(R.shape[0])]
    names_c = [f"c{i + 1}" for i in range(R.shape[0])]
    session.r = RResults(matrices={"R": NamedMatrix(R.copy(), names_r, names_c)})


# --------------------------------------------------------------------------- predict
def predict(session, cmd, res, opts) -> None:
    """predict after xtgee (and xt*, pa): mu (the default; the mean, with the offset), rate
    (the mean without it), xb, stdp."""
    from hlmshell.commands.glm_predict import _offset as offset_of
    from hlmshell.commands.predict import _add, _new_names, _touse, stdp_all, xb_all
    from hlmshell.engine import glm_family as gfm
    chosen = [w for w in ("mu", "rate", "xb", "stdp") if w in opts and getattr(opts, w, False)]
    other = [w for w in ("pr", "n", "ir", "eta", "pearson", "deviance", "anscombe", "reffects",
                         "residuals", "fitted", "marginal") if w in opts and getattr(opts, w, None)]
    if other:
        raise StataError(f"option {other[0]} not allowed", 198)
    if len(chosen) > 1:
        raise StataError("only one statistic may be specified", 198)
    stat = chosen[0] if chosen else "mu"
    if not chosen:
        session.out.line(f"(option mu assumed; predicted mean {res.depvar})")
    data = session.data
    touse = _touse(session, cmd)
    vtype, names = _new_names(cmd.body or "", None)
    if stat in ("xb", "stdp"):
        col = xb_all(res, data) if stat == "xb" else stdp_all(res, data)
        label = "Linear prediction" if stat == "xb" else "S.E. of the prediction"
    else:
        xb = xb_all(res, data)
        eta = xb + (0.0 if stat == "rate" else offset_of(res, data, opts))
        link = gfm.make_link(res.macros["link"], float(res.scalars.get("power", 0.0)))
        col = link.inv(eta)[0]
        label = "Predicted mean"
        if res.macros["family"] == "binomial":
            label = f"Pr({res.depvar})"
    _add(session, names, [col], [label], vtype, touse)


def _register_predict() -> None:
    from hlmshell.commands.predict import PREDICTORS
    PREDICTORS["xtgee"] = predict


_register_predict()
