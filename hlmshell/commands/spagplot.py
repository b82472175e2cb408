"""spagplot: the community command (SSC `spagplot`, UCLA) that multilevel courses use for
school-by-school regression lines.

    spagplot yvar xvar [if] [in], id(idvar) [nofit noover twoway_options]

Its help and ado define it: by default one fitted line per id -- the fitted values of the
regression of yvar on xvar within that id (as `regress y i.id*x` gives them), drawn through
the id's observed xvar values, joined with connect(L) and sorted on id and xvar -- plus the
overall linear fit of yvar on xvar as a very thick line; `noover` leaves out the overall line;
`nofit` draws the observed yvar instead of the fitted values (no overall line). The legend is
off and the note says `Spaghetti plot of yvar xvar id idvar`; any twoway option (title(),
note(), xtitle(), scheme(), name(), by(), ...) passes through and overrides those. The
overall fit uses the same if/in sample as the per-id lines. Built in because course do-files
run it after `ssc install spagplot`. The plots are read and drawn by twoway itself, on a
snapshot of the data holding the fitted values (the data in memory are not changed)."""
from __future__ import annotations

import copy

import numpy as np

from hlmshell.commands import graph_common as gc
from hlmshell.commands import graph_twoway
from hlmshell.data.dataset import Variable
from hlmshell.errors import StataError
from hlmshell.registry import command
from hlmshell.syntax.ast import Command
from hlmshell.syntax.evaluate import marksample
from hlmshell.syntax.parser import fill_qualifiers
from hlmshell.syntax.varlist import expand_varlist

_YHAT, _TOUSE = "__spagplot_fit", "__spagplot_touse"


def within_fits(y: np.ndarray, x: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Fitted values of y on x by OLS within each id (an id whose x does not vary: its mean
    of y, as regress gives when the id's slope is omitted)."""
    _u, code = np.unique(ids, return_inverse=True)
    n = np.bincount(code).astype(float)
    mx = np.bincount(code, x) / n
    my = np.bincount(code, y) / n
    dx = x - mx[code]
    sxx = np.bincount(code, dx * dx)
    sxy = np.bincount(code, dx * (y - my[code]))
    scale = np.maximum(np.bincount(code, np.abs(x)) / n, 1.0)
    flat = sxx <= 1e-13 * scale ** 2 * n
    slope = np.where(flat, 0.0, sxy / np.where(flat, 1.0, sxx))
    return my[code] + slope[code] * dx


def _id_values(ds, names: list[str]) -> np.ndarray:
    """One key per observation of the id() variables (several variables: their combination)."""
    cols = [np.asarray(ds.var(n).values) for n in names]
    if len(cols) == 1:
        return cols[0]
    keys = [tuple(v) for v in zip(*cols)]
    index = {k: i for i, k in enumerate(dict.fromkeys(keys))}
    return np.array([index[k] for k in keys], dtype=float)


def _missing(ds, names: list[str]) -> np.ndarray:
    miss = np.zeros(ds.n, dtype=bool)
    for n in names:
        v = ds.var(n)
        vals = np.asarray(v.values)
        miss |= (vals == "") if v.is_string else np.isnan(vals.astype(float))
    return miss


def _option_text(opts) -> str:
    return " ".join(o.name if o.arg is None else f"{o.name}({o.arg})" for o in opts)


@command("spagplot", abbrev="spagplot", family="Graphics", raw=True, byable=False,
         changes_data=False, desc="spaghetti plot: one fitted line per id (SSC spagplot)",
         example="spagplot mathach ses if id < 1300, id(id)")
def spagplot(session, cmd) -> None:
    c = Command(name="spagplot")
    fill_qualifiers(c, cmd.body or "", allow_exp=False)
    if c.weight is not None:
        raise StataError("weights not allowed", 101)
    ds = session.data
    names = list(expand_varlist(ds, c.body)) if c.body.strip() else []
    if len(names) != 2:
        raise StataError("too few variables specified" if len(names) < 2 else
                         "too many variables specified", 102 if len(names) < 2 else 103)
    own = [o for o in c.options if o.name in ("id", "nofit", "noover")]
    rest = [o for o in c.options if o not in own]
    idopt = next((o for o in own if o.name == "id"), None)
    if idopt is None or not (idopt.arg or "").strip():
        raise StataError("option id() required", 198)
    for o in own:
        gc.check_arg(o, o.name, o.name == "id")
    for nm in names:
        if ds.var(nm).is_string:
            raise StataError("type mismatch", 109)
    ids = list(expand_varlist(ds, idopt.arg))
    touse = np.asarray(marksample(session, c, names), dtype=bool)
    if not touse.any():
        raise StataError("no observations", 2000)
    flags = {o.name for o in own}
    _draw(session, cmd.text, names, ids, touse, flags, _option_text(rest))


def _draw(session, text: str, names, ids, touse, flags: set, user_opts: str) -> None:
    y, x = names
    ds = session.data
    work = copy.copy(session)
    work.data = ds.copy()
    gc.store(session)                      # the snapshot session shares the graph store
    work.graphs = session.graphs
    fit_ok = touse & ~_missing(ds, ids)
    yv = np.asarray(ds.var(y).values, dtype=float)
    xv = np.asarray(ds.var(x).values, dtype=float)
    fitted = np.full(ds.n, np.nan)
    if fit_ok.any():
        fitted[fit_ok] = within_fits(yv[fit_ok], xv[fit_ok], _id_values(ds, ids)[fit_ok])
    work.data.add(Variable(_TOUSE, fit_ok.astype(float), vtype="byte"))
    work.data.add(Variable(_YHAT, fitted, vtype="double", label="Fitted values"))
    sort = f"sort({' '.join(ids)} {x})"
    if "nofit" in flags:
        plots = f"(scatter {y} {x} if {_TOUSE}, connect(L) msymbol(i) {sort})"
    else:
        plots = f"(scatter {_YHAT} {x} if {_TOUSE}, connect(L) msymbol(i) {sort})"
        if "noover" not in flags:
            overall = _TOUSE + "_all"
            work.data.add(Variable(overall, touse.astype(float), vtype="byte"))
            plots += f" (lfit {y} {x} if {overall}, lwidth(vthick))"
    note = f'note("Spaghetti plot of {y} {x} id {" ".join(ids)}")'
    graph_twoway.run_twoway(work, f"{plots}, {note} legend(off) {user_opts}", command=text)

