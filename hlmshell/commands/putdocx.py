"""putdocx (Stata 17): write paragraphs and tables of results to a Word (.docx) file.

    putdocx begin [, pagesize(letter|legal|A3|A4|A5|B4|B5) landscape font(name[, size])]
    putdocx paragraph [, style(Title|Subtitle|Heading1..Heading9|Normal) halign(left|center|
                         right|both|distribute) font(name[, size[, color]])]
    putdocx text (exp) [, bold italic underline font(name[, size[, color]]) linebreak[(#)]
                          nformat(%fmt)]
    putdocx table name = etable [, title(string) note(string) nformat(%fmt)]
    putdocx table name = matrix(M) [, rownames colnames nformat(%fmt) title() note()]
    putdocx table name = (r, c) [, title() note()]
    putdocx table name(i, j) = (exp) [, bold italic halign() nformat(%fmt)]
    putdocx pagebreak | describe [name] | clear
    putdocx save filename [, replace append]

The document is built in memory (session.putdocx, a PutdocxDoc replaced as a whole after each
command succeeds, so a failing command leaves it as it was) and written by `save` through
data/atomic.py. `= etable` is, as in [RPT] putdocx table, the coefficient table of the most
recent estimation command (coefficient, standard error, z or t, p-value, confidence interval),
with mixed's random-effects variances under it. The XML is in output/docx_writer.py.
"""
from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field, replace as _replace

from hlmshell.errors import StataError, syntax_error
from hlmshell.output import docx_writer as dw
from hlmshell.registry import Sub, abbrev_match, command
from hlmshell.syntax.lexer import find_top, matching_paren, strip_quotes
from hlmshell.syntax.parser import parse_options


@dataclass(frozen=True)
class PutdocxDoc:
    blocks: tuple = ()
    page: dw.Page = field(default_factory=dw.Page)
    active_par: bool = False           # a paragraph to which putdocx text adds


_SUBS = (Sub("begin", "begin", "create a document in memory", "pagesize= landscape font="),
         Sub("paragraph", "paragraph", "add a paragraph", "style= halign= font="),
         Sub("text", "text", "add text to the active paragraph",
             "bold italic underline font= linebreak nformat="),
         Sub("table", "table", "add a table (etable, matrix(), (r,c)) or set a cell"),
         Sub("pagebreak", "pagebreak", "start a new page"),
         Sub("describe", "describe", "describe the document or a table"),
         Sub("clear", "clear", "close the document without saving"),
         Sub("save", "save", "save and close the document", "replace append"))


def _doc(session) -> PutdocxDoc:
    d = getattr(session, "putdocx", None)
    if d is None:
        raise StataError("document not created; use putdocx begin to create a document", 198)
    return d


def _split(rest: str) -> tuple[str, list]:
    comma = find_top(rest, ",")
    main, opts = (rest, "") if comma < 0 else (rest[:comma], rest[comma + 1:])
    return main.strip(), parse_options(opts)


def _not_allowed(o) -> StataError:
    return StataError(f"option {o.name} not allowed", 198)


@command("putdocx", byable=False, raw=True, family="Files", changes_data=False,
         desc="write paragraphs and tables to a .docx file",
         example='putdocx text ("Results"), bold', subcommands=_SUBS)
def putdocx_cmd(session, cmd):
    body = cmd.body.strip()
    m = re.match(r"[A-Za-z]+", body)
    word = m.group(0) if m else ""
    spec = next((s for s in _SUBS if s.matches(word)), None)
    if not word:
        raise syntax_error()
    if spec is None:
        raise StataError(f"unrecognized command: putdocx {word}".rstrip(), 199)
    rest = body[len(word):].strip()
    _HANDLERS[spec.name](session, rest)


