"""`xtreg depvar indepvars [if] [in], re | fe | be | mle`: linear panel-data models.

parse (options typed by the spec below) -> validate (panel variable, vce, sample) -> fit
(hlmshell.engine.panel) -> e() (hlmshell.results.xtreg) -> print (hlmshell.output.xtreg_output).
Everything that can fail is checked before the session changes. `xtreg` alone replays the
active xtreg results.

The panel variable is xtset's (hlmshell.commands._panel) unless i(varname) names one.
vce(robust) is vce(cluster panelvar), as in Stata; a cluster variable must nest the panels.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from hlmshell import distributions as dist
from hlmshell.commands._panel import current_settings, panel_settings
from hlmshell.commands._postest import confidence_level
from hlmshell.commands._toolkit import percentile, sample_columns
from hlmshell.commands.model_terms import engine_terms, factor_labels, resolve_terms
from hlmshell.engine import design as dz
from hlmshell.engine import panel as pn
from hlmshell.engine.factorize import factorize
from hlmshell.errors import StataError, syntax_error
from hlmshell.output import coeftable as ct
from hlmshell.output import mixed_output as mo
from hlmshell.output import xtreg_output as xo
from hlmshell.output.labels import display_groups
from hlmshell.registry import Args, Opt, abbrev_lookup, bind_command, command
from hlmshell.results.xtreg import TITLES, XtregResults
from hlmshell.syntax.ast import Command, FVTerm
from hlmshell.syntax.evaluate import marksample
from hlmshell.syntax.parser import parse_mixed, parse_options
from hlmshell.syntax.varlist import expand_varlist

_VCE = (("conventional", "conventional"), ("robust", "r"), ("cluster", "cl"),
        ("bootstrap", "boot"), ("jackknife", "jack"), ("oim", "oim"))


# --------------------------------------------------------------------------- parse
@dataclass
class XtregRequest:
    model: str                          # fe | be | re | ml
    level: float
    theta: bool = False
    sa: bool = False
    wls: bool = False
    vce: str = "conventional"           # conventional | cluster
    clustvar: str | None = None
    ivar: str = ""
    nolog: bool = False
    iterate: int = 100
    baselevels: bool = False
    nonest: bool = False                # clusters need not nest the panels (areg)
    dfadj: bool = False                 # cluster factor counts the absorbed means (areg)


def _model(opts: Args) -> str:
    chosen = [m for m in ("be", "fe", "re") if getattr(opts, m)]
    if len(chosen) > 1 or (opts.mle and ("be" in chosen or "fe" in chosen)):
        raise StataError("choose only one of be, fe, re, or pa", 198)
    for o in _PA_ONLY:                  # pa's GEE options with another model
        if o.name in opts:
            raise StataError(f"option {o.name}{'()' if o.takes_arg else ''} not allowed", 198)
    if opts.mle:
        return "ml"
    return chosen[0] if chosen else "re"


# xtreg, pa is xtgee with family(gaussian) link(identity): the GEE options it takes beyond
# xtreg's own (i(), vce(), robust, level(), nolog, iterate() are shared)
_PA_ONLY = (Opt("corr", "c", "string", None, "pa: working correlation (exchangeable, independent, "
                "unstructured, fixed matname, ar #, stationary #, nonstationary #)"),
            Opt("t", "t", "string", None, "pa: time variable (sets xtset's)"),
            Opt("nmp", desc="pa: divisor N-P instead of N for the scale and correlations"),
            Opt("rgf", desc="pa: multiply the robust VCE by (N-1)/(N-P)"),
            Opt("scale", "s", "string", None, "pa: x2, dev, phi or #"),
            Opt("offset", "off", "string", None, "pa: include varname with coefficient 1"),
            Opt("noconstant", "nocons", desc="pa: suppress the constant term"),
            Opt("force", desc="pa: estimate even if the times are unequally spaced"),
            Opt("tolerance", "tol", "real", 1e-6, "pa: convergence tolerance"),
            Opt("nodisplay", "nodis", desc="pa: accepted for compatibility"))


def _run_pa(session, cmd: Command, opts: Args) -> None:
    """`xtreg y x, pa`: Stata hands it to xtgee, family(gaussian) link(identity); e(cmd) stays
    xtreg (e(cmd2) xtgee, e(model) pa)."""
    from hlmshell.commands import xtgee as xg
    if any(getattr(opts, m) for m in ("be", "fe", "re", "mle")):
        raise StataError("choose only one of be, fe, re, or pa", 198)
    for name in ("sa", "wls", "theta", "baselevels", "allbaselevels"):
        if getattr(opts, name):
            raise StataError(f"option {name} not allowed", 198)
    if "cluster" in opts:
        raise StataError("option cluster() not allowed", 198)
    if cmd.weight is not None and cmd.weight.kind not in ("fweight", "pweight", "iweight"):
        raise StataError(f"{cmd.weight.kind} not allowed", 101)
    xg.run_gee(session, cmd, "xtreg", "gaussian", "identity")


def _vce(session, opts: Args, model: str) -> tuple[str, str | None]:
    """(vce, cluster variable) from vce(), robust and cluster(); robust means clustering on the
    panel variable (resolved by the caller)."""
    kind, clustvar = "conventional", None
    if "vce" in opts:
        words = (opts.raw("vce") or "").split()
        full = abbrev_lookup(words[0].lower(), _VCE) if words else None
        if full is None or full in ("bootstrap", "jackknife") or (full == "oim" and model != "ml"):
            raise StataError(f"vcetype '{words[0] if words else ''}' not allowed", 198)
        if full == "cluster":
            if len(words) != 2:
                raise StataError("option vce() incorrectly specified", 198)
            clustvar = words[1]
        elif len(words) != 1:
            raise StataError("option vce() incorrectly specified", 198)
        kind = {"oim": "conventional"}.get(full, full)
    if opts.robust:
        kind = "robust"
    if "cluster" in opts:
        kind, clustvar = "cluster", opts.cluster
    if kind != "conventional" and model == "be":
        raise StataError(f"vcetype '{kind}' not allowed", 198)
    if clustvar is not None:
        vs = expand_varlist(session.data, clustvar)
        if len(vs) != 1:
            raise syntax_error()
        clustvar = vs[0]
    return kind, clustvar


def _request(session, opts: Args) -> XtregRequest:
    model = _model(opts)
    vce, clustvar = _vce(session, opts, model)
    if opts.sa and model != "re":
        raise StataError("option sa not allowed", 198)
    if opts.wls and model != "be":
        raise StataError("option wls not allowed", 198)
    if opts.theta and model != "re":
        raise StataError("option theta not allowed", 198)
    if opts.iterate < 0:
        raise StataError("option iterate() incorrectly specified", 198)
    req = XtregRequest(model, confidence_level(session, opts), theta=opts.theta, sa=opts.sa,
                       wls=opts.wls, vce=vce, clustvar=clustvar, nolog=opts.nolog and not opts.log,
                       iterate=opts.iterate, baselevels=opts.baselevels or opts.allbaselevels)
    req.ivar = _ivar(session, opts)
    if req.vce == "robust":
        req.vce, req.clustvar = "cluster", req.clustvar or req.ivar
    return req


def _ivar(session, opts: Args) -> str:
    """i(varname), else xtset's panel variable (r(459) when there is none)."""
    if "i" in opts:
        vs = expand_varlist(session.data, opts.i)
        if len(vs) != 1:
            raise syntax_error()
        return vs[0]
    return panel_settings(session).panelvar


