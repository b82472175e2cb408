"""xtdata: replace panel data by their between, within or random-effects transform.

    xtdata [varlist] [if] [in] [, re ratio(#) | be | fe] [clear nodouble]

Econometrics courses (Cameron and Trivedi's chapter 21) plot the between and within
relations with `xtdata, be` / `xtdata, fe` and then `twoway scatter`/`regress`; `regress` on
the transformed data reproduces xtreg's be, fe and re point estimates. With x_i. the panel mean
and x.. the mean of all observations used:

    be   one observation per panel holding x_i.;
    fe   x_it - x_i. + x..;
    re   x_it - theta_i x_i., with theta_i = 1 - 1/sqrt(1 + T_i ratio^2) (ratio = sigma_u /
         sigma_e, required) and a new variable `constant` = 1 - theta_i to use with
         `regress ..., noconstant`.

The old `i(varname)` names the panel variable instead of xtset's.
Observations with a missing value in varlist (or outside if/in) are dropped; the data keep
the panel variable (and the time variable but for `be`) and the varlist, recast to double
unless `nodouble`. Like `use`, it refuses to discard unsaved changes without `clear` (r(4)).
"""
from __future__ import annotations

import numpy as np

from hlmshell.commands._panel import panel_settings
from hlmshell.commands._toolkit import touse, typed_args, varlist
from hlmshell.commands.files import check_can_replace_data
from hlmshell.data.dataset import Dataset, Variable
from hlmshell.engine.factorize import factorize
from hlmshell.errors import StataError
from hlmshell.registry import Opt, command


def _model(opts) -> str:
    chosen = [m for m in ("re", "be", "fe") if getattr(opts, m)]
    if len(chosen) > 1:
        raise StataError("only one of re, be, or fe may be specified", 198)
    model = chosen[0] if chosen else "re"
    if model == "re":
        if opts.ratio is None:
            raise StataError("option ratio() required with re", 198)
        if not opts.ratio >= 0:
            raise StataError("ratio() must be nonnegative", 198)
    elif opts.ratio is not None:
        raise StataError("option ratio() not allowed", 198)
    return model


def transform(x: np.ndarray, groups: np.ndarray, model: str, ratio: float | None = None):
    """The transformed column (per observation; `be` keeps the panel means per observation and
    the caller keeps one row per panel) and, for re, theta per observation."""
    counts = np.bincount(groups).astype(float)
    means = np.bincount(groups, weights=x) / counts
    if model == "be":
        return means[groups], None
    if model == "fe":
        return x - means[groups] + x.mean(), None
    theta = 1.0 - 1.0 / np.sqrt(1.0 + counts * float(ratio) ** 2)
    return x - theta[groups] * means[groups], theta[groups]


@command("xtdata", byable=False, qualifiers="if in", body="varlist", family="Panel data",
         desc="replace the data by their between, within or random-effects transform",
         example="xtdata mathach ses, fe clear",
         options=(Opt("re", desc="random-effects transform (needs ratio()); the default"),
                  Opt("ratio", "", "real", None, "sigma_u / sigma_e for re"),
                  Opt("be", desc="panel means, one observation per panel"),
                  Opt("fe", desc="within transform, the overall mean added back"),
                  Opt("clear", desc="discard unsaved changes"),
                  Opt("nodouble", desc="keep the variables' storage types"),
                  Opt("i", "i", "varlist", None, "old syntax: the panel variable (sets xtset's)")))
def xtdata_cmd(session, cmd):
    opts = typed_args(cmd)
    model = _model(opts)
    ivar, tvar = _panel_vars(session, opts, model)
    keep_ids = {ivar} | ({tvar} if tvar else set())
    names = _variables(session, cmd, keep_ids, model)
    check_can_replace_data(session, opts.clear)
    mask = touse(session, cmd, names + sorted(keep_ids))
    if not mask.any():
        raise StataError("no observations", 2000)
    session.data = _transformed(session.data, np.flatnonzero(mask), ivar, keep_ids, names, model, opts)


def _panel_vars(session, opts, model: str) -> tuple[str, str | None]:
    """(panel variable, time variable kept or None): i() or xtset's."""
    if opts.i is not None:
        named = varlist(session, " ".join(opts.i), all_if_empty=False)
        if len(named) != 1:
            raise StataError("option i() incorrectly specified", 198)
        return named[0], None
    ps = panel_settings(session)
    return ps.panelvar, ps.timevar if model != "be" else None


def _variables(session, cmd, keep_ids: set, model: str) -> list[str]:
    """The variables to transform: varlist (numeric only), or every numeric variable."""
    ds = session.data
    names = [n for n in varlist(session, cmd.body or "") if n not in keep_ids]
    if not (cmd.body or "").strip():
        names = [n for n in names if not ds.var(n).is_string]
    bad = next((n for n in names if ds.var(n).is_string), None)
    if bad:
        raise StataError(f"{bad} is a string variable", 109)
    if model == "re" and "constant" in ds and "constant" not in names:
        raise StataError("variable constant already defined", 110)
    return names


def _transformed(ds: Dataset, idx: np.ndarray, ivar: str, keep_ids: set, names: list[str],
                 model: str, opts) -> Dataset:
    groups = factorize(np.asarray(ds.var(ivar).values[idx], dtype=float))[1]
    pick = slice(None) if model != "be" else np.unique(groups, return_index=True)[1]
    rows = idx[pick]
    chars = dict(ds.dta_chars)
    if model == "be":                   # one row per panel: no time variable any more
        for key in ("_TStvar", "tis", "_TSdelta", "_TSitrvl", "_TStmin", "_TStmax"):
            chars.pop(key, None)
    new = Dataset(value_labels={k: dict(v) for k, v in ds.value_labels.items()},
                  dta_chars=chars, label=ds.label)
    for nm in [n for n in ds.names if n in keep_ids or n in names]:
        v = ds.var(nm)
        if nm in keep_ids:
            new.add(v.evolve(values=v.values[rows]))
            continue
        col, _ = transform(np.asarray(v.values[idx], dtype=float), groups, model, opts.ratio)
        vtype = v.vtype if opts.nodouble else "double"
        fmt = v.format if opts.nodouble or v.vtype == "double" else "%10.0g"
        new.add(v.evolve(values=col[pick], vtype=vtype, format=fmt))
    if model == "re":
        theta = transform(np.zeros(idx.size), groups, "re", opts.ratio)[1]
        new.add(Variable("constant", 1.0 - theta, "double" if not opts.nodouble else "float"))
    new.changed = True
    new.filename = ds.filename
    return new
