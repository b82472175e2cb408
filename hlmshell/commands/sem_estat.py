"""estat gof and estat eqgof after sem (Stata's sem_estat), from the fitted model kept in e().

gof: the LR tests of the model and of the baseline model against the saturated one, RMSEA
with its 90% interval (noncentral chi2) and pclose, AIC and BIC (k = e(rank)), CFI and TLI
against the baseline model, SRMR (standardized covariance residuals, means not included) and
CD, the coefficient of determination 1 - |Psi|/|Sigma| over the endogenous variables.
eqgof: per endogenous variable its fitted, predicted and residual variance, R-squared, and
mc (the correlation of the variable with its prediction) and mc2 (Bentler-Raykov)."""
from __future__ import annotations

import math

import numpy as np

from hlmshell.engine import sem_fit
from hlmshell.errors import StataError
from hlmshell.output.numfmt import fmt, fmt_g
from hlmshell.results import RResults

_STATS = ("chi2", "rmsea", "ic", "indices", "residuals", "all")


def _fitted(res):
    if res is None or res.cmd != "sem" or res.model is None:
        raise StataError("last estimates not found", 301)
    return res.model


def _no_groups(fitted, what: str) -> None:
    if fitted.groups is not None:
        raise StataError(f"{what} is not available after sem with group() in hlmshell", 198)


def _group_gof(fitted) -> dict[str, float]:
    chi2, df, p = fitted.lr_saturated()
    chi2b, dfb, pb = fitted.lr_baseline()
    k, ll, N = fitted.built.k_free, fitted.fit.ll, fitted.N
    nan = float("nan")
    out = {"chi2_ms": chi2, "df_ms": float(df), "p_ms": p, "chi2_bs": chi2b, "df_bs": float(dfb),
           "p_bs": pb, "aic": -2 * ll + 2 * k, "bic": -2 * ll + math.log(N) * k}
    out.update({key: nan for key in ("rmsea", "lb90_rmsea", "ub90_rmsea", "pclose", "cfi", "tli",
                                      "srmr", "cd")})
    out["N_groups"] = float(len(fitted.groups[1]))
    return out


def gof_values(fitted) -> dict[str, float]:
    if fitted.groups is not None:
        return _group_gof(fitted)
    built = fitted.built
    chi2, df, p = fitted.lr_saturated()
    chi2b, dfb, pb = fitted.lr_baseline()
    N = fitted.N
    rmsea, lo, hi, pclose = sem_fit.rmsea_stats(chi2, df, N)
    cfi, tli = sem_fit.cfi_tli(chi2, df, chi2b, dfb)
    Sigma, _ = built.model.implied(fitted.fit.theta)
    _, C, _ = built.model.total(fitted.fit.theta)
    _, S, _ = built.model.matrices(fitted.fit.theta)
    endo = [built.names.index(n) for n in built.endo]
    k = built.k_free
    ll = fitted.fit.ll
    return {"chi2_ms": chi2, "df_ms": float(df), "p_ms": p, "chi2_bs": chi2b, "df_bs": float(dfb),
            "p_bs": pb, "rmsea": rmsea, "lb90_rmsea": lo, "ub90_rmsea": hi, "pclose": pclose,
            "aic": -2 * ll + 2 * k, "bic": -2 * ll + math.log(N) * k, "cfi": cfi, "tli": tli,
            "srmr": sem_fit.srmr(fitted.S_N, Sigma),
            "cd": sem_fit.coefficient_of_determination(C, S, endo), "N_groups": 1.0}


def _which(text: str | None) -> set[str]:
    words = (text or "chi2").split()
    out = set()
    for w in words:
        full = next((s for s in _STATS if s.startswith(w.lower()) and len(w) >= 2), None)
        if full is None:
            raise StataError("option stats() invalid", 198)
        out |= set(_STATS[:5]) if full == "all" else {full}
    return out


def _row(label: str, value: str, desc: str = "") -> str:
    return f"{label:>20} |{value:>10}   {desc}".rstrip()


def _fmt3(v: float) -> str:
    return "." if not np.isfinite(v) else fmt(v, "%9.3f").strip()