# ---- begin / clear / save / describe --------------------------------------------------------
def _font(text: str) -> tuple[str, float | None, str]:
    """font(name[, size[, color]]) -> (name, size in points, color)."""
    parts = [p.strip() for p in text.split(",")]
    if len(parts) > 3 or not parts[0] and len(parts) == 1:
        raise StataError("option font() invalid", 198)
    name = strip_quotes(parts[0])
    size = None
    if len(parts) > 1 and parts[1]:
        try:
            size = float(parts[1])
        except ValueError:
            raise StataError("option font() invalid; size must be a number", 198) from None
        if not 0 < size <= 1638:
            raise StataError("option font() invalid; size out of range", 198)
    color = strip_quotes(parts[2]) if len(parts) > 2 else ""
    if color and not re.fullmatch(r"[0-9A-Fa-f]{6}|[A-Za-z]+", color):
        raise StataError("option font() invalid; color not recognized", 198)
    return name, size, color


def _begin(session, rest: str) -> None:
    main, opts = _split(rest)
    if main:
        raise syntax_error()
    if getattr(session, "putdocx", None) is not None:
        raise StataError("document already open in memory; use putdocx clear or putdocx save "
                         "to close it", 110)
    page = dw.Page()
    for o in opts:
        if abbrev_match(o.name, "pagesize", 5) and o.arg and o.arg.strip().lower() in dw.PAGE_SIZES:
            page = _replace(page, size=o.arg.strip().lower())
        elif abbrev_match(o.name, "landscape", 4) and o.arg is None:
            page = _replace(page, landscape=True)
        elif o.name == "font" and o.arg:
            name, size, _ = _font(o.arg)
            page = _replace(page, font=name, font_size=size)
        else:
            raise _not_allowed(o)
    session.putdocx = PutdocxDoc(page=page)


def _clear(session, rest: str) -> None:
    if rest:
        raise syntax_error()
    session.putdocx = None


def _save(session, rest: str) -> None:
    from hlmshell.data.atomic import atomic_write

    doc = _doc(session)
    main, opts = _split(rest)
    flags = set()
    for o in opts:
        if o.name in ("replace", "append") and o.arg is None:
            flags.add(o.name)
        else:
            raise _not_allowed(o)
    if len(flags) == 2:
        raise StataError("options replace and append may not be combined", 198)
    shown = strip_quotes(main)
    if not shown or len(main.split()) > 1 and not main.startswith('"'):
        raise syntax_error() if shown else StataError("filename required", 100)
    if not os.path.splitext(shown)[1]:
        shown += ".docx"
    elif os.path.splitext(shown)[1].lower() != ".docx":
        raise StataError(f"file {shown}: only .docx files may be written", 198)
    path = os.path.expanduser(shown)
    before = ""
    if os.path.exists(path):
        if not flags:
            raise StataError(f"file {shown} already exists", 602)
        if "append" in flags:
            before = dw.existing_body(path)
            if before is None:
                raise StataError(f"file {shown} is not a .docx file putdocx can append to", 610)
    data = dw.package(list(doc.blocks), doc.page, before)
    with atomic_write(path, shown=shown) as fh:
        fh.write(data)
    session.putdocx = None
    session.out.line(f'successfully created "{os.path.abspath(path)}"')


def _describe(session, rest: str) -> None:
    doc = _doc(session)
    main, opts = _split(rest)
    if opts:
        raise _not_allowed(opts[0])
    tables = [b for b in doc.blocks if isinstance(b, dw.Table)]
    out = session.out
    if main:
        t = next((b for b in tables if b.name == main), None)
        if t is None:
            raise StataError(f"table {main} not found", 111)
        out.line(f"{'Table name':<20} {main}")
        out.line(f"{'  # of rows':<20} {len(t.rows)}")
        out.line(f"{'  # of columns':<20} {t.ncols}")
        return
    pars = sum(isinstance(b, dw.Paragraph) for b in doc.blocks)
    out.line(f"{'Paragraphs':<20} {pars}")
    out.line(f"{'Tables':<20} {len(tables)}")
    for t in tables:
        out.line(f"  {t.name:<18} {len(t.rows)} x {t.ncols}")
    out.line(f"{'Page breaks':<20} {sum(isinstance(b, dw.PageBreak) for b in doc.blocks)}")


