"""mi data as Stata stores it: ordinary variables plus characteristics, so `save`/`use`,
`preserve`/`restore`, snapshots and frames keep the imputations with no extra state.

    _dta[_mi_marker] _mi_ds_1        _dta[_mi_style] wide|mlong|flong
    _dta[_mi_M] M   _dta[_mi_N] N    _dta[_mi_ivars] / _mi_pvars / _mi_rvars  the registered
    _dta[_mi_n] (mlong: the added observations)

  flong  M+1 copies of the data stacked: _mi_m (0 = original, 1..M the imputations), _mi_id
         (the observation's number in m = 0) and _mi_miss (m = 0 only: 1 when some imputed
         variable is missing there)
  mlong  the original data (m = 0) and, for m >= 1, only the incomplete observations
  wide   one observation per original one; imputation m of x in variable _m_x; _mi_miss

Every mi command reads the data into an MiData -- the m = 0 data (`base`, without the _mi_
and _#_ variables) and, per imputation, full columns of the imputed and passive variables --
changes that, and writes it back in a style (`write`). `dataset_m(md, m)` is imputation m as
an ordinary dataset, what `mi xeq`, `mi estimate` and `mi extract` run on.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from hlmshell.data.dataset import Dataset, Variable, to_storage
from hlmshell.errors import StataError

STYLES = ("wide", "mlong", "flong", "flongsep")
SYSVARS = ("_mi_m", "_mi_id", "_mi_miss")
_WIDE = re.compile(r"_(\d+)_(.+)$")


@dataclass
class MiData:
    base: Dataset
    M: int = 0
    style: str = "mlong"
    ivars: list[str] = field(default_factory=list)
    pvars: list[str] = field(default_factory=list)
    rvars: list[str] = field(default_factory=list)
    imps: list[dict[str, np.ndarray]] = field(default_factory=list)   # m = 1..M

    @property
    def registered(self) -> list[str]:
        return self.ivars + self.pvars

    def values(self, m: int, name: str) -> np.ndarray:
        if m > 0 and name in self.imps[m - 1]:
            return self.imps[m - 1][name]
        return self.base.values(name)

    def incomplete(self) -> np.ndarray:
        """_mi_miss: observations where some imputed variable is missing in m = 0."""
        out = np.zeros(self.base.n, dtype=bool)
        for v in self.ivars:
            if v in self.base and not self.base.var(v).is_string:
                out |= np.isnan(self.base.values(v))
        return out


# ----------------------------------------------------------------------------- state
def is_set(ds: Dataset) -> bool:
    return ds.dta_chars.get("_mi_marker") == "_mi_ds_1"


def require_set(session) -> None:
    if not is_set(session.data):
        raise StataError("no; data not mi set", 119)


def _words(ds: Dataset, key: str) -> list[str]:
    return ds.dta_chars.get(key, "").split()


def read(ds: Dataset) -> MiData:
    """The mi data in memory (any style) as an MiData."""
    style = ds.dta_chars.get("_mi_style", "mlong")
    M = int(ds.dta_chars.get("_mi_M", "0") or 0)
    md = MiData(Dataset(), M, style, _words(ds, "_mi_ivars"), _words(ds, "_mi_pvars"),
                _words(ds, "_mi_rvars"))
    if style == "wide":
        _read_wide(ds, md)
    else:
        _read_long(ds, md)
    md.ivars = [v for v in md.ivars if v in md.base]
    md.pvars = [v for v in md.pvars if v in md.base]
    md.rvars = [v for v in md.rvars if v in md.base]
    return md


def _read_wide(ds: Dataset, md: MiData) -> None:
    base = ds.copy()
    extra = [nm for nm in base.names if _WIDE.match(nm) or nm in SYSVARS]
    md.imps = [{} for _ in range(md.M)]
    for nm in extra:
        m = _WIDE.match(nm)
        if m and 1 <= int(m.group(1)) <= md.M and m.group(2) in base:
            md.imps[int(m.group(1)) - 1][m.group(2)] = base.values(nm)
    base.drop(extra)
    for v in md.registered:
        for k in range(md.M):
            md.imps[k].setdefault(v, base.values(v))
    md.base = _clean(base)


def _read_long(ds: Dataset, md: MiData) -> None:
    if "_mi_m" not in ds or "_mi_id" not in ds:
        raise StataError("mi data are corrupt: _mi_m or _mi_id is missing; see mi update", 459)
    mm = ds.values("_mi_m")
    ids = ds.values("_mi_id")
    rows0 = np.flatnonzero(mm == 0)
    base = ds.copy()
    base.take(rows0)
    base.drop([v for v in SYSVARS if v in base])
    pos = {int(i): k for k, i in enumerate(ids[rows0]) if i == i}
    md.imps = []
    # flong holds every variable in every imputation: an unregistered variable changed there
    # (generate/replace on the flong data) keeps its values per m, as Stata's flong does
    names = base.names if md.style == "flong" else [v for v in md.registered if v in base]
    for m in range(1, md.M + 1):
        rows = np.flatnonzero(mm == m)
        where = np.array([pos.get(int(i), -1) if i == i else -1 for i in ids[rows]], dtype=int)
        good = where >= 0
        cols = {}
        for v in names:
            col = np.array(base.values(v), copy=True)
            col[where[good]] = ds.values(v)[rows[good]]
            if v in md.registered or not same_values(col, base.values(v)):
                cols[v] = col
        md.imps.append(cols)
    md.base = _clean(base)


def same_values(a: np.ndarray, b: np.ndarray) -> bool:
    if a.dtype == object or b.dtype == object:
        return bool(np.array_equal(a, b))
    return bool(np.array_equal(a, b, equal_nan=True))


def _clean(base: Dataset) -> Dataset:
    base.dta_chars = {k: v for k, v in base.dta_chars.items() if not k.startswith("_mi_")}
    base.sortedby = [s for s in base.sortedby if s in base]
    return base


# ----------------------------------------------------------------------------- writing
def _set_chars(ds: Dataset, md: MiData, n_added: int = 0) -> None:
    chars = dict(ds.dta_chars)
    chars.update({"_mi_marker": "_mi_ds_1", "_mi_style": md.style, "_mi_M": str(md.M),
                  "_mi_N": str(md.base.n), "_mi_ivars": " ".join(md.ivars),
                  "_mi_pvars": " ".join(md.pvars), "_mi_rvars": " ".join(md.rvars)})
    chars.pop("_mi_n", None)
    if md.style == "mlong":
        chars["_mi_n"] = str(n_added)
    ds.dta_chars = {k: v for k, v in chars.items() if v != "" or k in ("_mi_ivars",)}
    if not md.ivars:
        ds.dta_chars.pop("_mi_ivars", None)


def _vtype_for(var: Variable, cols) -> str:
    """The storage type holding the imputed values too (an integer type becomes float when an
    imputation is not a whole number; Stata stores imputed values as float by default)."""
    if var.is_string or var.vtype in ("float", "double"):
        return var.vtype
    for c in cols:
        ok = ~np.isnan(c)
        if np.any(c[ok] != np.trunc(c[ok])):
            return "float"
    return var.vtype


def write(md: MiData) -> Dataset:
    """The mi data as a dataset in md.style."""
    base = md.base
    for v in md.registered:
        vt = _vtype_for(base.var(v), [imp[v] for imp in md.imps if v in imp])
        if vt != base.var(v).vtype:
            base.update(v, vtype=vt, values=to_storage(base.values(v), vt),
                        format="%9.0g" if vt == "float" else base.var(v).format)
        if not base.var(v).is_string:
            for imp in md.imps:        # imputations on the variable's storage grid (float32)
                if v in imp:
                    imp[v] = to_storage(imp[v], vt)
    if md.style == "wide":
        return _write_wide(md)
    return _write_long(md)


def _sysvar(name: str, values, vtype: str = "int") -> Variable:
    vt = vtype
    if vtype == "int" and len(values) and np.nanmax(np.abs(values)) > 32740:
        vt = "long"
    return Variable(name, np.asarray(values, dtype=float), vt)


def _write_wide(md: MiData) -> Dataset:
    ds = md.base.copy()
    miss = md.incomplete()
    ds.put(_sysvar("_mi_miss", miss.astype(float), "byte"))
    for m in range(1, md.M + 1):
        for v in md.registered:
            src = ds.var(v)
            ds.put(src.evolve(name=f"_{m}_{v}", values=np.asarray(md.values(m, v)), chars={}))
    _set_chars(ds, md)
    return ds


def _write_long(md: MiData) -> Dataset:
    base = md.base
    n = base.n
    miss = md.incomplete()
    blocks = [np.arange(n)]
    mvals = [np.zeros(n)]
    for m in range(1, md.M + 1):
        rows = np.arange(n) if md.style == "flong" else np.flatnonzero(miss)
        blocks.append(rows)
        mvals.append(np.full(len(rows), float(m)))
    rows = np.concatenate(blocks)
    mcol = np.concatenate(mvals)
    ds = base.copy()
    ds.vars = {}
    for name, var in base.vars.items():
        pieces = [var.values] + [np.asarray(md.values(m, name))[b] for m, b in
                                 zip(range(1, md.M + 1), blocks[1:])]
        ds.vars[name] = var.evolve(values=np.concatenate(pieces) if var.is_string
                                   else np.concatenate([np.asarray(p, dtype=float) for p in pieces]))
    ds._n = len(rows)
    misscol = np.where(mcol == 0, miss[rows].astype(float), np.nan)
    ds.put(_sysvar("_mi_miss", misscol, "byte"))
    ds.put(_sysvar("_mi_m", mcol))
    ds.put(_sysvar("_mi_id", rows + 1.0))
    ds.sortedby = ["_mi_m", "_mi_id"]         # the stacked data's true order
    _set_chars(ds, md, len(rows) - n)
    return ds


def store(session, md: MiData) -> None:
    """Write md back as the data in memory (marked changed), with the time of this update
    (_dta[_mi_update], what mi query reports)."""
    import time
    ds = write(md)
    ds.dta_chars["_mi_update"] = str(int(time.time()))
    ds.changed = True
    ds.filename = session.data.filename
    session.data = ds


# ----------------------------------------------------------------------------- one imputation
def dataset_m(md: MiData, m: int, *, keep_id: bool = False) -> Dataset:
    """Imputation m (0: the original data) as an ordinary dataset (no mi characteristics)."""
    ds = md.base.copy()
    if m > 0:
        for v, col in md.imps[m - 1].items():
            if v in ds:
                ds.put(ds.var(v).evolve(values=np.asarray(col)))
    if keep_id:
        ds.put(_sysvar("_mi_id", np.arange(1.0, ds.n + 1)))
    ds.changed = False
    return ds


def from_datasets(md: MiData, sets: list[Dataset]) -> MiData:
    """An MiData whose m = 0 data is sets[0] and whose imputations are sets[1:] (every
    dataset holding the same observations in the same order)."""
    base = sets[0]
    imps = []
    for ds in sets[1:]:
        cols = {}
        for v in base.names:
            if v in ds and (v in md.registered or not same_values(ds.values(v), base.values(v))):
                cols[v] = ds.values(v)
        imps.append(cols)
    return MiData(base, len(sets) - 1, md.style, [v for v in md.ivars if v in base],
                  [v for v in md.pvars if v in base], [v for v in md.rvars if v in base], imps)


def parse_m(text: str, M: int) -> int:
    try:
        m = int(text)
    except ValueError:
        raise StataError("invalid syntax", 198) from None
    if not 0 <= m <= M:
        raise StataError(f"{m} out of range; m must be between 0 and {M}", 125)
    return m
