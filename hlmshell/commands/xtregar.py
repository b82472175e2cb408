"""xtregar: fixed- and random-effects linear models with an AR(1) disturbance ([XT] xtregar).

    xtregar depvar [indepvars] [if] [in] [, re | fe  rhotype(dw|regress|freg|tscorr|theil|
            nagar|onestep)  rhof(#)  twostep  lbi  level(#)]

The numbers are engine.xtregar's (Baltagi and Wu's transform; within estimator after dropping
each panel's first observation for fe, their GLS for re). The header, the rho_ar / sigma_u /
sigma_e / rho_fov rows under the table, theta (one value for balanced panels, its percentiles
otherwise) and e() follow [XT] xtregar; `lbi` adds the modified Bhargava et al.
Durbin-Watson statistic and Baltagi-Wu's LBI. Typed alone, xtregar replays.
"""
from __future__ import annotations

import numpy as np

from hlmshell import distributions as dist
from hlmshell.commands._panel import panel_settings
from hlmshell.commands._postest import confidence_level
from hlmshell.commands._toolkit import percentile
from hlmshell.commands._xt_linear import model_or_replay, panel_sample
from hlmshell.commands.estimation import _fixed_groups
from hlmshell.commands.model_terms import factor_labels
from hlmshell.engine import xtregar as ex
from hlmshell.errors import StataError
from hlmshell.output.coeftable import coef_table
from hlmshell.output.numfmt import fmt, fmt_count, fmt_g
from hlmshell.registry import Opt, command
from hlmshell.results.regress import RegressResults


def _rhotype(text: str | None) -> str | None:
    if text is None or not text.strip():
        return None
    word = text.strip().lower()
    abbrevs = {"onestep": 3, "regress": 3, "freg": 4, "tscorr": 3, "dw": 2, "theil": 2, "nagar": 3}
    for name, least in abbrevs.items():
        if len(word) >= least and name.startswith(word):
            return name
    raise StataError(f"option {word} not allowed", 198)


def _check_options(opts) -> str:
    """The rhotype ("" with rhof()), after xtregar's refusals of conflicting options."""
    if opts.re and opts.fe:
        raise StataError("specify re or fe, not both", 198)
    rhotype = _rhotype(opts.raw("rhotype"))
    if rhotype and opts.rhof is not None:
        raise StataError("rho cannot be fixed and estimated, specify rhotype( ) or rhof(), not both", 198)
    if rhotype == "onestep" and opts.twostep:
        raise StataError("cannot specify both onestep and twostep", 198)
    if opts.rhof is not None and abs(opts.rhof) >= 1:
        raise StataError("|rho|<1, specify a valid rho", 198)
    return rhotype or ("dw" if opts.rhof is None else "")


@command("xtregar", rule="mixed", family="Estimation", body="fvvarlist", qualifiers="if in",
         desc="fixed- and random-effects linear models with an AR(1) disturbance",
         example="xtregar invest mvalue kstock, fe",
         options=(Opt("re", desc="use random-effects estimator; the default"),
                  Opt("fe", desc="use fixed-effects estimator"),
                  Opt("rhotype", "rhot", "string", None, "method to compute the autocorrelation"),
                  Opt("rhof", "rhof", "real", None, "use # for rho and do not estimate rho"),
                  Opt("twostep", "two", desc="perform two-step estimate of correlation"),
                  Opt("lbi", desc="perform Baltagi-Wu LBI test"),
                  Opt("level", "l", "real", 95, "set confidence level; default is level(95)")))
