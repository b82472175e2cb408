"""`range newvar #first #last [#obs]`: an evenly spaced variable (official Stata).

Course do-files use it to build a grid for plotting a fitted curve or a survival function
(`range t 0 10 101`). The values run from #first to #last in #obs steps; with more steps than
observations the data are extended (as `set obs` would), with fewer the remaining observations
are missing. The new variable has the default storage type (`set type`), float unless changed.
"""
from __future__ import annotations

import numpy as np

from hlmshell.commands import generate as g
from hlmshell.data.dataset import Variable
from hlmshell.errors import StataError
from hlmshell.registry import command
from hlmshell.syntax.evaluate import evaluate_scalar
from hlmshell.syntax.parser import parse_expr


def _number(session, text: str) -> float:
    """#first, #last and #obs may be numbers or expressions without variables (`_pi`, `2*_N`)."""
    v = evaluate_scalar(parse_expr(text), session)
    if isinstance(v, str):
        raise StataError("type mismatch", 109)
    return float(v)


@command("range", byable=False, qualifiers="", body="anything", options=False, family="Data management",
         desc="generate a numerical range", example="range t 0 10 101")
def range_cmd(session, cmd):
    words = (cmd.body or "").split()
    if len(words) not in (3, 4):
        raise StataError("invalid syntax", 198)
    name = words[0]
    g.check_newname(session, name)
    first, last = _number(session, words[1]), _number(session, words[2])
    ds = session.data
    if len(words) == 4:
        nobs = _number(session, words[3])
        if nobs != int(nobs) or nobs < 1:
            raise StataError(f"{words[3]} invalid number of observations", 198)
        nobs = int(nobs)
    else:
        nobs = ds.n
        if nobs < 1:
            raise StataError("no observations", 2000)
    if np.isnan(first) or np.isnan(last):
        raise StataError("missing values encountered", 416)
    vtype = session.settings.get("type", "float")
    if nobs > ds.n:
        ds.set_obs(nobs)
    vals = np.full(ds.n, np.nan)
    vals[:nobs] = first if nobs == 1 else first + (last - first) * np.arange(nobs) / (nobs - 1)
    ds.add(Variable(name, g.store(vals, vtype), vtype))
