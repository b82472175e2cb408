"""Tables for papers: the text layouts of `etable` and `esttab`, and the files they export.

A table is built by the command (commands/etable.py, commands/esttab.py) as a PaperTable of
already formatted cells; this module only lays it out:

  * etable_lines : Stata 17's etable in the Results window -- a rule, the column headers, a
    rule, the rows (label stub left-aligned, cells centred), the model statistics, a rule and
    the notes (layout reconstructed from [TABLES] etable's examples; see the tests).
  * esttab_lines : estout's esttab default ("fixed"/smcl mode, esttab.ado 2.x): a stub of
    varwidth 12 (20 with `label`), then per model " " + a 12-wide right-aligned cell + a
    star slot; rules above/below the header and above/below the statistics; a blank line
    between coefficients (the gaps); equation labels after a rule when there are several.
  * markdown / html / latex / csv / rtf text, and .xlsx (pandas + openpyxl, imported when
    used) and .docx (a minimal WordprocessingML package written here) -- every file written
    atomically (temporary file + rename, data/atomic.py).
"""
from __future__ import annotations

import html
import zipfile
from dataclasses import dataclass, field
from io import BytesIO

from hlmshell.data.atomic import atomic_write
from hlmshell.errors import StataError
from hlmshell.output.numfmt import fmt


# --------------------------------------------------------------------------- the table
@dataclass
class PaperRow:
    """One row: kind `coef` (a coefficient or statistic), `aux` (its se/t under it), `eq`
    (an equation / level label, no cells), `stat` (a model statistic), `gap` (blank line),
    `rule` (a horizontal rule). cells: (text, stars) per model."""

    label: str = ""
    cells: list[tuple[str, str]] = field(default_factory=list)
    kind: str = "coef"
    indent: int = 0


@dataclass
class PaperTable:
    headers: list[list[str]]
    rows: list[PaperRow]
    title: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def ncols(self) -> int:
        if self.headers:
            return len(self.headers[0])
        return max((len(r.cells) for r in self.rows), default=0)

    def content_rows(self) -> list[PaperRow]:
        """The rows a file format writes: no gaps or rules (formats draw their own)."""
        return [r for r in self.rows if r.kind not in ("gap", "rule")]


def cell_text(cell: tuple[str, str]) -> str:
    return cell[0] + cell[1]


# --------------------------------------------------------------------------- numbers
def fixed(x: float | None, decimals: int) -> str:
    """%9.<d>f text without padding; `.` for missing."""
    if x is None or x != x:
        return "."
    return fmt(float(x), f"%20.{decimals}f").strip()


def estout_a(x: float | None, digits: int = 3) -> str:
    """estout's adaptive format a# (SignificantDigits in estout.ado): integers without
    decimals; |x| < 1 with `digits` significant digits; otherwise digits+1 significant digits
    with at least one decimal."""
    if x is None or x != x:
        return "."
    x = float(x)
    if x == int(x) and abs(x) < 1e15:
        return fmt(x, "%20.0f").strip()
    import math
    if abs(x) < 1:
        frac = abs(x - int(x))
        right = -int(math.log10(frac))          # Stata's int() truncates toward zero
        dec = max(1, digits + right)
        if dec <= 9:
            return fmt(x, f"%20.{dec}f").strip()
        return f"{x:.{min(9, digits - 1)}e}"
    left = int(math.log10(abs(x)) + 1)
    if left <= 9:
        return fmt(x, f"%20.{max(1, digits - left + 1)}f").strip()
    return f"{x:.0e}"


def stars_for(p: float | None, levels: list[tuple[str, float]]) -> str:
    """The symbol of the smallest level p is below (levels as given: ("*", .05), ...)."""
    if p is None or p != p:
        return ""
    out = ""
    for sym, lev in sorted(levels, key=lambda t: -t[1]):
        if p < lev:
            out = sym
    return out


# --------------------------------------------------------------------------- etable text
def _center(text: str, width: int) -> str:
    pad = width - len(text)
    left = pad // 2 + pad % 2          # Stata's collect centres with the extra space on the left
    return " " * left + text + " " * (pad - left)


