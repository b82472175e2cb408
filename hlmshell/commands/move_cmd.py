"""move: the pre-Stata-11 way to relocate a variable, kept because old do-files use it.

    move varname1 varname2

puts varname1 where varname2 is and shifts varname2 and the rest one place on: the same as
`order varname1, before(varname2)` today. Replication files reorder their result columns with it.
"""
from __future__ import annotations

from hlmshell.errors import StataError, syntax_error
from hlmshell.registry import command
from hlmshell.syntax.varlist import expand_varlist


@command("move", byable=False, qualifiers="", body="varlist", exp="none", options=(),
         family="Data management", desc="relocate a variable before another (old order)",
         example="move ses id")
def move_cmd(session, cmd):
    ds = session.data
    words = (cmd.body or "").split()
    if len(words) != 2:
        raise syntax_error()
    first = expand_varlist(ds, words[0])
    second = expand_varlist(ds, words[1])
    if len(first) != 1 or len(second) != 1:
        raise StataError("too many variables specified", 103)
    a, b = first[0], second[0]
    if a == b:
        return
    names = [n for n in ds.names if n != a]
    names.insert(names.index(b), a)
    ds.vars = {n: ds.vars[n] for n in names}
    ds.changed = True