# --------------------------------------------------------------------------- data
@dataclass
class PanelData:
    depvar: str
    design: dz.Design
    y: np.ndarray
    mask: np.ndarray
    codes: np.ndarray                   # panel codes 0..G-1 on the sample
    clusters: np.ndarray | None
    value_labels: dict = field(default_factory=dict)


def _numeric(ds, names: list[str]) -> None:
    for nm in names:
        if ds.var(nm).is_string:
            raise StataError("type mismatch", 109)


def _variables(ds, spec) -> tuple[str, list[FVTerm], list[str]]:
    dep = expand_varlist(ds, spec.depvar, ts=True)
    if len(dep) != 1:
        raise syntax_error()
    fixed = resolve_terms(ds, list(spec.fixed))
    fvars = []
    for t in fixed:
        fvars += [p.name for p in t.parts if p.name not in fvars]
    _numeric(ds, [dep[0]] + fvars)
    return dep[0], fixed, fvars


def _prepare(session, cmd: Command, spec, req: XtregRequest) -> PanelData:
    ds = session.data
    depvar, fixed, fvars = _variables(ds, spec)
    if ds.var(req.ivar).is_string:
        raise StataError(f"string variables not allowed in varlist;\n{req.ivar} is a string variable", 109)
    need = [depvar] + [v for v in fvars if v != depvar] + [req.ivar]
    ps = current_settings(ds)
    if req.model == "fe" and ps is not None and ps.timevar and ps.panelvar == req.ivar:
        need.append(ps.timevar)
    mask = marksample(session, cmd, need)
    if req.clustvar is not None:
        mask &= marksample(session, None, [req.clustvar], strok=True)
    n = int(mask.sum())
    if n == 0:
        raise StataError("no observations", 2000)
    if n < (2 if req.model == "fe" else 3):
        raise StataError("insufficient observations", 2001)

    column = sample_columns(ds, mask)
    design = dz.build_fixed(engine_terms(fixed), column, n, constant=True)
    codes = factorize(column(req.ivar))[1]
    clusters = None
    if req.clustvar is not None:
        cvals = ds.var(req.clustvar).values[mask]
        clusters = pn.cluster_codes(cvals.astype(str) if ds.var(req.clustvar).is_string else cvals)
        if not req.nonest and not pn.nested(pn.panels(codes), clusters):
            raise StataError("panels are not nested within clusters", 498)
    return PanelData(depvar, design, column(depvar), mask, codes, clusters, factor_labels(ds, fixed))


