"""estout (the command itself, not esttab's wrapper): its defaults and styles.

estout's own defaults (estout.ado) differ from esttab's: the model names as column labels,
then the cells' element labels (b, b/se), no model numbers, no stars unless an element asks
for them (cells(b(star))), no gaps, no notes; statistics in %9.0g labelled by their names.
Styles: smcl (on screen; rules at the top, under the head, between equations, above the
statistics and at the bottom), fixed (the same without rules), tab (in a file; tab-delimited,
no widths; `esttab` is tab), tex (`&`, `\\\\`), html (<tr><td>...).  The rows are written by
output/estout_writer.py as for esttab.
"""
from __future__ import annotations

from hlmshell.commands import esttab_cells as ec
from hlmshell.commands import esttab_labels as el
from hlmshell.commands import esttab_layout as lo
from hlmshell.commands import esttab_rows as er
from hlmshell.commands import esttab_transform as et
from hlmshell.commands.etable import stat_value, var_label
from hlmshell.errors import StataError
from hlmshell.output import estout_writer as ew
from hlmshell.output import paper_tables as pt

STYLES = ("smcl", "fixed", "tab", "tex", "html", "esttab")
_STRINGS = {"smcl": ("", " ", ""), "fixed": ("", " ", ""), "tab": ("", "\t", ""), "tex": ("", "&", "\\\\"),
            "html": ("<tr><td>", "</td><td>", "</td></tr>")}


def _user(given, key) -> list[str] | None:
    text = given.get(key)
    if text is None:
        return None
    return el.words(text) if '"' in text else [text.strip()]


def _one(given, key, default: str) -> str:
    got = _user(given, key)
    return got[0] if got else default


def _style(given, style: str, label: bool, stars: bool, syms: list[str]) -> ew.Style:
    begin, delim, end = _STRINGS[style]
    widths = style != "tab"
    vw = (20 if label else 12) if widths else 0
    mw = 12 if widths else 0
    if given.get("varwidth") is not None:
        vw = lo._width(given["varwidth"], "varwidth")
    if given.get("modelwidth") is not None:
        mw = lo._width(given["modelwidth"], "modelwidth")
    abbrev = style in ("smcl", "fixed") and "noabbrev" not in given or "abbrev" in given
    subst = el.words(given.get("substitute") or "")
    return ew.Style(_one(given, "begin", begin), _one(given, "delimiter", delim), _one(given, "end", end), vw, mw,
                    abbrev, lo.starwidth(syms) if stars and mw > 0 else 0, list(zip(subst[::2], subst[1::2])))


def _stars(given) -> list[tuple[str, float, str]]:
    text = given.get("starlevels")
    if text is not None:
        text = text.split(",")[0]
    return el.parse_star(text)


def _stats(results, given, width: int, levels) -> list[pt.PaperRow]:
    chosen = et.parse_stats(given.get("stats")) or []
    starred = et.stats_star(given.get("stats"))
    rows = []
    for key, lab, f in chosen:
        fmt = ec.number_format(f)
        cells = [("", "") if (v := stat_value(r, key)) is None else
                 (fmt(v), pt.stars_for(r.scalars.get("p"), levels) if key in starred else "") for r in results]
        rows.append(pt.PaperRow(lab, ec.widen(cells, width), "stat"))
    return rows


def _transforms(session, given):
    """transform() (delta-method se), or eform / eform(pattern): exp() of every coefficient
    of the models the pattern marks (the last entry repeats)."""
    tr = et.parse_transform(given.get("transform"))
    if not tr and "eform" in given:
        words = (given.get("eform") or "").split()
        if any(w not in ("0", "1") for w in words):
            raise StataError("invalid pattern in transform(,pattern()) or eform()", 198)
        pattern = [w == "1" for w in words] or [True]
        exp = [et.Transform(None, "exp(@)", "exp(@)")]
        return lambda m, c: et.apply_transform(session, c, exp if pattern[min(m, len(pattern) - 1)] else [])
    if not tr:
        return None
    et.check_transform(session, tr)
    return lambda m, c: et.apply_transform(session, c, tr)


def _mlabels(session, results, names, given) -> list[str] | None:
    ml = el.parse(given.get("mlabels"), "mlabels")
    if ml is not None and ml.on("depvars"):
        return [var_label(session, r.depvar, "label" in given) for r in results]
    titles = ml.on("titles", "label" in given) if ml is not None else "label" in given    # label: titles on
    if titles:
        return [r.macros.get("estimates_title") or n for r, n in zip(results, names)]
    if ml is None and names == ["."]:
        return None
    return list(names)


