"""Stata's coefficient table (the `Coefficient  Std. err.  z  P>|z|  [95% conf. interval]` block).

Used by mixed, regress and by post-estimation replays (lincom, estimates replay). Layout:
a 12-character name column, ` |`, then b and se in %9.0g (11 wide each), z/t in %8.2f (9),
P in %5.3f (8), the interval in %9.0g (13 and 12): 78 columns in all.

    lines = coef_table(depvar, groups, b, se, stat="z")          # whole table, list of str
    groups = groups_from_names(names, status)                      # rebuild groups from e(b) names

`groups` is a list of objects with `.header` (factor group header or None) and `.rows`
(objects with `.label`, `.index` into b/se, `.status` None|'omitted'|'base'|'empty').
"""
from __future__ import annotations

import math
import re
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

import numpy as np

from hlmshell import distributions as dist
from hlmshell.output.numfmt import fmt, fmt_count, fmt_g
from hlmshell.output.text import abbrev

WIDTH = 78
NAME_W = 12


@dataclass
class Row:
    label: str
    index: int
    status: str | None = None


@dataclass
class Group:
    header: str | None
    rows: list[Row]


def _split_hash(text: str) -> list[str]:
    pieces = re.findall(r"[^#]+#?", text)
    out = []
    for p in pieces:
        # a piece too long by itself breaks after its `c.` / `1.` prefix as well
        if len(p.rstrip("#")) > NAME_W and "." in p:
            head, _, tail = p.partition(".")
            out += [head + ".", tail]
        else:
            out.append(p)
    return out


def header_lines(header: str) -> list[str]:
    """A factor group header row: right-aligned; an interaction too long breaks after each `#`,
    the `#` hanging into the column before the bar (`      female#|`)."""
    if len(header) <= NAME_W - 1 or ("#" not in header and len(header) <= NAME_W):
        return [f"{header:>{NAME_W}} "]
    if "#" not in header:
        return [f"{abbrev(header):>{NAME_W}} "]
    out = []
    for piece in _split_hash(header):
        if piece.endswith("#"):
            out.append(f"{abbrev(piece[:-1], NAME_W):>{NAME_W}}#")
        else:
            out.append(f"{abbrev(piece):>{NAME_W}} ")
    return out


def name_lines(name: str) -> list[str]:
    """Left column of a coefficient row; a long interaction name breaks after `#` into a
    left-aligned block right-justified in the column (`    c.ses#   |` / `    c.sector |`)."""
    if len(name) <= NAME_W:
        return [f"{name:>{NAME_W}} "]
    if "#" not in name:
        return [f"{abbrev(name):>{NAME_W}} "]
    pieces = [abbrev(p) for p in _split_hash(name)]
    w = max(len(p) for p in pieces)
    return [f"{p:<{w}}".rjust(NAME_W) + " " for p in pieces]


def level_label(text: str) -> str:
    """A level row under a group header: `          2  ` (right-aligned, two spaces)."""
    return f"{abbrev(text, NAME_W - 1):>{NAME_W - 1}}  "


def column_header(depvar: str, stat: str = "z", level: float = 95.0, first: str = "Coefficient",
                  se_title: str = "Std. err.") -> str:
    ci = f"[{level:g}% conf. interval]"
    return (f"{abbrev(depvar):>{NAME_W}} | {first:>11}  {se_title}{stat:>7}    P>|{stat}|"
            f"{ci:>25}")


def vcetype_line(vcetype: str) -> str:
    """The line above the column header naming a robust VCE (`Robust`, `Robust HC3`), centred
    over `std. err.` (columns 28-36) as Stata's _coef_table does."""
    start = NAME_W + 16 + (9 - len(vcetype)) // 2
    return " " * (NAME_W + 1) + "|" + " " * (start - NAME_W - 2) + vcetype


def cluster_note(n_clusters: int, clustvar: str, width: int = WIDTH) -> str:
    """`(Std. err. adjusted for 160 clusters in id)`, right-aligned over the table."""
    return f"(Std. err. adjusted for {fmt_count(n_clusters)} clusters in {clustvar})".rjust(width)


def rule(kind: str = "top") -> str:
    if kind == "mid":
        return "-" * (NAME_W + 1) + "+" + "-" * (WIDTH - NAME_W - 2)
    return "-" * WIDTH


