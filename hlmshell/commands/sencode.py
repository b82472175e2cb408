"""sencode (Roger Newson's SSC package, built in): "sequential encode" -- a string variable to a
labelled numeric one whose codes follow the order in which the strings first appear in the
data (or in a gsort() order), not alphabetical order as encode's; `many` gives every
observation its own code (many codes per string); `replace` puts the numeric variable in the
string variable's place.
"""
from __future__ import annotations

import re

import numpy as np

from hlmshell.commands import generate as g
from hlmshell.commands._toolkit import sort_keys, typed_args
from hlmshell.data.dataset import Variable
from hlmshell.errors import StataError
from hlmshell.registry import Opt, command


def _order(session, spec: str | None) -> np.ndarray:
    """Observation order for first appearances: the data's order, or gsort(spec)'s."""
    ds = session.data
    if not spec or not spec.strip():
        return np.arange(ds.n)
    names, desc = [], []
    for w in spec.split():
        sign = w[0] if w[0] in "+-" else "+"
        name = w.lstrip("+-")
        full = g.one_var(session, name)
        names.append(full)
        desc.append(sign == "-")
    return sort_keys(ds, names, desc)


def _codes(strings, use, order, lab: dict, many: bool, noextend: bool, src: str, lblname: str):
    """Codes in order of first appearance; strings already in the label keep their code."""
    inv: dict[str, float] = {}
    for code in sorted(lab):
        inv.setdefault(lab[code], code)
    nxt = int(max(lab)) + 1 if lab else 1
    vals = np.full(len(strings), np.nan)
    for i in order:
        s = strings[i]
        if not use[i] or s == "":
            continue
        if s in inv and not many:
            vals[i] = inv[s]
            continue
        if noextend:
            raise StataError(f"there are values of {src} not present in label {lblname}", 459)
        lab[float(nxt)] = s
        inv.setdefault(s, float(nxt))
        vals[i] = float(nxt)
        nxt += 1
    return vals


@command("sencode", byable=False, qualifiers="if in", family="Data management", body="varname",
         desc="string variable to labelled numeric, coded in order of appearance (SSC sencode)",
         example="sencode region, generate(nregion)",
         options=(Opt("generate", "gen", "name", desc="create newvar holding the codes"),
                  Opt("replace", desc="replace the string variable by the numeric one"),
                  Opt("label", type="name", desc="value label to use or create (default: the new variable's name)"),
                  Opt("noextend", desc="refuse values not in an existing label()"),
                  Opt("gsort", type="string", desc="order of first appearance: a gsort list"),
                  Opt("many", desc="a distinct code for every observation")))
def sencode_cmd(session, cmd):
    g.no_weights(cmd)
    ds = session.data
    opts = typed_args(cmd)
    src = ds.var(g.one_var(session, cmd.body))
    if not src.is_string:
        raise StataError("not possible with numeric variable", 107)
    if bool(opts.generate) == bool(opts.replace):
        raise StataError("either generate() or replace must be specified, but not both", 198)
    new = opts.generate or src.name
    if opts.generate:
        g.check_newname(session, new)
    lblname = opts.label or new
    if not re.fullmatch(r"[A-Za-z_]\w{0,31}", lblname):
        raise StataError(f"{lblname} invalid name", 198)
    use = g.sample(session, cmd)
    order = _order(session, opts.gsort if "gsort" in opts else None)
    lab = dict(ds.value_labels.get(lblname, {}))
    vals = _codes(list(src.values), use, order, lab, bool(opts.many), bool(opts.noextend),
                  src.name, lblname)
    ds.value_labels[lblname] = lab
    var = Variable(new, g.store(vals, "long"), "long", label=src.label, vallab=lblname)
    if opts.replace:
        ds.put(var)
        if src.name in ds.sortedby:
            ds.sortedby = ds.sortedby[:ds.sortedby.index(src.name)]
    else:
        ds.add(var)
    ds.changed = True