def gof_lines(v: dict, which: set[str]) -> list[str]:
    mid = "-" * 21 + "+" + "-" * 54
    out = ["-" * 76, f"{'Fit statistic':<21}|{'Value':>11}   Description", mid]
    blocks = []
    if "chi2" in which:
        blocks.append(["Likelihood ratio     |",
                       _row(f"chi2_ms({int(v['df_ms'])})", fmt(v["chi2_ms"], "%9.3f").strip(), "model vs. saturated"),
                       _row("p > chi2", _fmt3(v["p_ms"])),
                       _row(f"chi2_bs({int(v['df_bs'])})", fmt(v["chi2_bs"], "%9.3f").strip(), "baseline vs. saturated"),
                       _row("p > chi2", _fmt3(v["p_bs"]))])
    if "rmsea" in which:
        blocks.append(["Population error     |",
                       _row("RMSEA", _fmt3(v["rmsea"]), "Root mean squared error of approximation"),
                       _row("90% CI, lower bound", _fmt3(v["lb90_rmsea"])),
                       _row("upper bound", _fmt3(v["ub90_rmsea"])),
                       _row("pclose", _fmt3(v["pclose"]), "Probability RMSEA <= 0.05")])
    if "ic" in which:
        blocks.append(["Information criteria |",
                       _row("AIC", _fmt3(v["aic"]), "Akaike's information criterion"),
                       _row("BIC", _fmt3(v["bic"]), "Bayesian information criterion")])
    if "indices" in which:
        blocks.append(["Baseline comparison  |",
                       _row("CFI", _fmt3(v["cfi"]), "Comparative fit index"),
                       _row("TLI", _fmt3(v["tli"]), "Tucker-Lewis index")])
    if "residuals" in which:
        blocks.append(["Size of residuals    |",
                       _row("SRMR", _fmt3(v["srmr"]), "Standardized root mean squared residual"),
                       _row("CD", _fmt3(v["cd"]), "Coefficient of determination")])
    for n, b in enumerate(blocks):
        if n:
            out.append(mid)
        out += b
    out.append("-" * 76)
    return out


def estat_gof(session, res, opts) -> None:
    fitted = _fitted(res)
    which = _which(opts.raw("stats"))
    if fitted.groups is not None and which - {"chi2", "ic"}:
        _no_groups(fitted, "estat gof, stats(" + " ".join(sorted(which - {"chi2", "ic"})) + ")")
    v = gof_values(fitted)
    session.out.line("")
    for ln in gof_lines(v, which):
        session.out.line(ln)
    session.r = RResults(scalars={k: float(x) for k, x in v.items()})


# ---- eqgof ----------------------------------------------------------------------------------
def eqgof_values(fitted):
    """Rows (name, observed?, fitted, predicted, residual, R2, mc, mc2) and the overall CD."""
    built = fitted.built
    theta = fitted.fit.theta
    B, C, _ = built.model.total(theta)
    _, S, _ = built.model.matrices(theta)
    BS = B @ S                          # cov(all variables, errors)
    rows = []
    lat = set(built.names[built.n_obs:])
    order = [n for n in built.struct_eqs + built.meas_eqs if n not in lat] + \
            [n for n in built.struct_eqs if n in lat]
    for n in order:
        i = built.names.index(n)
        fv, resid = C[i, i], S[i, i]
        pred = fv - 2 * BS[i, i] + resid           # var(y - e)
        cov_yp = fv - BS[i, i]
        mc = cov_yp / math.sqrt(fv * pred) if fv > 0 and pred > 0 else float("nan")
        rows.append((n, n not in lat, fv, pred, resid, 1 - resid / fv if fv > 0 else float("nan"),
                     mc, mc * mc))
    endo = [built.names.index(n) for n in built.endo]
    return rows, sem_fit.coefficient_of_determination(C, S, endo)


def _cell(v: float) -> str:
    return f"{fmt_g(v, 9):>10}" if np.isfinite(v) else f"{'.':>10}"


def eqgof_lines(rows, cd) -> list[str]:
    out = ["", "Equation-level goodness of fit", "", "-" * 78,
           f"{'':13}|{'Variance':^35}|",
           f"{'depvars':>12} |{'Fitted':>10} {'Predicted':>10} {'Residual':>10}   | "
           f"{'R-squared':>9}{'mc':>10}{'mc2':>10}",
           "-" * 13 + "+" + "-" * 35 + "+" + "-" * 28]
    for kind, obs in (("observed", True), ("latent", False)):
        sel = [r for r in rows if r[1] == obs]
        if not sel:
            continue
        if kind == "latent" and any(r[1] for r in rows):
            out.append("-" * 13 + "+" + "-" * 35 + "+" + "-" * 28)
        out.append(f"{kind:<13}|{'':35}|")
        for n, _, fv, pv, rv, r2, mc, mc2 in sel:
            out.append(f"{n[:12]:>12} |{_cell(fv)} {_cell(pv)} {_cell(rv)}   | "
                       f"{fmt_g(r2, 9):>9}{_cell(mc)}{_cell(mc2)}")
    out.append("-" * 13 + "+" + "-" * 35 + "+" + "-" * 28)
    out.append(f"{'overall':>12} |{'':35}| {fmt_g(cd, 9):>9}")
    out += ["-" * 78, "mc  = correlation between depvar and its prediction",
            "mc2 = mc^2 is the Bentler-Raykov squared multiple correlation coefficient"]
    return out


def estat_eqgof(session, res, opts) -> None:
    fitted = _fitted(res)
    _no_groups(fitted, "estat eqgof")
    rows, cd = eqgof_values(fitted)
    for ln in eqgof_lines(rows, cd):
        session.out.line(ln)
    names = [r[0] for r in rows]
    from hlmshell.commands.program import NamedMatrix
    session.r = RResults(scalars={"CD": float(cd)}, matrices={
        "nobs": NamedMatrix(np.full((1, len(rows)), float(fitted.N)), ["r1"], names),
        "eqfit": NamedMatrix(np.array([r[2:] for r in rows]), names,
                             ["fitted", "predicted", "residual", "rsquared", "mc", "mc2"])})