def coef_stats(b: float, se: float | None, *, stat: str = "z", df_r: float | None = None,
               level: float = 95.0) -> tuple[float, float, float, float]:
    """(z or t, p, lower, upper) of one coefficient; NaN when se is missing or zero."""
    if se is None or not np.isfinite(se) or se <= 0:
        nan = float("nan")
        return nan, nan, nan, nan
    q = b / se
    a = (1 - level / 100) / 2
    if stat == "t" and df_r:
        p = 2 * dist.t_sf(abs(q), df_r)
        crit = dist.t_isf(a, df_r)
    else:
        p = 2 * dist.norm_sf(abs(q))
        crit = dist.norm_isf(a)
    return q, p, b - crit * se, b + crit * se


# cformat/pformat/sformat in force (Stata's `set cformat` or an estimation command's
# cformat() option): the formats of coefficients, SEs and limits; of P>|z|; of z or t
_FORMATS: ContextVar[tuple] = ContextVar("coef_formats", default=(None, None, None))


@contextmanager
def table_formats(cformat: str | None, pformat: str | None, sformat: str | None):
    """Coefficient tables drawn inside use these formats (None: Stata's defaults)."""
    token = _FORMATS.set((cformat or None, pformat or None, sformat or None))
    try:
        yield
    finally:
        _FORMATS.reset(token)


_FIXED = re.compile(r"%-?(\d+)\.(\d+)f")


def _formatted(x: float, f: str) -> str:
    """x in a user's %w.df: when it is too wide, a number between -1 and 1 loses its
    leading zero (`.0012` in %5.4f), as Stata fits it; other formats as numfmt writes them."""
    m = _FIXED.fullmatch(f)
    if not m or not math.isfinite(x):
        return fmt(x, f).strip()
    text = f"{x:.{int(m.group(2))}f}"
    if len(text) > int(m.group(1)) and text.lstrip("-").startswith("0."):
        text = text.replace("0.", ".", 1)
    return text


def cnum(x: float) -> str:
    """A coefficient, SE or limit in its 9 columns: %9.0g, or cformat's format."""
    c = _FORMATS.get()[0]
    return f"{_formatted(x, c) if c else fmt_g(x, 9):>9}"


def pnum(p: float) -> str:
    f = _FORMATS.get()[1]
    return f"{_formatted(p, f):>5}" if f else fmt(p, "%5.3f")


def snum(q: float) -> str:
    f = _FORMATS.get()[2]
    return f"{_formatted(q, f):>8}" if f else fmt(q, "%8.2f")


def number_cells(b: float, se: float | None, *, stat: str = "z", df_r: float | None = None,
                 level: float = 95.0) -> str:
    """The numeric part of a row after the bar (64 columns)."""
    if se is None or (isinstance(se, float) and math.isnan(se)):
        return f"  {cnum(b)}"
    q, p, lo, hi = coef_stats(b, se, stat=stat, df_r=df_r, level=level)
    return (f"  {cnum(b)}  {cnum(se)} {snum(q)}   {pnum(p)}"
            f"    {cnum(lo)}   {cnum(hi)}")


def status_cells(status: str) -> str:
    return f"  {'0':>9}  ({status})"


def coef_row(label_lines: list[str], cells: str) -> list[str]:
    """Rows for one coefficient: all but the last label line carry an empty bar."""
    out = [f"{ln}|" for ln in label_lines[:-1]]
    out.append(f"{label_lines[-1]}|{cells}")
    return out


def _beta_cells(cells: str, beta) -> str:
    """`regress, beta`: the standardized coefficient (`.` for _cons) in place of the interval."""
    v = "." if beta is None or not np.isfinite(beta) else fmt_g(float(beta), 9)
    return cells[:39] + f"{v:>25}"


def df_cells(b: float, se: float, df: float, *, mode: str, level: float) -> str:
    """mixed's dftable(pvalue|ci) rows: the DF column beside t and P>|t| or the interval."""
    q, p, lo, hi = coef_stats(b, se, stat="t", df_r=df, level=level)
    head = f"  {fmt_g(b, 9):>9}  {fmt_g(se, 9):>9} {fmt(df, '%8.1f')}"
    if mode == "pvalue":
        return head + f" {fmt(q, '%8.2f')}    {fmt(p, '%5.3f')}"
    return head + f"    {fmt_g(lo, 9):>9}   {fmt_g(hi, 9):>9}"


def df_column_header(depvar: str, mode: str, level: float, first: str = "Coefficient",
                     se_title: str = "Std. err.") -> str:
    if mode == "pvalue":
        return f"{abbrev(depvar):>{NAME_W}} | {first:>11}  {se_title}{'DF':>8}{'t':>9}    P>|t|"
    ci = f"[{level:g}% conf. interval]"
    return f"{abbrev(depvar):>{NAME_W}} | {first:>11}  {se_title}{'DF':>8}{ci:>25}"


