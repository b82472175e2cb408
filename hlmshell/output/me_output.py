"""What melogit, meprobit, mecloglog, mepoisson and meglm print (Stata 17): the iteration log's
lines, the header with the integration method, the random-effects rows inside the coefficient
table and the LR test against the one-level model. Formats numbers only."""
from __future__ import annotations

import math

from hlmshell.output.coeftable import cnum, pnum, snum
from hlmshell.output.mixed_output import lr_lines as _mixed_lr_lines
from hlmshell.output.numfmt import fmt, fmt_count


def iteration_line(i: int, ll: float) -> str:
    return f"{f'Iteration {i}:':<15}log likelihood = {fmt(ll, '%10.0g')}  "


def grid_line(i: int, ll: float) -> str:
    return f"{f'Grid node {i}:':<15}log likelihood = {fmt(ll, '%10.0g')}"


def _right(label: str, value: str) -> str:
    return f"{label:<18}={value:>11}"


def _stat(label: str, value: str) -> str:
    return f"{label:>17} ={value:>11}"


def header_lines(*, title, n_obs, group, n_groups, g_min, g_avg, g_max, method, points,
                 wald_df, wald_chi2, wald_p, ll) -> list[str]:
    chi = "." if wald_chi2 != wald_chi2 else fmt(wald_chi2, "%10.2f").strip()
    pv = "." if wald_p != wald_p else fmt(wald_p, "%10.4f").strip()
    rows = [(title, _right("Number of obs", fmt_count(n_obs))),
            (f"Group variable: {group}", _right("Number of groups", fmt_count(n_groups))),
            ("", ""),
            ("", "Obs per group:"),
            ("", _stat("min", fmt_count(g_min))),
            ("", _stat("avg", f"{g_avg:.1f}")),
            ("", _stat("max", fmt_count(g_max))),
            ("", "")]
    if method == "laplace":
        rows.append(("Integration method: laplace", ""))
    else:
        rows.append((f"Integration method: {method}", _right("Integration pts.", str(points))))
    rows += [("", ""), ("", _right(f"Wald chi2({wald_df})", chi)),
             (f"Log likelihood = {fmt(ll, '%10.0g')}", _right("Prob > chi2", pv))]
    return [(a.ljust(48) + b).rstrip() if b else a.rstrip() for a, b in rows]


def header_view(head: list[str], opts) -> list[str]:
    """The header as the display options ask: `noheader` none of it, `nogroup` without the
    group lines (`Group variable:` and the group sizes, or the group table of several levels),
    the title, the integration method and the Wald test kept."""
    if getattr(opts, "noheader", False):
        return []
    if not getattr(opts, "nogroup", False):
        return head
    j = next((i for i, ln in enumerate(head) if ln.startswith("Integration method")), None)
    if j is None:
        return head
    k = next(i for i, ln in enumerate(head) if i and (not ln or ln.startswith("Group variable")))
    return head[:k] + [""] + head[j:]


def multi_header_lines(*, title, n_obs, levels, method, points, wald_df, wald_chi2, wald_p,
                       ll) -> list[str]:
    """The header of a model with several random-effects levels (Stata 17): the title and the
    number of observations, then the group table (one row per level, outermost first: a
    mixed_output.LevelInfo each), the integration method, the Wald test and the log
    likelihood."""
    from hlmshell.output.mixed_output import group_table_lines
    chi = "." if wald_chi2 != wald_chi2 else fmt(wald_chi2, "%10.2f").strip()
    pv = "." if wald_p != wald_p else fmt(wald_p, "%10.4f").strip()
    out = [(title.ljust(48) + _right("Number of obs", fmt_count(n_obs))).rstrip(), ""]
    out += group_table_lines(levels)
    out.append("")
    if method == "laplace":
        out.append("Integration method: laplace")
    else:
        out.append(f"Integration method: {method}".ljust(48) + _right("Integration pts.", str(points)))
    out += ["", ("".ljust(48) + _right(f"Wald chi2({wald_df})", chi)),
            (f"Log likelihood = {fmt(ll, '%10.0g')}".ljust(48) + _right("Prob > chi2", pv))]
    return out


def level_heading(level: str) -> list[str]:
    """`school>class |` above a level's rows; a path wider than the 12 columns is broken after
    a `>` (each piece on a line of its own)."""
    if len(level) <= 12:
        return [f"{level:<13}|"]
    parts, cur = [], ""
    for piece in level.split(">"):
        add = piece if not cur else cur + ">" + piece
        if cur and len(add) > 12:
            parts.append(cur + ">")
            cur = piece
        else:
            cur = add
    parts.append(cur)
    return [f"{p_[:12]:<13}|" for p_ in parts]


def variance_rows(level: str, rows, z: float) -> list[str]:
    """The random-effects part of the table: a mid rule, `level |`, the `var(_cons)|` rows
    (estimate, std. err. and the interval on the log scale), then the covariances in a block of
    their own with z tests (a covariance is not bounded), a long label broken after its comma."""
    from hlmshell import distributions as dist
    rule = "-" * 13 + "+" + "-" * 64
    var = [r for r in rows if r[3]]
    cov = [r for r in rows if not r[3]]
    out = [rule] + level_heading(level)
    for label, est, se, _ in var:
        line = f"{label[-13:]:>13}|  {cnum(est)}"
        if se is not None and est > 0 and z * se / est < 700:
            w = z * se / est
            line += (f"  {cnum(se)}{'':21}{cnum(est * math.exp(-w))}   "
                     f"{cnum(est * math.exp(w))}")
        out.append(line)
    if cov:
        out += [rule] + level_heading(level)
    for label, est, se, _ in cov:
        head, sep, tail = label.partition(",")
        if len(label) > 13 and sep:
            out.append(f"{(head + sep)[-13:]:>13}|")
            label = tail
        line = f"{label[-13:]:>13}|  {cnum(est)}"
        if se is not None and se > 0:
            zz = est / se
            p = 2 * float(dist.norm_sf(abs(zz)))
            line += (f"  {cnum(se)} {snum(zz)}   {pnum(p)}    "
                     f"{cnum(est - z * se)}   {cnum(est + z * se)}")
        out.append(line)
    return out


def extra_rows(rows, z: float) -> list[str]:
    """The family's own parameters under the fixed part: a mid rule, then `/lnalpha |` with
    the estimate, its standard error and a symmetric interval (no test), as Stata's."""
    if not rows:
        return []
    out = ["-" * 13 + "+" + "-" * 64]
    for name, est, se in rows:
        line = f"{'/' + name:>12} |  {cnum(est)}"
        if se and se > 0:
            line += (f"  {cnum(se)}{'':21}{cnum(est - z * se)}   "
                     f"{cnum(est + z * se)}")
        out.append(line)
    return out


def lr_lines(base: str, chi2: float, df: int, p: float) -> list[str]:
    """`LR test vs. logistic model: chibar2(01) = ...`: mixed's test line with the one-level
    model's name, the probability right-aligned at column 78 as there."""
    out = []
    for ln in _mixed_lr_lines(chi2, df, p):
        if ln.startswith("LR test vs. linear model"):
            left, _, right = ln.partition("  Prob")
            left = left.rstrip().replace("vs. linear model", f"vs. {base} model")
            right = ("Prob" + right).strip()
            ln = left + right.rjust(max(78 - len(left), len(right) + 1))
        out.append(ln)
    return out
