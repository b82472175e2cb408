"""esttab's output modes as esttab.ado sets them up for estout: the strings of each mode
(smcl/fixed, tab, csv/scsv, tex, booktabs, html, rtf, md) and the table's head, rules, gaps
and notes.

esttab.ado is a wrapper: it composes prehead() (opening, caption, top rule), posthead() (mid
rule), prefoot() (mid rule above the statistics), postfoot() (bottom rule, the notes, the
closing), the header rows (mgroups, numbers, mlabels, collabels), the gaps between
coefficients (varlabels(, end("" midgap) nolast) -- only when the user gives no
varlabels()), the equation rules (eqlabels(, begin(eqrule) nofirst)), and the star legend;
estout writes the rows (output/estout_writer.py).  Each mode's strings below are those of
esttab.ado 2.1 (e.g. LaTeX: \\hline\\hline rules, [1em] gaps, `&` and `\\\\`, stars as
\\sym{*}, a `_` -> `\\_` substitution; booktabs: \\toprule/\\midrule/\\bottomrule,
\\addlinespace).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from hlmshell.commands import esttab_labels as el
from hlmshell.commands import esttab_rows as er
from hlmshell.errors import StataError
from hlmshell.output import estout_writer as ew

_TEX_OPEN2 = r"\begin{tabular}{l*{@E}{%s}}"


@dataclass
class Mode:
    caption: str = "@title"
    toprule: list[str] = field(default_factory=lambda: ["@hline"])
    midrule: list[str] = field(default_factory=lambda: ["@hline"])
    bottomrule: list[str] = field(default_factory=lambda: ["@hline"])
    midgap: list[str] = field(default_factory=lambda: [""])
    eqrule: list[str] = field(default_factory=lambda: ["@hline", ""])
    star: tuple[str, str] = ("", "")          # symbol prefix / suffix
    starlab: str = " p<"
    begin: str = ""
    delimiter: str = " "
    end: str = ""
    widths: bool = True
    abbrev: bool = True
    substitute: list[tuple[str, str]] = field(default_factory=list)
    statlab: dict[str, str] = field(default_factory=lambda: {"t": "t statistics", "z": "z statistics",
                                                              "p": "p-values"})
    lines: bool = True
    eqrule_replace: bool = False


_RTF_ROW = r"{\trowd\trgaph108\trleft-108"


def _rtf() -> Mode:
    return Mode(caption=r"{\pard\keepn\ql @title\par}", toprule=[], midrule=[], bottomrule=[],
                midgap=[_RTF_ROW + r"@rtfemptyrow\row}"], eqrule=[_RTF_ROW + r"@rtfrowdefbrdrt\pard\intbl\ql {"],
                star=(r"{\super ", "}"), starlab=r" {\i p} < ", begin=_RTF_ROW + r"@rtfrowdefbrdr\pard\intbl\ql {",
                delimiter=r"}\cell \pard\intbl\qc {", end=r"}\cell\row}", widths=False, abbrev=False,
                statlab={"t": r"{\i t} statistics", "z": r"{\i z} statistics", "p": r"{\i p}-values"},
                eqrule_replace=True)


def rtf_opening(now=None) -> list[str]:
    """esttab's RTF document start: font table, info with the creation time, defaults, footer."""
    import datetime
    import sys
    t = now or datetime.datetime.now()
    charset = r"\mac" if sys.platform == "darwin" else r"\ansi"
    return [r"{\rtf1" + charset + r"\deff0 {\fonttbl\f0\fnil Times New Roman;}",
            r"{\info {\author .}{\company .}{\title .}{\creatim\yr%d\mo%d\dy%d\hr%02d\min%02d}}"
            % (t.year, t.month, t.day, t.hour, t.minute),
            r"\deflang1033\plain\fs24", r"{\footer\pard\qc\plain\f0\fs24\chpgn\par}"]


