"""Time-series operators over the panel and time variables of `tsset`/`xtset`.

    L.x  L2.x   lag: x of the same panel at time t - k*delta (missing when there is none)
    F.x  F2.x   lead: x at t + k*delta
    D.x  D2.x   difference x - L.x, applied k times (D2.x = x - 2 L.x + L2.x)
    S.x  S12.x  seasonal difference x - Lk.x
    LD.x L2D.x  combinations (the operators are linear and commute)

Observations are matched by (panel, time), never by row order: gaps in a panel give missing
values, unsorted data is fine. The settings are the dataset's characteristics
(`_dta[_TSpanel]`, `_dta[_TStvar]`, `_dta[_TSdelta]`, as `tsset`/`xtset` store them).

Cost: one sort of the (panel, time) keys per dataset state (kept while the key columns are
the same arrays: stored columns are read-only, so the same array means the same values), then
one binary search per operator step over all observations: O(n log n), no per-row Python.

The names are Stata's: an operator string is canonicalised to the form Stata shows in e(b)
(`L.x`, `L2.x`, `F.x`, `D.x`, `LD.x`, `L2D.x`, `S12.x`; `L0.x` is `x`), and `ts_label()` gives
the coefficient table's row label (`L1.`, `D1.`, `LD.`, `--.`).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from hlmshell.errors import StataError

# one operator letter with an optional count: L L2 F D3 S12 (either case)
_OP = re.compile(r"([LFDSlfds])(\d*)")
# a whole operator string: LD, L2D, DS12, l.d (dots between operators are accepted)
OPS = re.compile(r"(?:[LFDSlfds]\d*\.?)*[LFDSlfds]\d*")
# a time-series operated name: ops "." varname
TS_NAME = re.compile(r"((?:[LFDSlfds]\d*\.?)*[LFDSlfds]\d*)\.([A-Za-z_][A-Za-z0-9_]*)")


def time_not_set() -> StataError:
    return StataError("time variable not set, use tsset varname ...", 111)


# ---- operator strings -------------------------------------------------------------------------
@dataclass(frozen=True)
class TsOp:
    """An operator string reduced to what it computes: a net shift (lags positive, leads
    negative), the number of differences, the seasonal lags (sorted)."""

    shift: int = 0
    diff: int = 0
    seasonal: tuple[int, ...] = ()

    @property
    def is_identity(self) -> bool:
        return self.shift == 0 and self.diff == 0 and not self.seasonal

    @property
    def is_shift(self) -> bool:
        """Only a lag or lead (allowed with factor variables and string variables)."""
        return self.diff == 0 and not self.seasonal

    def pieces(self) -> list[tuple[str, int]]:
        out: list[tuple[str, int]] = []
        if self.shift:
            out.append(("L" if self.shift > 0 else "F", abs(self.shift)))
        if self.diff:
            out.append(("D", self.diff))
        out += [("S", k) for k in self.seasonal]
        return out

    def text(self) -> str:
        """Stata's canonical operator string: `L`, `L2`, `F`, `D`, `LD`, `L2D`, `S12` ("" for
        none)."""
        return "".join(f"{op}{k if k > 1 else ''}" for op, k in self.pieces())

    def label(self) -> str:
        """The coefficient table's row label: `L1.`, `D1.`, `S12.` for one operator, the
        canonical string (`LD.`, `L2D.`) for several, `--.` for none."""
        pieces = self.pieces()
        if not pieces:
            return "--."
        if len(pieces) == 1:
            op, k = pieces[0]
            return f"{op}{k}."
        return self.text() + "."


def parse_ops(text: str) -> TsOp:
    """`L2D` / `l.d` / `DL` / `L0` -> TsOp; r(198) for anything else."""
    text = (text or "").replace(".", "")
    if not text or not OPS.fullmatch(text):
        raise StataError("invalid syntax", 198)
    shift = diff = 0
    seasonal: list[int] = []
    for letter, count in _OP.findall(text):
        k = int(count) if count else 1
        letter = letter.upper()
        if letter == "L":
            shift += k
        elif letter == "F":
            shift -= k
        elif letter == "D":
            diff += k
        elif k:
            seasonal.append(k)
    return TsOp(shift, diff, tuple(sorted(seasonal)))


def split_name(name: str) -> tuple[TsOp, str] | None:
    """`L2D.x` -> (TsOp, 'x'); None when the name carries no operator."""
    m = TS_NAME.fullmatch(name)
    if not m:
        return None
    return parse_ops(m.group(1)), m.group(2)


def ts_name(op: TsOp, var: str) -> str:
    """Stata's name of an operated variable: `L.x`, `LD.x`, `x` for no operator."""
    t = op.text()
    return f"{t}.{var}" if t else var


