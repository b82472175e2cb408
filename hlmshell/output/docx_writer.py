"""WordprocessingML for `putdocx`: a document held as blocks, written as a .docx package.

A .docx is a zip of XML parts; Word needs [Content_Types].xml, _rels/.rels and
word/document.xml, and resolves paragraph styles (Title, Heading1, ...) through
word/styles.xml linked from word/_rels/document.xml.rels. Only the standard library is used
(zipfile, xml escaping): no python-docx dependency for the subset do-files use.

The blocks are plain data (Paragraph, Table, PageBreak) built by commands/putdocx.py; this
module only turns them into bytes, and reads back the body of an existing package for
`putdocx save, append`.
"""
from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from io import BytesIO
from xml.sax.saxutils import escape

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'

# Word's built-in paragraph styles putdocx paragraph, style() names (styleId -> (name, size in
# half-points, bold, italic, outline level or None))
STYLES = {"Normal": ("Normal", 22, False, False, None),
          "Title": ("Title", 56, False, False, None),
          "Subtitle": ("Subtitle", 30, False, True, None),
          **{f"Heading{i}": (f"heading {i}", max(22, 34 - 2 * i), True, i >= 4, i - 1)
             for i in range(1, 10)}}
HALIGN = {"left": "left", "center": "center", "right": "right", "both": "both",
          "distribute": "distribute"}
PAGE_SIZES = {"letter": (12240, 15840), "legal": (12240, 20160), "a4": (11906, 16838),
              "a3": (16838, 23811), "a5": (8391, 11906), "b4": (14570, 20636),
              "b5": (10318, 14570), "a6": (5953, 8391)}


@dataclass(frozen=True)
class Run:
    text: str
    bold: bool = False
    italic: bool = False
    underline: bool = False
    font: str = ""
    size: float | None = None          # points
    color: str = ""
    linebreak: int = 0                 # line breaks after the text


@dataclass
class Paragraph:
    style: str = ""
    halign: str = ""
    runs: list[Run] = field(default_factory=list)
    font: tuple = ()                   # (name, size, color) for the paragraph's text


@dataclass
class Cell:
    text: str = ""
    bold: bool = False
    italic: bool = False
    halign: str = ""
    span: int = 1                      # columns merged into this cell (title / note rows)


@dataclass
class Table:
    name: str
    rows: list[list[Cell]]

    @property
    def ncols(self) -> int:
        return max((sum(c.span for c in r) for r in self.rows), default=0)


@dataclass
class PageBreak:
    pass


@dataclass
class Page:
    size: str = "letter"
    landscape: bool = False
    font: str = ""
    font_size: float | None = None


def _text(s: str) -> str:
    return escape(s)


def _run_xml(r: Run) -> str:
    props = []
    if r.font:
        f = _text(r.font).replace('"', "&quot;")
        props.append(f'<w:rFonts w:ascii="{f}" w:hAnsi="{f}" w:cs="{f}"/>')
    if r.bold:
        props.append("<w:b/>")
    if r.italic:
        props.append("<w:i/>")
    if r.color:
        props.append(f'<w:color w:val="{_text(r.color)}"/>')
    if r.size:
        props.append(f'<w:sz w:val="{round(2 * r.size)}"/>')
    if r.underline:
        props.append('<w:u w:val="single"/>')
    rpr = f"<w:rPr>{''.join(props)}</w:rPr>" if props else ""
    lines = r.text.split("\n")
    body = "<w:br/>".join(f'<w:t xml:space="preserve">{_text(x)}</w:t>' for x in lines)
    return f"<w:r>{rpr}{body}{'<w:br/>' * r.linebreak}</w:r>"


def paragraph_xml(p: Paragraph) -> str:
    props = ""
    if p.style and p.style != "Normal":
        props += f'<w:pStyle w:val="{p.style}"/>'
    if p.halign:
        props += f'<w:jc w:val="{p.halign}"/>'
    ppr = f"<w:pPr>{props}</w:pPr>" if props else ""
    return f"<w:p>{ppr}{''.join(_run_xml(r) for r in p.runs)}</w:p>"


def _cell_xml(c: Cell, width: int) -> str:
    span = f'<w:gridSpan w:val="{c.span}"/>' if c.span > 1 else ""
    run = Run(c.text, bold=c.bold, italic=c.italic)
    para = paragraph_xml(Paragraph(halign=c.halign, runs=[run] if c.text else []))
    return f'<w:tc><w:tcPr><w:tcW w:w="{width * c.span}" w:type="dxa"/>{span}</w:tcPr>{para}</w:tc>'


