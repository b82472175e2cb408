"""Where coefplot puts each coefficient: the categorical axis and its labels.

Coefficients are matched across models by equation and name; equations are ignored unless
some model contributes several (or eqstrict). Order: equations as first met, coefficients as
first met within an equation with _cons last; order() rearranges them (`.` leaves a gap).
Positions are 1, 2, ... (top to bottom when horizontal), with a one-unit gap between
equations, where hlmshell writes the equation's label (coefplot writes it beside the axis);
with several plots whose coefficients share positions each plot is offset by
-0.5 + plot/(plots+1) (offset() sets a plot's own). Labels: variable labels, `value label`
or `label=#` of factor levels, ` # ` between the parts of an interaction (nolabels: the
names), coeflabels() for any of them."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from hlmshell.commands import graph_common as gc
from hlmshell.commands._toolkit import value_text
from hlmshell.commands.coefplot_data import Rows, assignments, glob_regex, namelist
from hlmshell.errors import StataError
from hlmshell.syntax.lexer import find_top, strip_quotes


@dataclass
class Layout:
    pos: np.ndarray                          # per row: its position on the categorical axis
    ticks: list = field(default_factory=list)        # positions of the coefficient labels
    labels: list = field(default_factory=list)
    headings: list = field(default_factory=list)     # (position, equation label)
    extra: list = field(default_factory=list)        # (position, headings() text)
    lo: float = 0.5
    hi: float = 1.5
    atmode: bool = False                     # positions from at: a continuous axis


def unify_equations(rows: Rows, strict: bool) -> bool:
    """True when equations count (a model with several, or eqstrict); else every row's
    equation becomes `_`."""
    if strict:
        return True
    seen: dict = {}
    for e, p, b in zip(rows.eq, rows.plot, rows.by):
        seen.setdefault((p, b), set()).add(e)
    if any(len(s) > 1 for s in seen.values()):
        return True
    rows.eq = ["_"] * len(rows.eq)
    return False


def nice_order(rows: Rows) -> list:
    """(eq, coef) keys: equations as first met; within one, coefficients as first met, _cons
    last."""
    eqs: dict = {}
    for e, c in zip(rows.eq, rows.coef):
        eqs.setdefault(e, {}).setdefault(c, None)
    keys = []
    for e, coefs in eqs.items():
        names = [c for c in coefs if c != "_cons"] + (["_cons"] if "_cons" in coefs else [])
        keys += [(e, c) for c in names]
    return keys


def apply_order(keys: list, spec: str | None) -> list:
    """order(coeflist): listed coefficients first (within each equation when no equation is
    named), the rest after them; `.` is a gap (None)."""
    if not spec or not spec.strip():
        return keys
    items = namelist(spec)
    named = [e for e, _c in items]
    if named[0] == "" and any(named):
        raise StataError("inconsistent order(): specify equations for all or for none", 198)
    if named[0]:
        return _order_block(keys, items, None)
    out: list = []
    for eq in dict.fromkeys(e for e, _c in keys):
        out += _order_block([k for k in keys if k[0] == eq], [(eq, c) for _e, c in items], eq)
    return out


def _order_block(keys, items, eq) -> list:
    out: list = []
    used: set = set()
    for e, c in items:
        if c == ".":
            out.append((e if eq is None else eq, None))
            continue
        er, cr = glob_regex(e or "*"), glob_regex(c)
        for k in keys:
            if k not in used and er.match(k[0]) and cr.match(k[1]):
                out.append(k)
                used.add(k)
    return out + [k for k in keys if k not in used]


def apply_sort(keys: list, rows: Rows, spec: str | None) -> list:
    """sort[([subgraph:][plot] [, descending by(stat)])]: coefficients within each equation
    in increasing order of their smallest value of stat (b, se, v, t, tabs, p, df, ll #,
    ul #) among the rows of the chosen subgraph and plot."""
    if spec is None:
        return keys
    head, _, tail = spec.partition(",")
    sub, plot = _sort_target(head.strip())
    desc, stat, which = _sort_options(tail)
    best: dict = {}
    for i, key in enumerate(zip(rows.eq, rows.coef)):
        if (sub is not None and rows.by[i] != sub) or (plot is not None and rows.plot[i] != plot):
            continue
        v = _stat(rows, i, stat, which)
        if np.isnan(v):
            continue
        v = -v if desc else v
        best[key] = min(best.get(key, np.inf), v)
    eq_rank = {e: k for k, e in enumerate(dict.fromkeys(e for e, _c in keys))}
    ranked = sorted(range(len(keys)), key=lambda k: (eq_rank[keys[k][0]],
                                                     best.get(keys[k], np.inf), k))
    return [keys[k] for k in ranked]


def _sort_target(head: str) -> tuple:
    if not head:
        return None, None
    sub, colon, plot = head.partition(":")
    if not colon:
        sub, plot = ".", head
    try:
        return tuple(None if w.strip() in ("", ".") else int(w) for w in (sub, plot))
    except ValueError:
        raise StataError("invalid sort()", 198) from None


def _sort_options(tail: str) -> tuple:
    from hlmshell.syntax.parser import parse_options
    desc, stat, which = False, "b", 1
    for o in parse_options(tail):
        if gc.abbrev_match(o.name, "descending", "d"):
            desc = True
        elif o.name == "by" and o.arg:
            words = o.arg.split()
            stat = words[0]
            which = int(words[1]) if len(words) > 1 and words[1].isdigit() else 1
            if stat not in ("b", "v", "se", "t", "tabs", "p", "df", "ll", "ul"):
                raise StataError(f"sort(, by({o.arg})) not allowed", 198)
        else:
            raise gc.not_allowed(o.name)
    return desc, stat, which


def _stat(rows: Rows, i: int, stat: str, which: int) -> float:
    b, se, df = rows.b[i], rows.se[i], rows.df[i]
    if stat in ("ll", "ul"):
        cis = rows.cis[i]
        return cis[which - 1][0 if stat == "ll" else 1] if which <= len(cis) else np.nan
    t = b / se if se > 0 else np.nan
    if stat == "p":
        from scipy.stats import norm
        from scipy.stats import t as tdist
        return float(2 * (tdist.sf(abs(t), df) if np.isfinite(df) else norm.sf(abs(t))))
    return {"b": b, "se": se, "v": se * se, "t": t, "tabs": abs(t), "df": df}[stat]


def positions(keys: list, meqs: bool, eqlabels: bool) -> tuple[dict, list, list]:
    """{key: position}, the coefficient ticks, the equation headings (position, eq)."""
    where: dict = {}
    ticks: list = []
    heads: list = []
    pos = 0.0
    last_eq = None
    for e, c in keys:
        if last_eq is not None and e != last_eq and meqs:
            pos += 1                               # the gap between equations
        if e != last_eq and meqs and eqlabels:
            heads.append((pos, e))
        last_eq = e
        pos += 1
        if c is not None:
            where[(e, c)] = pos
            ticks.append(((e, c), pos))
    return where, ticks, heads


def add_headings(where: dict, ticks: list, heads: list, spec: str | None) -> list:
    """headings(coeflist = "text" ... [, gap(#) nogap offset(#)]): a heading line before the
    first matching coefficient; it and everything after it move down by one line, plus the
    gap (default 1) unless it is the first coefficient, as coefplot places them."""
    if not spec or not spec.strip():
        return []
    comma = find_top(spec, ",")
    head, tail = (spec, "") if comma < 0 else (spec[:comma], spec[comma + 1:])
    gap, off = _heading_options(tail)
    wanted = [(namelist(n), strip_quotes(t)) for n, t in assignments(head, "headings")]
    events = []                                   # (original position, lines added)
    added = []
    for k, ((e, c), p) in enumerate(ticks):
        hit = next((t for pairs, t in wanted
                    if any(glob_regex(pe or "*").match(e) and glob_regex(pc).match(c)
                           for pe, pc in pairs)), None)
        if hit is not None:
            events.append((p, 1 + (gap if k > 0 else 0)))
            added.append((p, hit))

    def moved(x: float, strict: bool) -> float:
        return x + sum(n for p, n in events if (p < x if strict else p <= x))

    for k, (key, p) in enumerate(ticks):
        ticks[k] = (key, moved(p, False))
        where[key] = ticks[k][1]
    heads[:] = [(moved(p, True), t) for p, t in heads]
    return [(moved(p, False) - 1 + off, t) for p, t in added]


def _heading_options(tail: str) -> tuple[float, float]:
    from hlmshell.syntax.parser import parse_options
    gap, off = 1.0, 0.0
    for o in parse_options(tail):
        if o.name == "nogap":
            gap = 0.0
        elif gc.abbrev_match(o.name, "gap", "g"):
            gap = gc.number(o.arg, "gap")
        elif gc.abbrev_match(o.name, "offset", "off"):
            off = gc.number(o.arg, "offset")
    return gap, off


def offsets(rows: Rows, pos: np.ndarray, plot_offsets: dict, auto: bool,
            subgraph_plots: dict, recycle: bool = True) -> np.ndarray:
    """Automatic offsets when plots share positions, -0.5 + plot/(plots+1) (plots counted
    with _skip; with norecycle and several subgraphs, within each subgraph); offset() of a
    plot replaces them."""
    pos = pos.copy()
    plot = np.asarray(rows.plot)
    if plot_offsets:
        for p, off in plot_offsets.items():
            pos[plot == p] += off
        return pos
    if not auto:
        return pos
    keys = list(zip(rows.by, pos))
    if len(set(keys)) == len(keys):
        return pos                                   # one estimate per position
    if recycle or len(subgraph_plots) == 1:
        n = max(max(v) for v in subgraph_plots.values())
        return pos - 0.5 + plot / (n + 1)
    by = np.asarray(rows.by)
    for b, plots in subgraph_plots.items():
        first, last = min(plots), max(plots)
        sel = by == b
        pos[sel] += -0.5 + (plot[sel] - first + 1) / (last - first + 2)
    return pos


# ---- labels --------------------------------------------------------------------------------
def coef_label(ds, name: str, interaction: str = " # ") -> str:
    """coefplot's label of a coefficient name from the data's variable and value labels."""
    parts = []
    for part in name.split("#"):
        parts.append(_part_label(ds, part))
    return interaction.join(parts)


def _part_label(ds, part: str) -> str:
    if "." not in part:
        if ds is not None and part in ds:
            return ds.var(part).label or part
        return part
    level, _, var = part.partition(".")
    if ds is None or not var or var not in ds:
        return part
    v = ds.var(var)
    try:
        num = float(level)
    except ValueError:
        op = level.removeprefix("c")
        text = v.label or var
        return f"{op}.{text}" if op else text
    if v.vallab and v.vallab in ds.value_labels:
        return value_text(ds, v, num)
    return f"{v.label or var}={level}"


def labels_for(ds, ticks: list, opts: dict) -> list:
    """Tick labels: names (nolabels) or labels, then coeflabels() (first match wins)."""
    interaction = " # "
    custom: list = []
    shape = (None, None)
    if opts.get("coeflabels"):
        text = opts["coeflabels"]
        comma = find_top(text, ",")
        head, tail = (text, "") if comma < 0 else (text[:comma], text[comma + 1:])
        interaction = _interaction(tail, interaction)
        shape = _shape_options(tail)
        if head.strip():
            custom = [(namelist(n), strip_quotes(v)) for n, v in assignments(head, "coeflabels")]
    out = []
    for (e, c), _p in ticks:
        text = c if "nolabels" in opts else coef_label(ds, c, interaction)
        for pairs, lab in custom:
            if any(glob_regex(pe or "*").match(e) and glob_regex(pc).match(c)
                   for pe, pc in pairs):
                text = lab
                break
        out.append(shaped(text, *shape))
    return out


def _shape_options(tail: str) -> tuple:
    from hlmshell.syntax.parser import parse_options
    trunc = wrap = None
    for o in parse_options(tail):
        if gc.abbrev_match(o.name, "truncate", "t"):
            trunc = gc.integer(o.arg, "truncate", 1)
        elif gc.abbrev_match(o.name, "wrap", "w"):
            wrap = gc.integer(o.arg, "wrap", 1)
    return trunc, wrap


def shaped(text: str, trunc: int | None, wrap: int | None) -> str:
    """truncate(#) then wrap(#): whole words up to # characters a line (a longer word is
    cut); a label already on several lines is left as it is."""
    if "\n" in text or (trunc is None and wrap is None):
        return text
    if trunc is not None:
        lines = _fill(text, trunc)
        text = lines[0] if lines else ""
    return "\n".join(_fill(text, wrap)) if wrap is not None else text


def _fill(text: str, width: int) -> list:
    lines: list = []
    cur = ""
    for word in text.split():
        while len(word) > width:
            if cur:
                lines.append(cur)
                cur = ""
            lines.append(word[:width])
            word = word[width:]
        if not word:
            continue
        if cur and len(cur) + 1 + len(word) > width:
            lines.append(cur)
            cur = word
        else:
            cur = f"{cur} {word}" if cur else word
    if cur:
        lines.append(cur)
    return lines


def _interaction(tail: str, default: str) -> str:
    from hlmshell.syntax.parser import parse_options
    for o in parse_options(tail):
        if gc.abbrev_match(o.name, "interaction", "i"):
            return strip_quotes(o.arg or "")
    return default


def equation_labels(heads: list, opts: dict) -> list:
    """(position, text): the equation names, or eqlabels("..." ...) in order."""
    given = []
    if opts.get("eqlabels"):
        text = opts["eqlabels"]
        comma = find_top(text, ",")
        text = text if comma < 0 else text[:comma]
        from hlmshell.syntax.lexer import top_words
        given = [strip_quotes(text[s:e]) for s, e in top_words(text)]
    return [(p, given[k] if k < len(given) else e) for k, (p, e) in enumerate(heads)]
