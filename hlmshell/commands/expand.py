"""expand and fillin: adding observations (duplicates; all combinations of a varlist)."""
from __future__ import annotations

import itertools

import numpy as np

from hlmshell.commands import generate as g
from hlmshell.commands._toolkit import check_name, touse, typed_args, varlist
from hlmshell.data.dataset import Variable
from hlmshell.errors import StataError
from hlmshell.output.numfmt import fmt_count
from hlmshell.registry import Opt, command


def _created(session, k: int) -> None:
    session.out.line(f"({fmt_count(k)} observation{'' if k == 1 else 's'} created)")


def _append_rows(ds, index: np.ndarray) -> None:
    """Add copies of the observations `index` (in that order) at the end of the data."""
    for name, v in list(ds.vars.items()):
        ds.vars[name] = v.evolve(values=np.concatenate([v.values, v.values[index]]))


# ----------------------------------------------------------------------------- expand
def expand_counts(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Copies to add per observation: int(exp) - 1; exp < 1 or missing keeps the observation
    as it is (no copies), as do observations outside if/in."""
    v = np.asarray(values, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        k = np.where(np.isnan(v) | (v < 1), 1.0, np.trunc(v)) - 1
    k[~mask] = 0
    return k.astype(np.int64)


@command("expand", byable=False, qualifiers="if in",
          family="Data management", body="anything", exp="optional",
          desc="duplicate observations", example="expand 2, generate(dup)",
          options=(Opt("generate", "gen", "name", desc="newvar: 0 for original observations, 1 for the copies"),))
def expand_cmd(session, cmd):
    opts = typed_args(cmd)
    text = (cmd.exp_text or "").lstrip("=").strip() or (cmd.body or "").strip()
    if not text:
        raise StataError("=exp required", 100)
    ds = session.data
    gen = opts.generate
    if gen:
        check_name(gen)
        g.check_newname(session, gen)
    vals = g.broadcast(g.evaluate(g.parse_expr(text), session), ds.n)
    if vals.dtype == object:
        raise StataError("type mismatch", 109)
    counts = expand_counts(vals, touse(session, cmd))
    n0 = ds.n
    index = np.repeat(np.arange(n0), counts)
    if gen:
        ds.add(Variable(gen, np.zeros(n0), "byte"))
    if index.size:
        _append_rows(ds, index)
        if gen:
            ds.update(gen, values=np.r_[np.zeros(n0), np.ones(index.size)])
        ds.sortedby = []
    if index.size or gen:
        ds.changed = True
    _created(session, int(index.size))


# ----------------------------------------------------------------------------- fillin
def _levels(v) -> list:
    """The distinct values of a variable in sort order (missing values last, as Stata sorts)."""
    if v.is_string:
        return sorted(set(v.values.tolist()))
    x = v.values
    ok = np.unique(x[~np.isnan(x)]).tolist()
    miss = x[np.isnan(x)]
    if miss.size:
        from hlmshell.data.missing import missing_code
        codes = missing_code(miss)
        first = {}
        for val, c in zip(miss.tolist(), codes.tolist()):
            first.setdefault(int(c), val)
        ok += [first[c] for c in sorted(first)]
    return ok


def _key(v, x):
    if v.is_string:
        return ("s", x)
    if isinstance(x, float) and np.isnan(x):
        from hlmshell.data.missing import missing_code
        return ("m", int(missing_code(np.array([x]))[0]))
    return ("n", float(x))


@command("fillin", byable=False, qualifiers="",
          family="Data management", body="varlist",
          desc="rectangularize: add observations for missing combinations of varlist", example="fillin id female",
          options=())
def fillin_cmd(session, cmd):
    typed_args(cmd)
    ds = session.data
    names = varlist(session, cmd.body, all_if_empty=False)
    if not names:
        raise StataError("varlist required", 100)
    if "_fillin" in ds.vars:
        raise StataError("variable _fillin already defined", 110)
    vs = [ds.var(nm) for nm in names]
    have = {tuple(_key(v, v.values[i]) for v in vs) for i in range(ds.n)}
    missing = [combo for combo in itertools.product(*(_levels(v) for v in vs))
               if tuple(_key(v, x) for v, x in zip(vs, combo)) not in have]
    n0 = ds.n
    ds.set_obs(n0 + len(missing))
    for j, (nm, v) in enumerate(zip(names, vs)):
        vals = ds.var(nm).values.copy()
        for k, combo in enumerate(missing):
            vals[n0 + k] = combo[j]
        ds.update(nm, values=vals)
    ds.add(Variable("_fillin", np.r_[np.zeros(n0), np.ones(len(missing))], "byte"))
    order = np.lexsort([g.sort_keys(ds, [nm])[0] for nm in reversed(names)]) if ds.n else np.arange(0)
    ds.take(order)
    ds.sortedby = list(names)
    ds.changed = True
