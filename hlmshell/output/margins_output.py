"""The text of `margins`: the header (title, Number of obs, Model VCE), the legend
(Expression, dy/dx wrt, the at() block) and the table of margins, as Stata 17 lays them out:

    Predictive margins                                       Number of obs = 7,185

    Expression: Linear prediction, fixed portion, predict()
    1._at: ses = -2
    2._at: ses = -1

    ------------------------------------------------------------------------------
                 |            Delta-method
                 |     Margin   std. err.      z    P>|z|     [95% conf. interval]
    -------------+----------------------------------------------------------------
             _at |
              1  |   ...

The table rows are built by hlmshell.output.coeftable (body_lines, groups of level rows).
"""
from __future__ import annotations

from hlmshell.output import coeftable as ct
from hlmshell.output.numfmt import fmt_count, fmt_g
from hlmshell.output.text import abbrev


def header_lines(title: str, n: int, model_vce: str | None) -> list[str]:
    right = f"Number of obs = {fmt_count(n)}"
    out = ["", f"{title}{right:>{max(ct.WIDTH - len(title), len(right) + 1)}}"]
    if model_vce:
        out.append(f"Model VCE: {model_vce}")
    return out


def value_text(x: float) -> str:
    return fmt_g(x, 9).strip()


def at_block(scenarios: list[list[tuple[str, float | None, str]]], multi: bool) -> list[str]:
    """`1._at: ses = -2` (several scenarios) or `At: ses = .01 (mean)` (one); each scenario's
    further covariates under the first; names padded and values right-aligned over the block."""
    entries = [[(nm, "" if v is None else value_text(v), st) for nm, v, st in sc] for sc in scenarios]
    flat = [e for sc in entries for e in sc]
    if not flat:
        return []
    wn = max(len(nm) for nm, _, _ in flat)
    wv = max(len(v) for _, v, _ in flat)
    out = []
    for k, sc in enumerate(entries):
        prefix = f"{k + 1}._at: " if multi else "At: "
        if not sc:                      # every covariate as observed
            out.append(f"{prefix}(asobserved)")
            continue
        for i, (nm, v, st) in enumerate(sc):
            lead = prefix if i == 0 else " " * len(prefix)
            tail = "" if st in ("value", "values") else f" ({st})"
            out.append(f"{lead}{nm:<{wn}} = {v:>{wv}}{tail}".rstrip())
    return out


def legend_lines(expression: str, deriv_label: str | None, deriv_vars: list[str],
                 at_lines: list[str]) -> list[str]:
    out = ["", f"Expression: {expression}"]
    if deriv_label:
        out.append(f"{deriv_label} wrt:  {' '.join(deriv_vars)}")
    return out + at_lines


def eq_line(name: str) -> str:
    return f"{abbrev(name, ct.NAME_W):<{ct.NAME_W}} |"


def table_head(first: str, stat: str, level: float, nose: bool, pw: bool = False) -> list[str]:
    """Rule, `Delta-method` over `std. err.`, the column titles (`Margin`, `dy/dx`,
    `Contrast` right-aligned over the estimates), mid rule."""
    lead = " " * ct.NAME_W + " |"
    if nose:
        return [ct.rule(), f"{lead}{first:>11}", ct.rule("mid")]
    top = lead + "            Delta-method"
    if pw:
        top += "    Unadjusted           Unadjusted"
    ci = f"[{level:g}% conf. interval]"
    cols = f"{lead}{first:>11}   std. err.{stat:>7}    P>|{stat}|{ci:>25}"
    return [ct.rule(), top, cols, ct.rule("mid")]


def table_lines(sections, b, se, *, first: str, stat: str, df_r, level: float, nose: bool,
                vsquish: bool = False) -> list[str]:
    """sections: [(equation name or None, groups)]; equations are separated by a rule."""
    out = [""] + table_head(first, stat, level, nose)
    for k, (eq, groups) in enumerate(sections):
        if k and eq is not None:
            out.append(ct.rule("mid"))
        if eq is not None:
            out.append(eq_line(eq))
        body = ct.body_lines(groups, b, None if nose else se, stat=stat, df_r=df_r, level=level)
        if vsquish:
            body = [ln for ln in body if ln.strip() != "|"]
        out += body
    return out + [ct.rule()]