def _pagebreak(session, rest: str) -> None:
    doc = _doc(session)
    if rest:
        raise syntax_error()
    session.putdocx = _replace(doc, blocks=doc.blocks + (dw.PageBreak(),), active_par=False)


# ---- paragraph / text -------------------------------------------------------------------------
def _style(text: str) -> str:
    name = strip_quotes(text).strip()
    hit = next((s for s in dw.STYLES if s.lower() == name.lower().replace(" ", "")), None)
    if hit is None:
        raise StataError(f"style {name} not found", 198)
    return hit


def _halign(text: str) -> str:
    a = text.strip().lower()
    if a not in dw.HALIGN:
        raise StataError(f"option halign() invalid; {a} not allowed", 198)
    return dw.HALIGN[a]


def _paragraph(session, rest: str) -> None:
    doc = _doc(session)
    main, opts = _split(rest)
    if main:
        raise syntax_error()
    par = dw.Paragraph()
    font = None
    for o in opts:
        if o.name == "style" and o.arg:
            par.style = _style(o.arg)
        elif abbrev_match(o.name, "halign", 6) and o.arg:
            par.halign = _halign(o.arg)
        elif o.name == "font" and o.arg:
            font = _font(o.arg)
        else:
            raise _not_allowed(o)
    if font is not None:
        par.font = font
    session.putdocx = _replace(doc, blocks=doc.blocks + (par,), active_par=True)


def _exp_text(session, inner: str, nformat: str | None) -> str:
    from hlmshell.output.numfmt import fmt
    from hlmshell.syntax.evaluate import evaluate_scalar
    from hlmshell.syntax.functions import is_str
    from hlmshell.syntax.parser import parse_expr

    if not inner.strip():
        raise syntax_error()
    v = evaluate_scalar(parse_expr(inner), session)
    if is_str(v):
        return str(v)
    x = float(v)
    if math.isnan(x):
        return "."
    return fmt(x, nformat or "%9.0g").strip()


def _paren_exp(main: str) -> str:
    """`("text")` -> the text inside the parentheses (r(198) when it is not one group)."""
    if not main.startswith("("):
        raise syntax_error()
    close = matching_paren(main, 0)
    if close < 0 or main[close + 1:].strip():
        raise syntax_error()
    return main[1:close]


def _nformat(arg: str | None) -> str:
    from hlmshell.output.numfmt import fmt

    f = strip_quotes(arg or "").strip()
    try:
        if not re.fullmatch(r"%-?\d*\.?\d*[fgec]c?", f):
            raise ValueError
        fmt(1.0, f)
    except (ValueError, TypeError):
        raise StataError(f"invalid numeric format {f}", 120) from None
    return f


def _text_opts(opts) -> dict:
    kw: dict = {}
    for o in opts:
        if o.name in ("bold", "italic", "underline") and o.arg is None:
            kw[o.name] = True
        elif o.name == "font" and o.arg:
            kw["font"], kw["size"], kw["color"] = _font(o.arg)
        elif abbrev_match(o.name, "linebreak", 5):
            n = (o.arg or "1").strip()
            if not n.isdigit() or int(n) < 1:
                raise StataError("option linebreak() invalid", 198)
            kw["linebreak"] = int(n)
        elif abbrev_match(o.name, "nformat", 2) and o.arg:
            kw["nformat"] = _nformat(o.arg)
        else:
            raise _not_allowed(o)
    return kw


def _text(session, rest: str) -> None:
    doc = _doc(session)
    main, opts = _split(rest)
    kw = _text_opts(opts)
    text = _exp_text(session, _paren_exp(main), kw.pop("nformat", None))
    if not doc.active_par:
        raise StataError("no active paragraph; use putdocx paragraph first", 198)
    last = doc.blocks[-1]
    if last.font and "font" not in kw:         # the paragraph's font() for its text
        kw["font"], kw["size"], kw["color"] = last.font
    par = dw.Paragraph(last.style, last.halign, last.runs + [dw.Run(text, **kw)], last.font)
    session.putdocx = _replace(doc, blocks=doc.blocks[:-1] + (par,))