def canonical_name(name: str) -> str:
    """`l1.x` -> `L.x`, `DL.x` -> `LD.x`, `L0.x` -> `x`; other names unchanged."""
    sp = split_name(name)
    return name if sp is None else ts_name(*sp)


def ts_label(name: str) -> tuple[str, str] | None:
    """(variable, row label) of an operated name for the coefficient table (`L.x` -> ('x',
    'L1.')); None for a name without an operator."""
    sp = split_name(name)
    if sp is None:
        return None
    op, var = sp
    return var, op.label()


# ---- the settings (the dataset's characteristics) --------------------------------------------
_HEX21 = re.compile(r"([+-]?)([0-9a-fA-F])\.([0-9a-fA-F]*)[Xx]([+-])([0-9a-fA-F]+)$")


def parse_delta(text: str) -> float | None:
    """_dta[_TSdelta] as a number (%21x, or a plain number another writer stored)."""
    text = (text or "").strip()
    if not text:
        return None
    m = _HEX21.match(text)
    if m:
        sign, whole, frac, esign, exp = m.groups()
        mant = int(whole, 16) + (int(frac, 16) / 16 ** len(frac) if frac else 0.0)
        v = math.ldexp(mant, int(exp, 16) * (-1 if esign == "-" else 1))
        return -v if sign == "-" else v
    try:
        v = float(text)
    except ValueError:
        return None
    return v if math.isfinite(v) and v > 0 else None


def ts_settings(ds) -> tuple[str | None, str, float]:
    """(panel variable or None, time variable, delta) of a dataset with a time variable set;
    Stata's r(111) "time variable not set, use tsset varname ..." otherwise."""
    tvar = ds.char("_dta", "_TStvar") or ds.char("_dta", "tis") or None
    pvar = ds.char("_dta", "_TSpanel") or ds.char("_dta", "iis") or None
    if tvar is None or tvar not in ds or (pvar is not None and pvar not in ds):
        raise time_not_set()
    return pvar, tvar, parse_delta(ds.char("_dta", "_TSdelta")) or 1.0


