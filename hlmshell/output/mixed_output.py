"""What `mixed` prints (Stata 17): iteration log, header, fixed-effects table,
random-effects table, LR test against the linear model, notes and warnings.

Everything here formats numbers handed to it; nothing is estimated.
"""
from __future__ import annotations

from dataclasses import dataclass

from hlmshell.output.coeftable import cnum
from hlmshell.output.numfmt import fmt, fmt_count

WIDTH = 78
RE_NAME_W = 28
COV_TITLES = {"identity": "Identity", "independent": "Independent",
              "exchangeable": "Exchangeable", "unstructured": "Unstructured"}


@dataclass
class RERow:
    """One row of the random-effects table: label like 'var(ses)', 'cov(ses,_cons)',
    'sd(_cons)', 'corr(ses,_cons)', 'var(Residual)'. se/lo/hi are None when unavailable."""

    label: str
    est: float
    se: float | None
    lo: float | None
    hi: float | None


@dataclass
class LevelInfo:
    """One grouping level for the header: variable, groups and observations per group."""

    label: str
    n_groups: int
    g_min: int
    g_avg: float
    g_max: int


# --- iteration log ----------------------------------------------------------------------------------
def ll_label(reml: bool) -> str:
    return "log restricted-likelihood" if reml else "log likelihood"


def iteration_line(i: int, ll: float, reml: bool, note: str = "") -> str:
    head = f"Iteration {i}:".ljust(15)
    return f"{head}{ll_label(reml)} = {fmt(ll, '%10.0g')}  {note}"


# --- header ---------------------------------------------------------------------------------------
def _right(label: str, value: str) -> str:
    return f"{label:<18}={value:>11}"


def _stat_right(label: str, value: str) -> str:
    return f"{label:>17} ={value:>11}"


def title(method: str) -> str:
    """e(title) and the header's first line: method is 'ML' or 'REML'."""
    return f"Mixed-effects {method} regression"


@dataclass
class DfHeader:
    """What dfmethod() adds to the header: the method's title, the DF range of the
    coefficients and the model's F test (F None when there is nothing to test)."""

    title: str
    df_min: float
    df_avg: float
    df_max: float
    F: float | None
    df1: int
    ddf: float | None
    p: float | None


def _df_block(d: DfHeader) -> tuple[list[str], list[str]]:
    """(left, right) lines of the DF method block and of its F test."""
    num = lambda x: "." if x is None or x != x else fmt(x, "%9.2f").strip()   # noqa: E731
    left = [f"DF method: {d.title}", "", ""]
    right = ["DF:" + _stat_right("min", num(d.df_min))[3:], _stat_right("avg", num(d.df_avg)),
             _stat_right("max", num(d.df_max))]
    fstat = "." if d.F is None else fmt(d.F, "%10.2f").strip()
    right.append(_right(f"F({d.df1}, {num(d.ddf)})", fstat))
    return left, right


def header_lines(*, reml: bool, n_obs: int, levels: list[LevelInfo], wald_df: int,
                 wald_chi2: float | None, wald_p: float | None, ll: float,
                 df: DfHeader | None = None) -> list[str]:
    title_text = title("REML" if reml else "ML")
    llname = "Log restricted-likelihood" if reml else "Log likelihood"
    ll_text = f"{llname} = {fmt(ll, '%10.0g')}"
    chi = "." if wald_chi2 is None else fmt(wald_chi2, "%10.2f").strip()
    pv = "." if wald_p is None else fmt(wald_p, "%10.4f").strip()
    wald = _right(f"Wald chi2({wald_df})", chi)
    prob = _right("Prob > chi2", pv)
    dleft, dright = [], [wald]
    if df is not None:
        dleft, dright = _df_block(df)
        prob = _right("Prob > F", "." if df.p is None else fmt(df.p, "%10.4f").strip())
    dleft = dleft + [""] * (len(dright) - len(dleft))
    if not levels:
        return ([(title_text.ljust(48) + _right("Number of obs", fmt_count(n_obs))).rstrip()]
                + [(a.ljust(48) + b).rstrip() for a, b in zip(dleft, dright)]
                + [(ll_text.ljust(48) + prob).rstrip()])
    if len(levels) == 1:
        lv = levels[0]
        left = [title_text, f"Group variable: {lv.label}", "", "", "", ""] + dleft + [ll_text]
        right = [_right("Number of obs", fmt_count(n_obs)), _right("Number of groups", fmt_count(lv.n_groups)),
                 "Obs per group:", _stat_right("min", fmt_count(lv.g_min)),
                 _stat_right("avg", f"{lv.g_avg:.1f}"), _stat_right("max", fmt_count(lv.g_max))]
        right += dright + [prob]
        return [(a.ljust(48) + b).rstrip() for a, b in zip(left, right)]
    out = [(title_text.ljust(48) + _right("Number of obs", fmt_count(n_obs))).rstrip(), ""]
    out += group_table_lines(levels)
    out += [""] + [(a.ljust(48) + b).rstrip() for a, b in zip(dleft, dright)]
    out += [(ll_text.ljust(48) + prob).rstrip()]
    return out