def xtregar_cmd(session, cmd) -> None:
    parsed = model_or_replay(session, cmd, "xtregar", display_xtregar)
    if parsed is None:
        return
    spec, fixed_raw, opts = parsed
    rhotype = _check_options(opts)
    level = confidence_level(session, opts)
    ps = panel_settings(session, need_time=True)
    ds = session.data
    depvar, fixed, mask, column, design, _ = panel_sample(session, cmd, spec, fixed_raw, True, ps, True)
    code = np.asarray(ds.var(ps.panelvar).values, dtype=float)[mask]
    time = np.asarray(ds.var(ps.timevar).values, dtype=float)[mask]
    order = np.lexsort((time, code))
    _, pcode = np.unique(code[order], return_inverse=True)
    p = ex.panels(pcode.reshape(-1), time[order], ps.delta)
    y = column(depvar)[order]
    X = design.X_keep[order]
    within = ex.within_independent(X, p.code)
    model = "fe" if opts.fe else "re"
    kept_names = [design.stata_names[j] for j in np.flatnonzero(design.keep)]
    if model == "fe":
        for j in np.flatnonzero(~within):
            session.out.line(f"note: {kept_names[j]} omitted because of collinearity.")
    rho = float(opts.rhof) if opts.rhof is not None else \
        ex.estimate_rho(y, X[:, within], p, rhotype, bool(opts.twostep))
    if model == "fe" and not np.any(~p.first):
        raise StataError("insufficient observations", 2001)
    used = within if model == "fe" else np.ones(X.shape[1], dtype=bool)
    fit = (ex.fe_fit if model == "fe" else ex.re_fit)(y, X[:, used], p, rho)
    res = _results(cmd, ds, design, fixed, depvar, fit, mask, ps, model, rho, rhotype, used)
    if opts.lbi:
        res.scalars.update(_lbi(y, X, p))
        res.macros["dw"] = "lbi"
    session.post_estimation(res)
    display_xtregar(session, res, level)


def _lbi(y, X, p) -> dict:
    """Bhargava et al.'s modified Durbin-Watson (d1) and Baltagi-Wu's LBI from the within
    residuals (regression of the demeaned data with a constant)."""
    yd, Xd = ex.demean(y, p.code), ex.demean(X, p.code)
    Z = np.column_stack([Xd, np.ones(len(yd))])
    e = yd - Z @ np.linalg.lstsq(Z, yd, rcond=None)[0]
    ss = float(e @ e)
    n = len(e)
    cons = p.consecutive
    last = np.ones(n, dtype=bool)
    last[:-1] = p.first[1:]
    nxt = np.zeros(n, dtype=bool)
    nxt[:-1] = cons[1:]
    lagged = np.zeros(n)
    lagged[1:] = np.where(cons[1:], e[:-1], 0.0)
    d1 = float(np.sum(((e - lagged) ** 2)[~p.first])) / ss
    d2 = float(np.sum((e * e * (~nxt))[~last])) / ss
    d3 = float(np.sum((e * e)[p.first])) / ss
    d4 = float(np.sum((e * e)[last])) / ss
    return {"d1": d1, "LBI": d1 + d2 + d3 + d4, "N_LBI": float(n)}


def _omitted_name(name: str) -> str:
    """`educ` -> `o.educ`, `1.x` -> `1o.x` (a column the within transform wipes out)."""
    if "." not in name:
        return "o." + name
    head, _, tail = name.partition(".")
    return f"{head}o.{tail}" if head.isdigit() else "o." + name


def _results(cmd, ds, design, fixed, depvar, fit, mask, ps, model, rho, rhotype, used):
    kf = len(design.columns) + 1
    kept = np.flatnonzero(design.keep)
    kidx = list(kept[used]) + [kf - 1]
    bf, Vf = np.zeros(kf), np.zeros((kf, kf))
    bf[kidx] = fit.b
    Vf[np.ix_(kidx, kidx)] = fit.V
    Ti = fit.Ti
    sc = {"N": float(fit.N), "N_g": float(fit.n_g), "g_min": float(Ti.min()), "g_avg": float(Ti.mean()),
          "g_max": float(Ti.max()), "Tbar": float(len(Ti) / np.sum(1.0 / Ti)),
          "Tcon": float(Ti.min() == Ti.max()), "rho_ar": rho, "rank": float(len(fit.b))}
    sc.update({k: v for k, v in fit.sc.items() if k != "rrss"})
    if model == "re":
        th = fit.theta
        sc.update(thta_min=float(th.min()), thta_5=percentile(th, 5), thta_50=percentile(th, 50),
                  thta_95=percentile(th, 95), thta_max=float(th.max()))
    m = {"cmd": "xtregar", "cmdline": cmd.text, "depvar": depvar, "ivar": ps.panelvar, "tvar": ps.timevar,
         "model": model, "rhotype": rhotype, "predict": "xtrar_p", "properties": "b V",
         "marginsok": "XB default", "marginsnotok": "ue u e", "dw": ""}
    if model == "re":
        m["chi2type"] = "Wald"
    stata = list(design.stata_names)
    omitted = np.concatenate([np.asarray(design.omitted, dtype=bool), [False]])
    for j in kept[~used]:
        stata[j] = _omitted_name(stata[j])
        omitted[j] = True
    names = [(depvar, nm) for nm in stata] + [(depvar, "_cons")]
    return RegressResults(cmd="xtregar", names=names, b=bf, V=Vf, omitted=omitted, k_f=kf, scalars=sc,
                          macros=m, matrices={}, sample=mask.copy(), model=None, design=None,
                          value_labels=factor_labels(ds, fixed))


