"""coeflegend: an estimation command's output with its coefficient table replaced by the legend
Stata prints instead -- each row's estimate and the name that refers to it (`_b[ses]`, or
`_b[eq:name]` when the results have several equations), as [U] 13.5 shows.

The command runs as usual with its output captured; this module rewrites the first coefficient
table of that text (the header, the notes and any later tables, such as mixed's random-effects
table, stay as printed). Rows are matched to e(b) in order; base levels that the table does not
show are skipped, as the table skips them.
"""
from __future__ import annotations

import re

_ROW = re.compile(r"^(.{12}) \|\s+(\S+)(\s|$)")
_HIDDEN = re.compile(r"(^|#)(\d+b\.|o\.)")       # base levels and omitted terms


def _table_start(lines: list[str]) -> int | None:
    """Index of the full rule above the first coefficient table's column header."""
    for i in range(len(lines) - 2):
        if (lines[i].startswith("-----") and "+" not in lines[i] and "|" in lines[i + 1]
                and "P>|" in lines[i + 1] and lines[i + 2].startswith("-------------+")):
            return i
    return None


def rewrite(text: str, names: list[tuple[str, str]]) -> str:
    """The captured output with its first coefficient table turned into a legend (unchanged
    when no coefficient table is found)."""
    lines = text.split("\n")
    start = _table_start(lines)
    if start is None:
        return text
    multi = len({eq for eq, _ in names}) > 1
    head = lines[start + 1]
    bar = head.index("|")
    title = head[bar + 1:].split("  ")[0].strip() or "Coefficient"
    out = lines[:start + 1] + [f"{head[:bar]}| {title:>11}  Legend", lines[start + 2]]
    j = 0
    k = start + 3
    while k < len(lines) and not (lines[k].startswith("-----") and "+" not in lines[k]):
        row = lines[k]
        m = _ROW.match(row)
        if m is None or not re.match(r"-?[\d.]", m.group(2)) or j >= len(names):
            out.append(row.rstrip())
            k += 1
            continue
        while j < len(names) - 1 and _HIDDEN.search(names[j][1]) and "(base)" not in row \
                and "(omitted)" not in row:
            j += 1
        eq, nm = names[j]
        ref = f"{eq}:{nm}" if multi else nm
        value = row[row.index("|") + 1:][:11]
        out.append(f"{row[:row.index('|') + 1]}{value}  _b[{ref}]")
        j += 1
        k += 1
    return "\n".join(out + lines[k:])
