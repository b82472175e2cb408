"""What every st command shares: the stset settings (kept as _dta characteristics, as Stata
keeps them, so `save`/`use` carry them), the records (_t0, _t, _d) in the st sample, and the
`Failure _d: ... / Analysis time _t: ...` header the st commands print first."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hlmshell.errors import StataError

ST_VARS = ("_st", "_d", "_t", "_t0")
# settings kept as _dta[st_*] characteristics
KEYS = ("st_bt", "st_bd", "st_ev", "st_id", "st_orig", "st_enter", "st_exit", "st_bs", "st_ifexp")


@dataclass
class StSettings:
    timevar: str
    failvar: str
    events: str
    idvar: str
    origin: str
    enter: str
    exit: str
    scale: str

    def failure_text(self) -> str:
        if not self.failvar:
            return "1 (meaning all fail)"
        if self.events:
            return f"{self.failvar}=={self.events}"
        return self.failvar

    def time_text(self) -> str:
        t = self.timevar
        if self.origin:
            t = f"({t}-origin)"
        if self.scale and self.scale != "1":
            t = f"{t}/{self.scale}"
        return t


def settings(session) -> StSettings:
    """The current settings, or Stata's r(119) `data not st`."""
    ds = session.data
    if ds.char("_dta", "_dta") != "st" or any(v not in ds for v in ST_VARS):
        raise StataError("data not st", 119)
    c = {k: ds.char("_dta", k) for k in KEYS}
    return StSettings(c["st_bt"], c["st_bd"], c["st_ev"], c["st_id"], c["st_orig"],
                      c["st_enter"], c["st_exit"], c["st_bs"] or "1")


def header(session, st: StSettings | None = None) -> None:
    st = st or settings(session)
    out = session.out
    if st.idvar:
        out.line(f"       ID variable: {st.idvar}")
    out.line(f"        Failure _d: {st.failure_text()}")
    out.line(f"  Analysis time _t: {st.time_text()}")
    if st.origin:
        out.line(f"            Origin: time {st.origin}")
    out.line("")


@dataclass
class StRecords:
    mask: np.ndarray      # in the st sample (and the command's if/in)
    t0: np.ndarray
    t: np.ndarray
    d: np.ndarray


def records(session, extra_mask=None) -> StRecords:
    ds = session.data
    st = np.asarray(ds.values("_st"), float) == 1
    mask = st if extra_mask is None else st & extra_mask
    return StRecords(mask, np.asarray(ds.values("_t0"), float)[mask],
                     np.asarray(ds.values("_t"), float)[mask],
                     np.asarray(ds.values("_d"), float)[mask])


def idvalues(session, st: StSettings, mask) -> np.ndarray:
    """Subject of each record in the mask (the record itself without id())."""
    if not st.idvar:
        return np.arange(int(mask.sum()), dtype=float)
    v = session.data.values(st.idvar)
    vals = np.asarray(v)[mask]
    if vals.dtype.kind in "OUS":
        return np.unique(vals.astype(str), return_inverse=True)[1].astype(float)
    return vals.astype(float)
