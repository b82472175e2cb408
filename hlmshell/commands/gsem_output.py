"""gsem's output in Stata 17's layout: the iteration log (fixed-effects model, starting values,
full model), the header (`Generalized structural equation model`, then Response / Family /
Link of each response, `Log likelihood`), the constraints (`[write]M1[cid] = 1`) and one
coefficient table: a block per response (its covariates, latent variables and _cons each
set off by a blank row), the cutpoints of ordinal responses, then var() of the latent
variables, their cov(), and the residual variances var(e.y), whose intervals come from the log
scale as Stata computes them."""
from __future__ import annotations

import math

import numpy as np

from hlmshell import distributions as dist
from hlmshell.output.coeftable import groups_from_names, number_cells
from hlmshell.output.me_output import grid_line, iteration_line
from hlmshell.output.numfmt import fmt_count, fmt_g
from hlmshell.output.text import abbrev

_FAMILY = {"gaussian": "Gaussian", "bernoulli": "Bernoulli", "poisson": "Poisson",
           "ordinal": "Ordinal"}
_LINK = {"identity": "Identity", "logit": "Logit", "probit": "Probit", "log": "Log"}


def _log_lines(fitted) -> list[str]:
    fit = fitted.fit
    out = []
    if fitted.model.q:
        out += ["", "Fitting fixed-effects model:", ""]
        out += [iteration_line(i, v) for i, v in enumerate(fit.fixed_history)]
        out += ["", "Refining starting values:", "", grid_line(0, fit.history[0]), "",
                "Fitting full model:", ""]
        hist = _thin(fit.history)
    else:
        out.append("")
        hist = _thin(fit.fixed_history)
    out += [iteration_line(i, v) for i, v in enumerate(hist)]
    return out


def _thin(hist: list) -> list:
    """The log's values, a repeated last value kept once more (Stata's final iteration)."""
    vals = [v for v in hist if np.isfinite(v)]
    if not vals:
        return []
    out = [vals[0]]
    for v in vals[1:]:
        if abs(v - out[-1]) > 1e-7 * (1 + abs(v)) or v == vals[-1]:
            out.append(v)
    if len(out) == 1:
        out.append(vals[-1])
    return out


def header_lines(res) -> list[str]:
    fitted = res.model
    n = int(res.scalars["N"])
    title = "Generalized structural equation model"
    eqs = fitted.eqs
    if len(eqs) == 1 or all(e.n_obs == n for e in eqs):
        out = [f"{title:<57}Number of obs = {fmt_count(n)}"]
        for k, e in enumerate(eqs):
            if len(eqs) > 1:
                out.append("")
            out += [f"Response: {e.depvar:<8}", f"Family:   {_FAMILY[e.family]}",
                     f"Link:     {_LINK[e.link]}"]
        if len(eqs) > 1:
            out.append("")
    else:
        out = [f"{title:<52}{'Number of obs':<16}= {fmt_count(n):>8}"]
        for e in eqs:
            out += ["", f"{'Response: ' + e.depvar:<52}{'Number of obs':<16}= {fmt_count(e.n_obs):>8}",
                    f"Family:   {_FAMILY[e.family]}", f"Link:     {_LINK[e.link]}"]
        out.append("")
    out.append(f"Log likelihood = {fmt_g(res.scalars['ll'], 10).strip()}")
    return out


def constraint_lines(res) -> list[str]:
    V = np.asarray(res.V, float)
    lines = []
    for i, (eq, nm) in enumerate(res.names):
        if eq != "/" and "[" in nm and V[i, i] == 0 and not res.omitted[i]:
            lines.append(f"[{eq}]{nm} = {res.b[i]:g}")
    return [f" ({i + 1:>2})  {ln}" if i + 1 >= 10 else f" ( {i + 1})  {ln}"
            for i, ln in enumerate(lines)]


def _width(res) -> int:
    w = 12
    for eq, nm in res.names:
        if eq != "/" and "[" in nm:
            w = max(w, len(nm))
    return min(w, 32)


def z_of(level: float) -> float:
    return float(dist.norm_isf((1 - level / 100) / 2))


def _cells(b, se, level, kind) -> str:
    if kind == "constrained":
        return f"  {fmt_g(b, 9):>9}  (constrained)"
    if kind == "omitted":
        return f"  {'0':>9}  (omitted)"
    if kind == "var":
        if se > 0 and b > 0 and z_of(level) * se / b < 700:
            z = z_of(level)
            lo, hi = b * math.exp(-z * se / b), b * math.exp(z * se / b)
            return (f"  {fmt_g(b, 9):>9}  {fmt_g(se, 9):>9}" + " " * 17
                    + f"    {fmt_g(lo, 9):>9}   {fmt_g(hi, 9):>9}")
        return f"  {fmt_g(b, 9):>9}  {fmt_g(se, 9) if se > 0 else '.':>9}"
    if kind == "cut":
        z = dist.norm_isf((1 - level / 100) / 2)
        return (f"  {fmt_g(b, 9):>9}  {fmt_g(se, 9):>9}" + " " * 17
                + f"    {fmt_g(b - z * se, 9):>9}   {fmt_g(b + z * se, 9):>9}")
    return number_cells(b, se if se > 0 else float("nan"), stat="z", level=level)