# ---- mindices -------------------------------------------------------------------------------
def mindices_rows(fitted):
    """(label section, equation, row label, MI, EPC, standardized EPC) per omitted parameter."""
    from hlmshell.engine import sem_mindices
    built = fitted.built
    names = built.names
    endo = [names.index(n) for n in built.endo]
    exo_lat = [names.index(n) for n in built.exo_lat]
    model = built.model
    theta = fitted.fit.theta
    cands = sem_mindices.candidates(model, endo, exo_lat)
    var_par = model.variance_params()
    heywood = bool(getattr(fitted.req.opts, "heywood", False))
    lower = np.array([0.0 if (k in var_par and not heywood) else -np.inf for k in range(model.n_par)])
    data = fitted.patterns if getattr(fitted, "patterns", None) is not None else fitted.S_N
    mis = sem_mindices.modification_indices(model, theta, data, fitted.xbar, fitted.N, cands, lower)
    _, C, _ = model.total(theta)
    _, S, _ = model.matrices(theta)
    sd = np.sqrt(np.clip(np.diag(C), 0, None))
    rows = []
    lat = set(built.names[built.n_obs:])
    for (mat, i, j), (mi, epc) in zip(cands, mis):
        if mat == "A":
            y, v = names[i], names[j]
            sec = "Measurement" if (y not in lat and v in lat) else "Structural"
            rows.append((sec, y, v, mi, epc, epc * sd[j] / sd[i] if sd[i] > 0 else float("nan")))
        else:
            la = f"e.{names[j]}" if names[j] in built.endo else names[j]
            lb = f"e.{names[i]}" if names[i] in built.endo else names[i]
            den = math.sqrt(S[i, i] * S[j, j]) if S[i, i] > 0 and S[j, j] > 0 else float("nan")
            rows.append(("cov", "", f"cov({la},{lb})", mi, epc, epc / den))
    return rows


def _mi_cells(mi, epc, sepc) -> str:
    from hlmshell import distributions as dist
    p = float(dist.chi2_sf(mi, 1))
    return f"{fmt(mi, '%10.3f')}{1:>6}{fmt(p, '%7.2f')}  {fmt_g(epc, 9):>9}  {fmt_g(sepc, 9):>9}"


def mindices_lines(rows, minchi2: float) -> list[str]:
    shown = [r for r in rows if np.isfinite(r[3]) and r[3] >= minchi2]
    w = 27
    mid = "-" * w + "+" + "-" * 48
    out = ["", "Modification indices", "", "-" * 76,
           f"{'':{w}}|{'Standard':>47}",
           f"{'':{w}}|{'MI':>10}{'df':>6}{'P>MI':>7}  {'EPC':>9}  {'EPC':>9}", mid]
    if not shown:
        return ["", f"(no modification indices greater than {minchi2:g})"] if rows else []
    for sec in ("Structural", "Measurement"):
        sel = [r for r in shown if r[0] == sec]
        if not sel:
            continue
        if out[-1] != mid:
            out.append(mid)
        out.append(f"{sec:<{w}}|")
        last = None
        for _, eq, v, mi, epc, sepc in sel:
            if eq != last:
                out.append(f"{'  ' + eq + ' <-':<{w}}|")
                last = eq
            out.append(f"{v:>{w - 2}}  |{_mi_cells(mi, epc, sepc)}")
    covs = [r for r in shown if r[0] == "cov"]
    if covs:
        if out[-1] != mid:
            out.append(mid)
        for _, _, lab, mi, epc, sepc in covs:
            out.append(f"{lab:>{w - 1}} |{_mi_cells(mi, epc, sepc)}")
    out += ["-" * 76, "EPC = expected parameter change"]
    return out


def estat_mindices(session, res, opts) -> None:
    fitted = _fitted(res)
    text = opts.raw("minchi2")
    try:
        minchi2 = float(text) if text else 3.84
    except ValueError:
        raise StataError("option minchi2() incorrectly specified", 198) from None
    _no_groups(fitted, "estat mindices")
    rows = mindices_rows(fitted)
    for ln in mindices_lines(rows, minchi2):
        session.out.line(ln)
    shown = [r for r in rows if np.isfinite(r[3]) and r[3] >= minchi2]
    from hlmshell import distributions as dist
    from hlmshell.commands.program import NamedMatrix
    labels = [f"{r[1]}:{r[2]}" if r[1] else r[2] for r in shown]
    vals = [[r[3], 1.0, float(dist.chi2_sf(r[3], 1)), r[4], r[5]] for r in shown]
    mats = {}
    if shown:
        mats["mindices"] = NamedMatrix(np.array(vals), labels, ["mi", "df", "pvalue", "epc", "sepc"])
    session.r = RResults(matrices=mats)
