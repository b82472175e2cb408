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
    rtf: RtfRows | None = None


@dataclass
class RtfRows:
    """RTF rows (estout's MakeRtfRowdefs): each cell's right edge in twips, 120 per character
    of varwidth/modelwidth (a starred column 3 characters more) plus the cell gaps; the row
    definitions with a top or bottom border draw the table's rules, the first row of the head,
    of the body and of the statistics getting the top one, the last of the body and of the
    statistics the bottom one."""
    begin: str                  # with @rtfrowdefbrdr (lines) or @rtfrowdef (nolines)
    rowdef: str = ""
    top: str = ""
    bottom: str = ""
    empty: str = ""
    encode: bool = True

    @staticmethod
    def make(begin: str, varwidth: int, modelwidth: int, starcols: list[bool]) -> RtfRows:
        gap, left, factor = 108, -108, 120
        pos = (varwidth or 12) * factor + 2 * gap + left
        edges = [pos]
        for star in starcols:
            pos += (modelwidth or 12) * factor + 2 * gap + (3 * factor if star else 0)
            edges.append(pos)
        top, bottom = r"\clbrdrt\brdrw10\brdrs", r"\clbrdrb\brdrw10\brdrs"
        rows = RtfRows(begin)
        rows.rowdef = "".join(rf"\cellx{e}" for e in edges)
        rows.top = "".join(rf"{top}\cellx{e}" for e in edges)
        rows.bottom = "".join(rf"{bottom}\cellx{e}" for e in edges)
        rows.empty = rows.rowdef + r"\pard\intbl\ql\cell" * len(edges)
        return rows

    def at(self) -> dict[str, str]:
        return {"rtfrowdefbrdrt": self.top, "rtfrowdefbrdrb": self.bottom, "rtfrowdef": self.rowdef,
                "rtfemptyrow": self.empty}

    def edge(self, where: str) -> str:
        """The begin string of a row at the head/body/foot's edge: top, bottom, both, plain."""
        if "@rtfrowdefbrdr" not in self.begin:
            return self.begin.replace("@rtfrowdef", self.rowdef)
        both = self.top.replace(r"\cellx", r"\clbrdrb\brdrw10\brdrs\cellx")
        defs = {"top": self.top, "bottom": self.bottom, "both": both, "plain": self.rowdef}[where]
        return self.begin.replace("@rtfrowdefbrdr", defs)


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
    replace: bool = False        # its pre's last line replaces begin (estout's replace)


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
    for i, cap in enumerate(t.heads):
        begin, end = style.begin, style.end
        if style.rtf is not None:
            begin = style.rtf.edge("top" if i == 0 else "plain")
        if cap.replace:
            begin = "" if cap.begin else begin
            end = "" if cap.end else end
        current = _begin(lines, [insert_at(x, at) for x in cap.begin]) + begin
        current += _label(style, cap.lhs)
        cells, repeat = _caption_cells(style, cap, t.starcols)
        _write_end(lines, current + cells, end, [[insert_at(x, at) for x in cap.end], [repeat]])
    return lines


def _block_lines(style: Style, b: Block, starcols: list[bool], at: dict[str, str],
                 begins: list[str] | None = None) -> list[str]:
    """A block's rows; begins: the begin string of each physical row (RTF borders)."""
    lines: list[str] = []
    begins = begins or [style.begin] * max(1, len(b.rows))
    current = _begin(lines, [insert_at(x, at) for x in b.pre]) + ("" if b.replace else begins[0])
    current += _label(style, b.label)
    if b.empty:
        for star in starcols:
            current += style.delimiter + (" " * style.modelwidth) + (" " * style.starwidth if star else "")
    for k, row in enumerate(b.rows):
        if k:
            current += style.end
            lines.append(current)
            current = begins[k] + " " * style.varwidth
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
    if style.rtf is not None:
        at.update(style.rtf.at())
        full.update(style.rtf.at())
    lines = [insert_at(x, full) for x in t.prehead]
    lines += _head_lines(style, t, at)
    lines += [insert_at(x, full) for x in t.posthead]
    body_begins = _edges(style, [max(1, len(b.rows)) for b in t.body], "top")
    for b, begins in zip(t.body, body_begins):
        lines += _block_lines(style, b, t.starcols, at, begins)
    if t.stats:
        lines += [insert_at(x, full) for x in t.prefoot]
        for b, begins in zip(t.stats, _edges(style, [1] * len(t.stats), "bottom")):
            lines += _stat_lines(style, b, t.starcols, begins[0])
    lines += [insert_at(x, full) for x in t.postfoot]
    out = []
    for line in lines:
        for old, new in style.substitute:
            if old or new:
                line = line.replace(old, new)
        out.append(rtf_encode(line) if style.rtf is not None and style.rtf.encode else line)
    return out


def _edges(style: Style, sizes: list[int], single: str) -> list[list[str]]:
    """Begin strings per physical row: RTF's first row with the top border, the last with the
    bottom one (one row alone: `single`); otherwise the plain begin."""
    if style.rtf is None:
        return [[style.begin] * n for n in sizes]
    total = sum(sizes)
    flat = ["plain"] * total
    if total:
        flat[0], flat[-1] = "top", "bottom"
        if total == 1:
            flat[0] = single
    out, k = [], 0
    for n in sizes:
        out.append([style.rtf.edge(w) for w in flat[k:k + n]])
        k += n
    return out


def rtf_encode(line: str) -> str:
    """Characters beyond ASCII as RTF's \\uN? (estout's rtfencode), N signed 16-bit."""
    out = []
    for ch in line:
        code = ord(ch)
        if code < 128:
            out.append(ch)
        elif code < 65536:
            out.append(f"\\u{code - 65536 if code > 32767 else code}?")
        else:
            out.append("?")
    return "".join(out)


def _stat_lines(style: Style, b: Block, starcols: list[bool], begin: str | None = None) -> list[str]:
    """A statistics row: values right-aligned, stars (stats(, star)) in the star slot."""
    current = (style.begin if begin is None else begin) + _label(style, b.label)
    for j, cell in enumerate(b.rows[0] if b.rows else []):
        current += style.delimiter + _cell(style, cell, starcols[j] if j < len(starcols) else False)
    lines: list[str] = []
    _write_end(lines, current, style.end, b.post)
    return lines
