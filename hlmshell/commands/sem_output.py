"""sem's output in Stata's layout: the list of endogenous and exogenous variables, the
iteration log, the header (estimation method, log likelihood, number of obs), the constraints,
the coefficient table grouped in Structural and Measurement equations followed by the mean(),
var() and cov() rows (variances with intervals from the log scale, as Stata computes them),
and the LR test of the model against the saturated one."""
from __future__ import annotations

import math

import numpy as np

from hlmshell import distributions as dist
from hlmshell.output.coeftable import number_cells
from hlmshell.output.numfmt import fmt, fmt_count, fmt_g

W = 12


def _varlists(out, built) -> None:
    lat = set(built.names[built.n_obs:])
    meas = built.meas_eqs
    endo_obs = [n for n in built.struct_eqs if n not in lat]
    endo_lat = [n for n in built.struct_eqs if n in lat]
    blocks = [("Endogenous variables", [("Observed", endo_obs), ("Measurement", meas),
                                        ("Latent", endo_lat)]),
              ("Exogenous variables", [("Observed", built.exo_obs), ("Latent", built.exo_lat)])]
    for title, rows in blocks:
        rows = [(k, v) for k, v in rows if v]
        if not rows:
            continue
        out.line("")
        out.line(title)
        out.line("")
        for k, v in rows:
            out.line(f"{k + ':':<14}{' '.join(v)}")


def _log(out, hist) -> None:
    out.line("")
    out.line("Fitting target model:")
    out.line("")
    for i, (ll, concave) in enumerate(hist):
        line = f"{f'Iteration {i}:':<15}log likelihood = {fmt(ll, '%10.0g')}  "
        out.line(line if concave else line + "(not concave)")


def _header(out, res) -> None:
    sc = res.scalars
    out.line("")
    out.line(f"{'Structural equation model':<48}{'Number of obs':<18}= {fmt_count(int(sc['N'])):>10}")
    out.line(f"{'Estimation method':<19}= {res.macros.get('method', 'ml')}")
    out.line(f"{'Log likelihood':<19}= {fmt_g(sc['ll'], 10).strip()}")


def constraint_lines(built) -> list[str]:
    lines = []
    first: dict[int, object] = {}
    for p in built.params:
        name = f"[{p.eq}]{p.name}"
        if p.k < 0:
            lines.append(f"{name} = {p.value:g}")
        elif p.k in first:
            q = first[p.k]
            lines.append(f"[{q.eq}]{q.name} - {name} = 0")
        else:
            first[p.k] = p
    return [f" ({i + 1:>2})  {ln}" if i + 1 >= 10 else f" ( {i + 1})  {ln}" for i, ln in enumerate(lines)]


def _rule_mid(w: int) -> str:
    return "-" * (w + 1) + "+" + "-" * 64


def _column_header(w: int, level: float, vcetype: str, standardized: bool) -> list[str]:
    ci = f"[{level:g}% conf. interval]"
    first = "Standardized" if standardized else ""
    start = 16 + (9 - len(vcetype)) // 2
    return [" " * (w + 1) + "|" + " " * (start - 1) + vcetype,
            f"{first:>{w}} | {'Coefficient':>11}  std. err.{'z':>7}    P>|z|{ci:>25}"]


def _cells(p, b: float, se: float, level: float) -> str:
    if p.k < 0 and not se > 0:
        return f"  {fmt_g(b, 9):>9}  (constrained)"
    if p.section == "var" and se > 0 and b > 0:
        z = dist.norm_isf((1 - level / 100) / 2)
        lo, hi = b * math.exp(-z * se / b), b * math.exp(z * se / b)
        return f"  {fmt_g(b, 9):>9}  {fmt_g(se, 9):>9}" + " " * 17 + \
            f"    {fmt_g(lo, 9):>9}   {fmt_g(hi, 9):>9}"
    if p.section == "var":
        return f"  {fmt_g(b, 9):>9}  {fmt_g(se, 9) if se > 0 else '.':>9}"
    return number_cells(b, se if se > 0 else float("nan"), stat="z", level=level)


def table_lines(built, b, se, level: float, vcetype: str, standardized: bool,
                legend: bool = False) -> list[str]:
    labels = [p.label for p in built.params] + [f"  {e} <-" for e in built.struct_eqs + built.meas_eqs]
    w = max([W] + [len(x) for x in labels])
    head = _column_header(w, level, vcetype, standardized)
    if legend:
        head = [f"{'':>{w}} | Legend"]
    out = ["-" * (w + 66)] + head + [_rule_mid(w)]
    for section, eqs in (("Structural", built.struct_eqs), ("Measurement", built.meas_eqs)):
        if not eqs:
            continue
        if section == "Measurement" and built.struct_eqs:
            out.append(_rule_mid(w))
        out.append(f"{section:<{w}} |")
        for n, eq in enumerate(eqs):
            if n:
                out.append("  " + "-" * (w - 1) + "+" + "-" * 64)
            out.append(f"{'  ' + eq + ' <-':<{w}} |")
            out += _rows(built, b, se, level, w, lambda p, eq=eq: p.eq == eq, legend)
    for section in ("mean", "var", "cov"):
        rows = _rows(built, b, se, level, w, lambda p, s=section: p.eq == "/" and p.section == s,
                     legend)
        if rows:
            out.append(_rule_mid(w))
            out += rows
    out.append("-" * (w + 66))
    return out