def etable_lines(t: PaperTable) -> list[str]:
    labels = [("  " * r.indent) + r.label for r in t.rows]
    stub = max([len(s) for s in labels] + [0])
    ncol = t.ncols
    widths = []
    for j in range(ncol):
        w = max([len(h[j]) for h in t.headers] + [len(cell_text(r.cells[j])) for r in t.rows if r.cells])
        widths.append(w)
    total = stub + sum(w + 2 for w in widths)
    rule = "-" * total
    out = []
    if t.title:
        out.append(t.title)
    out.append(rule)
    for h in t.headers:
        out.append((" " * stub + "".join("  " + _center(h[j], widths[j]) for j in range(ncol))).rstrip())
    out.append(rule)
    for lab, r in zip(labels, t.rows):
        cells = r.cells or [("", "")] * ncol
        out.append((lab.ljust(stub) + "".join("  " + _center(cell_text(cells[j]), widths[j])
                                              for j in range(ncol))).rstrip())
    out.append(rule)
    out += t.notes
    return out


# --------------------------------------------------------------------------- esttab text
@dataclass
class FixedLayout:
    varwidth: int = 12
    modelwidth: int = 12
    starwidth: int = 3


def _esttab_cell(cell: tuple[str, str], lay: FixedLayout) -> str:
    return " " + cell[0].rjust(lay.modelwidth) + cell[1].ljust(lay.starwidth)


def esttab_lines(t: PaperTable, lay: FixedLayout) -> list[str]:
    """esttab's plain-text table (see the module's docstring)."""
    from hlmshell.output.text import abbrev

    ncol = t.ncols
    width = lay.varwidth + ncol * (1 + lay.modelwidth + lay.starwidth)
    out = []
    if t.title:
        out.append(t.title)
    out.append("-" * width)
    for h in t.headers:
        out.append(" " * lay.varwidth + "".join(_esttab_cell((abbrev(x, lay.modelwidth), ""), lay) for x in h))
    if t.headers:
        out.append("-" * width)
    for r in t.rows:
        if r.kind == "rule":
            out.append("-" * width)
        elif r.kind == "gap":
            out.append("")
        else:
            lab = abbrev(r.label, lay.varwidth).ljust(lay.varwidth)
            cells = r.cells or [("", "")] * ncol
            out.append(lab + "".join(_esttab_cell(c, lay) for c in cells))
    out.append("-" * width)
    out += t.notes
    return out


# --------------------------------------------------------------------------- markdown
def _md_escape(s: str) -> str:
    return s.replace("\\", "\\\\").replace("|", "\\|").replace("*", "\\*").replace("_", "\\_")


def markdown_text(t: PaperTable) -> str:
    n = t.ncols
    heads = t.headers or [[""] * n]
    lines = ["| " + " | ".join([""] + [_md_escape(h) for h in heads[0]]) + " |",
             "|" + "|".join([":---"] + ["---:"] * n) + "|"]
    for h in heads[1:]:
        lines.append("| " + " | ".join([""] + [_md_escape(x) for x in h]) + " |")
    for r in t.content_rows():
        cells = [_md_escape(cell_text(c)) for c in (r.cells or [("", "")] * n)]
        label = ("&nbsp;&nbsp;" * r.indent if r.label else "") + _md_escape(r.label)
        lines.append("| " + " | ".join([label] + cells) + " |")
    text = "\n".join(([f"**{_md_escape(t.title)}**", ""] if t.title else []) + lines)
    if t.notes:
        text += "\n\n" + "  \n".join(_md_escape(x) for x in t.notes)
    return text + "\n"


# --------------------------------------------------------------------------- html
def html_text(t: PaperTable, document: bool = True) -> str:
    esc = html.escape
    n = t.ncols
    rows = ["<table>"]
    if t.title:
        rows.append(f"<caption>{esc(t.title)}</caption>")
    rows.append("<thead>")
    for h in t.headers:
        rows.append("<tr><th></th>" + "".join(f"<th>{esc(x)}</th>" for x in h) + "</tr>")
    rows.append("</thead>")
    rows.append("<tbody>")
    for r in t.content_rows():
        cells = r.cells or [("", "")] * n
        pad = f' style="padding-left:{r.indent}em"' if r.indent else ""
        rows.append(f"<tr><td{pad}>{esc(r.label)}</td>"
                    + "".join(f"<td>{esc(cell_text(c))}</td>" for c in cells) + "</tr>")
    rows.append("</tbody>")
    if t.notes:
        rows.append("<tfoot>")
        rows += [f'<tr><td colspan="{n + 1}">{esc(x)}</td></tr>' for x in t.notes]
        rows.append("</tfoot>")
    rows.append("</table>")
    body = "\n".join(rows)
    if not document:
        return body + "\n"
    return ("<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{esc(t.title or 'Table')}</title>\n</head>\n<body>\n{body}\n</body>\n</html>\n")