def group_table_lines(levels: list[LevelInfo]) -> list[str]:
    out = ["-" * 61,
           "                |     No. of       Observations per group",
           " Group variable |     groups    Minimum    Average    Maximum",
           "-" * 16 + "+" + "-" * 44]
    for lv in levels:
        out.append(f"{lv.label[:15]:>15} |{fmt_count(lv.n_groups):>11}{fmt_count(lv.g_min):>11}"
                   f"{lv.g_avg:>11.1f}{fmt_count(lv.g_max):>11}")
    out.append("-" * 61)
    return out


# --- random-effects table ---------------------------------------------------------------------------
def re_rule(kind: str = "top") -> str:
    if kind == "mid":
        return "-" * (RE_NAME_W + 1) + "+" + "-" * (WIDTH - RE_NAME_W - 2)
    return "-" * WIDTH


def re_header(level: float = 95.0) -> str:
    ci = f"[{level:g}% conf. interval]"
    return f"  Random-effects parameters  |   Estimate   Std. err.{ci:>25}"


def re_row(r: RERow) -> str:
    label = r.label if len(r.label) <= RE_NAME_W else r.label[: RE_NAME_W - 1] + "~"
    line = f"{label:>{RE_NAME_W}} |  {cnum(r.est)}"
    if r.se is not None:
        line += f"  {cnum(r.se)}"
        if r.lo is not None and r.hi is not None:
            line += f"     {cnum(r.lo)}   {cnum(r.hi)}"
    return line


def re_table_lines(levels: list[tuple[str, list[RERow]]], residual: list[RERow],
                   level: float = 95.0, residual_title: list[str] | None = None) -> list[str]:
    """levels: (title like 'id: Unstructured', rows) outermost first; residual: its row(s),
    under residual_title's lines (`Residual: AR(1)`) for a residual structure."""
    out = [re_rule(), re_header(level), re_rule("mid")]
    for heading, rows in levels:
        out.append(f"{heading:<{RE_NAME_W + 1}}|")
        out += [re_row(r) for r in rows]
        out.append(re_rule("mid"))
    for heading in residual_title or []:
        out.append(f"{heading:<{RE_NAME_W + 1}}|")
    out += [re_row(r) for r in residual]
    out.append(re_rule())
    return out


def residual_title(structure_title: str, byvar: str | None) -> list[str]:
    """`Residual: AR(1)`; with by(), `Residual: AR(1),` and `    by var` on the next line."""
    if byvar:
        return [f"Residual: {structure_title},", f"    by {byvar}"]
    return [f"Residual: {structure_title}"]


def level_title(label: str, covariance: str) -> str:
    return f"{label}: {COV_TITLES.get(covariance, covariance.capitalize())}"


# --- LR test versus the linear model ----------------------------------------------------------------
def lr_lines(chi2: float, df: int, p: float) -> list[str]:
    """`LR test vs. linear model: ...`; chibar2(01) with one variance component, else chi2(df)
    and the conservative note."""
    # two decimals as %10.2f: e-notation only for a statistic too wide for that
    stat = fmt(chi2, "%10.2f").strip()
    if df == 1:
        left = f"LR test vs. linear model: chibar2(01) = {stat}"
        right = f"Prob >= chibar2 = {fmt(p, '%6.4f').strip()}"
        return [left + right.rjust(max(WIDTH - len(left), len(right) + 1))]
    left = f"LR test vs. linear model: chi2({df}) = {stat}"
    right = f"Prob > chi2 = {fmt(p, '%6.4f').strip()}"
    return [left + right.rjust(max(WIDTH - len(left), len(right) + 1)), "",
            "Note: LR test is conservative and provided only for reference."]


SE_WARNING = "Warning: Standard-error calculation failed."
