"""The tables of `contrast` and `pwcompare` in Stata 17's layout: the joint Wald tests
(df, chi2 or F, P), the number of comparisons under mcompare(), and the effects table
(Contrast or Margin, Std. err., then z/t and P, the interval, or both).

    ------------------------------------------------
                 |         df        chi2     P>chi2
    -------------+----------------------------------
            diet |
        (2 vs 1) |          1       30.98     0.0000
        (3 vs 1) |          1       91.83     0.0000
           Joint |          2       95.12     0.0000
    ------------------------------------------------

The first column widens to the longest row label (plus one), as Stata's does.
"""
from __future__ import annotations

from hlmshell.output import coeftable as ct
from hlmshell.output.numfmt import fmt, fmt_g
from hlmshell.output.text import abbrev


def _width(labels) -> int:
    return max([ct.NAME_W] + [len(s) + 1 for s in labels if s])


def wald_lines(groups, *, F: bool, df_r: float | None, ddf: bool = False) -> list[str]:
    """groups: [(header or None, [(label, df, stat, p[, ddf])])]; a group without a header is
    one row labelled by its term. ddf: each row's denominator DF in a column of its own (the
    small-sample F tests after mixed's dfmethod())."""
    labels = [lab for h, rows in groups for lab, *_ in rows] + [h for h, _ in groups if h]
    width = max(_width(labels), ct.NAME_W)
    extra = f"{'ddf':>11}" if ddf else ""
    head = (f"{'':>{width}} |{'df':>11}{extra}{('F' if F else 'chi2'):>12}"
            f"{('P>F' if F else 'P>chi2'):>11}")
    total = width + 36 + len(extra)
    out = ["", "-" * total, head, "-" * (width + 1) + "+" + "-" * (total - width - 2)]
    for h, rows in groups:
        if h:
            out.append(f"{abbrev(h, width):>{width}} |")
        for lab, df, stat, p, *rest in rows:
            d2 = fmt(rest[0], "%11.2f") if ddf else ""
            out.append(f"{abbrev(lab, width):>{width}} |{df:>11}{d2}{fmt(stat, '%12.2f')}"
                       f"{fmt(p, '%11.4f')}")
    if F and df_r is not None:
        out += [" " * width + " |", f"{'Denominator':>{width}} |{int(df_r):>11}"]
    return out + ["-" * total]


def count_lines(rows) -> list[str]:
    """The `Number of comparisons` table of mcompare(): rows [(term, m)]."""
    width = _width([t for t, _ in rows])
    total = width + 15
    out = ["", "-" * total, f"{'':>{width}} |{'Number of':>13}", f"{'':>{width}} |{'comparisons':>13}",
           "-" * (width + 1) + "+" + "-" * (total - width - 2)]
    for term, m in rows:
        out.append(f"{abbrev(term, width):>{width}} |{m:>13}")
    return out + ["-" * total]


def effects_lines(entries, *, mode: str, stat: str, level: float, top: str | None,
                  first: str = "Contrast", groups_col: bool = False) -> list[str]:
    """entries: [(header, label, b, se, q, p, lo, hi[, groups])]; mode cieffects (interval),
    pveffects (test) or effects (both); `top` the adjustment's name over the P and interval
    columns (None: no line)."""
    width = _width([e[1] for e in entries] + [e[0] for e in entries if e[0]])
    lead = " " * width + " |"
    ci = f"[{level:g}% conf. interval]"
    p_head = f"P>|{stat}|"
    if groups_col:
        cols, total = f"{lead}{first:>11}   Std. err.{'Groups':>14}", width + 38
        tops = f"{'':22}{top or '':>14}"
    elif mode == "effects":
        cols, total = f"{lead}{first:>11}   Std. err.{stat:>7}{p_head:>9}{ci:>25}", width + 66
        tops = f"{'':30}{top or '':>11}{top or '':>23}"
    elif mode == "pveffects":
        cols, total = f"{lead}{first:>11}   Std. err.{stat:>7}{p_head:>9}", width + 42
        tops = f"{'':30}{top or '':>11}"
    else:
        cols, total = f"{lead}{first:>11}   Std. err.{ci:>25}", width + 50
        tops = f"{'':22}{top or '':>23}"
    out = ["", "-" * total]
    if top:
        out.append(lead + tops)
    out += [cols, "-" * (width + 1) + "+" + "-" * (total - width - 2)]
    prev = None
    for e in entries:
        header, lab = e[0], e[1]
        if header != prev:
            if prev is not None:
                out.append(lead)
            if header:
                out.append(f"{abbrev(header, width):>{width}} |")
            prev = header
        out.append(f"{abbrev(lab, width - 1):>{width - 1}}  |" + _cells(e, mode, groups_col))
    return out + ["-" * total]


def _cells(e, mode: str, groups_col: bool) -> str:
    b, se, q, p, lo, hi = (float(x) for x in e[2:8])
    head = f"  {fmt_g(b, 9):>9}  {fmt_g(se, 9):>9}"
    if groups_col:
        return f"{head}{e[8]:>14}"
    if mode == "effects":
        return (f"{head} {fmt(q, '%8.2f')}   {fmt(p, '%5.3f')}"
                f"    {fmt_g(lo, 9):>9}   {fmt_g(hi, 9):>9}")
    if mode == "pveffects":
        return f"{head} {fmt(q, '%8.2f')}   {fmt(p, '%5.3f')}"
    return f"{head}     {fmt_g(lo, 9):>9}   {fmt_g(hi, 9):>9}"
