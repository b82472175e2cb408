"""What meqrlogit and meqrpoisson (and their old names xtmelogit, xtmepoisson) print in
Stata 17: the header with `Integration points =   7` beside the Wald test (one level), or the
group table with an `Integration points` column (several levels), and the random-effects
parameters in a table of their own under the coefficients, as `mixed` prints them
(`district: Identity`, `var(_cons)` or, with stddeviations, `sd(_cons)`). Formats numbers
only."""
from __future__ import annotations

import math

from hlmshell.output.mixed_output import LevelInfo, re_rule, re_table_lines
from hlmshell.output.numfmt import fmt, fmt_count

_GROUP_W = 74


def _right(label: str, value: str) -> str:
    return f"{label:<18}={value:>11}"


def _stat(label: str, value: str) -> str:
    return f"{label:>17} ={value:>11}"


def _wald(wald_df: int, wald_chi2: float, wald_p: float) -> tuple[str, str]:
    chi = "." if math.isnan(wald_chi2) else fmt(wald_chi2, "%10.2f").strip()
    pv = "." if math.isnan(wald_p) else fmt(wald_p, "%10.4f").strip()
    return _right(f"Wald chi2({wald_df})", chi), _right("Prob > chi2", pv)


def header_lines(*, title: str, n_obs: int, levels: list[LevelInfo], points: int,
                 wald_df: int, wald_chi2: float, wald_p: float, ll: float,
                 group: bool = True) -> list[str]:
    """The header. One level: the group variable and the observations per group on the right,
    `Integration points =   7` left of the Wald test. Several levels: the group table with
    each level's integration points (nogroup leaves it out)."""
    wald, prob = _wald(wald_df, wald_chi2, wald_p)
    ll_text = f"Log likelihood = {fmt(ll, '%10.0g')}"
    top = (title.ljust(48) + _right("Number of obs", fmt_count(n_obs))).rstrip()
    if len(levels) == 1:
        lv = levels[0]
        rows = [(title, _right("Number of obs", fmt_count(n_obs))),
                (f"Group variable: {lv.label}", _right("Number of groups", fmt_count(lv.n_groups))),
                ("", ""), ("", "Obs per group:"),
                ("", _stat("min", fmt_count(lv.g_min))),
                ("", _stat("avg", f"{lv.g_avg:.1f}")),
                ("", _stat("max", fmt_count(lv.g_max))), ("", ""),
                (f"Integration points = {points:>3}", wald), (ll_text, prob)]
        if not group:
            rows = rows[:1] + rows[7:]
        return [(a.ljust(48) + b).rstrip() for a, b in rows]
    out = [top, ""]
    if group:
        out += group_table_lines(levels, points) + [""]
    out += [("".ljust(48) + wald), (ll_text.ljust(48) + prob).rstrip()]
    return out


def group_table_lines(levels: list[LevelInfo], points: int) -> list[str]:
    """mixed's group table with a last column of integration points per level."""
    out = ["-" * _GROUP_W,
           "                |     No. of       Observations per group       Integration",
           " Group variable |     groups    Minimum    Average    Maximum      points",
           "-" * 16 + "+" + "-" * (_GROUP_W - 17)]
    for lv in levels:
        out.append(f"{lv.label[:15]:>15} |{fmt_count(lv.n_groups):>11}{fmt_count(lv.g_min):>11}"
                   f"{lv.g_avg:>11.1f}{fmt_count(lv.g_max):>11}{points:>13}")
    out.append("-" * _GROUP_W)
    return out


def random_table_lines(levels, level: float = 95.0) -> list[str]:
    """The random-effects table: `[(title, [RERow])]` outermost level first, no residual row
    (the last level's rows run straight into the closing rule)."""
    lines = re_table_lines(levels, [], level)
    if len(lines) >= 2 and lines[-2] == re_rule("mid"):
        del lines[-2]
    return lines

