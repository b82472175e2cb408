"""outreg2's table: its number formats, its tab-delimited text file, and the Word (RTF), Excel
(XML spreadsheet) and LaTeX files it derives from that text file.

outreg2 (Roy Wada's SSC package) keeps every table as a tab-delimited `.txt` file and builds
the other formats from it; `append` reads that file back and adds a column. So the text file
is the table's one representation here too: `OutregTable` is what the file holds (title lines,
the model-number row, the VARIABLES row, one block of rows per coefficient, the statistics
rows, the notes), `parse_txt` reads it back and `merge` adds new columns by row name, new
coefficients going before the constant, as outreg2's appending does.

Number formats are outreg2's `auto(3)`: as many decimals as three significant digits need
(at least the integer digits, no decimals for whole numbers), thousands separated by commas,
exponential form for values of 1,000,000 and more or that would need seven decimals or more.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from hlmshell.output.paper_tables import tex_escape


# --------------------------------------------------------------------------- numbers
def auto_decimals(x: float, auto: int = 3, less: int = 0) -> int | None:
    """Decimals outreg2's auto(#) gives x; None: exponential form."""
    frac = x - math.trunc(x)
    if round(frac, 10) == 0:
        dec = 0
    else:
        times = abs(math.trunc(math.log10(abs(frac)) - 1))
        left = math.trunc(math.log10(abs(x)) + 1)
        if left > 0:
            dec = auto - left + 1 if left <= auto else 0
        else:
            dec = times + auto - 1
    dec = max(dec - less, 0)
    if dec >= 7 or x > 1_000_000:
        return None
    return dec


def fmt_number(x: float | None, dec: int | None = None, auto: int = 3, less: int = 0) -> str:
    """x with `dec` fixed decimals (and commas), or in auto(#) form when dec is None; `.` for
    missing."""
    if x is None or not math.isfinite(x):
        return "."
    if dec is None:
        dec = auto_decimals(x, auto, less)
        if dec is None:
            return f"{x:.{max(auto - 1, 0)}e}"
    return f"{x:,.{dec}f}"


