"""mplotoffset (N. Winter's SSC command, built in): marginsplot with line g of G moved along x by
offset * (g - (G-1)/2), so that the intervals of several lines at one x do not overlap.

    mplotoffset [using file] [, offset(#) marginsplot_options]

Without `using` it draws the last margins as marginsplot does; with it, a file saved by
`margins, saving()` or combomarginsplot's savefile(), as combomarginsplot draws one file.
"""
from __future__ import annotations

import re
from types import SimpleNamespace

from hlmshell.commands import combomarginsplot as cmp
from hlmshell.commands import graph_common as gc
from hlmshell.commands import marginsplot as mp
from hlmshell.errors import StataError
from hlmshell.registry import command
from hlmshell.syntax.parser import parse_options

MPLOT_DEFAULT_OFFSET = 0.1      # the offset when none is typed (hlmshell's choice)


@command("mplotoffset", family="Graphics", raw=True, byable=False, changes_data=False,
         desc="marginsplot with the lines moved apart along x, so intervals do not overlap (SSC)",
         example="mplotoffset, offset(0.05) recast(connected)")
def mplotoffset(session, cmd) -> None:
    """mplotoffset [using file] [, offset(#) marginsplot_options] (N. Winter's SSC command):
    marginsplot of the last margins, or of a file saved by `margins, saving()` or by
    combomarginsplot's savefile(), with line g of G moved by offset * (g - (G-1)/2)."""
    text = (cmd.body or "").strip()
    m = re.match(r"using\s+(\"[^\"]*\"|[^\s,]+)\s*", text)
    if m:
        rest = text[m.end():]
        if rest and not rest.startswith(","):
            raise StataError("invalid syntax", 198)
        opts = rest[1:] if rest else ""
        if not re.search(r"(^|\s)offset\s*\(", opts):
            opts += f" offset({MPLOT_DEFAULT_OFFSET})"
        cmp.combomarginsplot(session, SimpleNamespace(body=f"{m.group(1)}, {opts}", text=cmd.text))
        return
    if text and not text.startswith(","):
        raise StataError("invalid syntax", 198)
    rest, numbered = mp.numbered_options(parse_options(text[1:] if text else ""))
    own, gopts = gc.split_options(rest, {**mp.OWN, "offset": ("offset", True)})
    own["_numbered"] = numbered
    try:
        own["_offset"] = float(own.pop("offset", MPLOT_DEFAULT_OFFSET))
    except ValueError:
        raise StataError("option offset() incorrectly specified", 198) from None
    mp.draw(session, cmd, own, gopts)