def _kind(res, i) -> str:
    V = np.asarray(res.V, float)
    eq, nm = res.names[i]
    if res.omitted[i]:
        return "omitted"
    if V[i, i] == 0 and "[" in nm and eq != "/":
        return "constrained"
    if eq == "/" and nm.startswith("var("):
        return "var"
    if eq.startswith("/") and eq != "/":
        return "cut"
    return "coef"


def _eq_groups(res, idx: list[int]) -> list[tuple[str | None, list[tuple[str, int]]]]:
    """An equation's rows in display groups (header, [(label, b index)]): each covariate term,
    the latent variables, _cons."""
    if res.names[idx[0]][0].startswith("/"):          # an ordinal response's cutpoints
        return [(None, [(res.names[i][1], i) for i in idx])]
    cov = [i for i in idx if "[" not in res.names[i][1] and res.names[i][1] != "_cons"]
    lat = [i for i in idx if "[" in res.names[i][1]]
    cons = [i for i in idx if res.names[i][1] == "_cons"]
    groups = []
    for g in groups_from_names([res.names[i][1] for i in cov]):    # base/omitted from the names
        groups.append((g.header, [(r.label, cov[r.index]) for r in g.rows]))
    if lat:
        groups.append((None, [(res.names[i][1], i) for i in lat]))
    if cons:
        groups.append((None, [("_cons", i) for i in cons]))
    return groups


def _label_rows(label: str, w: int) -> list[str]:
    """var()/cov() labels right-aligned against the bar, broken when too long."""
    if len(label) <= w + 1:
        return [label]
    if label.startswith("cov("):
        a, _, b = label[4:-1].partition(",")
        return ["cov(" + abbrev(a, w - 4) + ",", abbrev(b, w) + ")"]
    if label.startswith("var(e."):
        return [f"var(e.{abbrev(label[6:-1], w - 6)})"]
    return ["var(", abbrev(label[4:-1], w) + ")"]


def table_lines(res, level: float, legend: bool = False) -> list[str]:
    w = _width(res)
    b = np.asarray(res.b, float)
    se = np.sqrt(np.clip(np.diag(np.asarray(res.V, float)), 0, None))
    vcetype = res.macros.get("vcetype", "OIM")
    mid = "-" * (w + 1) + "+" + "-" * 64
    blank = " " * (w + 1) + "|"
    out = ["-" * (w + 66)]
    ci = f"[{level:g}% conf. interval]"
    if vcetype != "OIM" and not legend:
        out.append(" " * (w + 1) + "|" + " " * 15 + vcetype)
        out.append(f"{'':>{w}} | Coefficient  std. err.      z    P>|z|{ci:>25}")
    elif legend:
        out.append(f"{'':>{w}} | Legend")
    else:
        out.append(f"{'':>{w}} | Coefficient  Std. err.      z    P>|z|{ci:>25}")

    def cells(i):
        if legend:
            eq, nm = res.names[i]
            return f"  _b[{eq}:{nm}]" if eq != "/" else f"  _b[/{nm}]"
        return _cells(b[i], se[i], level, _kind(res, i))

    eqs = []
    for eq, _ in res.names:
        if eq != "/" and eq not in eqs:
            eqs.append(eq)
    for eq in eqs:
        out.append(mid)
        out.append(f"{abbrev(eq, w):<{w}} |")
        idx = [i for i, (e, _) in enumerate(res.names) if e == eq]
        for n, (header, rows) in enumerate(_eq_groups(res, idx)):
            if n:
                out.append(blank)
            if header:
                out.append(f"{abbrev(header, w):>{w}} |")
            out += [f"{abbrev(lab, w):>{w}} |{cells(i)}" for lab, i in rows]
    for section in ("var(", "cov(", "var(e."):
        rows = [i for i, (e, nm) in enumerate(res.names) if e == "/" and nm.startswith(section)
                and not (section == "var(" and nm.startswith("var(e."))]
        if not rows:
            continue
        out.append(mid)
        for i in rows:
            parts = _label_rows(res.names[i][1], w)
            out += [f"{p:>{w + 1}}|" for p in parts[:-1]]
            out.append(f"{parts[-1]:>{w + 1}}|{cells(i)}")
    out.append("-" * (w + 66))
    return out


def display(session, res, level: float, flags: dict) -> None:
    out = session.out
    fitted = res.model
    if flags.get("log", True) and fitted is not None:
        for ln in _log_lines(fitted):
            out.line(ln)
    if not flags.get("noheader"):
        out.line("")
        for ln in header_lines(res):
            out.line(ln)
    out.line("")
    if not flags.get("nocnsreport"):
        for ln in constraint_lines(res):
            out.line(ln)
    if flags.get("notable"):
        return
    if res.macros.get("vce") == "cluster":
        n = int(res.scalars.get("N_clust", 0))
        note = f"(Std. err. adjusted for {fmt_count(n)} clusters in {res.macros.get('clustvar')})"
        out.line(f"{note:>{_width(res) + 66}}")
    for ln in table_lines(res, level, bool(flags.get("coeflegend"))):
        out.line(ln)
