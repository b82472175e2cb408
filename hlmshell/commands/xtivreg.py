"""xtivreg: instrumental-variables regression for panel data, as Stata 17's [XT] xtivreg.

    xtivreg depvar [varlist1] (varlist2 = varlist_iv) [if] [in]
        [, re | fe | be | fd  ec2sls small level(#) first]

The default is re (G2SLS; ec2sls for Baltagi's EC2SLS). Public panel do-files use
`xtivreg y x i.year (w = z), fe`. The syntax and design are ivregress's (commands.ivregress);
the estimators are engine.xtivreg's. The header is xtreg's (groups, R-squared within, between
and overall, obs per group), the table ends with sigma_u, sigma_e and rho for fe and re, and
the Instrumented:/Instruments: footer follows. The conventional VCE only.
"""
from __future__ import annotations

import math

import numpy as np

from hlmshell import distributions as dist
from hlmshell.commands import ivregress as ivc
from hlmshell.commands._panel import panel_settings
from hlmshell.commands._postest import confidence_level
from hlmshell.engine import xtivreg as ex
from hlmshell.engine.factorize import factorize
from hlmshell.errors import StataError
from hlmshell.output import coeftable as ct
from hlmshell.output import xtreg_output as xo
from hlmshell.output.labels import display_groups
from hlmshell.registry import Opt, bind_options, command
from hlmshell.results import EstimationResults
from hlmshell.syntax.ast import Command
from hlmshell.syntax.parser import fill_qualifiers

_MODELS = ("re", "fe", "be", "fd")
_TITLES = {"fe": "Fixed-effects (within) IV regression", "be": "Between-effects IV regression",
           "fd": "First-differenced IV regression", "re": "G2SLS random-effects IV regression",
           "ec2sls": "EC2SLS random-effects IV regression"}

OPTIONS = (Opt("re", desc="random effects (G2SLS), the default"),
           Opt("fe", desc="fixed effects (within)"),
           Opt("be", desc="between effects"),
           Opt("fd", desc="first differences"),
           Opt("ec2sls", "ec2", desc="Baltagi's EC2SLS random-effects estimator"),
           Opt("nosa", desc="accepted for compatibility"),
           Opt("regress", "reg", desc="accepted for compatibility"),
           Opt("small", desc="t and F statistics"),
           Opt("first", desc="accepted for compatibility"),
           Opt("vce", "vce", "string", None, "conventional"),
           Opt("level", "l", "real", 95, "set confidence level; default is level(95)"))


def _model(opts) -> str:
    given = [m for m in _MODELS if getattr(opts, m)]
    if len(given) > 1:
        raise StataError("only one of re, fe, be, fd may be specified", 198)
    model = given[0] if given else "re"
    if opts.ec2sls and model != "re":
        raise StataError("option ec2sls may only be specified with re", 198)
    words = (opts.raw("vce") or "").split()
    if words and not "conventional".startswith(words[0].lower()):
        raise StataError(f"vce({opts.raw('vce')}) not allowed with xtivreg here", 198)
    return model


def _fit(model: str, data, codes, n, time, ec2sls: bool):
    y, X, Z = data.y, data.X, data.Z
    Zc = np.column_stack([np.delete(Z, X.shape[1] - data.n_endog - 1, axis=1), np.ones(len(y))])
    if model == "fe":
        return ex.fit_fe(y, X, Zc, codes, n)
    if model == "be":
        return ex.fit_be(y, X, Zc, codes, n)
    if model == "fd":
        return ex.fit_fd(y, X, Zc, codes, time, n)
    return ex.fit_re(y, X, Zc, codes, n, ec2sls)


@command("xtivreg", family="Estimation", raw=True, byable=True, options=OPTIONS,
         check_options=False, desc="instrumental-variables regression for panel data",
         example="xtivreg mathach female (ses = meanses), fe")
def xtivreg_cmd(session, cmd) -> None:
    c = Command(name="xtivreg", text=cmd.text)
    fill_qualifiers(c, cmd.body or "", allow_exp=False)
    opts = bind_options(OPTIONS, c.options)
    if not c.body.strip():
        res = session.e
        if res is None or res.cmd != "xtivreg":
            raise StataError("last estimates not found", 301)
        display(session, res, confidence_level(session, opts), bool(opts.small))
        return
    if c.weight is not None:
        raise StataError("weights not allowed", 101)
    model = _model(opts)
    level = confidence_level(session, opts)
    ps = panel_settings(session, need_time=model == "fd")
    spec = ivc.parse_spec("2sls " + c.body)
    data = ivc.IvData(session, c, spec, True, [ps.panelvar] + ([ps.timevar] if ps.timevar else []))
    ivc._check(data, True)
    levels, codes = factorize(np.asarray(session.data.values(ps.panelvar))[data.mask])
    n = len(levels)
    time = (np.asarray(session.data.values(ps.timevar), float)[data.mask]
            if model == "fd" else None)
    if model == "fd" and ps.delta:
        time = time / float(ps.delta)
    try:
        fit = _fit(model, data, np.asarray(codes), n, time, bool(opts.ec2sls))
    except (np.linalg.LinAlgError, ValueError):
        raise StataError("insufficient observations", 2001) from None
    for note in data.notes:
        session.out.line(note)
    codes = np.asarray(codes)
    if model == "fd":                      # the differenced rows are the estimation sample
        rows = fit.extra["rows"]
        idx = np.flatnonzero(data.mask)
        data.mask = np.zeros_like(data.mask)
        data.mask[idx[rows]] = True
        _, codes = factorize(codes[rows])
        codes = np.asarray(codes)
        n = fit.n
        data.y, data.X = data.y[rows], data.X[rows]
    res = _post(session, c, data, fit, model, ps, codes, n, opts)
    session.post_estimation(res)
    display(session, res, level, bool(opts.small))


