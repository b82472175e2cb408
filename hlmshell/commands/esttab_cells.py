"""esttab / estout `cells()`: which statistics fill the table's cells, from e(b) or from any
e() vector (estpost's e(mean), e(sd), e(count), ..., estadd's matrices).

    cells(b(star fmt(3)) se(par fmt(2)))     one row under the other (estout's default form)
    cells("mean sd min max")                 side by side: a sub-column each
    cells("b pct(fmt(2))" count)             both

Each element is a name with optional sub-options fmt(%fmt | # | a#), par, star, label(text).
b, se, var, t, z, p and the 95% bounds ci_l, ci_u come from e(b) and e(V); any other name is the e() matrix of that name, its
columns matched to the table's rows by name (`eq:name` for equations), as estout.hlp defines
cells(). Numbers are in %9.0g unless fmt() says otherwise (estout's default).
"""
from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass

import numpy as np

from hlmshell.commands.etable import coefficients, merge_order
from hlmshell.errors import StataError
from hlmshell.output import paper_tables as pt

_COEF = ("b", "se", "t", "z", "p", "var", "ci_l", "ci_u")
_ELEMENT = re.compile(r"\s*(\w+)(?:\s*\(((?:[^()]|\([^()]*\))*)\))?")


@dataclass
class Element:
    name: str
    fmt: object
    par: bool
    star: bool
    label: str
    keep: list[str] | None = None       # keep()/drop(): the coefficients it is shown for
    drop: list[str] | None = None
    fmt_given: bool = True
    vacant: str | None = None           # vacant(): shown where a model lacks the coefficient

    def shown(self, key) -> bool:
        if self.keep is not None and not coef_matches(key[0], key[1], self.keep):
            return False
        return not (self.drop and coef_matches(key[0], key[1], self.drop))


def number_format(spec: str | None):
    """estout's fmt(): a# (adaptive), # (decimals), %fmt; %9.0g by default."""
    from hlmshell.output.numfmt import fmt as nfmt
    s = (spec or "").strip() or "%9.0g"
    if re.fullmatch(r"a\d", s):
        return lambda x, d=int(s[1]): pt.estout_a(x, d)
    if s.isdigit():
        return lambda x, d=int(s): pt.fixed(x, d)
    if re.fullmatch(r"%-?\d+\.\d+[fgec]c?", s):
        return lambda x: "." if x is None or x != x else nfmt(float(x), s).strip()
    raise StataError(f"{s}: invalid format", 198)


def _element(name: str, sub: str) -> Element:
    fmt = re.search(r"fmt\(([^()]*)\)", sub)
    label = re.search(r'label\(\s*"?([^()"]*)"?\s*\)', sub)
    keep = re.search(r"keep\(([^()]*)\)", sub)
    drop = re.search(r"drop\(([^()]*)\)", sub)
    vacant = re.search(r'vacant\(\s*"?([^()"]*)"?\s*\)', sub)
    rest = re.sub(r"(fmt|label|keep|drop|vacant)\([^()]*\)", "", sub).split()
    if any(w not in ("par", "star", "nopar", "nostar") for w in rest):
        raise StataError(f"invalid cells(): {sub}", 198)
    return Element(name, number_format(fmt.group(1) if fmt else None), "par" in rest, "star" in rest,
                   label.group(1) if label else ("" if name == "_star" else name), keep.group(1).split() if keep else None,
                   drop.group(1).split() if drop else None, fmt is not None,
                   vacant.group(1) if vacant else None)


def _elements(text: str) -> list[Element]:
    out, pos = [], 0
    while pos < len(text.rstrip()):
        m = _ELEMENT.match(text, pos)
        if not m or m.end() == pos:
            raise StataError("invalid cells()", 198)
        out.append(_element(m.group(1), m.group(2) or ""))
        pos = m.end()
    return out


def parse_cells(text: str | None) -> list[list[Element]]:
    """cells() -> rows of side-by-side elements (a quoted group is one row); an element
    without fmt() takes the first element's (estout)."""
    rows = _parse_rows(text)
    first = rows[0][0] if rows and rows[0] else None
    for r in rows:
        for e in r:
            if not e.fmt_given and first is not None and first.fmt_given:
                e.fmt = first.fmt
    return rows


def _parse_rows(text: str | None) -> list[list[Element]]:
    text = (text or "").strip()
    if not text or text in ("none", '"none"'):
        raise StataError("invalid cells()", 198)
    rows, pos = [], 0
    while pos < len(text):
        if text[pos].isspace():
            pos += 1
            continue
        if text[pos] == '"':
            end = text.find('"', pos + 1)
            if end < 0:
                raise StataError("invalid cells(): unmatched quote", 198)
            group = _elements(text[pos + 1:end])
            if group:
                rows.append(group)
            pos = end + 1
            continue
        m = _ELEMENT.match(text, pos)
        if not m or m.end() == pos:
            raise StataError("invalid cells()", 198)
        rows.append([_element(m.group(1), m.group(2) or "")])
        pos = m.end()
    return rows