def _right(label: str, value: str, col: int = 69) -> str:
    """`Number of obs     =        190`: label at column 49, `=` at 67, value from `col`."""
    return f"{label:<18}={' ' * (col - 68)}{value}"


def _f4(x: float) -> str:
    """%6.4f as Stata shows it (a negative value takes a seventh column)."""
    return f"{x:6.4f}" if np.isfinite(x) else "."


def _header(res) -> list[str]:
    sc, m = res.scalars, res.macros
    fe = m["model"] == "fe"
    title = "FE (within) regression with AR(1) disturbances" if fe else "RE GLS regression with AR(1) disturbances"
    rows = [(title, _right("Number of obs", f"{fmt_count(int(sc['N'])):>10}")),
            (f"Group variable: {m['ivar']}", _right("Number of groups", f"{fmt_count(int(sc['N_g'])):>10}")),
            ("", ""), ("R-sq:", "Obs per group:"),
            (f"     within  = {_f4(sc['r2_w'])}", f"{'':14}min = {fmt_count(int(sc['g_min'])):>10}"),
            (f"     between = {_f4(sc['r2_b'])}", f"{'':14}avg = {fmt(sc['g_avg'], '%10.1f'):>10}"),
            (f"     overall = {_f4(sc['r2_o'])}", f"{'':14}max = {fmt_count(int(sc['g_max'])):>10}"),
            ("", "")]
    if fe:
        dfe = int(sc["N"]) - 1 - int(sc["df_m"])
        p = float(dist.f_sf(sc["F"], sc["df_b"], dfe))
        rows += [("", _right(f"F({int(sc['df_b'])},{dfe})", fmt(sc["F"], "%9.2f"), 70)),
                 (f"corr(u_i, Xb)  = {_f4(sc['corr'])}", _right("Prob > F", fmt(p, "%6.4f"), 73))]
    else:
        p = float(dist.chi2_sf(sc["chi2"], sc["df_m"]))
        rows += [("", _right(f"Wald chi2({int(sc['df_m'])})", fmt(sc["chi2"], "%9.2f"), 70)),
                 ("corr(u_i, Xb)      = 0 (assumed)", _right("Prob > chi2", fmt(p, "%6.4f"), 73))]
    out = [""] + [f"{a:<48}{b}".rstrip() for a, b in rows]
    if not fe and sc["Tcon"] == 0:
        out += ["", "-" * 19 + " theta " + "-" * 20, "  min      5%       median        95%      max",
                fmt(sc["thta_min"], "%6.4f") + fmt(sc["thta_5"], "%9.4f") + fmt(sc["thta_50"], "%11.4f")
                + fmt(sc["thta_95"], "%11.4f") + fmt(sc["thta_max"], "%9.4f")]
    return out + [""]


def display_xtregar(session, res, level: float) -> None:
    out = session.out
    sc, fe = res.scalars, res.macros["model"] == "fe"
    for ln in _header(res):
        out.line(ln)
    dfe = int(sc["df_r"]) if fe else None
    lines = coef_table(res.depvar, _fixed_groups(res, False), res.b, res.se, stat="t" if fe else "z",
                       df_r=dfe, level=level)
    mid = "-" * 13 + "+" + "-" * 64

    def row(name, v, note=""):
        return f"{name:>12} | {fmt_g(v, 10):>10}{note}"
    extra = [mid, row("rho_ar", sc["rho_ar"], "" if fe else "   (estimated autocorrelation coefficient)"),
             row("sigma_u", sc["sigma_u"]), row("sigma_e", sc["sigma_e"]),
             row("rho_fov", sc["rho_fov"], "   (fraction of variance because of u_i)" if fe
                 else "   (fraction of variance due to u_i)")]
    if not fe and sc["Tcon"] == 1:
        extra.append(row("theta", sc["thta_min"]))
    for ln in lines[:-1] + extra + ["-" * 78]:
        out.line(ln)
    if fe:
        pf = float(dist.f_sf(sc["F_f"], sc["df_a"], sc["df_r"]))
        left = f"F test that all u_i=0: F({int(sc['df_a'])},{int(sc['df_r'])}) = {fmt(sc['F_f'], '%8.2f').strip()}"
        out.line(f"{left:<61}Prob > F = {fmt(pf, '%6.4f')}")
    if "LBI" in sc:
        out.line(f"modified Bhargava et al. Durbin-Watson = {fmt_g(sc['d1'], 9).strip()}")
        out.line(f"Baltagi-Wu LBI = {fmt_g(sc['LBI'], 9).strip()}")