def _row_cells(r, b, se, *, stat, df_r, level, beta, dots, dfcol=None) -> str:
    """The cells right of the bar for one row."""
    if r.status == "constrained":        # fixed by constraints: the value, no statistics
        return f"  {cnum(float(b[r.index]))}  (constrained)"
    if r.status:
        return status_cells(r.status)
    s = None if se is None else se[r.index]
    if dfcol and s is not None and np.isfinite(s):
        d = df_r[r.index] if isinstance(df_r, (list, tuple, np.ndarray)) else df_r
        return df_cells(float(b[r.index]), float(s), float(d), mode=dfcol, level=level)
    if dots:
        # no residual degrees of freedom (regress with n = k): the estimate, the rest missing
        cells = f"  {fmt_g(float(b[r.index]), 9):>9}          .        .       .            .           ."
        return cells if beta is None else _beta_cells(cells, beta[r.index])
    d = df_r[r.index] if isinstance(df_r, (list, tuple, np.ndarray)) else df_r
    cells = number_cells(float(b[r.index]), None if s is None else float(s),
                         stat=stat, df_r=None if d is None else float(d), level=level)
    return cells if beta is None else _beta_cells(cells, beta[r.index])


def body_lines(groups, b, se, *, stat: str = "z", df_r: float | None = None,
               level: float = 95.0, beta=None, dots: bool = False, dfcol=None) -> list[str]:
    """The rows between the header rule and the bottom rule, with Stata's blank `|` lines
    around every item that takes more than one line. df_r: one residual DF for every row, or
    one per coefficient (mixed's dfmethod()), indexed as b."""
    blank = " " * (NAME_W + 1) + "|"
    items: list[list[str]] = []
    for g in groups:
        lines: list[str] = []
        if g.header is not None:
            lines += [f"{ln}|" for ln in header_lines(g.header)]
        for r in g.rows:
            # a time-series group (`x |` over `L1. |`, labels.TsGroup) aligns its rows as names
            level_rows = g.header is not None and not getattr(g, "plain_rows", False)
            labels = [level_label(r.label)] if level_rows else name_lines(r.label)
            cells = _row_cells(r, b, se, stat=stat, df_r=df_r, level=level, beta=beta, dots=dots,
                               dfcol=dfcol)
            lines += coef_row(labels, cells)
        items.append(lines)
    out: list[str] = []
    prev_multi = False
    for k, lines in enumerate(items):
        multi = len(lines) > 1
        if k > 0 and (multi or prev_multi):
            out.append(blank)
        out += lines
        prev_multi = multi
    return out


def coef_table(depvar: str, groups, b, se, *, stat: str = "z", df_r: float | None = None,
               level: float = 95.0, first: str = "Coefficient", vcetype: str | None = None,
               beta=None, dots: bool = False, dfcol: str | None = None) -> list[str]:
    """The whole table: rule, column header, rule, rows, rule. se=None prints estimates only.
    vcetype (`Robust`): its line above the header, whose `Std. err.` becomes `std. err.`.
    beta (one value per coefficient, `regress, beta`): a `Beta` column replaces the interval.
    dots: every statistic but the estimate is missing (no residual degrees of freedom)."""
    head = [rule()]
    if vcetype:
        head += [vcetype_line(vcetype), column_header(depvar, stat, level, first, "std. err.")]
    else:
        head.append(column_header(depvar, stat, level, first))
    if beta is not None:
        head[-1] = head[-1][:-25] + f"{'Beta':>25}"
    if dfcol:
        head[-1] = df_column_header(depvar, dfcol, level, first,
                                    "std. err." if vcetype else "Std. err.")
    return (head + [rule("mid")]
            + body_lines(groups, b, se, stat=stat, df_r=df_r, level=level, beta=beta, dots=dots,
                         dfcol=dfcol)
            + [rule()])


def equation_table(depvar: str, sections, b, se, *, stat: str = "z", level: float = 95.0) -> list[str]:
    """A table of several equations (`mixed, estmetric`): each equation's name left-aligned
    over its rows, a rule between equations. sections: [(equation name, groups)]."""
    out = [rule(), column_header(depvar, stat, level), rule("mid")]
    for k, (eq, groups) in enumerate(sections):
        if k:
            out.append(rule("mid"))
        out.append(f"{abbrev(eq, NAME_W):<{NAME_W}} |")
        out += body_lines(groups, b, se, stat=stat, level=level)
    return out + [rule()]