def _tex(book: bool) -> Mode:
    top, mid, bot = (r"\toprule", r"\midrule", r"\bottomrule") if book else (r"\hline\hline", r"\hline",
                                                                              r"\hline\hline")
    return Mode(caption=r"\caption{@title}", toprule=[top], midrule=[mid], bottomrule=[bot],
                midgap=[r"\addlinespace" if book else "[1em]"], eqrule=[mid, ""], star=(r"\sym{", "}"),
                starlab=r" \(p<@\)", delimiter="&", end="\\\\", abbrev=False,
                substitute=[("_", r"\_"), (r"\_cons ", r"\_cons")],
                statlab={"t": r"\textit{t} statistics", "z": r"\textit{z} statistics", "p": r"\textit{p}-values"})


def _mmd() -> Mode:
    return Mode(toprule=[], midrule=[], bottomrule=[], midgap=[], eqrule=[], star=("<sup>", "</sup>"),
                starlab=" *p* < ", begin="| ", delimiter=" | ", end=" |", abbrev=False,
                substitute=[("_", r"\_"), (r"\_cons ", r"\_cons")],
                statlab={"t": "*t* statistics", "z": "*z* statistics", "p": "*p*-values"})


def mmd_rule(style: ew.Style, starcols: list[bool]) -> str:
    """estout's MakeMMDdef: the Markdown alignment row, model columns right-aligned."""
    out = "| " + "-" * max(1, style.varwidth)
    for star in starcols:
        out += " | :" + "-" * max(1, style.modelwidth - 2) + ("-" * max(1, style.starwidth) if star else "") + ":"
    return out + " |"


def mode_of(name: str, csvlhs: str = '="') -> Mode:
    if name in ("md", "mmd"):
        return _mmd()
    if name in ("tex", "booktabs"):
        return _tex(name == "booktabs")
    if name == "rtf":
        return _rtf()
    if name in ("csv", "scsv"):
        return Mode(caption=csvlhs + '@title"', begin=csvlhs, delimiter=('";' if name == "scsv" else '",') + csvlhs,
                    end='"',
                    widths=False, abbrev=False, lines=False)
    if name == "tab":
        return Mode(delimiter="\t", widths=False, abbrev=False, lines=False)
    if name == "html":
        rule = ["<tr><td colspan=@span><hr></td></tr>"]
        return Mode(caption="<caption>@title</caption>", toprule=rule, midrule=rule, bottomrule=rule,
                    midgap=["<tr><td colspan=@span>&nbsp;</td></tr>"], eqrule=rule + [""],
                    star=("<sup>", "</sup>"), starlab=" <i>p</i> < ", begin="<tr><td>", delimiter="</td><td>",
                    end="</td></tr>", abbrev=False,
                    statlab={"t": "<i>t</i> statistics", "z": "<i>z</i> statistics", "p": "<i>p</i>-values"})
    return Mode()


@dataclass
class Spec:
    """What esttab.py decided: the models, the rows, and how they are labelled."""
    nmodels: int
    width: int                        # sub-columns per model
    mlabels: list[str] | None         # None: no model labels
    numbers: bool
    stars: list[tuple[str, float, str]]
    note_parts: tuple                 # (eform, aux statistic or None, "in parentheses" ...)
    cells: bool                       # cells() given
    col_labels: list[str]             # estout's default column labels (cells())
    star_cols: list[bool]
    title: str = ""
    alt_labels: dict[str, list[str]] = field(default_factory=dict)    # mlabels(, depvars|titles)


def _str_opt(given, key) -> str | None:
    v = given.get(key)
    return None if v is None else v.strip()


def _caption(opt: el.LabelOpt, labels: list[str], groups: list[int], **kw) -> ew.Caption:
    return ew.Caption(labels=labels, groups=groups, lhs=opt.args.get("lhs", ""), span=opt.on("span"),
                      prefix=opt.args.get("prefix", kw.get("prefix", "")),
                      suffix=opt.args.get("suffix", kw.get("suffix", "")),
                      erepeat=opt.args.get("erepeat", ""), begin=opt.lines("begin"), end=opt.lines("end"),
                      replace=opt.on("replace"))


def _mgroups(given, spec: Spec, per_model: list[int]) -> list[ew.Caption]:
    mg = el.parse(given.get("mgroups"), "mgroups")
    if mg is None or mg.on("none"):
        return []
    groups = el.group_numbers(mg.args.get("pattern"), spec.nmodels)
    return [_caption(mg, mg.labels, [groups[m - 1] for m in per_model])]


