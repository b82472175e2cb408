"""The text of svy: tabulate in Stata 17's layout: the survey header without a title, the
table (one-way: one column per item -- proportion, se, lb, ub, deff, obs ...; two-way: the items
stacked in each cell, standard errors in parentheses and intervals in brackets), the key,
and for two-way tables the tests of independence (Pearson's uncorrected chi2 and the
design-based F of Rao and Scott's correction; wald: the unadjusted and adjusted Wald F)."""
from __future__ import annotations

import math

import numpy as np

from hlmshell.output import svy_output as so
from hlmshell.output.numfmt import fmt
from hlmshell.output.text import abbrev, wrap_words

_MAIN = ("cell", "count", "row", "column")
_NAMES = {"cell": "Cell", "count": "Weighted count", "row": "Row", "column": "Column"}


def _items(opts, twoway: bool) -> tuple[list[str], list[str]]:
    """(main kinds shown, extra items among se ci deff deft cv obs)."""
    main = [k for k in _MAIN if getattr(opts, k, False)]
    if not main and not getattr(opts, "obs", False):
        main = ["cell"]
    extra = [u for u in ("se", "ci", "deff", "deft", "cv", "obs") if getattr(opts, u, False)]
    return main, extra


def _num(x: float, f: str) -> str:
    if x is None or not math.isfinite(x):
        return "."
    return fmt(x, f).strip()


def _what(kind: str, percent: bool) -> str:
    if kind == "count":
        return "weighted count"
    return f"{_NAMES[kind].lower()} {'percentage' if percent else 'proportion'}"


class _Cells:
    """The numbers of one kind for cell (i, j) of the table with margins, as text."""

    def __init__(self, table, opts, level: float):
        from hlmshell import distributions as dist

        self.t, self.opts = table, opts
        self.f = (opts.raw("format").strip() if "format" in opts and opts.raw("format") else "%6.0g")
        self.percent = bool(opts.percent)
        df = table.df
        self.crit = float(dist.t_ppf(1 - (1 - level / 100) / 2, df)) if df > 0 else math.nan

    def scale(self, kind: str) -> float:
        return 100.0 if self.percent and kind != "count" else 1.0

    def value(self, kind, i, j) -> str:
        return _num(self.t.est[kind][0][i, j] * self.scale(kind), self.f)

    def se(self, kind, i, j) -> str:
        return _num(self.t.est[kind][1][i, j] * self.scale(kind), self.f)

    def ci(self, kind, i, j) -> tuple[str, str]:
        b, s = float(self.t.est[kind][0][i, j]), float(self.t.est[kind][1][i, j])
        if kind == "count":
            lo, hi = b - self.crit * s, b + self.crit * s
        else:
            lo, hi = _logit_ci(b, s, self.crit) if math.isfinite(s) else (math.nan, math.nan)
        k = self.scale(kind)
        return _num(lo * k, self.f), _num(hi * k, self.f)

    def deff(self, kind, i, j, root=False) -> str:
        d = float(self.t.est[kind][2][i, j])
        return _num(math.sqrt(d) if root and d >= 0 else d, "%9.0g" if "format" not in self.opts else self.f)

    def cv(self, kind, i, j) -> str:
        b, s = float(self.t.est[kind][0][i, j]), float(self.t.est[kind][1][i, j])
        return _num(s / b if b else math.nan, "%9.0g")

    def obs(self, i, j) -> str:
        return _num(float(self.t.obs[i, j]), self.f if "format" in self.opts else "%9.0g")


def display(out, res, table, opts, level: float, *, noheader=False, notable=False, adjust=True) -> None:
    if not noheader:
        out.line("")
        for ln in so.header_lines("", res.scalars, [], model_width=True)[3:]:
            out.line(ln)
    if not notable:
        out.line("")
        cells = _Cells(table, opts, level)
        lines = _twoway(table, opts, cells) if table.colvar else _oneway(table, opts, cells)
        for ln in lines:
            out.line(ln)
        if not opts.nokey:
            for ln in _key(table, opts, level):
                out.line(ln)
        if not np.all(np.isfinite(res.V)) and res.scalars.get("singleton"):
            out.line("")
            out.line(so.singleton_note())
    if table.colvar:
        for ln in _tests(table, opts, adjust):
            out.line(ln)


# ---- one-way ------------------------------------------------------------------------------------
def _oneway(table, opts, cells: _Cells) -> list[str]:
    R = len(table.rlabels)
    rows = list(range(R)) + ([] if opts.nomarginals else [R])
    cols = _oneway_columns(opts, cells, rows)
    labels = [table.rlabels[i] if i < R else "Total" for i in rows]
    stub = _stub_width(table.rtitle, labels)
    widths = [max(len(h), *(len(v) for v in vals)) for h, vals in cols]
    body_w = sum(w + 2 for w in widths) - 1
    head = wrap_words(table.rtitle, stub)
    out = ["-" * (stub + 2 + body_w)]
    for ln in head[:-1]:
        out.append(f"{ln:<{stub}} |")
    out.append(f"{head[-1]:<{stub}} |" + _join([h for h, _ in cols], widths))
    out.append("-" * (stub + 1) + "+" + "-" * body_w)
    for n, i in enumerate(rows):
        if i == R:
            out.append(f"{'':{stub}} |")
        out.append(f"{abbrev(labels[n], stub):>{stub}} |" + _join([v[n] for _, v in cols], widths))
    out.append("-" * (stub + 2 + body_w))
    return out


