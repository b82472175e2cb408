"""mark and markin ([P] mark): marker variables of the observations a computation will use.

    mark newmarkvar [if] [in] [weight] [, zeroweight noby]
    markin [if] [in] [, name(lclname) noby]

Do-files written by programmers' habit do `mark touse`, then `markout touse y x1-x9` (markout,
with marksample, lives in program_parsing.py) and `keep if touse` to fix one estimation sample
for several models. mark's variable is a byte, 1 for an observation selected by if/in with a
nonmissing weight (and a nonzero one unless `zeroweight`; a negative fweight, aweight or
pweight is r(402)), 0 otherwise. markin finds the range of observations an if/in selects (the
marker: `markin if `touse'`) and leaves `in first/last` in the local `in` (or name()), so
later commands can skip the rest of a large dataset.
"""
from __future__ import annotations

import numpy as np

from hlmshell.commands._toolkit import check_name, typed_args
from hlmshell.data.dataset import Variable
from hlmshell.errors import StataError, syntax_error
from hlmshell.registry import Opt, command
from hlmshell.syntax.evaluate import evaluate, in_mask


def selected(session, cmd) -> np.ndarray:
    """if/in (and the by-group being run) as a boolean mask."""
    n = session.data.n
    mask = np.ones(n, dtype=bool)
    if cmd.in_ is not None:
        mask &= in_mask(n, cmd.in_)
    if cmd.if_ is not None:
        v = evaluate(cmd.if_, session)
        if isinstance(v, str) or getattr(np.asarray(v), "dtype", None) == object:
            raise StataError("type mismatch", 109)
        mask &= np.broadcast_to(np.asarray(v, dtype=float) != 0, (n,))
    br = getattr(session, "by_restrict", None)
    if br is not None:
        mask &= np.asarray(br, dtype=bool)
    return mask


@command("mark", byable=False, qualifiers="if in weight", weights="fw aw pw iw", body="newvarlist",
         exp="none", family="Programming", desc="create a 0/1 marker of the observations to use",
         example="mark touse if ses < .",
         options=(Opt("zeroweight", desc="keep observations with a zero weight"),
                  Opt("noby", desc="ignore the by-group")))
def mark_cmd(session, cmd):
    opts = typed_args(cmd)
    words = (cmd.body or "").split()
    if len(words) != 1:
        raise syntax_error()
    name = words[0]
    check_name(name)
    if name in session.data:
        raise StataError(f"variable {name} already defined", 110)
    mask = _selected_noby(session, cmd, opts.noby)
    if cmd.weight is not None:
        w = evaluate(cmd.weight.exp, session)
        if isinstance(w, str) or getattr(np.asarray(w), "dtype", None) == object:
            raise StataError("type mismatch", 109)
        w = np.broadcast_to(np.asarray(w, dtype=float), (session.data.n,))
        mask &= ~np.isnan(w)
        if cmd.weight.kind != "iweight" and (w[mask] < 0).any():
            raise StataError("negative weights encountered", 402)
        if not opts.zeroweight:
            mask &= w != 0
    session.data.add(Variable(name, mask.astype(np.float64), "byte"))


def _selected_noby(session, cmd, noby: bool) -> np.ndarray:
    saved = session.by_restrict
    if noby:
        session.by_restrict = None
    try:
        return selected(session, cmd)
    finally:
        session.by_restrict = saved


@command("markin", byable=False, qualifiers="if in", body="none", exp="none", family="Programming",
         desc="the in range holding the observations an if/in selects, in a local",
         example="markin if `touse'",
         options=(Opt("name", "", "name", None, "the local that receives the range (default in)"),
                  Opt("noby", desc="ignore the by-group")))
def markin_cmd(session, cmd):
    opts = typed_args(cmd)
    idx = np.flatnonzero(_selected_noby(session, cmd, opts.noby))
    text = f"in {idx[0] + 1}/{idx[-1] + 1}" if idx.size else ""
    session.local[opts.name or "in"] = text