# --------------------------------------------------------------------------- latex
_TEX = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
        "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


def tex_escape(s: str) -> str:
    return "".join(_TEX.get(ch, ch) for ch in s)


def _tex_cell(cell: tuple[str, str]) -> str:
    text = tex_escape(cell[0])
    return text + (f"\\sym{{{cell[1]}}}" if cell[1] else "")


def latex_text(t: PaperTable, document: bool = True, booktabs: bool = False) -> str:
    """A LaTeX tabular; booktabs: \\toprule / \\midrule / \\bottomrule (esttab's booktabs mode,
    which needs \\usepackage{booktabs}) instead of \\hline."""
    n = t.ncols
    top, mid, bottom = (r"\toprule", r"\midrule", r"\bottomrule") if booktabs else (r"\hline",) * 3
    lines = [r"{", r"\def\sym#1{\ifmmode^{#1}\else\(^{#1}\)\fi}",
             r"\begin{tabular}{l*{%d}{c}}" % n, top]
    for h in t.headers:
        lines.append(" & ".join([""] + [tex_escape(x) for x in h]) + r" \\")
    lines.append(mid)
    for r in t.content_rows():
        cells = [_tex_cell(c) for c in (r.cells or [("", "")] * n)]
        label = (r"\quad " * r.indent if r.label else "") + tex_escape(r.label)
        lines.append(" & ".join([label] + cells) + r" \\")
    lines.append(bottom)
    lines += [r"\multicolumn{%d}{l}{\footnotesize %s}\\" % (n + 1, tex_escape(x)) for x in t.notes]
    lines += [r"\end{tabular}", r"}"]
    body = "\n".join(lines)
    if t.title:
        body = r"\begin{table}[htbp]\centering" + "\n" + r"\caption{%s}" % tex_escape(t.title) + "\n" + body \
            + "\n" + r"\end{table}"
    if not document:
        return body + "\n"
    return "\\documentclass{article}\n\\begin{document}\n" + body + "\n\\end{document}\n"


# --------------------------------------------------------------------------- csv / rtf / txt
def _csv_field(text: str, protect: bool) -> str:
    text = text.replace('"', '""')
    return f'="{text}"' if protect else f'"{text}"'


def csv_text(t: PaperTable, protect: bool = True) -> str:
    """esttab's csv: every cell ="..." (Excel keeps the text as typed) unless plain."""
    n = t.ncols
    lines = []
    if t.title:
        lines.append(_csv_field(t.title, protect))
    for h in t.headers:
        lines.append(",".join(_csv_field(x, protect) for x in [""] + h))
    for r in t.content_rows():
        cells = r.cells or [("", "")] * n
        lines.append(",".join(_csv_field(x, protect) for x in [r.label] + [cell_text(c) for c in cells]))
    lines += [_csv_field(x, protect) for x in t.notes]
    return "\n".join(lines) + "\n"


def _rtf_escape(s: str) -> str:
    out = s.replace("\\", "\\\\").replace("{", "\\{").replace("}", "\\}")
    return "".join(ch if ord(ch) < 128 else f"\\u{ord(ch)}?" for ch in out)


def rtf_text(t: PaperTable) -> str:
    n = t.ncols
    widths = [2880 + 1440 * j for j in range(n + 1)]
    rowdef = r"\trowd\trgaph108\trleft-108" + "".join(rf"\cellx{w}" for w in widths)
    lines = [r"{\rtf1\ansi\deff0 {\fonttbl\f0\fnil Times New Roman;}", r"\deflang1033\plain\fs24"]
    if t.title:
        lines.append(r"{\pard\keepn\ql %s\par}" % _rtf_escape(t.title))
    body = [[""] + h for h in t.headers]
    body += [[r.label] + [cell_text(c) for c in (r.cells or [("", "")] * n)] for r in t.content_rows()]
    for row in body:
        cells = r"\cell \pard\intbl\qc ".join(_rtf_escape(x) for x in row)
        lines.append(r"{%s\pard\intbl\ql %s\cell\row}" % (rowdef, cells))
    lines += [r"{\pard\ql\fs20 %s\par}" % _rtf_escape(x) for x in t.notes]
    lines.append("}")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- xlsx / docx