# --------------------------------------------------------------------------- fit
def _ml_logger(session, req: XtregRequest):
    def cb(it: int, ll: float) -> None:
        if not math.isfinite(ll):
            raise StataError("could not calculate numerical derivatives -- discontinuous region "
                             "with missing values encountered", 430)
        if not req.nolog:
            session.out.line(mo.iteration_line(it, ll, False).rstrip())
    return cb


def _fit_ml(session, data: PanelData, req: XtregRequest, P: pn.Panels):
    """The constant-only model (for the LR test of the slopes) and the full model, with
    Stata's iteration log."""
    X = data.design.X_keep
    cons = X.shape[1] - 1
    cb = _ml_logger(session, req)
    fit0 = None
    if cons > 0:
        if not req.nolog:
            session.out.line("")
            session.out.line("Fitting constant-only model:")
        fit0 = pn.fit_ml(data.y, X[:, [cons]], 0, P, callback=cb, maxiter=req.iterate)
        if not req.nolog:
            session.out.line("")
            session.out.line("Fitting full model:")
    elif not req.nolog:
        session.out.line("")
    fit = pn.fit_ml(data.y, X, cons, P, callback=cb, maxiter=req.iterate, clusters=data.clusters)
    if not fit.converged:
        session.out.line("convergence not achieved")
    return fit, fit0


def _fit(session, data: PanelData, req: XtregRequest):
    X = data.design.X_keep
    cons = X.shape[1] - 1
    P = pn.panels(data.codes)
    try:
        if req.model == "fe":
            return pn.fit_within(data.y, X, cons, P, clusters=data.clusters, dfadj=req.dfadj), None
        if req.model == "be":
            return pn.fit_between(data.y, X, cons, P, wls=req.wls), None
        if req.model == "re":
            return pn.fit_gls(data.y, X, cons, P, sa=req.sa, clusters=data.clusters), None
        return _fit_ml(session, data, req, P)
    except ArithmeticError:
        raise StataError("insufficient observations", 2001) from None
    except (np.linalg.LinAlgError, ValueError, FloatingPointError):
        raise StataError("could not calculate numerical derivatives -- discontinuous region "
                         "with missing values encountered", 430) from None


