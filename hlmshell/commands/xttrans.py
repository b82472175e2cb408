"""xttrans: transition probabilities of a categorical variable in panel data.

Stata's xttrans is a two-way tabulate of the variable against its value one period later in
the same panel (the F. operator: the observation of the panel whose time is t + delta), with
row percentages -- and the frequencies too with `freq`. The second variable is shown under the
first one's label (or name), so both margins of the table read as the same variable. Here the
table is tabulate's own (commands.tabulate.twoway) on a temporary column that is removed
afterwards; the data in memory are left as they were."""
from __future__ import annotations

import numpy as np

from hlmshell.commands._panel import xt_settings
from hlmshell.commands._toolkit import typed_args, varlist
from hlmshell.commands.tabulate import TabOptions, twoway
from hlmshell.data.dataset import Variable
from hlmshell.errors import StataError
from hlmshell.registry import Opt, command


def next_period(panel: np.ndarray, time: np.ndarray, x: np.ndarray, delta: float) -> np.ndarray:
    """x one period later in the same panel (missing where that observation does not exist or
    the panel or time is missing): Stata's F.x."""
    out = np.full(x.shape, np.nan)
    ok = ~np.isnan(panel) & ~np.isnan(time)
    where = {(p, t): k for k, (p, t) in enumerate(zip(panel.tolist(), time.tolist())) if ok[k]}
    for k in np.flatnonzero(ok):
        j = where.get((panel[k], time[k] + delta))
        if j is not None:
            out[k] = x[j]
    return out


def _tempname(ds) -> str:
    k = 0
    while f"__{k:06d}" in ds.vars:
        k += 1
    return f"__{k:06d}"


@command("xttrans", qualifiers="if in", family="Panel data", body="varname",
         options=(Opt("i", "i", "name", desc="panel variable (old syntax; sets xtset)"),
                  Opt("t", "t", "name", desc="time variable (old syntax; sets xtset)"),
                  Opt("freq", "f", desc="show the frequencies with the transition percentages")),
         desc="transition probabilities of a categorical variable between successive periods",
         example="xttrans union, freq")
def xttrans_cmd(session, cmd):
    opts = typed_args(cmd)
    names = varlist(session, cmd.body, all_if_empty=False)
    if not names:
        raise StataError("varlist required", 100)
    if len(names) > 1:
        raise StataError("too many variables specified", 103)
    ps = xt_settings(session, opts.i, opts.t, trequired=True)
    ds = session.data
    var = ds.var(names[0])
    if var.is_string:
        raise StataError(f"{names[0]} must be numeric", 109)
    nxt = next_period(ds.values(ps.panelvar), ds.values(ps.timevar), var.values, ps.delta)
    tmp = _tempname(ds)
    changed, sortedby = ds.changed, list(ds.sortedby)
    ds.add(Variable(tmp, nxt, vtype="double", label=var.label or var.name, vallab=var.vallab,
                    format=var.format))
    try:
        twoway(session, cmd, var.name, tmp, TabOptions(row=True, nofreq=not opts.freq))
    finally:
        ds.drop([tmp])
        ds.changed, ds.sortedby = changed, sortedby