def _shared(joined, members) -> bool:
    ps = [joined.params[m] for m in members]
    return len({q.k for q in ps}) == 1 and (ps[0].k >= 0 or len({q.value for q in ps}) == 1)


def _group_rows(joined, levels, q, members, b, se, level, w) -> list[str]:
    head = f"{q.label:>{w}} |" if q.eq != "/" else f"{q.label:<{w}} |"
    if _shared(joined, members):
        m = members[0]
        return [head, f"{'[*]':>{w}} |{_cells(joined.params[m], b[m], se[m], level)}"]
    return [head] + [f"{str(lev):>{w}} |{_cells(joined.params[m], b[m], se[m], level)}"
                     for lev, m in zip(levels, members)]


def group_table_lines(groups, joined, b, se, level: float, vcetype: str) -> list[str]:
    """group(): each parameter's label, then one `[*]` row when the groups share it, else a
    row per group."""
    _, levels, rows, single = groups
    labels = [q.label for q, _ in rows] + [f"  {e} <-" for e in single.struct_eqs + single.meas_eqs]
    w = max([W] + [len(x) for x in labels])
    out = ["-" * (w + 66)] + _column_header(w, level, vcetype, False) + [_rule_mid(w)]
    for section, eqs in (("Structural", single.struct_eqs), ("Measurement", single.meas_eqs)):
        if not eqs:
            continue
        if section == "Measurement" and single.struct_eqs:
            out.append(_rule_mid(w))
        out.append(f"{section:<{w}} |")
        for n, eq in enumerate(eqs):
            if n:
                out.append("  " + "-" * (w - 1) + "+" + "-" * 64)
            out.append(f"{'  ' + eq + ' <-':<{w}} |")
            for q, members in rows:
                if q.eq == eq:
                    out += _group_rows(joined, levels, q, members, b, se, level, w)
    for section in ("mean", "var", "cov"):
        for q, members in rows:
            if q.eq == "/" and q.section == section:
                out.append(_rule_mid(w))
                out += _group_rows(joined, levels, q, members, b, se, level, w)
    out.append("-" * (w + 66))
    out.append("Note: [*] identifies parameter estimates constrained to be equal across groups.")
    return out


def _rows(built, b, se, level, w, keep, legend=False) -> list[str]:
    def cells(i, p):
        if legend:
            return f"  _b[{p.eq}:{p.name}]" if p.eq != "/" else f"  _b[/{p.name}]"
        return _cells(p, b[i], se[i], level)
    return [f"{p.label:>{w}} |{cells(i, p)}" for i, p in enumerate(built.params) if keep(p)]


def lr_line(res) -> str:
    sc = res.scalars
    df = int(sc["df_ms"])
    pv = "." if not np.isfinite(sc["p_ms"]) else fmt(sc["p_ms"], "%6.4f").strip()
    left = f"LR test of model vs. saturated: chi2({df})"
    return f"{left:<42}= {fmt(sc['chi2_ms'], '%9.2f')}, Prob > chi2 = {pv:>6}"


def display(session, res, level: float, standardized: bool, flags: dict) -> None:
    out = session.out
    fitted = res.model
    built = fitted.built
    if not flags.get("nodescribe"):
        _varlists(out, built)
    if flags.get("log", True) and fitted.fit.history:
        _log(out, fitted.fit.history)
    if not flags.get("noheader"):
        _header(out, res)
    b = np.asarray(res.b, float)
    se = np.sqrt(np.clip(np.diag(np.asarray(res.V, float)), 0, None))
    if standardized:
        from hlmshell.commands.sem_standardize import standardized_b_se
        b, se = standardized_b_se(fitted)
    out.line("")
    if not flags.get("nocnsreport"):
        cns = constraint_lines(built)
        for ln in cns:
            out.line(ln)
    if flags.get("notable"):
        return
    legend = bool(flags.get("coeflegend"))
    if fitted.groups is not None:
        lines = group_table_lines(fitted.groups, built, b, se, level, res.macros.get("vcetype", "OIM"))
    else:
        lines = table_lines(built, b, se, level, res.macros.get("vcetype", "OIM"), standardized,
                            legend)
    for ln in lines:
        out.line(ln)
    if not flags.get("nofootnote") and res.macros.get("vce") != "robust" and not legend:
        out.line(lr_line(res))