def table_xml(t: Table) -> str:
    n = max(t.ncols, 1)
    width = max(600, 9360 // n)
    border = "".join(f'<w:{side} w:val="single" w:sz="4" w:space="0" w:color="000000"/>'
                     for side in ("top", "left", "bottom", "right", "insideH", "insideV"))
    cols = f'<w:gridCol w:w="{width}"/>' * n
    out = [f'<w:tbl><w:tblPr><w:tblW w:w="0" w:type="auto"/><w:tblBorders>{border}'
           f'</w:tblBorders></w:tblPr><w:tblGrid>{cols}</w:tblGrid>']
    for row in t.rows:
        out.append("<w:tr>" + "".join(_cell_xml(c, width) for c in row) + "</w:tr>")
    out.append("</w:tbl>")
    # Word wants a paragraph between two tables (else it merges them)
    return "".join(out) + "<w:p/>"


def block_xml(b) -> str:
    if isinstance(b, Paragraph):
        return paragraph_xml(b)
    if isinstance(b, Table):
        return table_xml(b)
    return '<w:p><w:r><w:br w:type="page"/></w:r></w:p>'


def _sect(page: Page) -> str:
    w, h = PAGE_SIZES.get(page.size, PAGE_SIZES["letter"])
    orient = ""
    if page.landscape:
        w, h = h, w
        orient = ' w:orient="landscape"'
    return (f'<w:sectPr><w:pgSz w:w="{w}" w:h="{h}"{orient}/><w:pgMar w:top="1440" '
            'w:right="1440" w:bottom="1440" w:left="1440" w:header="720" w:footer="720" '
            'w:gutter="0"/></w:sectPr>')


def document_xml(body: str, page: Page) -> str:
    return (f'{_XML_HEAD}<w:document xmlns:w="{W_NS}"><w:body>{body}{_sect(page)}'
            '</w:body></w:document>')


def styles_xml(page: Page) -> str:
    font = _text(page.font or "Calibri").replace('"', "&quot;")
    size = round(2 * page.font_size) if page.font_size else 22
    out = [f'{_XML_HEAD}<w:styles xmlns:w="{W_NS}"><w:docDefaults><w:rPrDefault><w:rPr>'
           f'<w:rFonts w:ascii="{font}" w:hAnsi="{font}" w:cs="{font}"/><w:sz w:val="{size}"/>'
           '</w:rPr></w:rPrDefault><w:pPrDefault><w:pPr><w:spacing w:after="160"/></w:pPr>'
           '</w:pPrDefault></w:docDefaults>']
    for sid, (name, sz, bold, italic, level) in STYLES.items():
        default = ' w:default="1"' if sid == "Normal" else ""
        based = "" if sid == "Normal" else '<w:basedOn w:val="Normal"/><w:next w:val="Normal"/>'
        ppr = (f'<w:pPr><w:keepNext/><w:spacing w:before="240" w:after="60"/>'
               f'<w:outlineLvl w:val="{level}"/></w:pPr>') if level is not None else ""
        rpr = ("<w:b/>" if bold else "") + ("<w:i/>" if italic else "")
        if sid != "Normal":
            rpr += f'<w:sz w:val="{sz}"/>'
        out.append(f'<w:style w:type="paragraph"{default} w:styleId="{sid}"><w:name w:val="{name}"/>'
                   f'{based}<w:qFormat/>{ppr}<w:rPr>{rpr}</w:rPr></w:style>')
    out.append("</w:styles>")
    return "".join(out)


_CONTENT_TYPES = (
    f'{_XML_HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
    '<Override PartName="/word/styles.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml"/>'
    '</Types>')
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_RELS = (f'{_XML_HEAD}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
         f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="word/document.xml"/>'
         '</Relationships>')
_DOC_RELS = (f'{_XML_HEAD}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
             f'<Relationship Id="rId1" Type="{_REL}/styles" Target="styles.xml"/></Relationships>')


def package(blocks: list, page: Page, before: str = "") -> bytes:
    """The .docx bytes: `before` is body XML kept from an existing file (save, append)."""
    body = before + "".join(block_xml(b) for b in blocks)
    buf = BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", _CONTENT_TYPES)
        z.writestr("_rels/.rels", _RELS)
        z.writestr("word/_rels/document.xml.rels", _DOC_RELS)
        z.writestr("word/styles.xml", styles_xml(page))
        z.writestr("word/document.xml", document_xml(body, page))
    return buf.getvalue()


_BODY = re.compile(r"<w:body>(.*?)(<w:sectPr\b.*)?</w:body>", re.S)


def existing_body(path: str) -> str | None:
    """The body of a .docx written with our namespace prefix (None when it is not one we can
    append to: not a zip, no word/document.xml, another prefix)."""
    try:
        with zipfile.ZipFile(path) as z:
            xml = z.read("word/document.xml").decode("utf-8")
    except (OSError, KeyError, zipfile.BadZipFile, UnicodeDecodeError):
        return None
    if f'xmlns:w="{W_NS}"' not in xml:
        return None
    m = _BODY.search(xml)
    return m.group(1) if m else None