# --------------------------------------------------------------------------- e()
def _mark_dropped(design: dz.Design, dropped) -> tuple[dz.Design, list[str]]:
    """The design with the columns the within or between transform dropped marked omitted,
    and the notes of every omitted column in column order."""
    kidx = np.flatnonzero(design.keep)
    newly = {int(j) for j in kidx[np.asarray(dropped, dtype=bool)]} if dropped is not None else set()
    cols = [replace(c, omitted=c.omitted or j in newly) for j, c in enumerate(design.columns)]
    notes = []
    for j, c in enumerate(cols):
        if j in newly:
            notes.append(f"note: {c.name} omitted because of collinearity.")
        else:
            notes += [t for t in design.notes if f" {c.name} " in t]
    return replace(design, columns=cols), notes


def _coefs(design: dz.Design, beta: np.ndarray, V: np.ndarray):
    """e(b) and e(V) over every design column (zero where not estimated) from the engine's
    estimates over the columns of the design as fitted (X_keep: before the within or between
    transform dropped any)."""
    k = len(design.columns)
    kidx = np.flatnonzero(design.keep)
    b, Vf = np.zeros(k), np.zeros((k, k))
    b[kidx] = beta
    Vf[np.ix_(kidx, kidx)] = V
    return b, Vf


def _panel_scalars(P: pn.Panels, n: int) -> dict:
    T = P.counts
    return {"N": n, "N_g": P.n_groups, "g_min": int(T.min()), "g_avg": float(T.mean()),
            "g_max": int(T.max()), "Tcon": 1.0 if P.balanced else 0.0}


def _macros(cmd: Command, data: PanelData, req: XtregRequest, model: str) -> dict:
    m = {"cmd": "xtreg", "cmdline": cmd.text, "depvar": data.depvar, "ivar": req.ivar,
         "model": model, "title": TITLES[model], "properties": "b V",
         "vce": "conventional" if req.vce == "conventional" else "cluster",
         "predict": "xtrere_p" if model == "re" else "xtrefe_p",
         "marginsnotok": "E U UE SCore STDP XBU"}
    if req.vce == "cluster":
        m["vcetype"], m["clustvar"] = "Robust", req.clustvar
    if model == "ml":
        m["vce"] = "oim" if req.vce == "conventional" else "cluster"
    return m


def _fe_scalars(f: pn.WithinFit, robust: bool) -> dict:
    k, N = f.k, f.N
    sc = {"mss": f.tss_within - f.rss, "rss": f.rss, "tss": f.tss, "df_a": f.df_a, "df_b": k,
          "df_m": k if robust else f.df_a + k, "df_r": (f.n_clusters - 1) if robust else f.df_r,
          "r2": f.r2_w, "r2_a": 1 - (1 - f.r2_w) * (N - 1) / f.df_r if f.df_r > 0 else math.nan,
          "r2_w": f.r2_w, "r2_b": f.r2_b, "r2_o": f.r2_o, "corr": f.corr, "sigma_u": f.sigma_u,
          "sigma_e": f.sigma_e, "sigma": math.hypot(f.sigma_u, f.sigma_e),
          "rho": f.sigma_u ** 2 / (f.sigma_u ** 2 + f.sigma_e ** 2), "rmse": f.sigma_e,
          "F": f.F, "ll": _ll(f.rss, N), "ll_0": _ll(f.tss, N)}
    sc["p"] = float(dist.f_sf(f.F, k, sc["df_r"])) if math.isfinite(f.F) else math.nan
    if robust:
        sc["N_clust"] = f.n_clusters
    else:
        sc["F_f"] = f.F_f
        sc["p_f"] = float(dist.f_sf(f.F_f, f.df_a, f.df_r)) if math.isfinite(f.F_f) else math.nan
    return sc


def _ll(ss: float, n: int) -> float:
    return -0.5 * n * (math.log(2 * math.pi) + math.log(ss / n) + 1) if ss > 0 else math.nan


def _be_scalars(f: pn.BetweenFit, P: pn.Panels) -> dict:
    p = float(dist.f_sf(f.F, f.k, f.df_r)) if math.isfinite(f.F) else math.nan
    return {"mss": f.mss, "rss": f.rss, "df_m": f.k, "df_r": f.df_r, "r2": f.r2, "r2_a": f.r2_a,
            "r2_b": f.r2, "r2_w": f.r2_w, "r2_o": f.r2_o, "F": f.F, "p": p, "rmse": f.rmse,
            "ll": f.ll, "ll_0": f.ll_0, "Tbar": float(P.counts.mean())}


