"""stack: stack blocks of variables into the same new variables, one block after another.

    stack varlist [if] [in], {into(newvars) | group(#)} [clear wide]

`stack a b c d, into(x y)` makes 2N observations: x, y hold a, b for the first N, then c, d,
and `_stack` (the first variable) says which block (1, 2) each came from; `group(2)` is the same with the first
block's names. A variable may appear in several blocks (`stack a b a c, into(a bc)`). `wide`
also keeps each original variable of varlist that is not a new name, filled only in its own
block's rows. The new variables get the widest storage type of their column (numbers and
strings cannot share one: r(109)). As with `use`, unsaved changes are not discarded without
`clear` (r(4)). Course files reshape a few columns this way before graphing them together.
"""
from __future__ import annotations

import numpy as np

from hlmshell.commands._toolkit import check_name, touse, typed_args
from hlmshell.commands.files import check_can_replace_data
from hlmshell.data.dataset import Dataset, Variable
from hlmshell.errors import StataError, syntax_error
from hlmshell.registry import Opt, command
from hlmshell.syntax.lexer import top_words
from hlmshell.syntax.varlist import expand_varlist

_NUMERIC_ORDER = ("byte", "int", "long", "float", "double")


def varlist_with_repeats(ds, text: str) -> list[str]:
    """Each word expanded on its own, so a variable named twice stays twice."""
    out: list[str] = []
    for a, b in top_words(text):
        out += expand_varlist(ds, text[a:b])
    return out


def _column_type(vars_: list[Variable]) -> str:
    strings = [v for v in vars_ if v.is_string]
    if strings and len(strings) != len(vars_):
        raise StataError("type mismatch", 109)
    if strings:
        if any(v.vtype == "strL" for v in strings):
            return "strL"
        return f"str{max(int(v.vtype[3:]) for v in strings)}"
    kinds = [v.vtype for v in vars_]
    if "double" in kinds or ("long" in kinds and "float" in kinds):
        return "double"
    return max(kinds, key=_NUMERIC_ORDER.index)


def _blocks(names: list[str], opts) -> tuple[list[str], list[list[str]]]:
    """(new names, blocks of old names)."""
    if (opts.into is None) == (opts.group is None):
        raise StataError("must specify either into() or group()" if opts.into is None
                         else "options into() and group() may not be combined", 198)
    if opts.into is not None:
        new = list(opts.into)
        for nm in new:
            check_name(nm)
        if len(set(new)) != len(new):
            raise StataError(f"{next(n for n in new if new.count(n) > 1)} mentioned more than once", 198)
        k = len(new)
    else:
        g = int(opts.group)
        if g < 1 or len(names) % g:
            raise StataError("number of variables not a multiple of group()", 198)
        k = len(names) // g
        new = names[:k]
    if not k or len(names) % k:
        raise StataError("number of variables in varlist must be a multiple of the number "
                         "of variables in into()", 198)
    return new, [names[j:j + k] for j in range(0, len(names), k)]


@command("stack", byable=False, qualifiers="if in", body="anything", exp="none",
         family="Data management", desc="stack blocks of variables into the same new variables",
         example="stack mathach ses mathach meanses, into(y x) clear",
         options=(Opt("into", "", "varlist", None, "the new variables' names"),
                  Opt("group", "", "int", None, "split varlist into # blocks; the first block's names"),
                  Opt("clear", desc="discard unsaved changes"),
                  Opt("wide", desc="also keep the original variables, each filled in its own block")))
def stack_cmd(session, cmd):
    opts = typed_args(cmd)
    ds = session.data
    text = (cmd.body or "").strip()
    if not text:
        raise syntax_error()
    names = varlist_with_repeats(ds, text)
    new_names, blocks = _blocks(names, opts)
    check_can_replace_data(session, opts.clear)
    idx = np.flatnonzero(touse(session, cmd))
    n, g = idx.size, len(blocks)
    out = Dataset(value_labels={k: dict(v) for k, v in ds.value_labels.items()})
    out.add(Variable("_stack", np.repeat(np.arange(1, g + 1, dtype=float), n), "byte" if g < 101 else "int"))
    for col, nm in enumerate(new_names):
        vars_ = [ds.var(b[col]) for b in blocks]
        vtype = _column_type(vars_)
        values = np.concatenate([np.asarray(v.values[idx], dtype=object if v.is_string else float)
                                 for v in vars_]) if n else np.array([], dtype=float)
        first = vars_[0]
        fmt = first.format if first.vtype == vtype else None
        var = Variable(nm, values, vtype) if fmt is None else Variable(nm, values, vtype, fmt)
        out.add(var.evolve(label=first.label, vallab=first.vallab))
    if opts.wide:
        for j, block in enumerate(blocks):
            for nm in block:
                if nm in out:
                    continue
                v = ds.var(nm)
                filled = np.full(n * g, "" if v.is_string else np.nan, dtype=object if v.is_string else float)
                filled[j * n:(j + 1) * n] = v.values[idx]
                out.add(v.evolve(values=filled))
    if n == 0:
        out.set_obs(0)
    out.changed = True
    out.filename = ds.filename
    session.data = out