def _frame(given, style: str, has_head: bool, has_stats: bool) -> tuple[list, list, list, list]:
    """prehead/posthead/prefoot/postfoot with estout's SMCL rules around them."""
    own = any(given.get(k) is not None for k in ("prehead", "posthead", "prefoot", "postfoot"))
    title = (given.get("title") or "").strip().strip('"')
    pre = _user(given, "prehead") or ([title] if title and not own else [])
    post = _user(given, "posthead") or []
    prefoot = _user(given, "prefoot") or []
    postfoot = _user(given, "postfoot") or (["@note"] if given.get("note") is not None and not own else [])
    if style == "smcl":
        pre = pre + ["@hline"]
        post = (["@hline"] if has_head else []) + post
        prefoot = prefoot + (["@hline"] if has_stats else [])
        postfoot = ["@hline"] + postfoot
    if "legend" in given:
        postfoot = postfoot + ["@starlegend"]
    return pre, post, prefoot, postfoot


def _body(session, results, given, rows, stars, width: int) -> list[pt.PaperRow]:
    """The coefficient rows (cells()), and indicate()'s rows after them."""
    if not rows:
        return []
    inds, yes_no = er.indicators(given)
    if inds:
        given = {**given, "drop": " ".join([given.get("drop") or ""] + [p for i in inds for p in i.patterns])}
    label = "label" in given
    ct = ec.build_cells(session, results, {**given, "nogaps": None}, rows, [(s, lv) for s, lv, _ in stars],
                        lambda n: el.coef_label(session, n, " # ") if label and n != "_cons" else n, [],
                        _transforms(session, given))
    return ct.rows + [pt.PaperRow(i.label, er.indicator_cells(results, i, yes_no, width), "coef") for i in inds]


def estout_text(session, results, names, given, style: str) -> str:
    """The estout table in `style` as text."""
    cells_text = (given.get("cells") or "b").strip()
    rows = [] if cells_text in ("none", '"none"') else ec.parse_cells(cells_text)
    stars = _stars(given)
    width = max([len(r) for r in rows] + [1])
    body = _body(session, results, given, rows, stars, width)
    stat_rows = _stats(results, given, width, [(s, lv) for s, lv, _ in stars])
    if "nolz" in given:
        ec.no_leading_zeros(body + stat_rows)
    ec.decimal_marker(body + stat_rows, given.get("dmarker"))
    cols = ec.star_columns(rows) if rows else [False]
    cols[0] = cols[0] or bool(et.stats_star(given.get("stats")))
    star_on = any(cols)
    mlabels = _mlabels(session, results, names, given)
    if given.get("_unstack") is not None:
        from hlmshell.commands.esttab_unstack import per_model
        mlabels = per_model(mlabels, given["_unstack"][0])
    spec = lo.Spec(len(results), width, mlabels, "numbers" in given,
                   stars if star_on or "legend" in given else [], (False, None, ""), True,
                   ec.column_labels(rows) if rows else [], cols * len(results),
                   (given.get("title") or "").strip().strip('"'))
    blocks = lo.blocks(body + stat_rows, {**given, **({} if style == "smcl" else {"noeqlines": None})},
                       "fixed", False, width)
    st = _style(given, style, "label" in given, star_on, [s for s, _, _ in spec.stars])
    heads = lo.heads(given, spec, False)
    pre, post, prefoot, postfoot = _frame(given, style, bool(heads), bool(stat_rows) and bool(body))
    table = ew.Table(heads, blocks.blocks, blocks.stats, spec.star_cols, pre, post, prefoot, postfoot,
                     {"title": spec.title, "note": (given.get("note") or "").strip().strip('"'),
                      "starlegend": lo.star_legend(lo.Mode(), spec.stars), "M": str(len(results)),
                      "E": str(len(results))})
    return "\n".join(ew.render(st, table)) + "\n"


def check_style(given, fname) -> str:
    style = (given.get("style") or ("smcl" if fname is None else "tab")).strip()
    if style not in STYLES:
        raise StataError(f"{style} style not available (file estout_{style}.def not found)", 601)
    return "tab" if style == "esttab" else style