def _re_scalars(f: pn.GlsFit, P: pn.Panels) -> tuple[dict, dict]:
    su, se = f.sigma_u, f.sigma_e
    sc = {"df_m": f.chi2_rank, "chi2": f.chi2, "sigma_u": su, "sigma_e": se,
          "sigma": math.hypot(su, se), "rho": su * su / (su * su + se * se),
          "r2_w": f.r2_w, "r2_b": f.r2_b, "r2_o": f.r2_o, "rmse": f.rmse, "Tbar": f.Tbar}
    sc["p"] = float(dist.chi2_sf(f.chi2, f.chi2_rank)) if f.chi2_rank else math.nan
    if f.n_clusters:
        sc["N_clust"] = f.n_clusters
    mats = {"bf": None, "VCEf": None}
    if P.balanced:
        sc["theta"] = float(f.theta[0])
    else:
        th = np.sort(f.theta)
        stats = [float(th[0]), percentile(th, 5), percentile(th, 50), percentile(th, 95), float(th[-1])]
        for key, v in zip(("thta_min", "thta_5", "thta_50", "thta_95", "thta_max"), stats):
            sc[key] = v
        mats["theta"] = np.array([stats])
    return sc, mats


def _ml_scalars(f: pn.MlFit, f0, ll_c: float, k: int) -> dict:
    su, se = f.sigma_u, f.sigma_e
    sc = {"df_m": k, "sigma_u": su, "sigma_e": se, "rho": su * su / (su * su + se * se),
          "ll": f.ll, "converged": 1.0 if f.converged else 0.0, "ic": f.iterations}
    if f.V_robust is not None:
        sc["N_clust"] = f.n_clusters
    if f0 is not None:
        sc["ll_0"] = f0.ll
    if f.V_robust is None:
        sc["ll_c"] = ll_c
        sc["chi2_c"] = 0.0 if su < 1e-5 * se else abs(2 * (f.ll - ll_c))
        sc["p"] = float(dist.chi2_sf(sc["chi2_c"], 1))   # as Stata's xtreg_ml posts e(p)
    return sc