# --------------------------------------------------------------------------- the table
@dataclass
class OutregTable:
    title: list[str] = field(default_factory=list)
    numbers: list[str] = field(default_factory=list)        # "(1)" per column
    heads: list[str] = field(default_factory=list)          # VARIABLES row, per column
    coefs: list[tuple[str, list[list[str]]]] = field(default_factory=list)   # label, rows x cols
    stats: list[tuple[str, list[str]]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ncols(self) -> int:
        return len(self.heads)

    def rows(self) -> list[list[str]]:
        """Every row as cells (first the row label), as the text file holds them."""
        n = self.ncols
        blank = [""] * (n + 1)
        out = [[t] + [""] * n for t in self.title]
        out.append([""] + list(self.numbers))
        out.append(["VARIABLES"] + list(self.heads))
        out.append(list(blank))
        for label, block in self.coefs:
            for k, cells in enumerate(block):
                out.append([label if k == 0 else ""] + _pad(cells, n))
        out.append(list(blank))
        out += [[label] + _pad(cells, n) for label, cells in self.stats]
        out += [[t] + [""] * n for t in self.notes]
        return out


def _pad(cells: list[str], n: int) -> list[str]:
    return list(cells[:n]) + [""] * (n - len(cells))


def txt_text(t: OutregTable) -> str:
    return "".join("\t".join(r) + "\n" for r in t.rows())


def _empty(cells: list[str]) -> bool:
    return not any(c.strip() for c in cells)


def parse_txt(text: str) -> OutregTable | None:
    """The table an outreg2 text file holds; None when the file is not one."""
    rows = [line.rstrip("\r").split("\t") for line in text.split("\n")]
    while rows and _empty(rows[-1]):
        rows.pop()
    head = next((i for i, r in enumerate(rows) if r[0].strip() == "VARIABLES"), None)
    if head is None or head == 0 or head + 1 >= len(rows) or not _empty(rows[head + 1]):
        return None
    n = len(rows[head]) - 1
    t = OutregTable(title=[r[0] for r in rows[: head - 1]], numbers=_pad(rows[head - 1][1:], n),
                    heads=rows[head][1:])
    i = head + 2
    while i < len(rows) and not _empty(rows[i]):
        if rows[i][0].strip() or not t.coefs:
            t.coefs.append((rows[i][0], []))
        t.coefs[-1][1].append(_pad(rows[i][1:], n))
        i += 1
    tail = rows[i + 1:]
    first_note = len(tail)
    while first_note > 0 and _empty(tail[first_note - 1][1:]):
        first_note -= 1
    t.stats = [(r[0], _pad(r[1:], n)) for r in tail[:first_note]]
    t.notes = [r[0] for r in tail[first_note:]]
    return t


def merge(old: OutregTable, new: OutregTable) -> OutregTable:
    """old's columns, then new's: rows matched by label; new coefficients before the constant,
    new statistics after the old ones; old title and notes kept."""
    n_old, n_new = old.ncols, new.ncols
    depth = max([len(b) for _, b in old.coefs + new.coefs] + [1])
    blocks: dict[str, list[list[str]]] = {}
    order: list[str] = []
    for label, block in old.coefs:
        blocks[label] = [_pad(r, n_old) for r in block] + [[""] * n_old] * (depth - len(block))
        order.append(label)
    added = []
    for label, block in new.coefs:
        rows = [_pad(r, n_new) for r in block] + [[""] * n_new] * (depth - len(block))
        if label not in blocks:
            blocks[label] = [[""] * n_old for _ in range(depth)]
            added.append(label)
        blocks[label] = [a + b for a, b in zip(blocks[label], rows)]
    for label in list(blocks):
        if len(blocks[label][0]) < n_old + n_new:
            blocks[label] = [r + [""] * n_new for r in blocks[label]]
    cons = "Constant" if "Constant" in order else None
    if cons is not None:
        order.remove(cons)
    order += [a for a in added if a != "Constant"]
    if cons is not None or "Constant" in added:
        order.append("Constant")
    stats: dict[str, list[str]] = {lab: _pad(c, n_old) for lab, c in old.stats}
    for lab, cells in new.stats:
        stats[lab] = stats.get(lab, [""] * n_old) + _pad(cells, n_new)
    for lab in stats:
        stats[lab] = _pad(stats[lab], n_old + n_new)
    n = n_old + n_new
    return OutregTable(title=old.title, numbers=[f"({k + 1})" for k in range(n)],
                       heads=old.heads + new.heads,
                       coefs=[(lab, blocks[lab]) for lab in order],
                       stats=list(stats.items()), notes=old.notes or new.notes)


# --------------------------------------------------------------------------- derived formats
def _rtf_escape(s: str) -> str:
    out = s.replace("\\", "\\\\").replace("{", "\\{").replace("}", "\\}")
    return "".join(c if ord(c) < 128 else f"\\u{ord(c)}?" for c in out)


def rtf_text(t: OutregTable) -> str:
    """A Word-readable RTF document: title paragraphs, the table, the notes."""
    n = t.ncols
    width = 2400
    lines = [r"{\rtf1\ansi\deff0{\fonttbl{\f0\froman Times New Roman;}}", r"\fs24"]
    lines += [r"\pard\qc " + _rtf_escape(x) + r"\par" for x in t.title]
    body = t.rows()[len(t.title):len(t.rows()) - len(t.notes)]
    for r in body:
        cells = "".join(rf"\cellx{width * (k + 1)}" for k in range(n + 1))
        text = "".join((r"\pard\intbl\ql " if k == 0 else r"\pard\intbl\qc ")
                       + _rtf_escape(c) + r"\cell" for k, c in enumerate(r))
        lines.append(r"\trowd\trgaph108" + cells + text + r"\row")
    lines += [r"\pard\ql " + _rtf_escape(x) + r"\par" for x in t.notes]
    lines.append("}")
    return "\n".join(lines) + "\n"


def _xml_escape(s: str) -> str:
    return (s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


def xml_text(t: OutregTable) -> str:
    """An Excel 2003 XML spreadsheet (what outreg2's `excel` writes), every cell as shown."""
    out = ['<?xml version="1.0" encoding="UTF-8"?>', '<?mso-application progid="Excel.Sheet"?>',
           '<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet" '
           'xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet">',
           '<Worksheet ss:Name="Sheet1">', "<Table>"]
    for r in t.rows():
        cells = "".join(f'<Cell><Data ss:Type="String">{_xml_escape(c)}</Data></Cell>' for c in r)
        out.append(f"<Row>{cells}</Row>")
    out += ["</Table>", "</Worksheet>", "</Workbook>"]
    return "\n".join(out) + "\n"


def tex_text(t: OutregTable, fragment: bool = False) -> str:
    """A LaTeX table (a whole document unless `fragment`): rules under the headers, after the
    coefficients and after the statistics; notes in a spanning cell."""
    n = t.ncols + 1
    esc = lambda s: tex_escape(s).replace("<", "$<$").replace(">", "$>$")  # noqa: E731
    row = lambda cells: " & ".join(esc(c) for c in cells) + r" \\"  # noqa: E731
    lines = []
    if not fragment:
        lines += [r"\documentclass[]{article}", r"\setlength{\pdfpagewidth}{8.5in} "
                  r"\setlength{\pdfpageheight}{11in}", r"\begin{document}", r"\begin{center}"]
    lines.append(r"\begin{tabular}{l" + "c" * t.ncols + "}")
    lines += [rf"\multicolumn{{{n}}}{{c}}{{{esc(x)}}} \\" for x in t.title]
    lines.append(r"\hline")
    lines.append(row([""] + t.numbers))
    lines.append(row(["VARIABLES"] + t.heads))
    lines.append(r"\hline")
    for label, block in t.coefs:
        for k, cells in enumerate(block):
            lines.append(row([label if k == 0 else ""] + _pad(cells, t.ncols)))
    lines.append(r"\hline")
    lines += [row([lab] + _pad(c, t.ncols)) for lab, c in t.stats]
    lines.append(r"\hline")
    lines += [rf"\multicolumn{{{n}}}{{c}}{{ {esc(x)}}} \\" for x in t.notes]
    lines.append(r"\end{tabular}")
    if not fragment:
        lines += [r"\end{center}", r"\end{document}"]
    return "\n".join(lines) + "\n"
