"""esttab / estout options that add, move or rename coefficient rows: rename(), indicate(),
refcat() (estout.hlp).

    rename(old new [old new ...])      a coefficient shown (and matched) under a new name;
                                        old may be eq:name, 1.x matches 1b.x
    indicate("label = coefs" ... [, labels(Yes No)])
                                        the coefficients are dropped; a row `label` says per
                                        model whether it has any of them (Yes / No)
    refcat(coef "label" ... [, label(ref.) nolabel below])
                                        a row `label` above (below) coef, with "ref." in each
                                        model that has coef
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from hlmshell.commands import esttab_labels as el
from hlmshell.commands import esttab_cells as ec
from hlmshell.commands.esttab_cells import coef_matches
from hlmshell.errors import StataError
from hlmshell.output import estout_writer as ew
from hlmshell.syntax.lexer import find_top


renames = ec.renames
renamed = ec.renamed


@dataclass
class Indicator:
    label: str
    patterns: list[str]


def _split_opts(text: str) -> tuple[str, str]:
    comma = find_top(text, ",")
    return (text, "") if comma < 0 else (text[:comma], text[comma + 1:])


def indicators(given) -> tuple[list[Indicator], tuple[str, str]]:
    """indicate() -> the indicator rows and the (yes, no) texts."""
    text = given.get("indicate")
    if text is None:
        return [], ("Yes", "No")
    head, opts = _split_opts(text)
    yes_no = ("Yes", "No")
    m = re.fullmatch(r"\s*l(?:a(?:b(?:e(?:ls?)?)?)?)?\s*\((.*)\)\s*", opts) if opts.strip() else None
    if opts.strip() and m is None:
        raise StataError("indicate(): invalid suboption", 198)
    if m is not None:
        w = el.words(m.group(1))
        if len(w) != 2:
            raise StataError("indicate(): labels() needs two labels", 198)
        yes_no = (w[0], w[1])
    items = el.words(head) if '"' in head else [head]
    out = []
    for item in items:
        label, eq, coefs = item.partition("=")
        if not eq or not coefs.split():
            raise StataError("indicate() invalid: label = coefficients", 198)
        out.append(Indicator(label.strip(), coefs.split()))
    return out, yes_no


def indicator_cells(results, ind: Indicator, yes_no, width: int) -> list[tuple[str, str]]:
    """Yes/No per model, in each model's first sub-column."""
    cells = []
    for r in results:
        has = any(coef_matches(eq, name, ind.patterns) or coef_matches("", name, ind.patterns)
                  for eq, name in r.names)
        cells += [(yes_no[0] if has else yes_no[1], "")] + [("", "")] * (width - 1)
    return cells


@dataclass
class Refcat:
    coefs: dict[str, str]
    label: str
    below: bool


def refcats(given) -> Refcat | None:
    text = given.get("refcat")
    if text is None:
        return None
    head, opts = _split_opts(text)
    w = el.words(head)
    if not w or len(w) % 2:
        raise StataError("refcat() invalid: coefficient and label required", 198)
    label, below = "ref.", False
    for m in re.finditer(r"(\w+)\s*(?:\(([^()]*)\))?", opts):
        word, arg = m.group(1).lower(), m.group(2)
        if word.startswith("lab") and arg is not None:
            label = el.words(arg)[0] if '"' in arg else arg.strip()
        elif word == "nolabel":
            label = ""
        elif word == "below":
            below = True
        else:
            raise StataError(f"refcat(): option {word} not allowed", 198)
    return Refcat(dict(zip(w[::2], w[1::2])), label, below)


def add_refcats(blocks: list[ew.Block], keys: list[tuple[str, str] | None], ref: Refcat | None,
                width: int) -> list[ew.Block]:
    """The refcat() rows, above (below) the blocks of the named coefficients."""
    if ref is None:
        return blocks
    out = []
    for b, key in zip(blocks, keys):
        hit = next((lab for c, lab in ref.coefs.items() if key and coef_matches(key[0], key[1], [c])), None)
        if hit is None:
            out.append(b)
            continue
        first = b.rows[0] if b.rows else []
        cells = [((ref.label if c[0] else ""), "") if j % width == 0 else ("", "") for j, c in enumerate(first)]
        row = ew.Block(hit, [cells])
        if ref.below:
            out += [b, row]
        else:
            row.pre, b.pre = b.pre, []
            out += [row, b]
    return out