def _model_rows(given, spec: Spec, per_model: list[int], tex: bool) -> list[ew.Caption]:
    r"""numbers and mlabels: esttab spans them with \multicolumn in LaTeX unless mlabels()
    is the user's."""
    out = []
    ml = el.parse(given.get("mlabels"), "mlabels")
    span_tex = tex and ml is None
    if spec.numbers:
        pre, suf = (r"\multicolumn{@span}{c}{(", ")}") if tex else ("(", ")")
        nspan = span_tex or (ml is not None and ml.on("span"))
        out.append(ew.Caption([f"{m + 1}" for m in range(spec.nmodels)], per_model, span=nspan,
                              prefix=pre, suffix=suf))
    if ml is not None and not ml.on("none"):
        base = spec.alt_labels.get("depvars" if ml.on("depvars") else "titles" if ml.on("titles") else "",
                                   spec.mlabels or [])
        labels = ml.labels + base[len(ml.labels):]
        if ml.on("numbers"):            # estout's NumberMlabels: "(1) label"
            labels = [f"({m + 1}) {labels[m]}" if m < len(labels) and labels[m] else f"({m + 1})"
                      for m in range(spec.nmodels)]
        out.append(_caption(ml, labels, per_model))
    elif ml is None and spec.mlabels is not None:
        cap = ew.Caption(spec.mlabels, per_model, span=span_tex)
        if span_tex:
            cap.prefix, cap.suffix = r"\multicolumn{@span}{c}{", "}"
        out.append(cap)
    return out


def _collabels(given, spec: Spec) -> list[ew.Caption]:
    cols = [j + 1 for _ in range(spec.nmodels) for j in range(spec.width)]
    cl = el.parse(given.get("collabels"), "collabels")
    if cl is not None and not cl.on("none"):
        cap = _caption(cl, cl.labels or spec.col_labels, cols)
    elif cl is None and (spec.cells or "plain" in given) and spec.col_labels:
        cap = ew.Caption(spec.col_labels, cols)
    else:
        return []
    cap.every = True
    return [cap]


def heads(given, spec: Spec, tex: bool) -> list[ew.Caption]:
    """mgroups, numbers, mlabels and collabels rows, in estout's order."""
    per_model = [m + 1 for m in range(spec.nmodels) for _ in range(spec.width)]
    unstacked = given.get("_unstack")
    if unstacked is None:
        return _mgroups(given, spec, per_model) + _model_rows(given, spec, per_model, tex) + _collabels(given, spec)
    # unstack: numbers and model labels span each model's equation columns; the equations
    # name the columns in a row of their own (esttab_unstack.py)
    groups, titles = unstacked
    by_model = [groups[m] for m in range(spec.nmodels) for _ in range(spec.width)]
    eq_row = ew.Caption(list(titles), per_model)
    return (_mgroups(given, spec, by_model) + _model_rows(given, spec, by_model, tex) + [eq_row]
            + _collabels(given, spec))


def star_legend(mode: Mode, stars) -> str:
    parts = []
    for sym, _, lev in stars:
        label = mode.starlab.replace("@", lev) if "@" in mode.starlab else mode.starlab + lev
        parts.append(mode.star[0] + _md_star(mode, sym) + mode.star[1] + label)
    return ", ".join(parts)


def _auto_note(mode: Mode, parts) -> list[str]:
    """esttab's note: "Exponentiated coefficients; t statistics in parentheses"."""
    eform, aux, where, *more = parts
    level, absolute = (more + [95, False])[:2] if len(more) < 2 else more
    text = "Exponentiated coefficients" if eform else ""
    if aux is not None:
        pct = "\\%" if mode.starlab.startswith(" \\(") else "%"
        what = "Standard errors" if aux == "se" else f"{level:g}{pct} confidence intervals" if aux == "ci" \
            else ("Absolute " if absolute else "") + mode.statlab[aux]
        text = f"{text}; {what} {where}" if text else f"{what} {where}"
    return [text] if text else []