def coefficient_only(rows: list[list[Element]]) -> bool:
    return all(len(r) == 1 and r[0].name in _COEF for r in rows)


# --------------------------------------------------------------------------- values
def _split(colname: str) -> tuple[str, str]:
    eq, _, name = str(colname).rpartition(":")
    return eq, name


def _model_values(res, names: set[str], pairs=(), transform=None) -> tuple[dict, list[tuple[str, str]]]:
    """{(element, eq, row): value} of one model and its rows in order; transform(coef) gives
    the coefficient as shown (transform()/eform)."""
    vals: dict = {}
    order: list[tuple[str, str]] = []
    pvec = _vector_by_key(res.matrices.get("p"))      # estout's pvalue(p): e(p) when posted
    if names & set(_COEF) and len(res.names):
        # equations matched by equations() keep their names (#1, ...): no model's first
        # equation is then the unnamed main one
        first = None if getattr(res, "estout_eqnames", False) else res.names[0][0]
        q = critical(res)
        for c in coefficients(res, omitted=True):
            c = transform(c) if transform is not None else c
            eq = "" if c.eq == first else c.eq
            key = (eq, renamed(eq, c.name, list(pairs)))
            p = pvec.get((eq, c.name), c.p)
            for el, v in (("b", c.b), ("se", c.se), ("t", c.z), ("z", c.z), ("p", c.p),
                          ("var", c.se * c.se), ("ci_l", c.b - q * c.se), ("ci_u", c.b + q * c.se)):
                vals[(el,) + key] = (v, p)
            order.append(key)
    for el in names - set(_COEF):
        m = res.matrices.get(el)
        if m is None:
            continue
        arr = np.atleast_2d(np.asarray(getattr(m, "values", m), dtype=float))
        cols = list(getattr(m, "colnames", [f"c{k + 1}" for k in range(arr.shape[1])]))
        for k, cname in enumerate(cols):
            key = _split(cname)
            vals[(el,) + key] = (float(arr[0, k]), pvec.get(key))
            if key not in order:
                order.append(key)
    return vals, order


def _vector_by_key(m) -> dict:
    """An e() row vector as {(eq, name): value} (eq '' for names without one)."""
    if m is None:
        return {}
    arr = np.atleast_2d(np.asarray(getattr(m, "values", m), dtype=float))
    cols = list(getattr(m, "colnames", []))
    return {_split(c): float(arr[0, k]) for k, c in enumerate(cols) if k < arr.shape[1]}


def critical(res, level: float = 95.0) -> float:
    """The 95% interval's critical value: t with e(df_r), else normal (estout's ci_l/ci_u)."""
    from hlmshell import distributions as dist
    df = res.scalars.get("df_r")
    a = (1 - level / 100) / 2
    return float(dist.t_isf(a, df)) if df is not None and df == df else float(dist.norm_isf(a))


@dataclass
class KeyRow(pt.PaperRow):
    """A coefficient's first row, with its (equation, name) for varlabels() and friends."""
    key: tuple[str, str] = ("", "")
    eqlabel: str = ""


@dataclass
class CellsTable:
    heads: list[list[str]]
    rows: list[pt.PaperRow]
    width: int                  # sub-columns per model
    stars: bool


def _cell(el: Element, got, stars, key=None) -> tuple[str, str]:
    if key is not None and not el.shown(key):
        return ("", "")
    if got is None:
        return (el.vacant or "", "")
    if el.name == "_star":                  # the coefficient's stars as an element of their own
        return (pt.stars_for(got[1], stars), "")
    v, p = got
    text = el.fmt(v)
    return (f"({text})" if el.par else text, pt.stars_for(p, stars) if el.star else "")


def coef_matches(eq: str, name: str, patterns: list[str]) -> bool:
    """estout's keep()/drop() matching: `name`, `eq:name`, `eq:` (a whole equation), with
    wildcards; factor-variable names match with or without base/omitted markers
    (1.x matches 1b.x)."""
    from hlmshell.commands._postest import norm_name
    names = {name, norm_name(name)}
    for p in patterns:
        peq, colon, pname = p.rpartition(":") if ":" in p else ("", "", p)
        if colon and not fnmatch.fnmatchcase(eq, peq or "*"):
            continue
        if colon and not pname:
            return True
        if any(fnmatch.fnmatchcase(n, pname) or fnmatch.fnmatchcase(n, norm_name(pname)) for n in names):
            return True
    return False


def renames(given) -> list[tuple[str, str]]:
    """rename(old new ...) as pairs."""
    text = given.get("rename")
    if text is None:
        return []
    w = text.replace('"', " ").split()
    if not w or len(w) % 2:
        raise StataError("rename() invalid", 198)
    return list(zip(w[::2], w[1::2]))


def renamed(eq: str, name: str, pairs: list[tuple[str, str]]) -> str:
    for old, new in pairs:
        if coef_matches(eq, name, [old]):
            return new
    return name