# --- rebuilding the display from e(b) names ---------------------------------------------------------
_FACTOR = re.compile(r"^(\d+)([bon]*)\.(\w+)$")


def _parse_name(name: str):
    """'1.female#2.sized' -> ([('female', 1), ('sized', 2)], []); 'c.ses#c.sector' -> ([], [ses, sector])."""
    factors, cont = [], []
    for part in name.split("#"):
        m = _FACTOR.match(part)
        if m:
            factors.append((m.group(3), int(m.group(1))))
        else:
            cont.append(re.sub(r"^(c?o?b?)\.", "", part) if re.match(r"^c?o?b?\.", part) else part)
    return factors, cont


def marker_status(name: str) -> str | None:
    """'base' / 'omitted' from Stata's markers in an e(b) name (`1b.sized`, `o.ses`, `1o.x#co.y`)."""
    parts = name.split("#")
    marks = []
    for part in parts:
        m = _FACTOR.match(part)
        if m:
            marks.append(m.group(2))
        else:
            m2 = re.match(r"^(c?)([ob]*)\.", part)
            marks.append(m2.group(2) if m2 else "")
    if any("b" in mk for mk in marks):
        return "base"
    if any("o" in mk for mk in marks):
        return "omitted"
    return None


def _signature(name: str):
    """What makes consecutive e(b) columns one term: its factor variables and continuous ones."""
    f, c = _parse_name(name)
    return [v for v, _ in f], c


def _factor_group(names, cols, status, f, c, value_labels) -> Group:
    """The group of a factor term's shown columns: a one-row item for a lone unlabelled level
    (`1.female`), else a header (`female#sized`) over level rows (value labels when the term
    is one labelled factor)."""
    single = len(f) == 1 and not c
    if single and len(cols) == 1 and f[0][0] not in value_labels:
        fi, _ = _parse_name(names[cols[0]])
        return Group(None, [Row(f"{fi[0][1]}.{fi[0][0]}", cols[0], status[cols[0]])])
    header = "#".join([v for v, _ in f] + [f"c.{x}" for x in c])
    rows = []
    for i in cols:
        fi, _ = _parse_name(names[i])
        if single and f[0][0] in value_labels:
            text = value_labels[f[0][0]].get(float(fi[0][1]), str(fi[0][1]))
        else:
            text = " ".join(str(lv) for _, lv in fi)
        rows.append(Row(text, i, status[i]))
    return Group(header, rows)


def groups_from_names(names: list[str], status: list[str | None] | None = None, *,
                      baselevels: bool = False, value_labels: dict | None = None) -> list[Group]:
    """Display groups from Stata coefficient names alone (for replaying stored results).

    Consecutive columns of the same term (same variables, same factor/continuous roles) form
    one group; base columns are hidden unless `baselevels`.
    """
    status = list(status) if status is not None else [marker_status(nm) for nm in names]
    value_labels = value_labels or {}
    out: list[Group] = []
    k = 0
    while k < len(names):
        f, c = _parse_name(names[k])
        sig = _signature(names[k])
        j = k
        while j + 1 < len(names) and f and _signature(names[j + 1]) == sig:
            j += 1
        cols = [i for i in range(k, j + 1) if baselevels or status[i] != "base"]
        if not f:
            for i in cols:
                label = "#".join(("c." + x if len(c) > 1 else x) for x in _parse_name(names[i])[1])
                out.append(Group(None, [Row(label, i, status[i])]))
        elif cols:
            out.append(_factor_group(names, cols, status, f, c, value_labels))
        k = j + 1
    return out


def df_table(depvar: str, groups, df, *, title: str = "DF") -> list[str]:
    """estat df's table: each fixed coefficient with its degrees of freedom (%10.2f), laid
    out as the coefficient table's names (factor levels under their variable)."""
    width = NAME_W + 1 + 13
    out = [rule_w(width), f"{abbrev(depvar, NAME_W):>{NAME_W}} |{title:>12}",
           "-" * NAME_W + "-+" + "-" * 12]
    for g in groups:
        if g.header is not None:
            out += [f"{ln}|" for ln in header_lines(g.header)]
        for r in g.rows:
            level_rows = g.header is not None and not getattr(g, "plain_rows", False)
            labels = [level_label(r.label)] if level_rows else name_lines(r.label)
            d = df[r.index]
            cell = "(omitted)" if r.status else fmt(float(d), "%10.2f")
            out += [f"{lab}|" for lab in labels[:-1]] + [f"{labels[-1]}|  {cell:>10}"]
    out.append(rule_w(width))
    return out


def rule_w(width: int) -> str:
    return "-" * width