class _Build:
    """Packages a fit as XtregResults."""

    def __init__(self, cmd: Command, data: PanelData, req: XtregRequest):
        self.cmd, self.data, self.req = cmd, data, req
        self.P = pn.panels(data.codes)

    def results(self, fit, fit0) -> XtregResults:
        kind = self.req.model
        design, notes = _mark_dropped(self.data.design, getattr(fit, "dropped", None))
        V = fit.V_robust if getattr(fit, "V_robust", None) is not None else fit.V
        names_f = design.stata_names
        k_f = len(names_f)
        fitted = self.data.design
        if kind == "ml":
            p = len(fit.beta)
            bb, Vb = _coefs(fitted, fit.beta, V[:p, :p])
            b = np.concatenate([bb, [fit.sigma_u, fit.sigma_e]])
            Vf = np.zeros((k_f + 2, k_f + 2))
            Vf[:k_f, :k_f] = Vb
            idx = list(np.flatnonzero(fitted.keep)) + [k_f, k_f + 1]
            Vf[np.ix_(idx, idx)] = V
            names = [(self.data.depvar, nm) for nm in names_f] + [("sigma_u", "_cons"), ("sigma_e", "_cons")]
            omitted = np.concatenate([design.omitted, [False, False]])
        else:
            b, Vf = _coefs(fitted, fit.beta, V)
            names = [(self.data.depvar, nm) for nm in names_f]
            omitted = design.omitted
        scalars, mats = self._scalars(fit, fit0, design)
        scalars["rank"] = int(np.count_nonzero(~omitted))
        res = XtregResults(cmd="xtreg", names=names, b=b, V=Vf, omitted=omitted, k_f=k_f,
                           scalars=scalars, macros=_macros(self.cmd, self.data, self.req, kind),
                           matrices={k: v for k, v in mats.items() if v is not None},
                           sample=self.data.mask.copy(), model=fit, design=design,
                           value_labels=self.data.value_labels, notes=notes,
                           panel_codes=self.data.codes)
        if kind == "re":
            res.macros["chi2type"] = "Wald"
            if self.req.sa:
                res.macros["sa"] = "sa"
            res.matrices["bf"], res.matrices["VCEf"] = self._within_coefs(fit.within, fitted)
        if kind == "ml":
            robust = fit.V_robust is not None
            res.macros.update(chi2type="Wald" if robust or fit0 is None else "LR",
                              chi2_ct="Wald" if robust else "LR", distrib="Gaussian")
        if kind == "fe" and fit.V_robust is not None:
            res.matrices["V_modelbased"] = _coefs(fitted, fit.beta, fit.V)[1]
        return res

    def _within_coefs(self, wf: pn.WithinFit, design: dz.Design):
        b, V = _coefs(design, wf.beta, wf.V)
        return b.reshape(1, -1), V

    def _scalars(self, fit, fit0, design) -> tuple[dict, dict]:
        kind = self.req.model
        sc = _panel_scalars(self.P, len(self.data.y))
        mats: dict = {}
        if kind == "fe":
            sc.update(_fe_scalars(fit, fit.V_robust is not None))
            sc["Tbar"] = float(self.P.counts.mean())
        elif kind == "be":
            sc.update(_be_scalars(fit, self.P))
        elif kind == "re":
            more, mats = _re_scalars(fit, self.P)
            sc.update(more)
        else:
            sc.update(self._ml_test(fit, fit0))
        return sc, mats

    def _ml_test(self, fit: pn.MlFit, fit0) -> dict:
        """The model test: LR against the constant-only model, or Wald (robust VCE, or no
        covariates: Wald chi2(0))."""
        X = self.data.design.X_keep
        k = X.shape[1] - 1
        sc = _ml_scalars(fit, fit0, pn.pooled_ll(self.data.y, X), k)
        if fit.V_robust is None and fit0 is not None:
            sc["chi2"] = max(2 * (fit.ll - fit0.ll), 0.0)
            return sc
        sl = list(range(k))
        V = fit.V_robust if fit.V_robust is not None else fit.V
        chi2, rank = pn.wald(fit.beta[sl], V[np.ix_(sl, sl)]) if sl else (0.0, 0)
        sc["chi2"], sc["df_m"] = chi2, rank
        if fit.V_robust is not None:
            sc["p"] = float(dist.chi2_sf(chi2, rank)) if rank else math.nan
        return sc


# --------------------------------------------------------------------------- display
def _test_block(res: XtregResults) -> list[str]:
    sc, kind = res.scalars, res.kind
    if kind == "fe":
        return xo.test_lines(f"F({int(sc['df_b'])}, {int(sc['df_r'])})", sc.get("F", math.nan),
                             "Prob > F", sc.get("p", math.nan), xo.corr_text(sc.get("corr", math.nan)))
    if kind == "be":
        return xo.test_lines(f"F({int(sc['df_m'])},{int(sc['df_r'])})", sc.get("F", math.nan),
                             "Prob > F", sc.get("p", math.nan), xo.sd_text(sc.get("rmse", math.nan)))
    if kind == "re":
        return xo.test_lines(f"Wald chi2({int(sc['df_m'])})", sc.get("chi2", math.nan),
                             "Prob > chi2", sc.get("p", math.nan), "corr(u_i, X) = 0 (assumed)")
    ctype = res.macros.get("chi2type", "LR")
    chi2 = sc.get("chi2", math.nan)
    p = float(dist.chi2_sf(chi2, int(sc["df_m"]))) if sc.get("df_m") else math.nan
    return xo.test_lines(f"{ctype} chi2({int(sc['df_m'])})", chi2, "Prob > chi2", p,
                         xo.ll_text(sc["ll"], pseudo=res.robust))


def header_lines(res: XtregResults, theta: bool = False) -> list[str]:
    sc, kind = res.scalars, res.kind
    r2 = None if kind == "ml" else (sc.get("r2_w", math.nan), sc.get("r2_b", math.nan),
                                   sc.get("r2_o", math.nan))
    out = [""] + xo.panel_lines(TITLES[kind], res.macros.get("ivar", ""), int(sc["N"]),
                                int(sc["N_g"]), (sc["g_min"], sc["g_avg"], sc["g_max"]), r2)
    out += _test_block(res)
    if theta and kind == "re":
        th = res.matrices.get("theta")
        out += xo.theta_lines(sc.get("theta"), None if th is None else [float(v) for v in np.ravel(th)])
    return out