def _notes(given, spec: Spec, mode: Mode) -> list[str]:
    notes = []
    if "nonotes" not in given:
        notes = ["@note"] if given.get("note") is not None else _auto_note(mode, spec.note_parts)
    add = given.get("addnotes")
    if add is not None:
        notes += el.words(add) if '"' in add else [add.strip()]
    legend = "legend" in given or ("nonotes" not in given and not spec.cells and "nolegend" not in given)
    if legend and spec.stars and "nolegend" not in given:
        notes.append("@starlegend")
    return notes


def _closing(name: str, mode: Mode, notes: list[str], csvlhs: str) -> list[str]:
    if name in ("tex", "booktabs"):
        return [r"\multicolumn{@span}{l}{\footnotesize " + n + "}\\\\" for n in notes]
    if name == "csv":
        return [csvlhs + n + '"' for n in notes]
    if name == "rtf":
        return [r"{\pard\ql\fs20 " + n + r"\par}" for n in notes]
    if name == "md":
        return ([""] + [n + ("<br>" if i < len(notes) - 1 else "") for i, n in enumerate(notes)] if notes else []) \
            + [""]
    if name == "html":
        if not notes:
            return []
        return ["<tr><td colspan=@span>"] + [("<br />" if i else "") + n for i, n in enumerate(notes)] + \
            ["</td></tr>"]
    return list(notes)


def _float(given, spec: Spec) -> bool:
    return bool(spec.title or "float" in given) and "nofloat" not in given


def stamp() -> str:
    """c(current_date) c(current_time): `30 Nov 2026 17:03:10`."""
    import datetime
    return datetime.datetime.now().strftime("%d %b %Y %H:%M:%S").lstrip("0")


def _tex_page(given, name: str) -> list[str]:
    return ["% " + stamp(), r"\documentclass{article}"] + ([r"\usepackage{booktabs}"] if name == "booktabs" else []) \
        + ([r"\usepackage{longtable}"] if "longtable" in given else []) + [r"\begin{document}", ""]


def _tex_opening(given, name: str, mode: Mode, spec: Spec, colspec: str) -> list[str]:
    r"""LaTeX: the float (table, or a group under longtable) or a group for \sym, the
    caption, \begin{tabular} or \begin{longtable}."""
    long = "longtable" in given
    star = bool(spec.stars)
    out = _tex_page(given, name) if "page" in given and "_noopen" not in given else []
    if _float(given, spec):
        out.append("{" if long else r"\begin{table}[htbp]\centering")
    elif star:
        out.append("{")
    out += [r"\def\sym#1{\ifmmode^{#1}\else\(^{#1}\)\fi}"] if star else []
    out += [mode.caption] if spec.title and not long else []
    width = (given.get("width") or "").strip()
    if long:
        out.append(r"\begin{longtable}{l*{@E}{%s}}" % colspec)
    elif width:
        out.append(r"\begin{tabular*}{%s}{@{\hskip\tabcolsep\extracolsep\fill}l*{@E}{%s}}" % (width, colspec))
    else:
        out.append(_TEX_OPEN2 % colspec)
    return out + ([mode.caption + "\\\\"] if spec.title and long else [])


def _opening(given, name: str, mode: Mode, spec: Spec, colspec: str) -> list[str]:
    """esttab's opening: document start (page), float/caption, \\sym definition, tabular."""
    if name in ("tex", "booktabs"):
        return _tex_opening(given, name, mode, spec, colspec)
    if name == "rtf":                       # _noopen: appended inside an RTF document
        return ([] if "_noopen" in given else rtf_opening()) + ([mode.caption] if spec.title else []) + ["{"]
    if name == "md":
        return [""] + ([spec.title, ""] if spec.title else [])
    out: list[str] = []
    if "page" in given and name == "html" and "_noopen" not in given:
        title = spec.title or f"estimates table, created {stamp()}"
        out += ["<html>", "<head>", f"<title>{title}</title>", "</head>", "<body>", ""]
    if name == "html":
        out.append(f'<table border="0" width="{(given.get("width") or "").strip() or "*"}">')
    elif "page" in given and "_noopen" not in given:
        out.append("% " + stamp())
    return out + ([mode.caption] if spec.title else [])


