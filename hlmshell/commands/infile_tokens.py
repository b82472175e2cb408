"""The free-format reading that infile's two forms share: a text file as a stream of values
(blank- or comma-separated, quoted strings, an empty field between two commas), dealt out to
the variables of a record (infile_outfile.py: infile varlist; infile_dictionary.py: a
dictionary without column positions)."""
from __future__ import annotations

import re

TYPE_WORD = re.compile(r"byte|int|long|float|double|strL|str([1-9]\d*)")
_TOKEN = re.compile(r'"([^"]*)"|([^\s,"]+)|(,)')


def tokens(text: str) -> list[tuple[str, bool] | None]:
    """Every value of a free-format file, in order: (text, quoted), None for an empty field
    between two commas."""
    out: list = []
    after_value = False           # a comma right after a value only separates
    for m in _TOKEN.finditer(text):
        if m.group(3):
            if not after_value:
                out.append(None)
            after_value = False
            continue
        out.append((m.group(1), True) if m.group(1) is not None else (m.group(2), False))
        after_value = True
    return out


def split_columns(toks: list, layout: list, byvar: int | None) -> list[list]:
    """The values of each layout slot (variables and skipped values), by observation."""
    width = sum(n if t is None and isinstance(n, int) else 1 for t, n in layout)
    slots = []
    for t, n in layout:
        slots += [None] * n if t is None and isinstance(n, int) else [n]
    if byvar is not None:
        need = byvar * width
        toks = toks + [None] * max(0, need - len(toks))
        cols = [toks[j * byvar:(j + 1) * byvar] for j in range(width)]
    else:
        nobs = -(-len(toks) // width) if toks else 0
        toks = toks + [None] * (nobs * width - len(toks))
        cols = [toks[j::width] for j in range(width)]
    return [c for s, c in zip(slots, cols) if s is not None]


