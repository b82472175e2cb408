"""estout's table writer: every line of an esttab/estout table, in any output mode.

estout (Ben Jann's estout.ado) writes a table the same way in every format; only the strings
differ. Each row is  begin + label (left-aligned in varwidth) + for each column: delimiter +
the cell (right-aligned in modelwidth, its stars left-aligned in starwidth) + end.  Fixed text
has begin "", delimiter " ", end ""; LaTeX "", "&", "\\\\"; CSV `="`, `",="`, `"`; HTML
<tr><td>, </td><td>, </td></tr>.  Widths of 0 mean no padding (csv, tab).

The header rows (model groups, numbers, model labels, column labels) come from estout's
WriteCaption: without `span` a label is written in the first column of its group,
right-aligned; with `span` it fills the spanned columns, left-aligned, and @span in the
label, prefix or suffix is the number of spanned columns; erepeat() is written once per
group after the row's end, @span there being `first-last` column numbers (for
\\cmidrule(lr){2-3}).  Blocks of body rows carry text written before their first row
(varlabels' blist(), eqlabels' rule) and after their last row's end (gaps, elist()).

@-variables (estout.hlp): @span (columns incl. the label column), @M (models), @E
(equations), @width (total characters), @hline (a rule that wide), @title, @note,
@starlegend.  This module only lays out formatted text: numbers and labels are decided by
commands/esttab*.py.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from hlmshell.output.text import abbrev as stata_abbrev


@dataclass
class Style:
    begin: str = ""
    delimiter: str = " "
    end: str = ""
    varwidth: int = 12
    modelwidth: int = 12
    abbrev: bool = True
    starwidth: int = 0
    substitute: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Caption:
    """A header row: labels[g - 1] for group g; groups[j] the group of column j."""
    labels: list[str]
    groups: list[int]
    lhs: str = ""
    span: bool = False
    prefix: str = ""
    suffix: str = ""
    erepeat: str = ""
    begin: list[str] = field(default_factory=list)
    end: list[str] = field(default_factory=list)
    replace: bool = False
    every: bool = False          # a label in every column (collabels)


@dataclass
class Block:
    """Rows that belong together (a coefficient and its statistics below it)."""
    label: str
    rows: list[list[tuple[str, str]]]
    pre: list[str] = field(default_factory=list)     # lines; the last one prefixes the row
    post: list[list[str]] = field(default_factory=list)   # line lists after the end
    empty: bool = False          # an equation label row: blank cells


@dataclass
class Table:
    heads: list[Caption]
    body: list[Block]
    stats: list[Block]
    starcols: list[bool]
    prehead: list[str] = field(default_factory=list)
    posthead: list[str] = field(default_factory=list)
    prefoot: list[str] = field(default_factory=list)
    postfoot: list[str] = field(default_factory=list)
    atvars: dict[str, str] = field(default_factory=dict)    # title, note, starlegend, M, E


def total_width(style: Style, starcols: list[bool]) -> int:
    """estout's totcharwidth: the stub, each column with its delimiter, the star slots."""
    dw = len(style.delimiter)
    return style.varwidth + sum(dw + style.modelwidth + (style.starwidth if s else 0) for s in starcols)


def insert_at(text: str, values: dict[str, str]) -> str:
    """estout's InsertAtVariables (longest names first, so @starlegend is not @span...)."""
    for name in sorted(values, key=len, reverse=True):
        text = text.replace("@" + name, values[name])
    return text


def _label(style: Style, text: str) -> str:
    if style.abbrev and style.varwidth > 0:
        text = text[: style.varwidth] if style.varwidth > 32 else stata_abbrev(text, style.varwidth)
    return text.ljust(style.varwidth) if style.varwidth > 0 else text


def _cell(style: Style, cell: tuple[str, str], star: bool) -> str:
    text, stars = cell
    if not star:
        return text.rjust(style.modelwidth) if style.modelwidth > 0 else text
    if style.starwidth > 0:
        stars = stars.ljust(style.starwidth)
    width = style.modelwidth + style.starwidth
    return (text + stars).rjust(width) if width > 0 else text + stars


def _fit(style: Style, text: str, width: int) -> str:
    if style.abbrev and width > 0:
        text = text[:width] if width > 32 else stata_abbrev(text, width)
    return text