def _closing_frame(given, name: str, spec: Spec, notes: list[str]) -> list[str]:
    tex = name in ("tex", "booktabs")
    out = notes
    if tex:
        long = "longtable" in given
        out.append(r"\end{longtable}" if long else r"\end{tabular*}" if given.get("width") else r"\end{tabular}")
        if _float(given, spec):
            out.append("}" if long else r"\end{table}")
        elif spec.stars:
            out.append("}")
    elif name == "html":
        out.append("</table>")
    elif name == "rtf":
        out += ["}", r"{\pard \par}", "}"]
    if "page" in given and tex:
        out += ["", r"\end{document}"]
    if "page" in given and name == "html":
        out += ["", "</body>", "</html>"]
    return out


def _toprule(given, name: str, mode: Mode) -> list[str]:
    if "longtable" in given and name in ("tex", "booktabs"):
        mid = mode.midrule[0]
        return [mode.toprule[0] + r"\endfirsthead" + mid + r"\endhead" + mid + r"\endfoot\endlastfoot"]
    return list(mode.toprule)


def _frame(given, name: str, mode: Mode, spec: Spec, lines: bool, gaps: bool, csvlhs: str, colspec: str):
    """prehead, posthead, prefoot and postfoot as esttab.ado composes them."""
    opening: list[str] = []
    closing: list[str] = []
    if "fragment" not in given:
        opening = _opening(given, name, mode, spec, colspec)
        closing = _closing_frame(given, name, spec, _closing(name, mode, _notes(given, spec, mode), csvlhs))
        gap = [""] if gaps and name not in ("tex", "booktabs", "html", "rtf", "md") else []
        opening += _toprule(given, name, mode) if lines else gap
        closing = (mode.bottomrule if lines else gap) + closing
    mid = mode.midrule if lines else (mode.midgap if gaps else [])
    return opening, list(mid), list(mid), closing


def _user_lines(given, key, default: list[str]) -> list[str]:
    text = given.get(key)
    if text is None:
        return default
    return el.words(text) if '"' in text else [text.strip()]


def style_for(given, name: str, mode: Mode, label: bool, spec: Spec, starwidth: int) -> ew.Style:
    widths = mode.widths or name == "rtf"           # RTF: the widths size its cells in twips
    vw = (20 if label else 12) if widths else 0
    mw = 12 if widths else 0
    if "compress" in given and widths:
        vw -= 4 if label else 2
        mw -= 3
    if "ci" in given and "cells" not in given and widths:
        mw = 2 * mw - 2                     # esttab: room for [lower,upper]
    if given.get("varwidth") is not None:
        vw = _width(given["varwidth"], "varwidth")
    if given.get("modelwidth") is not None:
        mw = _width(given["modelwidth"], "modelwidth")
    subst = list(mode.substitute)
    if given.get("substitute") is not None:
        w = el.words(given["substitute"])
        subst += list(zip(w[::2], w[1::2]))
    delim = mode.delimiter
    if name == "html" and given.get("alignment"):
        delim = f'</td><td align="{given["alignment"].strip()}">'
    abbrev = mode.abbrev and "noabbrev" not in given or "abbrev" in given
    if name == "rtf":
        align = (given.get("alignment") or "c").strip()
        begin = mode.begin if mode.lines and "nolines" not in given else mode.begin.replace("brdr", "")
        rtf = ew.RtfRows.make(begin, vw, mw, spec.star_cols)
        return ew.Style(begin, delim.replace(r"\qc", "\\q" + align), mode.end, 0, 0, abbrev, 0, subst, rtf)
    return ew.Style(mode.begin, delim, mode.end, vw, mw, abbrev, starwidth if mw > 0 else 0, subst)


def _width(text: str, key: str) -> int:
    t = (text or "").strip()
    if not t.isdigit() or int(t) > 1000:
        raise StataError(f"option {key}() incorrectly specified", 198)
    return int(t)


def starwidth(symbols: list[str]) -> int:
    """estout's Starwidth: the width of the last symbol (its loop compares the digits of the
    running width, not the width, with each symbol's length)."""
    width = ""
    for s in symbols:
        width = str(max(len(width), len(s)))
    return int(width or 0)