def _oneway_columns(opts, cells: _Cells, rows) -> list[tuple[str, list[str]]]:
    """(header, texts over the rows) of each column of a one-way table."""
    main, extra = _items(opts, False)
    cols: list[tuple[str, list[str]]] = []
    for kind in main:
        head = "count" if kind == "count" else ("percent" if cells.percent else "proportion")
        cols.append((head, [cells.value(kind, i, 0) for i in rows]))
    k = main[0] if main else "cell"
    for u in extra:
        if u == "se":
            cols.append(("se", [cells.se(k, i, 0) for i in rows]))
        elif u == "ci":
            pairs = [cells.ci(k, i, 0) for i in rows]
            cols += [("lb", [p[0] for p in pairs]), ("ub", [p[1] for p in pairs])]
        elif u in ("deff", "deft"):
            cols.append((u, [cells.deff(k, i, 0, u == "deft") for i in rows]))
        elif u == "cv":
            cols.append(("cv", [cells.cv(k, i, 0) for i in rows]))
        else:
            cols.append(("obs", [cells.obs(i, 0) for i in rows]))
    return cols


def _join(texts: list[str], widths: list[int]) -> str:
    return "".join((" " if n == 0 else "  ") + t.rjust(w) for n, (t, w) in enumerate(zip(texts, widths)))


def _logit_ci(p: float, se: float, crit: float) -> tuple[float, float]:
    """The interval of a proportion on the logit scale, as svy: tabulate's ci: ln(p/(1-p)) +-
    crit se / (p (1 - p)), transformed back (p itself at 0 or 1)."""
    if p <= 0 or p >= 1:
        return p, p
    if not se > 0:
        return math.nan, math.nan
    lg = math.log(p / (1 - p))
    h = crit * se / (p * (1 - p))
    return 1 / (1 + math.exp(-(lg - h))), 1 / (1 + math.exp(-(lg + h)))


def _stub_width(title: str, labels: list[str]) -> int:
    """The row labels' width (at least 9, at most 20), widened so that the row variable's
    title wraps into no more than three lines."""
    width = min(max([len(lab) for lab in labels] + [len(w) for w in title.split()] + [9]), 20)
    while width < 20 and len(wrap_words(title, width)) > 3:
        width += 1
    return width


def _fit_title(widths: list[int], title: str) -> list[int]:
    """Columns widened in turn until the column variable's title (up to 40 characters) fits
    above them."""
    widths = list(widths)
    target = min(len(title), 40)
    n = 0
    while sum(w + 2 for w in widths) - 1 < target:
        widths[n % len(widths)] += 1
        n += 1
    return widths


# ---- two-way ------------------------------------------------------------------------------------
def _cell_lines(cells: _Cells, main, extra, i, j) -> list[str]:
    out = []
    for kind in main:
        out.append(cells.value(kind, i, j))
    k = main[0] if main else "cell"
    for u in extra:
        if u == "se":
            out.append(f"({cells.se(k, i, j)})")
        elif u == "ci":
            lo, hi = cells.ci(k, i, j)
            out.append(f"[{lo},{hi}]")
        elif u in ("deff", "deft"):
            out.append(cells.deff(k, i, j, u == "deft"))
        elif u == "cv":
            out.append(cells.cv(k, i, j))
        else:
            out.append(cells.obs(i, j))
    return out