def grid(t: PaperTable) -> list[list[str]]:
    """The table as rows of strings: header rows, then content rows, then notes."""
    n = t.ncols
    out = [[""] + list(h) for h in t.headers]
    out += [[("  " * r.indent) + r.label] + [cell_text(c) for c in (r.cells or [("", "")] * n)]
            for r in t.content_rows()]
    out += [[x] + [""] * n for x in t.notes]
    return out


def xlsx_bytes(t: PaperTable) -> bytes:
    try:
        import openpyxl  # noqa: F401  (the engine pandas writes with)
        import pandas as pd
    except ImportError:
        raise StataError("export to .xlsx needs pandas and openpyxl, which are not installed", 198) from None
    rows = grid(t)
    if t.title:
        rows = [[t.title] + [""] * t.ncols] + rows
    buf = BytesIO()
    pd.DataFrame(rows).to_excel(buf, index=False, header=False, sheet_name="Sheet1", engine="openpyxl")
    return buf.getvalue()


_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
    '</Types>')
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="word/document.xml"/></Relationships>')


def _w_par(text: str, align: str = "left") -> str:
    jc = f'<w:pPr><w:jc w:val="{align}"/></w:pPr>' if align != "left" else ""
    return f'<w:p>{jc}<w:r><w:t xml:space="preserve">{html.escape(text, quote=False)}</w:t></w:r></w:p>'


def _w_table(rows: list[list[str]]) -> str:
    border = ('<w:tblBorders><w:top w:val="single" w:sz="4" w:space="0" w:color="000000"/>'
              '<w:bottom w:val="single" w:sz="4" w:space="0" w:color="000000"/></w:tblBorders>')
    out = [f'<w:tbl><w:tblPr><w:tblW w:w="0" w:type="auto"/>{border}</w:tblPr><w:tblGrid>']
    out += ['<w:gridCol w:w="2400"/>'] + ['<w:gridCol w:w="1600"/>'] * (len(rows[0]) - 1 if rows else 0)
    out.append("</w:tblGrid>")
    for row in rows:
        cells = "".join(f'<w:tc><w:tcPr><w:tcW w:w="0" w:type="auto"/></w:tcPr>'
                        f'{_w_par(x, "left" if j == 0 else "center")}</w:tc>' for j, x in enumerate(row))
        out.append(f"<w:tr>{cells}</w:tr>")
    out.append("</w:tbl>")
    return "".join(out)


def docx_bytes(t: PaperTable) -> bytes:
    """A minimal .docx: [Content_Types].xml, _rels/.rels and word/document.xml with the title,
    the table and the notes as paragraphs."""
    n = t.ncols
    rows = [[""] + list(h) for h in t.headers]
    rows += [[("  " * r.indent) + r.label] + [cell_text(c) for c in (r.cells or [("", "")] * n)]
             for r in t.content_rows()]
    parts = [_w_par(t.title)] if t.title else []
    parts.append(_w_table(rows))
    parts += [_w_par(x) for x in t.notes]
    doc = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
           f'<w:document xmlns:w="{_W}"><w:body>{"".join(parts)}'
           '<w:sectPr><w:pgSz w:w="12240" w:h="15840"/></w:sectPr></w:body></w:document>')
    buf = BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", _CONTENT_TYPES)
        z.writestr("_rels/.rels", _RELS)
        z.writestr("word/document.xml", doc)
    return buf.getvalue()


# --------------------------------------------------------------------------- writing
def write_text(path, text: str, *, shown: str, append: bool = False) -> None:
    """Write (or append to) a text file atomically: an append rewrites old + new content."""
    if append:
        try:
            with open(path, encoding="utf-8") as fh:
                text = fh.read() + text
        except FileNotFoundError:
            pass
        except OSError:
            raise StataError(f"file {shown} could not be opened", 603) from None
    with atomic_write(path, shown=shown, text=True) as fh:
        fh.write(text)


def write_bytes(path, data: bytes, *, shown: str) -> None:
    with atomic_write(path, shown=shown) as fh:
        fh.write(data)