def restar(cell: tuple[str, str], mode: Mode) -> tuple[str, str]:
    """A cell's stars in the mode's symbols (\\sym{**}, <sup>**</sup>, {\\super **})."""
    if not cell[1] or mode.star == ("", ""):
        return cell
    return cell[0], mode.star[0] + _md_star(mode, cell[1]) + mode.star[1]


def _md_star(mode: Mode, sym: str) -> str:
    return sym.replace("*", r"\*") if mode.begin == "| " else sym


@dataclass
class Body:
    blocks: list[ew.Block]
    stats: list[ew.Block]


def assemble(given, name: str, spec: Spec, body: Body, label: bool, gaps: bool, csvlhs: str = '="') -> str:
    """The whole table in mode `name` as text."""
    mode = mode_of("scsv" if name == "csv" and "_scsv" in given else name, csvlhs)
    tex = name in ("tex", "booktabs")
    lines = mode.lines and "nolines" not in given
    syms = [mode.star[0] + _md_star(mode, s) + mode.star[1] for s, _, _ in spec.stars]
    sw = starwidth(syms) if spec.stars and any(spec.star_cols) else 0
    style = style_for(given, name, mode, label, spec, sw)
    colspec = given.get("alignment", "").strip() if tex and given.get("alignment") else "c" * spec.width
    opening, posthead, prefoot, closing = _frame(given, name, mode, spec, lines, gaps, csvlhs, colspec)
    if (given.get("cells") or "").strip() in ("none", '"none"'):
        prefoot = []                        # esttab.ado: no rule above the statistics alone
    for b in body.blocks + body.stats:
        b.rows = [[restar(c, mode) for c in row] for row in b.rows]
    if name == "md":
        posthead = posthead + [mmd_rule(style, spec.star_cols)]
    table = ew.Table(heads(given, spec, tex), body.blocks, body.stats, spec.star_cols,
                     _user_lines(given, "prehead", opening), _user_lines(given, "posthead", posthead),
                     _user_lines(given, "prefoot", prefoot), _user_lines(given, "postfoot", closing),
                     {"title": spec.title, "note": (given.get("note") or "").strip().strip('"'),
                      "starlegend": star_legend(mode, spec.stars), "M": str(spec.nmodels),
                      "E": str(spec.nmodels)})
    return "\n".join(ew.render(style, table)) + "\n"


def mode_lines(mode_name: str, given) -> tuple[list[str], list[str], bool]:
    """(midgap lines, eqrule lines, equation rules on) of a mode (the body's gaps and rules)."""
    mode = mode_of(mode_name)
    return mode.midgap, mode.eqrule, mode.lines and "nolines" not in given and "noeqlines" not in given


def _relabel(key, label: str, names: dict[str, str]) -> str:
    eq, name = key
    for k in (f"{eq}:{name}" if eq else None, name):
        if k and k in names:
            return names[k]
    return label


def _lookup(key, table: dict[str, list[str]]) -> list[str]:
    eq, name = key
    return table.get(f"{eq}:{name}" if eq else name) or table.get(name) or []


def _single_cons(rows) -> dict[str, bool]:
    """Equations holding one coefficient, `_cons` (estout's EqReplaceCons targets)."""
    count: dict[str, list[str]] = {}
    for r in rows:
        key = getattr(r, "key", None)
        if r.kind == "coef" and key is not None:
            count.setdefault(key[0], []).append(key[1])
    return {eq: names == ["_cons"] for eq, names in count.items()}