def _twoway(table, opts, cells: _Cells) -> list[str]:
    main, extra = _items(opts, True)
    R, C = len(table.rlabels), len(table.clabels)
    margins = not opts.nomarginals
    rows = list(range(R)) + ([R] if margins else [])
    cols = list(range(C)) + ([C] if margins else [])
    grid = {(i, j): _cell_lines(cells, main, extra, i, j) for i in rows for j in cols}
    heads = [table.clabels[j] if j < C else "Total" for j in cols]
    widths = [max([len(heads[n])] + [len(s) for i in rows for s in grid[(i, j)]]) for n, j in enumerate(cols)]
    labels = [table.rlabels[i] if i < R else "Total" for i in rows]
    stub = _stub_width(table.rtitle, labels)
    widths = _fit_title(widths, table.ctitle)
    body_w = sum(w + 2 for w in widths) - 1
    rhead = wrap_words(table.rtitle, stub)
    ctitle = abbrev(table.ctitle, body_w) if len(table.ctitle) > body_w else table.ctitle
    nlines = max(len(rhead), 2)
    rhead = [""] * (nlines - len(rhead)) + rhead
    out = ["-" * (stub + 2 + body_w)]
    for n, ln in enumerate(rhead):
        if n == nlines - 2:
            pad = (body_w - len(ctitle)) // 2
            out.append(f"{ln:<{stub}} |" + (" " * pad + ctitle).rstrip())
        elif n == nlines - 1:
            out.append(f"{ln:<{stub}} |" + _join(heads, widths))
        else:
            out.append(f"{ln:<{stub}} |".rstrip() if not ln else f"{ln:<{stub}} |")
    out.append("-" * (stub + 1) + "+" + "-" * body_w)
    for n, i in enumerate(rows):
        if i == R:
            out.append(f"{'':{stub}} |")
        depth = len(grid[(i, cols[0])])
        for d in range(depth):
            lab = abbrev(labels[n], stub) if d == 0 else ""
            out.append(f"{lab:>{stub}} |" + _join([grid[(i, j)][d] for j in cols], widths))
    out.append("-" * (stub + 2 + body_w))
    return out


# ---- key and tests ------------------------------------------------------------------------------
def _key(table, opts, level: float) -> list[str]:
    main, extra = _items(opts, bool(table.colvar))
    pct = bool(opts.percent)
    k = main[0] if main else "cell"
    what = _what(k, pct)
    if table.colvar:
        texts = [_what(m, pct).capitalize() if m != "count" else "Weighted count" for m in main]
        for u in extra:
            texts.append({"se": f"(Linearized standard error of {what})",
                          "ci": f"[{level:g}% confidence interval for {what}]",
                          "deff": f"deff for variance of {what}", "deft": f"deft for variance of {what}",
                          "cv": f"Coefficient of variation of {what}",
                          "obs": "Number of observations"}[u])
    else:
        texts = [("count = Weighted count" if m == "count" else
                  f"{'percent' if pct else 'proportion'} = Cell {'percentage' if pct else 'proportion'}")
                 for m in main]
        for u in extra:
            texts += {"se": [f"se = Linearized standard error of {what}"],
                      "ci": [f"lb = Lower {level:g}% confidence bound for {what}",
                             f"ub = Upper {level:g}% confidence bound for {what}"],
                      "deff": [f"deff = deff for variance of {what}"],
                      "deft": [f"deft = deft for variance of {what}"],
                      "cv": [f"cv = Coefficient of variation of {what}"],
                      "obs": ["obs = Number of observations"]}[u]
    return [("  Key: " if n == 0 else "       ") + t for n, t in enumerate(texts)]


def _dfnum(x: float) -> str:
    if not math.isfinite(x):
        return "."
    return f"{x:.0f}" if abs(x - round(x)) < 5e-3 else f"{x:.2f}"


def _stat_line(label: str, stat: str, value: float, p: float | None = None) -> str:
    line = f"    {label:<14}{stat}".ljust(34) + "= " + (fmt(value, "%9.4f") if math.isfinite(value) else f"{'.':>9}")
    if p is not None:
        line += "     P = " + (fmt(p, "%6.4f") if math.isfinite(p) else ".")
    return line


def _tests(table, opts, adjust: bool) -> list[str]:
    out: list[str] = []
    show_pearson = opts.pearson or not (opts.wald or opts.lr)
    t = table.pearson
    if table.pearson is None:
        return ["", "  Table contains a zero in the marginals or has one row or column.",
                "  Statistics cannot be computed."]
    if show_pearson:
        out += ["", "  Pearson:",
                _stat_line("Uncorrected", f"chi2({t.df})", t.chi2),
                _stat_line("Design-based", f"F({_dfnum(t.df1)}, {_dfnum(t.df2)})", t.F, t.p)]
    if opts.lr:
        out += ["", "  Likelihood ratio:",
                _stat_line("Uncorrected", f"chi2({t.df})", t.lr_chi2),
                _stat_line("Design-based", f"F({_dfnum(t.df1)}, {_dfnum(t.df2)})", t.lr_F, t.lr_p)]
    w = table.wald
    if opts.wald and w is not None:
        out += ["", "  Wald (Pearson):",
                _stat_line("Unadjusted", f"chi2({w.df})", w.chi2),
                _stat_line("Unadjusted", f"F({w.df}, {_dfnum(table.df)})", w.F_unadj, w.p_unadj)]
        if adjust:
            out.append(_stat_line("Adjusted", f"F({w.df}, {_dfnum(w.df2)})", w.F, w.p))
    if getattr(opts, "deff", False) or getattr(opts, "deft", False):
        out += ["", f"  Mean generalized deff{'':13}= {fmt(t.mean_deff, '%9.4f')}",
                f"  CV of generalized deffs{'':11}= {fmt(t.cv_deff, '%9.4f')}"]
    return out