def _groups(res: XtregResults, baselevels: bool):
    if res.design is not None:
        return display_groups(res.design, baselevels=baselevels, value_labels=res.value_labels)
    names = [nm for _, nm in res.names[: res.k_f]]
    return ct.groups_from_names(names, baselevels=baselevels, value_labels=res.value_labels)


def _ml_aux_rows(res: XtregResults, level: float) -> list[str]:
    """/sigma_u, /sigma_e (intervals on the log scale) and rho (probit scale), as Stata's
    diparm."""
    k = res.k_f
    su, se_ = float(res.b[k]), float(res.b[k + 1])
    V = np.asarray(res.V, dtype=float)[k:k + 2, k:k + 2]
    z = float(dist.norm_isf((1 - level / 100) / 2))
    rows = []
    for label, s, var in (("/sigma_u", su, V[0, 0]), ("/sigma_e", se_, V[1, 1])):
        sd = math.sqrt(var) if var > 0 else math.nan
        lo = hi = math.nan
        if s > 0 and math.isfinite(sd):
            lo, hi = s * math.exp(-z * sd / s), s * math.exp(z * sd / s)
        rows.append(xo.aux_row(label, s, sd, lo, hi))
    tot = su * su + se_ * se_
    rho = su * su / tot
    if su == 0:
        return rows + [xo.omitted_row("rho")]
    g = np.array([2 * su * se_ * se_ / tot ** 2, -2 * se_ * su * su / tot ** 2])
    v_rho = float(g @ V @ g)
    sd_rho = math.sqrt(v_rho) if v_rho > 0 else math.nan
    lo = hi = math.nan
    if 0 < rho < 1 and math.isfinite(sd_rho):
        q = float(dist.norm_ppf(rho))
        s_q = sd_rho / float(dist.norm_pdf(q))
        lo, hi = float(dist.norm_cdf(q - z * s_q)), float(dist.norm_cdf(q + z * s_q))
    rows.append(xo.aux_row("rho", rho, sd_rho, lo, hi))
    return rows


def table_lines(res: XtregResults, level: float, baselevels: bool = False) -> list[str]:
    sc, kind = res.scalars, res.kind
    stat = "t" if kind in ("fe", "be") else "z"
    df_r = sc.get("df_r") if stat == "t" else None
    out = [""]
    if res.robust and sc.get("N_clust"):
        out.append(xo.cluster_line(int(sc["N_clust"]), res.macros.get("clustvar", "")))
    b, se = res.fixed()
    out += xo.table_head(res.depvar, stat, level, res.robust)
    out += ct.body_lines(_groups(res, baselevels), b, se, stat=stat, df_r=df_r, level=level)
    if kind in ("fe", "re"):
        out += xo.sigma_lines(sc["sigma_u"], sc["sigma_e"], sc["rho"])
    elif kind == "ml":
        out += [ct.rule("mid")] + _ml_aux_rows(res, level) + [ct.rule()]
        if "ll_c" in sc:
            out.append(xo.lr_sigma_u_line(sc["chi2_c"], 0.5 * float(dist.chi2_sf(sc["chi2_c"], 1))
                                          if sc["chi2_c"] > 0 else 1.0))
    else:
        out.append(ct.rule())
    if kind == "fe" and "F_f" in sc:
        out.append(xo.f_u_line(int(sc["df_a"]), int(sc["df_r"]), sc["F_f"], sc.get("p_f", math.nan)))
    return out


def display_xtreg(session, res: XtregResults, level: float, *, theta: bool = False,
                  baselevels: bool = False) -> None:
    for line in header_lines(res, theta) + table_lines(res, level, baselevels):
        session.out.line(line)


# --------------------------------------------------------------------------- the command
def _split(cmd: Command):
    spec = cmd.args
    body = (cmd.body or "").strip()
    if spec is None and body and not body.startswith(","):
        spec = cmd.args = parse_mixed(cmd.body, cmd)
    if spec is None or not spec.depvar:
        if spec is None and body.startswith(",") and not cmd.options:
            cmd.options = parse_options(body[1:])
        return None
    if spec.levels:
        raise syntax_error()
    return spec


