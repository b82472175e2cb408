"""numlabel: put the numeric value in front of value-label texts (`1. Male`), or take it away.

Course handouts run `numlabel _all, add` right after `use` so that tabulations show both the
code and the label; the codes are what `if` conditions need.
"""
from __future__ import annotations

import math

from hlmshell.commands._toolkit import typed_args
from hlmshell.data.locate import unquote
from hlmshell.errors import StataError
from hlmshell.registry import Opt, command


def _prefix(mask: str, value: float) -> str:
    return mask.replace("#", str(int(value)))


@command("numlabel", byable=False, qualifiers="",
         family="Data management", body="anything",
         desc="add or remove the numeric values in value labels",
         example="numlabel _all, add",
         options=(Opt("add", desc="prefix each label with its value"),
                  Opt("remove", desc="take the value prefix away"),
                  Opt("mask", "m", "string", desc="how the value is shown; default \"#. \""),
                  Opt("force", desc="add the prefix even if a label already starts with it"),
                  Opt("detail", desc="accepted for compatibility")))
def numlabel_cmd(session, cmd):
    opts = typed_args(cmd)
    if bool(opts.add) == bool(opts.remove):
        raise StataError("must specify either add or remove option", 198)
    mask = "#. " if opts.mask is None else unquote(opts.mask)
    if "#" not in mask:
        raise StataError("mask() must contain #", 198)
    ds = session.data
    names = (cmd.body or "").split()
    if not names or names == ["_all"]:
        names = sorted(ds.value_labels)
    for nm in names:
        if nm not in ds.value_labels:
            raise StataError(f"value label {nm} not found", 111)
    for nm in names:
        table = dict(ds.value_labels[nm])
        for v, text in table.items():
            if math.isnan(v):
                continue
            pre = _prefix(mask, v)
            if opts.add and (opts.force or not text.startswith(pre)):
                table[v] = pre + text
            elif opts.remove and text.startswith(pre):
                table[v] = text[len(pre):]
        ds.value_labels[nm] = table
    ds.changed = True
