"""What `xtreg` and `hausman` print (Stata 17): the panel header, the coefficient table with
sigma_u, sigma_e and rho, the F test that all u_i = 0, the LR test of sigma_u = 0, the theta
summary, and hausman's table and test.

Everything here formats numbers handed to it; nothing is estimated. Header columns: labels
at 49, `=` at 67, values right-aligned to 78 (as regress and mixed).
"""
from __future__ import annotations

import math

from hlmshell.output import coeftable as ct
from hlmshell.output.numfmt import fmt, fmt_count, fmt_g
from hlmshell.output.text import abbrev

WIDTH = 78


def _num(x: float | None, spec: str) -> str:
    """A statistic in a Stata format, without padding; `.` for missing."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "."
    return fmt(float(x), spec).strip()


def _f4(x: float | None) -> str:
    """%6.4f as Stata shows it: a negative value takes a seventh column (-0.1517)."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "."
    return f"{float(x):6.4f}"


def _right(label: str, value: str) -> str:
    return f"{label:<18}={value:>11}"


def _obs(label: str, value: str) -> str:
    return f"{label:>17} ={value:>11}"


def _join(left: str, right: str = "") -> str:
    return (left.ljust(48) + right).rstrip()


def _avg(x: float) -> str:
    return fmt(x, "%10.1fc").strip()


# --- header -------------------------------------------------------------------------------------
def panel_lines(title: str, ivar: str, n: int, n_g: int, g: tuple[float, float, float],
                r2: tuple[float, float, float] | None) -> list[str]:
    """Title, group variable, counts and the R-squared / obs-per-group block (r2 None: the
    mle header's `Random effects u_i ~ Gaussian` instead), ending with a blank line."""
    gmin, gavg, gmax = g
    out = [_join(title, _right("Number of obs", fmt_count(n))),
           _join(f"Group variable: {abbrev(ivar, 12)}", _right("Number of groups", fmt_count(n_g))),
           ""]
    if r2 is None:
        out.append(_join("Random effects u_i ~ Gaussian", "Obs per group:"))
        left = ["", "", ""]
    else:
        out.append(_join("R-squared:", "Obs per group:"))
        left = [f"     {name} = {_f4(v):>6}" for name, v in
                zip(("Within ", "Between", "Overall"), r2)]
    out += [_join(left[0], _obs("min", fmt_count(int(gmin)))),
            _join(left[1], _obs("avg", _avg(gavg))),
            _join(left[2], _obs("max", fmt_count(int(gmax)))), ""]
    return out


def test_lines(stat_label: str, stat: float, p_label: str, p: float, left: str) -> list[str]:
    """The model test beside the corr(u_i, ...) / sd(...) / Log likelihood line."""
    return [_join("", _right(stat_label, _num(stat, "%9.2f"))),
            _join(left, _right(p_label, _num(p, "%6.4f")))]


def corr_text(corr: float) -> str:
    return f"corr(u_i, Xb) = {_f4(corr)}"


def sd_text(rmse: float) -> str:
    return f"sd(u_i + avg(e_i.)) = {fmt_g(rmse, 9)}"


def ll_text(ll: float, pseudo: bool = False) -> str:
    word = "pseudolikelihood" if pseudo else "likelihood"
    return f"Log {word} = {fmt(ll, '%10.0g')}"


def theta_lines(theta: float | None, stats: list[float] | None) -> list[str]:
    """`theta`: the one value of a balanced panel, or the distribution over panels."""
    if stats is None:
        return [f"theta = {fmt_g(theta, 10)}"]
    mn, p5, p50, p95, mx = stats
    return ["", "-" * 19 + " theta " + "-" * 20,
            "  min      5%       median        95%      max",
            (f"{fmt(mn, '%6.4f')}{fmt(p5, '%9.4f')}{fmt(p50, '%11.4f')}{fmt(p95, '%11.4f')}"
             f"{fmt(mx, '%9.4f')}")]


# --- coefficient table --------------------------------------------------------------------------
def cluster_line(n_clusters: int, clustvar: str) -> str:
    text = f"(Std. err. adjusted for {fmt_count(n_clusters)} clusters in {clustvar})"
    return text.rjust(WIDTH)


def table_head(depvar: str, stat: str, level: float, robust: bool) -> list[str]:
    head = ct.column_header(depvar, stat, level)
    lines = [ct.rule()]
    if robust:
        lines.append(" " * (ct.NAME_W + 1) + "|               Robust")
        head = head.replace("Std. err.", "std. err.")
    return lines + [head, ct.rule("mid")]


def sigma_lines(sigma_u: float, sigma_e: float, rho: float) -> list[str]:
    """fe and re: the rows below the coefficients, and the closing rule."""
    def row(label: str, x: float) -> str:
        return f"{label:>{ct.NAME_W}} | {fmt_g(x, 10):>10}"
    return [ct.rule("mid"), row("sigma_u", sigma_u), row("sigma_e", sigma_e),
            row("rho", rho) + "   (fraction of variance due to u_i)", ct.rule()]