def ordered(keys: list, given, name=lambda k: k[1]) -> list:
    """order(): the named coefficients first, in that order (estout's order())."""
    from hlmshell.commands._postest import norm_name
    first = []
    for w in (given.get("order") or "").split():
        first += [k for k in keys if k not in first and (name(k) == w or norm_name(name(k)) == w)]
    return first + [k for k in keys if k not in first]


def _keys(per, given) -> list[tuple[str, str]]:
    """The table's rows: every model's, in order, less keep()/drop()/noconstant."""
    keys = merge_order([order for _, order in per])
    keep = (given.get("keep") or "").split()
    drop = (given.get("drop") or "").split()
    if "noconstant" in given:
        drop.append("_cons")
    return ordered([k for k in keys if (not keep or coef_matches(*k, keep)) and not coef_matches(*k, drop)], given)


def _key_rows(key, rows, per, width, stars, label: str) -> list[pt.PaperRow]:
    """A coefficient's rows; a row whose elements are all dropped for it (keep()/drop()) is
    left out, the first excepted (estout's skiprow)."""
    out = []
    for g, group in enumerate(rows):
        if g and not any(el.shown(key) for el in group):
            continue
        cells = []
        for vals, _ in per:
            cs = [_cell(el, vals.get(("b" if el.name == "_star" else el.name,) + key), stars, key)
                  for el in group]
            cells += cs + [("", "")] * (width - len(cs))
        out.append(KeyRow(label, cells, "coef", key=key, eqlabel=key[0]) if g == 0 else
                   pt.PaperRow("", cells, "aux"))
    return out


def _wanted(results, rows) -> set[str]:
    """The elements asked for; one that is neither a coefficient statistic nor an e() vector
    of some model is an error (a typo would otherwise leave the table empty)."""
    wanted = {e.name for r in rows for e in r}
    if "_star" in wanted:                   # _star: the stars of b, in a column of their own
        wanted = (wanted - {"_star"}) | {"b"}
    for name in sorted(wanted - set(_COEF)):
        if not any(name in res.matrices for res in results):
            raise StataError(f"invalid cells(): e({name}) not found", 198)
    return wanted


def build_cells(session, results, given, rows: list[list[Element]], stars, label_fn,
                model_heads: list[list[str]], transform=None) -> CellsTable:
    """The table's body and headers: one block of sub-columns per model; transform(m, coef)
    the m-th model's coefficient as shown."""
    width = max(len(r) for r in rows)
    wanted = _wanted(results, rows)
    per = [_model_values(res, wanted, renames(given),
                         None if transform is None else (lambda c, m=m: transform(m, c)))
           for m, res in enumerate(results)]
    keys = _keys(per, given)
    eqs = list(dict.fromkeys(eq for eq, _ in keys))
    body: list[pt.PaperRow] = []
    gaps = len(rows) > 1 and "nogaps" not in given
    for i, eq in enumerate(eqs):
        if len(eqs) > 1:
            first = next((r.names[0][0] for r in results if r.names), "")
            body += ([pt.PaperRow(kind="rule")] if i else []) + [pt.PaperRow(eq or first, [], "eq")]
        for k, key in enumerate([x for x in keys if x[0] == eq]):
            if k and gaps:
                body.append(pt.PaperRow(kind="gap"))
            body += _key_rows(key, rows, per, width, stars, label_fn(key[1]))
    heads = [sum(([h] + [""] * (width - 1) for h in row), []) for row in model_heads]
    if width > 1:
        group = next(r for r in rows if len(r) == width)
        heads.append([e.label for e in group] * len(results))
    return CellsTable(heads, body, width, any(e.star for r in rows for e in r))


def column_labels(rows: list[list[Element]]) -> list[str]:
    """estout's default collabels(): per sub-column, its elements' labels joined by `/`."""
    width = max(len(r) for r in rows)
    return ["/".join(r[j].label for r in rows if j < len(r)) for j in range(width)]


def star_columns(rows: list[list[Element]]) -> list[bool]:
    """Sub-columns holding a starred element get estout's star slot."""
    width = max(len(r) for r in rows)
    return [any(j < len(r) and r[j].star for r in rows) for j in range(width)]


def widen(cells: list[tuple[str, str]], width: int) -> list[tuple[str, str]]:
    """Per-model cells of a statistics row, placed in each model's first sub-column."""
    out = []
    for c in cells:
        out += [c] + [("", "")] * (width - 1)
    return out


_LZ = re.compile(r"(^|[(\[\s,-])0\.(?=\d)")


_DOT = re.compile(r"\.(?=\d)")


def decimal_marker(rows: list, text: str | None) -> list:
    """dmarker(): the decimal point of every number shown as that one character."""
    if text is None:
        return rows
    mark = text.strip().strip('"')
    if len(mark) != 1:
        raise StataError("dmarker() invalid", 198)
    for r in rows:
        r.cells = [(_DOT.sub(mark, text), stars) for text, stars in r.cells]
    return rows


def no_leading_zeros(rows: list) -> list:
    """nolz: fixed-format numbers without their leading zero (0.12 -> .12, -0.5 -> -.5)."""
    for r in rows:
        r.cells = [(_LZ.sub(r"\1.", text), stars) for text, stars in r.cells]
    return rows