# ---- tables -----------------------------------------------------------------------------------
_NAME = re.compile(r"([A-Za-z_]\w*)\s*")


def _table(session, rest: str) -> None:
    doc = _doc(session)
    main, opts = _split(rest)
    m = _NAME.match(main)
    if not m:
        raise syntax_error()
    name, tail = m.group(1), main[m.end():]
    if tail.startswith("("):
        _set_cell(session, doc, name, tail, opts)
        return
    if not tail.startswith("=") or not tail[1:].strip():
        raise syntax_error()
    rhs = tail[1:].strip()
    rows = _table_rows(session, rhs, opts)
    rows = _titled(rows, opts)
    table = dw.Table(name, rows)
    blocks = tuple(b for b in doc.blocks if not (isinstance(b, dw.Table) and b.name == name))
    session.putdocx = _replace(doc, blocks=blocks + (table,), active_par=False)


def _string_opt(arg: str) -> str:
    """title("a" "b") -> "ab": the strings of a continued option joined."""
    parts = re.findall(r'`"(.*?)"\'|"((?:[^"])*)"', arg, re.S)
    if not parts:
        return arg.strip()
    return "".join(a or b for a, b in parts)


def _table_opts(opts, allowed: tuple[str, ...]) -> dict:
    kw: dict = {}
    for o in opts:
        if o.name in ("title", "note") and o.arg is not None:
            kw.setdefault(o.name, []).append(_string_opt(o.arg))
        elif o.name in allowed and o.name in ("rownames", "colnames") and o.arg is None:
            kw[o.name] = True
        elif "nformat" in allowed and abbrev_match(o.name, "nformat", 2) and o.arg:
            kw["nformat"] = _nformat(o.arg)
        else:
            raise _not_allowed(o)
    return kw


def _titled(rows: list[list[dw.Cell]], opts) -> list[list[dw.Cell]]:
    kw = _table_opts(opts, ("rownames", "colnames", "nformat"))
    n = max((sum(c.span for c in r) for r in rows), default=1)
    top = [[dw.Cell(t, span=n)] for t in kw.get("title", [])]
    bottom = [[dw.Cell(t, span=n)] for t in kw.get("note", [])]
    return top + rows + bottom


def _table_rows(session, rhs: str, opts) -> list[list[dw.Cell]]:
    if re.fullmatch(r"etable", rhs):
        kw = _table_opts(opts, ("nformat",))
        return _etable_rows(session, kw.get("nformat", "%9.0g"))
    m = re.match(r"matrix\s*\(", rhs)
    if m:
        kw = _table_opts(opts, ("rownames", "colnames", "nformat"))
        return _matrix_rows(session, _paren_exp(rhs[m.end() - 1:]).strip(), kw)
    _table_opts(opts, ())
    if rhs.startswith("("):
        return _empty_rows(_paren_exp(rhs))
    raise StataError(f"putdocx table: {rhs.split('(')[0].strip()} not available in hlmshell", 198)


def _empty_rows(inner: str) -> list[list[dw.Cell]]:
    m = re.fullmatch(r"\s*(\d+)\s*,\s*(\d+)\s*", inner)
    if not m:
        raise syntax_error()
    r, c = int(m.group(1)), int(m.group(2))
    if not (1 <= r <= 32767 and 1 <= c <= 63):
        raise StataError("number of rows must be between 1 and 32767 and of columns between 1 "
                         "and 63", 198)
    return [[dw.Cell() for _ in range(c)] for _ in range(r)]


def _num(x: float, nformat: str) -> str:
    from hlmshell.output.numfmt import fmt

    return "." if x is None or x != x else fmt(float(x), nformat).strip()


