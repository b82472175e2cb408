"""The display options of the me* tables ([R] estimation options, as meglm takes them):
coeflegend (each row's coefficient and the name _b[] knows it by, instead of the statistics),
notable, vsquish (no blank separator rows), noomitted and noemptycells (without those rows),
nocnsreport (there is no constraints report to drop).

Why on the finished lines: one-level, several-level, no-random-effects and mestreg tables are
drawn by different code, but their rows follow e(b)'s order (base levels shown only with
baselevels), so one pass over the lines serves them all."""
from __future__ import annotations

import re

_ROW = re.compile(r"^(.{13})\|(.*)$")


def _is_base(name: str) -> bool:
    return any(re.match(r"^\d+b\.", part) for part in name.split("#"))


def legend_name(res, eq: str, name: str) -> str:
    """The _b[] spelling of one coefficient: the first equation's without its name, the
    ancillary ones (/cut1, /var(...)) with the slash."""
    if eq == res.names[0][0]:
        return f"_b[{name}]"
    if eq == "/":
        return f"_b[/{name}]"
    return f"_b[{eq}:{name}]"


def table_view(lines: list[str], res, opts) -> list[str]:
    """The table's lines as the options ask (unchanged without them)."""
    if getattr(opts, "notable", False):
        return []
    legend = bool(getattr(opts, "coeflegend", False))
    squish = bool(getattr(opts, "vsquish", False))
    drop = [tag for opt, tag in (("noomitted", "(omitted)"), ("noemptycells", "(empty)"))
            if getattr(opts, opt, False)]
    if not (legend or squish or drop):
        return lines
    show_base = bool(getattr(opts, "baselevels", False) or getattr(opts, "allbaselevels", False))
    shown = iter([(eq, nm) for eq, nm in res.names if show_base or not _is_base(nm)])
    out, in_header = [], True
    for ln in lines:
        m = _ROW.match(ln)
        if ln.startswith("-") or not m:
            in_header = in_header and not ln.startswith("-------------+")
            out.append(ln)
        elif in_header:
            if not (legend and "Robust" in m.group(2) and "Coef" not in m.group(2)):
                out.append(f"{m.group(1)}| Coefficient  Legend" if legend else ln)
        else:
            row = _body_row(ln, m.group(1), m.group(2), shown, res, legend, squish, drop)
            if row is not None:
                out.append(row)
    return out


def _body_row(ln, label, body, shown, res, legend, squish, drop):
    """One row below the column headings: kept, rewritten with its legend, or dropped (None).
    A row with statistics takes the next shown coefficient, even when dropped."""
    if not body.strip():
        return None if squish and not label.strip() else ln
    eq_name = next(shown, None)
    if any(tag in body for tag in drop):
        return None
    return ln[:25] + "  " + legend_name(res, *eq_name) if legend and eq_name else ln
