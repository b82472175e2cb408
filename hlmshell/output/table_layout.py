"""Text layout of Stata 17's `table` (collect) and of Stata 16's `table, contents()`.

Stata 17: a stub of row labels (indented by nesting level) left-aligned, ` |`, then columns
two spaces after the bar and three apart, each as wide as its widest text; header rows hold
labels spanning one or more columns (centered when they span several, else right-aligned);
rules of `-` with `+` where the stub's bar crosses the header rule.

Stata 16: cells 9 wide (cellwidth) two apart (csepwidth), one space after the bar, a stub of
right-aligned labels.
"""
from __future__ import annotations

Span = tuple[str, int, int]          # text, first column, last column (inclusive)


def _widths(ncols: int, headers: list[list[Span]], cells: list[list[str] | None]) -> list[int]:
    w = [0] * ncols
    for row in cells:
        if row is None:
            continue
        for j, t in enumerate(row):
            w[j] = max(w[j], len(t))
    for hrow in headers:
        for text, a, b in hrow:
            if a == b:
                w[a] = max(w[a], len(text))
    for hrow in headers:
        for text, a, b in hrow:
            if a != b:
                have = sum(w[a:b + 1]) + 3 * (b - a)
                for i in range(max(0, len(text) - have)):
                    w[b - i % (b - a + 1)] += 1
    return w


def _header_line(hrow: list[Span], widths: list[int]) -> str:
    pos = [0]
    for j, wj in enumerate(widths):
        pos.append(pos[-1] + (2 if j == 0 else 3) + wj)
    line = ""
    for text, a, b in hrow:
        start = pos[a] + (2 if a == 0 else 3)
        end = pos[b + 1]
        width = end - start
        cell = text.center(width).rstrip() if a != b else text.rjust(width)
        line = line.ljust(start) + cell
    return line


def stata17(stub: list[str], headers: list[list[Span]], cells: list[list[str] | None],
            ncols: int) -> list[str]:
    """Lines of a Stata 17 table: stub texts (row labels with their indentation), header rows of
    spans, and per stub line its cells (None for a label-only line)."""
    widths = _widths(ncols, headers, cells)
    sw = max([len(t) for t in stub] + [0])
    body = 2 + sum(widths) + 3 * (ncols - 1)
    lines = ["-" * (sw + 2 + body)]
    for hrow in headers:
        lines.append((" " * sw + " |" + _header_line(hrow, widths)).rstrip())
    lines.append("-" * (sw + 1) + "+" + "-" * body)
    for text, row in zip(stub, cells):
        s = text.ljust(sw) + " |"
        if row is not None:
            s += "".join((" " * (2 if j == 0 else 3)) + t.rjust(widths[j]) for j, t in enumerate(row))
        lines.append(s.rstrip())
    lines.append("-" * (sw + 2 + body))
    return lines


def wrap(text: str, width: int) -> list[str]:
    """Words of `text` in lines of at most `width` characters (long words cut)."""
    out: list[str] = []
    cur = ""
    for word in text.split():
        while len(word) > width:
            if cur:
                out.append(cur)
                cur = ""
            out.append(word[:width])
            word = word[width:]
        if not word:
            continue
        if cur and len(cur) + 1 + len(word) > width:
            out.append(cur)
            cur = word
        else:
            cur = f"{cur} {word}" if cur else word
    if cur or not out:
        out.append(cur)
    return out


def stata16(stub_head: list[str], col_head: str | None, col_labels: list[str],
            rows: list[tuple[str, list[str]]], *, cellwidth: int = 9, csep: int = 2,
            stubwidth: int = 10, blank_between: int = 0) -> list[str]:
    """Lines of a Stata 16 table: stub heading lines (the row variable's label wrapped), an
    optional spanning column heading, the column labels, and rows of (stub text, cells);
    rows with an empty stub continue the group above. blank_between: lines per group, a
    blank stub line between groups when > 1. A row (label, None) is a superrow heading of
    by(), (RULE, None) the rule between superrow groups."""
    sw = max([stubwidth - 1] + [len(t) for t, c in rows if t is not RULE])
    ncols = len(col_labels)
    body = 1 + ncols * (cellwidth + csep)

    def cells(texts: list[str]) -> str:
        return " " + (" " * csep).join(t.rjust(cellwidth) for t in texts)

    lines = ["-" * (sw + 2 + body)]
    nhead = max(len(stub_head), 2 if col_head else 1)
    heads = [""] * (nhead - len(stub_head)) + stub_head
    for i, h in enumerate(heads):
        s = h.rjust(sw) + " |"
        if i == nhead - 1:
            s += cells(col_labels)
        elif col_head and i == nhead - 2:
            s += col_head.center(body).rstrip()
        lines.append(s.rstrip())
    lines.append("-" * (sw + 1) + "+" + "-" * body)
    k = 0
    for text, texts in rows:
        if texts is None:           # by(): a rule before each superrow group but the first,
            if text is RULE:        # then the group's label, left-aligned, without cells
                lines.append("-" * (sw + 1) + "+" + "-" * body)
            else:
                lines.append(text.ljust(sw) + " |")
            k = 0
            continue
        if blank_between > 1 and k and k % blank_between == 0:
            lines.append(" " * sw + " |")
        lines.append((text.rjust(sw) + " |" + cells(texts)).rstrip())
        k += 1
    lines.append("-" * (sw + 2 + body))
    return lines


RULE = "\x00rule"      # a row of stata16()'s rows that is a horizontal rule (by() groups)