# ---- matching observations by (panel, time) --------------------------------------------------
def _panel_keys(p: np.ndarray | None, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Panel values as float64 sort keys (codes of a string panel variable) and which
    observations have one."""
    if p is None:
        return np.zeros(n), np.ones(n, dtype=bool)
    pv = np.asarray(p)
    if pv.dtype == object:
        _, codes = np.unique(pv.astype(str), return_inverse=True)
        return codes.reshape(-1).astype(np.float64), pv != ""
    pv = pv.astype(np.float64)
    return pv, ~np.isnan(pv)


def _panel_codes(pv: np.ndarray, width: int) -> np.ndarray:
    """Integer codes in the order of the panel values: the values themselves (shifted) when
    they are integers of a modest range, as panel identifiers are, else their ranks."""
    if len(pv):
        lo, hi = float(pv.min()), float(pv.max())
        if (hi - lo + 1) * width < 2.0 ** 52 and np.all(pv == np.floor(pv)):
            return (pv - lo).astype(np.int64)
    return np.unique(pv, return_inverse=True)[1].reshape(-1).astype(np.int64)


def _in_order(p: np.ndarray, t: np.ndarray) -> bool:
    """Already sorted by panel, then time (as tsset leaves the data): no sort needed."""
    if len(p) < 2:
        return True
    dp = p[1:] - p[:-1]
    return bool(np.all((dp > 0) | ((dp == 0) & (t[1:] >= t[:-1]))))


class _Frame:
    """The (panel, time) keys of one dataset state, sorted once; `source(k)` is, for every
    observation, the row holding the same panel at time t - k*delta (-1: none)."""

    def __init__(self, p: np.ndarray | None, t: np.ndarray, delta: float):
        t = np.asarray(t, dtype=np.float64)
        self.n, self.delta = len(t), delta
        pv, valid = _panel_keys(p, len(t))
        valid &= ~np.isnan(t)
        rows = np.flatnonzero(valid)
        pv, tv = pv[rows], t[rows]
        self.times = np.unique(tv)
        self.width = len(self.times) + 1
        if not _in_order(pv, tv):
            order = np.argsort(_panel_codes(pv, self.width) * self.width
                               + np.searchsorted(self.times, tv))
            rows, pv, tv = rows[order], pv[order], tv[order]
        # everything kept in (panel, time) order: the targets of a lag are then in order too,
        # and the binary searches walk memory forwards
        pcode = np.zeros(len(rows), dtype=np.int64)
        if len(rows) > 1:
            pcode[1:] = np.cumsum(pv[1:] != pv[:-1])
        self.rows, self.t, self.pcode = rows, tv, pcode
        self.sorted_key = pcode * self.width + np.searchsorted(self.times, tv)
        if np.any(self.sorted_key[1:] == self.sorted_key[:-1]):
            where = "within panel" if p is not None else "in sample"
            raise StataError(f"repeated time values {where}", 451)
        self._sources: dict[int, np.ndarray] = {}

    def source(self, k: int) -> np.ndarray:
        if k not in self._sources:
            self._sources[k] = self._find(k)
        return self._sources[k]

    def _find(self, k: int) -> np.ndarray:
        out = np.full(self.n, -1, dtype=np.int64)
        if not len(self.rows):
            return out
        target = self.t - k * self.delta
        rc = np.minimum(np.searchsorted(self.times, target), len(self.times) - 1)
        ok = self.times[rc] == target
        key = self.pcode * self.width + rc          # nondecreasing: rows in (panel, time) order
        pos = np.minimum(np.searchsorted(self.sorted_key, key), len(self.sorted_key) - 1)
        ok &= self.sorted_key[pos] == key
        out[self.rows[ok]] = self.rows[pos[ok]]
        return out


# frames of recent dataset states, keyed by the identity of their key columns (read-only
# arrays: the same object holds the same values); the arrays are held so an id is not reused
_FRAMES: list[tuple[object, object, float, _Frame]] = []
_KEEP = 4


def frame(p: np.ndarray | None, t: np.ndarray, delta: float) -> _Frame:
    for fp, ft, fd, fr in _FRAMES:
        if fp is p and ft is t and fd == delta:
            return fr
    fr = _Frame(p, t, delta)
    if not (isinstance(t, np.ndarray) and not t.flags.writeable
            and (p is None or (isinstance(p, np.ndarray) and not p.flags.writeable))):
        return fr                      # writable arrays could change: not cached
    _FRAMES.insert(0, (p, t, delta, fr))
    del _FRAMES[_KEEP:]
    return fr


def _shift(fr: _Frame, values: np.ndarray, k: int) -> np.ndarray:
    if k == 0:
        return values
    src = fr.source(k)
    ok = src >= 0
    got = values[np.where(ok, src, 0)] if len(values) else values
    if values.dtype == object:
        return np.where(ok, got, "")
    return np.where(ok, got, np.nan)


def apply_op(fr: _Frame, op: TsOp, values: np.ndarray) -> np.ndarray:
    """The operator applied to one column (float64, or object for a lagged string)."""
    v = np.asarray(values)
    if v.dtype != object:
        v = v.astype(np.float64)
    elif not op.is_shift:
        raise StataError("type mismatch", 109)
    with np.errstate(all="ignore"):
        for _ in range(op.diff):
            v = v - _shift(fr, v, 1)
        for k in op.seasonal:
            v = v - _shift(fr, v, k)
    return _shift(fr, v, op.shift)


def frame_of(ds) -> _Frame:
    """The (panel, time) frame of a dataset with a time variable set (r(111) otherwise;
    r(451) when a time value repeats within a panel)."""
    pvar, tvar, delta = ts_settings(ds)
    p = ds.values(pvar) if pvar is not None else None
    return frame(p, ds.values(tvar), delta)


def ts_values(ds, name: str) -> np.ndarray:
    """Values of an operated name (`L2.x`, `LD.x`: x an existing variable, not abbreviated)
    over every observation of the dataset."""
    sp = split_name(name)
    if sp is None:
        return ds.values(name)
    op, var = sp
    values = ds.values(var)             # r(111) "variable x not found" first, as Stata
    if op.is_identity:
        return values
    return apply_op(frame_of(ds), op, values)


def operator_values(ds, op_text: str, var: str) -> np.ndarray:
    """`operator_values(ds, "L2", "x")`: the operator string applied to variable var."""
    return ts_values(ds, ts_name(parse_ops(op_text), var))


__all__ = ["TsOp", "parse_ops", "split_name", "ts_name", "canonical_name", "ts_label",
           "parse_delta", "ts_settings", "time_not_set", "frame", "frame_of", "apply_op",
           "ts_values", "operator_values", "OPS", "TS_NAME"]