def _caption_cells(style: Style, cap: Caption, starcols: list[bool]) -> tuple[str, str]:
    """WriteCaption: the row's cells and the erepeat() text."""
    out, repeat = [], []
    dw = len(style.delimiter) if style.modelwidth > 0 else 0
    ncol = len(cap.groups)
    first_col = 2
    nspan, spanwidth = 0, -dw
    for j, g in enumerate(cap.groups):
        star = starcols[j] if j < len(starcols) else False
        if not cap.span:
            new = cap.every or j == 0 or g != cap.groups[j - 1]
            text = ""
            if new and 0 < g <= len(cap.labels):
                text = cap.prefix + _fit(style, cap.labels[g - 1], style.modelwidth) + cap.suffix
                text = text.replace("@span", "1")
            out.append(style.delimiter + (text.rjust(style.modelwidth) if style.modelwidth > 0 else text))
            if star:
                out.append(" " * style.starwidth)
            continue
        nspan += 1
        spanwidth += style.modelwidth + dw + (style.starwidth if star else 0)
        last = j == ncol - 1 or cap.groups[j + 1] != g or cap.every
        if not last:
            continue
        label = cap.labels[g - 1] if 0 < g <= len(cap.labels) else ""
        text = (cap.prefix + _fit(style, label, spanwidth) + cap.suffix).replace("@span", str(nspan))
        out.append(style.delimiter + (text.ljust(spanwidth) if spanwidth > 0 else text))
        if cap.erepeat:
            repeat.append(cap.erepeat.replace("@span", f"{first_col}-{first_col + nspan - 1}"))
        first_col += nspan
        nspan, spanwidth = 0, -dw
    return "".join(out), "".join(repeat)


def _write_end(lines: list[str], current: str, end: str, posts: list[list[str]]) -> None:
    """WriteEnd: the end string, then each list of lines, its first on the same line."""
    current += end
    for post in posts:
        if not post:
            continue
        current += post[0]
        for extra in post[1:]:
            lines.append(current)
            current = extra
    lines.append(current)


def _begin(lines: list[str], pre: list[str]) -> str:
    """WriteBegin: lines before the row; the last one is the row's own prefix."""
    if not pre:
        return ""
    lines.extend(pre[:-1])
    return pre[-1]


def _head_lines(style: Style, t: Table, at: dict[str, str]) -> list[str]:
    lines: list[str] = []
    for cap in t.heads:
        begin, end = style.begin, style.end
        if cap.replace:
            begin = "" if cap.begin else begin
            end = "" if cap.end else end
        current = _begin(lines, [insert_at(x, at) for x in cap.begin]) + begin
        current += _label(style, cap.lhs)
        cells, repeat = _caption_cells(style, cap, t.starcols)
        _write_end(lines, current + cells, end, [[insert_at(x, at) for x in cap.end], [repeat]])
    return lines


def _block_lines(style: Style, b: Block, starcols: list[bool], at: dict[str, str]) -> list[str]:
    lines: list[str] = []
    current = _begin(lines, [insert_at(x, at) for x in b.pre]) + style.begin + _label(style, b.label)
    if b.empty:
        for star in starcols:
            current += style.delimiter + (" " * style.modelwidth) + (" " * style.starwidth if star else "")
    for k, row in enumerate(b.rows):
        if k:
            current += style.end
            lines.append(current)
            current = style.begin + " " * style.varwidth
        for j, cell in enumerate(row):
            current += style.delimiter + _cell(style, cell, starcols[j] if j < len(starcols) else False)
    _write_end(lines, current, style.end, [[insert_at(x, at) for x in p] for p in b.post])
    return lines


def render(style: Style, t: Table) -> list[str]:
    """The table's lines, substitute() applied to each."""
    width = total_width(style, t.starcols)
    at = {"span": str(len(t.starcols) + 1), "width": str(width), "hline": "-" * min(width, 400),
          "M": t.atvars.get("M", ""), "E": t.atvars.get("E", "")}
    full = {**at, "title": t.atvars.get("title", ""), "note": t.atvars.get("note", ""),
            "starlegend": t.atvars.get("starlegend", ""), "discrete": ""}
    lines = [insert_at(x, full) for x in t.prehead]
    lines += _head_lines(style, t, at)
    lines += [insert_at(x, full) for x in t.posthead]
    for b in t.body:
        lines += _block_lines(style, b, t.starcols, at)
    if t.stats:
        lines += [insert_at(x, full) for x in t.prefoot]
        for b in t.stats:
            lines += _stat_lines(style, b, t.starcols)
    lines += [insert_at(x, full) for x in t.postfoot]
    out = []
    for line in lines:
        for old, new in style.substitute:
            if old or new:
                line = line.replace(old, new)
        out.append(line)
    return out


def _stat_lines(style: Style, b: Block, starcols: list[bool]) -> list[str]:
    """A statistics row: values right-aligned, the star slot left blank."""
    current = style.begin + _label(style, b.label)
    for j, cell in enumerate(b.rows[0] if b.rows else []):
        star = starcols[j] if j < len(starcols) else False
        text = cell[0].rjust(style.modelwidth) if style.modelwidth > 0 else cell[0]
        current += style.delimiter + text + (" " * style.starwidth if star else "")
    lines: list[str] = []
    _write_end(lines, current, style.end, b.post)
    return lines