def _matrix_rows(session, name: str, kw: dict) -> list[list[dw.Cell]]:
    from hlmshell.commands.program import _get_matrix

    if not name:
        raise syntax_error()
    vals, rnames, cnames, _ = _get_matrix(session, name)
    f = kw.get("nformat", "%9.0g")

    def lab(q, n):
        return f"{q}:{n}" if q else n
    rows = []
    if kw.get("colnames"):
        rows.append(([dw.Cell()] if kw.get("rownames") else []) + [dw.Cell(lab(*c)) for c in cnames])
    for i in range(vals.shape[0]):
        head = [dw.Cell(lab(*rnames[i]))] if kw.get("rownames") else []
        rows.append(head + [dw.Cell(_num(vals[i, j], f)) for j in range(vals.shape[1])])
    return rows


def _etable_rows(session, nformat: str) -> list[list[dw.Cell]]:
    from hlmshell.commands._postest import active
    from hlmshell.commands.etable import coefficients, re_params
    from hlmshell import distributions as dist

    res = active(session)
    level = float(session.settings.get("level", 95))
    crit_t = res.scalars.get("df_r")
    zname = "t" if crit_t is not None and crit_t == crit_t else "z"
    q = 1 - (1 - level / 100) / 2
    crit = dist.t_ppf(q, crit_t) if zname == "t" else dist.norm_ppf(q)
    head = [res.depvar, "Coefficient", "Std. err.", zname, f"P>|{zname}|",
            f"[{level:g}% conf.", "interval]"]
    rows = [[dw.Cell(h) for h in head]]
    for c in coefficients(res, fixed_only=True):
        label = c.name if c.eq in ("", res.depvar) else f"{c.eq}:{c.name}"
        vals = [c.b, c.se, c.z, c.p, c.b - crit * c.se, c.b + crit * c.se]
        rows.append([dw.Cell(label)] + [dw.Cell(_num(v, nformat)) for v in vals])
    for p in re_params(res):
        lo = hi = float("nan")
        if p.est > 0 and p.se == p.se and p.label.startswith("var("):
            lo, hi = (p.est * math.exp(s * crit * p.se / p.est) for s in (-1, 1))
        label = f"{p.level}: {p.label}" if p.level else p.label
        vals = [p.est, p.se, float("nan"), float("nan"), lo, hi]
        rows.append([dw.Cell(label)] + [dw.Cell(_num(v, nformat) if v == v else "") for v in vals])
    return rows


def _cell_index(text: str, n: int, what: str) -> int:
    t = text.strip()
    if not t.isdigit() or not 1 <= int(t) <= n:
        raise StataError(f"{what} number out of range", 198)
    return int(t) - 1


def _set_cell(session, doc: PutdocxDoc, name: str, tail: str, opts) -> None:
    close = matching_paren(tail, 0)
    if close < 0:
        raise syntax_error()
    idx, rhs = tail[1:close], tail[close + 1:].strip()
    table = next((b for b in doc.blocks if isinstance(b, dw.Table) and b.name == name), None)
    if table is None:
        raise StataError(f"table {name} not found", 111)
    parts = idx.split(",")
    if len(parts) != 2 or not rhs.startswith("="):
        raise syntax_error()
    i = _cell_index(parts[0], len(table.rows), "row")
    j = _cell_index(parts[1], len(table.rows[i]), "column")
    kw: dict = {}
    for o in opts:
        if o.name in ("bold", "italic") and o.arg is None:
            kw[o.name] = True
        elif abbrev_match(o.name, "halign", 6) and o.arg:
            kw["halign"] = _halign(o.arg)
        elif abbrev_match(o.name, "nformat", 2) and o.arg:
            kw["nformat"] = _nformat(o.arg)
        else:
            raise _not_allowed(o)
    text = _exp_text(session, _paren_exp(rhs[1:].strip()), kw.pop("nformat", None))
    rows = [list(r) for r in table.rows]
    rows[i][j] = dw.Cell(text, span=rows[i][j].span, **kw)
    new = dw.Table(name, rows)
    blocks = tuple(new if b is table else b for b in doc.blocks)
    session.putdocx = _replace(doc, blocks=blocks)


_HANDLERS = {"begin": _begin, "paragraph": _paragraph, "text": _text, "table": _table,
             "pagebreak": _pagebreak, "describe": _describe, "clear": _clear, "save": _save}