def _post(session, c, data, fit, model, ps, codes, n, opts) -> EstimationResults:
    base = ivc._post(session, c, ivc.IvSpec("2sls", data.depvar, "", "", ""), data,
                     _as_ivfit(fit, data), _Small(bool(opts.small)), ("unadjusted", ""), ("", ""))
    res = base
    res.cmd = "xtivreg"
    T = np.bincount(codes, minlength=n)
    k = data.X.shape[1] - 1
    bb = fit.b[:-1]
    chi2 = float(bb @ np.linalg.solve(fit.V[:-1, :-1], bb)) if k else math.nan
    r2 = ex.r2_three(data.y, data.X, fit.b, codes, n)
    sc = {"N": float(fit.N), "N_g": float(fit.n), "g_min": float(T.min()), "g_avg": float(T.mean()),
          "g_max": float(T.max()), "df_m": float(k), "r2_w": r2[0], "r2_b": r2[1], "r2_o": r2[2],
          "rank": float(k + 1), "sigma_e": fit.sigma_e, "rmse": fit.sigma_e}
    if model in ("fe", "re"):
        sc.update(sigma_u=fit.sigma_u,
                  rho=fit.sigma_u ** 2 / (fit.sigma_u ** 2 + fit.sigma_e ** 2))
    if model == "fe":
        xb = data.X @ fit.b
        sc["corr"] = float(np.corrcoef(fit.extra["u"], xb)[0, 1])
    if opts.small:
        sc.update(df_r=float(fit.df_r), F=chi2 / k if k else math.nan)
    else:
        sc["chi2"] = chi2
    res.scalars = sc
    key = "ec2sls" if (model == "re" and opts.ec2sls) else model
    res.macros.update(cmd="xtivreg", model=model, ivar=ps.panelvar, title=_TITLES[key],
                      predict="xtivreg_p")
    if ps.timevar:
        res.macros["tvar"] = ps.timevar
    res.macros.pop("estimator", None)
    res.macros.pop("estat_cmd", None)
    return res


class _Small:
    """The option view ivregress._post reads (small, noconstant)."""

    def __init__(self, small: bool):
        self.small = small
        self.noconstant = False


def _as_ivfit(fit, data):
    from hlmshell.engine.ivreg import IvFit
    return IvFit(b=fit.b, V=fit.V, resid=np.zeros(0), N=fit.N, k=len(fit.b), rss=fit.rss)


def _header(res) -> list[str]:
    sc = res.scalars
    m = res.macros
    lines = xo.panel_lines(m["title"], m["ivar"], int(sc["N"]), int(sc["N_g"]),
                           (sc["g_min"], sc["g_avg"], sc["g_max"]),
                           (sc["r2_w"], sc["r2_b"], sc["r2_o"]))
    model = m["model"]
    left = {"fe": xo.corr_text(sc.get("corr", math.nan)), "re": "corr(u_i, X) = 0 (assumed)",
            "be": xo.sd_text(sc["sigma_e"]), "fd": ""}[model]
    if "F" in sc:
        stat = (f"F({int(sc['df_m'])},{int(sc['df_r'])})", sc["F"], "Prob > F",
                dist.f_sf(sc["F"], sc["df_m"], sc["df_r"]))
    else:
        stat = (f"Wald chi2({int(sc['df_m'])})", sc["chi2"], "Prob > chi2",
                dist.chi2_sf(sc["chi2"], sc["df_m"]))
    return lines + xo.test_lines(stat[0], stat[1], stat[2], stat[3], left) + [""]


def display(session, res, level: float, small: bool) -> None:
    out = session.out
    out.line("")
    for ln in _header(res):
        out.line(ln)
    groups = display_groups(res.design, baselevels=False,
                            value_labels=getattr(res, "value_labels", {}))
    small = "F" in res.scalars
    table = ct.coef_table(res.depvar, groups, res.b, np.sqrt(np.clip(np.diag(res.V), 0, None)),
                          stat="t" if small else "z",
                          df_r=res.scalars.get("df_r") if small else None, level=level)
    if "sigma_u" in res.scalars:
        table = table[:-1] + xo.sigma_lines(res.scalars["sigma_u"], res.scalars["sigma_e"],
                                            res.scalars["rho"])
    for ln in table:
        out.line(ln)
    out.line(f"Instrumented: {res.macros['instd']}")
    out.line(f" Instruments: {res.macros['insts']}")
    out.line(ct.rule())


def predict(session, cmd, res, opts) -> None:
    """predict after xtivreg: xb (the default) and stdp from e(b) and e(V)."""
    for w in ("residuals", "ue", "u", "e", "xbu"):
        if w in opts and getattr(opts, w, None):
            raise StataError(f"option {w} not allowed here", 198)
    ivc.predict(session, cmd, res, opts)


def _register_predict() -> None:
    from hlmshell.commands.predict import PREDICTORS
    PREDICTORS["xtivreg"] = predict


_register_predict()