_REPLAY_OPTIONS = ("level", "theta", "baselevels", "allbaselevels")


def _replay(session, cmd: Command) -> None:
    res = session.e
    if res is None or res.cmd != "xtreg":
        raise StataError("last estimates not found", 301)
    opts = bind_command("xtreg", cmd.options)
    if res.macros.get("model") == "pa":
        from hlmshell.commands import xtgee as xg
        from hlmshell.output.coeftable import groups_from_names
        if any(k != "level" for k in opts.given):
            raise StataError(f"option {next(k for k in opts.given if k != 'level')} not allowed", 198)
        xg.display(session, res, groups_from_names([nm for _, nm in res.names]),
                   confidence_level(session, opts), False)
        return
    bad = [k for k in opts.given if k not in _REPLAY_OPTIONS]
    if bad:
        raise StataError(f"option {bad[0]} not allowed", 198)
    res = res if isinstance(res, XtregResults) else XtregResults(**{f: getattr(res, f) for f in (
        "cmd", "names", "b", "V", "omitted", "k_f", "scalars", "macros", "matrices", "sample")})
    display_xtreg(session, res, confidence_level(session, opts), theta=opts.theta,
                  baselevels=opts.baselevels or opts.allbaselevels)


@command("xtreg", abbrev="xtreg", rule="mixed", family="Estimation", body="fvvarlist",
         qualifiers="if in weight", desc="fixed-, between- and random-effects linear panel models",
         example="xtreg invest mvalue kstock, fe",
         options=(Opt("re", desc="GLS random-effects model (Swamy-Arora); the default"),
                  Opt("fe", desc="fixed-effects (within) model"),
                  Opt("be", desc="between-effects model (regression on group means)"),
                  Opt("mle", desc="random-effects model fitted by maximum likelihood"),
                  Opt("pa", desc="population-averaged model (xtgee, gaussian, identity)"),
                  Opt("sa", desc="re: Baltagi and Chang's Swamy-Arora variance components on unbalanced panels"),
                  Opt("wls", desc="be: weighted least squares, weights T_i"),
                  Opt("vce", "vce", "string", None, "conventional, robust or cluster clustvar"),
                  Opt("robust", "r", desc="old syntax of vce(robust)"),
                  Opt("cluster", "cl", "name", None, "old syntax of vce(cluster clustvar)"),
                  Opt("i", "i", "name", None, "panel variable (overrides xtset)"),
                  Opt("theta", "th", desc="re: report theta"),
                  Opt("level", "l", "real", 95, "set confidence level; default is level(95)"),
                  Opt("nolog", desc="mle: do not show the iteration log"),
                  Opt("log", desc="mle: show the iteration log; the default"),
                  Opt("iterate", "iter", "int", 100, "mle: maximum number of iterations"),
                  Opt("baselevels", "base", desc="report base levels of factor variables"),
                  Opt("allbaselevels", "allbase", desc="display all base levels")) + _PA_ONLY)
def xtreg_cmd(session, cmd: Command) -> None:
    spec = _split(cmd)
    if spec is None:
        _replay(session, cmd)
        return
    opts = bind_command("xtreg", list(spec.fixed_options)
                        + [op for op in cmd.options if op not in spec.fixed_options])
    if opts.pa:
        _run_pa(session, cmd, opts)
        return
    req = _request(session, opts)
    from hlmshell.commands import xtreg_weights as xtw
    xtw.check_kind(cmd, req)                    # fe takes weights (xtreg_weights)
    data = _prepare(session, cmd, spec, req)
    w = xtw.sample_weights(session, cmd, data, req)
    if req.model == "ml":
        for note in data.design.notes:
            session.out.line(note)
    fit, fit0 = _fit(session, data, req) if w is None else (xtw.fit_checked(session, data, req, w, cmd), None)
    res = _Build(cmd, data, req).results(fit, fit0)
    xtw.post(res, cmd, fit)
    if req.model != "ml":
        for note in res.notes:
            session.out.line(note)
    session.post_estimation(res)
    display_xtreg(session, res, req.level, theta=req.theta, baselevels=req.baselevels)