@dataclass
class _RowLabels:
    """varlabels()/coeflabels() and eqlabels() as they apply to the rows."""
    names: dict[str, str]
    blist: dict[str, list[str]]
    elist: dict[str, list[str]]
    vend: list[str]
    lone: dict[str, bool]
    user: bool                    # varlabels() given: esttab's gaps are off
    vl: el.LabelOpt | None = None
    eq: el.LabelOpt | None = None

    def block(self, r) -> tuple[ew.Block, tuple[str, str], list[str]]:
        """A coefficient's block: its label (varlabels(), prefix()/suffix()), blist() and
        begin() before it, end() after it (elist() is added once the block is complete)."""
        key = getattr(r, "key", ("", r.label))
        label = r.label
        if self.lone.get(key[0]) and key[1] == "_cons":
            label = getattr(r, "eqlabel", label)
        label = _relabel(key, label, self.names)
        vbegin = self.vl.lines("begin") if self.vl else []
        if self.vl is not None:            # varlabels(none): rows without labels
            label = "" if self.vl.on("none") else self.vl.args.get("prefix", "") + label + self.vl.args.get("suffix", "")
        b = ew.Block(label, [list(r.cells)], pre=list(_lookup(key, self.blist)) + vbegin,
                     post=[list(self.vend)] if self.vend else [], replace=bool(vbegin and self.vl.on("replace")))
        return b, key, _lookup(key, self.elist)

    def eq_block(self, label: str, pre: list[str], first: bool, replace: bool) -> ew.Block:
        """An equation's label row: eqlabels()'s begin() (all equations unless nofirst) in
        place of esttab's rule, prefix()/suffix() around the label."""
        if self.eq is not None and self.eq.lines("begin"):
            use = not first or self.eq.on("first", True)
            pre = self.eq.lines("begin") if use else []
            replace = use and self.eq.on("replace")
        if self.eq is not None:
            label = self.eq.args.get("prefix", "") + label + self.eq.args.get("suffix", "")
        return ew.Block(label, [], pre=list(pre), empty=True, replace=replace)


def _row_labels(given, rows) -> tuple[_RowLabels, bool]:
    vl = el.parse(given.get("varlabels"), "varlabels")
    names = el.var_pairs(vl) if vl is not None else el.var_pairs(el.parse(given.get("coeflabels"), "coeflabels"))
    eqo = el.parse(given.get("eqlabels"), "eqlabels")
    eq_none = eqo is not None and eqo.on("none")
    labels = _RowLabels(names, vl.pairs("blist") if vl else {}, vl.pairs("elist") if vl else {},
                        vl.lines("end") if vl else [], _single_cons(rows) if eq_none else {}, vl is not None,
                        vl, eqo)
    return labels, eq_none


def _drop_last_ends(out: list[ew.Block], labels: _RowLabels) -> None:
    """varlabels(, end() nolast): no end() after each equation's last coefficient."""
    if labels.vl is None or not labels.vend or labels.vl.on("last", True):
        return
    for i, b in enumerate(out):
        nxt = out[i + 1] if i + 1 < len(out) else None
        if not b.empty and (nxt is None or nxt.empty) and b.post and b.post[0] == labels.vend:
            b.post.pop(0)


def blocks(rows, given, name: str, gaps: bool, width: int = 1) -> Body:
    """PaperRows (coef/aux/eq/gap/rule/stat) -> estout's blocks: varlabels() relabel rows and
    add blist()/elist()/end(); a gap is varlabels' end("" midgap); eqlabels(, none) drops
    the equation rows and names a lone `_cons` after its equation."""
    midgap, eqrule, lines = mode_lines(name, given)
    labels, eq_none = _row_labels(given, rows)
    out: list[ew.Block] = []
    stats: list[ew.Block] = []
    pending_rule, first_eq = False, True
    tails: dict[int, list[str]] = {}
    keys: dict[int, tuple[str, str]] = {}
    for r in rows:
        rule, pending_rule = pending_rule, r.kind == "rule"
        if r.kind == "eq" and not eq_none:
            pre = (eqrule if lines else midgap + [""] if gaps else []) if rule else []
            out.append(labels.eq_block(r.label, pre, first_eq, bool(rule and lines and mode_of(name).eqrule_replace)))
            first_eq = False
        elif r.kind == "stat":
            stats.append(ew.Block(r.label, [list(r.cells)]))
        elif r.kind == "aux" and out:
            out[-1].rows.append(list(r.cells))
        elif r.kind == "gap" and out and not labels.user:
            out[-1].post.append([""] + midgap)
        elif r.kind == "coef":
            b, keys_b, tails_b = labels.block(r)
            tails[id(b)], keys[id(b)] = tails_b, keys_b
            out.append(b)
    _drop_last_ends(out, labels)
    for b in out:
        if tails.get(id(b)):
            b.post.append(list(tails[id(b)]))
    out = er.add_refcats(out, [keys.get(id(b)) for b in out], er.refcats(given), width)
    return Body(out, stats)


__all__ = ["Body", "Spec", "assemble", "blocks"]