# --------------------------------------------------------------------------- predict
_XTRAR_STATS = ("xb", "u", "e", "ue")


def _panel_u(session, res, xb: np.ndarray) -> np.ndarray:
    """u_i as xtregar's predict computes it: the panel means of y - rho L.y and of
    xb - rho L.xb over e(sample) rows whose previous period is in e(sample), their difference
    over 1 - rho; missing on rows without that previous period."""
    rho = float(res.scalars["rho_ar"])
    sample = np.asarray(res.sample, dtype=bool)
    ivar, tvar = res.macros["ivar"], res.macros["tvar"]
    data = session.data
    ps = panel_settings(session, required=False)
    delta = float(ps.delta) if ps is not None and ps.delta else 1.0
    pid = np.asarray(data.values(ivar), dtype=float)
    t = np.asarray(data.values(tvar), dtype=float)
    y = np.where(sample, np.asarray(data.values(res.depvar), dtype=float), np.nan)
    xs = np.where(sample, xb, np.nan)
    order = np.lexsort((t, pid))
    prev = np.zeros(len(order), dtype=bool)
    prev[1:] = (pid[order][1:] == pid[order][:-1]) & np.isclose(t[order][1:] - t[order][:-1], delta)
    ty, tx = np.full(len(y), np.nan), np.full(len(y), np.nan)
    rows, lag = order[1:][prev[1:]], order[:-1][prev[1:]]
    ty[rows] = y[rows] - rho * y[lag]
    tx[rows] = xs[rows] - rho * xs[lag]
    ok = ~np.isnan(tx) & ~np.isnan(ty)
    u = np.full(len(y), np.nan)
    if ok.any():
        _, code = np.unique(pid[ok], return_inverse=True)
        my = np.bincount(code, ty[ok]) / np.bincount(code)
        mx = np.bincount(code, tx[ok]) / np.bincount(code)
        u[np.flatnonzero(ok)] = ((my - mx) / (1 - rho))[code]
    return u


def predict_xtregar(session, cmd, res, opts) -> None:
    """predict after xtregar: xb (the default), ue, u, e (u and e over e(sample))."""
    from hlmshell.commands.predict import _add, _new_names, _touse, xb_all
    bad = [o.name for o in cmd.options if o.name not in _XTRAR_STATS]
    if bad:
        raise StataError(f"option {bad[0]} not allowed", 198)
    chosen = [s for s in _XTRAR_STATS if s in opts]
    if len(chosen) > 1:
        raise StataError("you can only predict one statistic at a time", 198)
    stat = chosen[0] if chosen else "xb"
    vtype, names = _new_names(cmd.body or "", None)
    data = session.data
    if res.sample is None or len(res.sample) != data.n:
        raise StataError("predict requires that the data used in estimation be in memory", 459)
    if not chosen:
        session.out.line("(option xb assumed; fitted values)")
    xb = xb_all(res, data)
    touse = _touse(session, cmd)
    everywhere = np.ones(data.n, dtype=bool)
    y = np.asarray(data.values(res.depvar), dtype=float)
    if stat == "xb":
        _add(session, names, [xb], ["Linear prediction"], vtype, touse)
    elif stat == "ue":
        _add(session, names, [y - xb], [""], vtype, touse)
    elif stat == "u":
        _add(session, names, [_panel_u(session, res, xb)], [""], vtype, everywhere)
    else:
        sample = np.asarray(res.sample, dtype=bool)
        e = np.where(sample, y - xb, np.nan) - _panel_u(session, res, xb)
        _add(session, names, [e], [""], vtype, everywhere)


def _register_predict() -> None:
    from hlmshell.commands.predict import PREDICTORS
    PREDICTORS["xtregar"] = predict_xtregar


_register_predict()