def aux_row(label: str, b: float, se: float | None, lo: float | None, hi: float | None) -> str:
    """An ancillary parameter's row (/sigma_u, rho): estimate, std. err. and interval, no z."""
    cells = f"  {fmt_g(b, 9):>9}"
    if se is not None and math.isfinite(se):
        cells += f"  {fmt_g(se, 9):>9}" + " " * 21 + f"{fmt_g(lo, 9):>9}   {fmt_g(hi, 9):>9}"
    return f"{label:>{ct.NAME_W}} |{cells}"


def omitted_row(label: str) -> str:
    """rho when sigma_u is 0 (the boundary): `0  (omitted)`, as Stata shows it."""
    return f"{label:>{ct.NAME_W}} |{ct.status_cells('omitted')}"


def f_u_line(df_a: int, df_r: int, F: float, p: float) -> str:
    left = f"F test that all u_i=0: F({df_a}, {df_r}) = {_num(F, '%8.2f')}"
    return left.ljust(61) + f"Prob > F = {_num(p, '%6.4f')}"


def lr_sigma_u_line(chi2: float, p: float) -> str:
    left = f"LR test of sigma_u=0: chibar2(01) = {_num(chi2, '%8.2f')}"
    return left.ljust(55) + f"Prob >= chibar2 = {_num(p, '%5.3f')}"


# --- hausman ------------------------------------------------------------------------------------
def _centre12(name: str) -> str:
    """Stata's %~12s: centred in 12 columns, the odd space on the right."""
    pad = 12 - len(name)
    left = pad // 2
    return " " * left + name + " " * (pad - left)


def hausman_head(name_b: str, name_B: str) -> list[str]:
    return [" " * 17 + "---- Coefficients ----",
            " " * 13 + "|      (b)          (B)            (b-B)     sqrt(diag(V_b-V_B))",
            (" " * 13 + "|  " + _centre12(name_b) + " " + _centre12(name_B)
             + "    Difference       Std. err.").rstrip(),
            "-" * 13 + "+" + "-" * 64]


def hausman_row(label_lines: list[str], b: float, B: float, d: float, se: float) -> list[str]:
    cells = (f"   {fmt_g(b, 9):>9}    {fmt_g(B, 9):>9}       {fmt_g(d, 9):>9}"
             f"       {fmt_g(se, 9):>9}")
    out = [f"{ln}|" for ln in label_lines[:-1]]
    out.append(f"{label_lines[-1]}|{cells}")
    return out


def hausman_foot(cmd_b: str, cmd_B: str) -> list[str]:
    return ["-" * WIDTH,
            f"b = Consistent under H0 and Ha; obtained from {cmd_b}.".rjust(WIDTH),
            f"B = Inconsistent under Ha, efficient under H0; obtained from {cmd_B}.".rjust(WIDTH)]


def hausman_test_lines(chi2: float, df: int, p: float, posdef: bool) -> list[str]:
    out = ["", "Test of H0: Difference in coefficients not systematic", "",
           f"{f'chi2({df})':>11} = (b-B)'[(V_b-V_B)^(-1)](b-B)"]
    if chi2 >= 0:
        c, pv = _num(chi2, "%10.2f"), _num(p, "%6.4f")
        w = max(len(c), len(pv))
        out += [f"{'':>11} = {c:>{w}}", f"Prob > chi2 = {pv:>{w}}"]
        if not posdef:
            out.append("(V_b-V_B is not positive definite)")
    else:
        out += [f"{'':>11} = {_num(chi2, '%9.2f'):<9}   chi2<0 ==> model fitted on these",
                " " * 26 + "data fails to meet the asymptotic",
                " " * 26 + "assumptions of the Hausman test;",
                " " * 26 + "see suest for a generalized test"]
    return out


def rank_note(rank: int, k: int) -> list[str]:
    """hausman's note when the differenced variance matrix is singular ({p 0 8} at 79)."""
    text = (f"Note: the rank of the differenced variance matrix ({rank}) does not equal the "
            f"number of coefficients being tested ({k}); be sure this is what you expect, or "
            "there may be problems computing the test.  Examine the output of your estimators "
            "for anything unexpected and possibly consider scaling your variables so that the "
            "coefficients are on a similar scale.")
    lines, cur, indent = [], "", ""
    for word in text.split(" "):
        cand = (cur + " " + word) if cur else indent + word
        if len(cand) > 79 and cur.strip():
            lines.append(cur)
            indent = " " * 8
            cur = indent + word
        else:
            cur = cand
    lines.append(cur)
    return [""] + lines
