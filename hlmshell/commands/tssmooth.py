"""tssmooth ma (Stata 17's [TS] tssmooth ma): moving averages of an expression over the time
variable of tsset/xtset, panel by panel.

`window(#l [#c [#f]])` averages #l lags, the current value when #c is 1, and #f leads with
equal weights; `weights(numlist_l <#c> numlist_f)` gives each term its weight (the lags'
weights in order from the farthest lag). Terms at missing or absent periods are left out and
the weights of the terms present are renormalised ("missing periods are excluded from
calculations"). The other smoothers of tssmooth are not built in.
"""
from __future__ import annotations

import re

import numpy as np

from hlmshell.commands._panel import time_settings
from hlmshell.data.dataset import Variable, to_storage
from hlmshell.errors import StataError
from hlmshell.output.numfmt import fmt_g
from hlmshell.registry import Opt, bind_command, command
from hlmshell.syntax.evaluate import evaluate, marksample

_TYPES = ("byte", "int", "long", "float", "double")
_SMOOTHERS = ("exponential", "dexponential", "hwinters", "shwinters", "nl")


def _window(text: str) -> list[tuple[int, float]]:
    """(offset, weight) pairs of window(#l [#c [#f]])."""
    try:
        nums = [int(w) for w in text.split()]
    except ValueError:
        raise StataError("window() invalid", 198) from None
    if not 1 <= len(nums) <= 3 or any(v < 0 for v in nums) or (len(nums) > 1 and nums[1] not in (0, 1)):
        raise StataError("window() invalid", 198)
    lags, cur, leads = (nums + [0, 0])[:3]
    terms = [(-k, 1.0) for k in range(lags, 0, -1)]
    if cur:
        terms.append((0, 1.0))
    terms += [(k, 1.0) for k in range(1, leads + 1)]
    if not terms:
        raise StataError("window() invalid", 198)
    return terms


def _numbers(text: str) -> list[float]:
    from hlmshell.syntax.numlist import numlist
    return [float(v) for v in numlist(text)] if text.strip() else []


def _weights(text: str) -> list[tuple[int, float]]:
    m = re.fullmatch(r"\s*(.*?)\s*<\s*([^<>]+?)\s*>\s*(.*?)\s*", text)
    if m is None:
        raise StataError("weights() invalid", 198)
    try:
        lag_w, cur, lead_w = _numbers(m.group(1)), float(m.group(2)), _numbers(m.group(3))
    except (ValueError, StataError):
        raise StataError("weights() invalid", 198) from None
    L = len(lag_w)
    return ([(-(L - i), w) for i, w in enumerate(lag_w)] + [(0, cur)]
            + [(i + 1, w) for i, w in enumerate(lead_w)])


def _target(session, body: str, replace: bool) -> tuple[str, str]:
    words = body.split()
    if not words or words[0].lower() != "ma":
        sub = words[0].lower() if words else ""
        if sub in _SMOOTHERS:
            raise StataError(f"tssmooth {sub} is not available in hlmshell (only tssmooth ma)", 199)
        raise StataError(f"unknown smoother {sub}" if sub else "invalid syntax", 198)
    rest = words[1:]
    vtype = "float"
    if rest and rest[0] in _TYPES:
        vtype = rest.pop(0)
    if len(rest) != 1 or not re.fullmatch(r"[A-Za-z_]\w{0,31}", rest[0]):
        raise StataError("invalid syntax", 198)
    name = rest[0]
    if name in session.data and not replace:
        raise StataError(f"variable {name} already defined", 110)
    return vtype, name


def _label(terms: list[tuple[int, float]], src: str) -> str:
    total = sum(w for _, w in terms)
    parts = []
    for off, w in terms:
        x = "x(t)" if off == 0 else (f"x(t{off:+d})")
        parts.append(f"{fmt_g(w, 9).strip()}*{x}" if (w != 1 or off == 0) else x)
    return f"(1/{fmt_g(total, 9).strip()})*[{' + '.join(parts)}]; x(t)= {src}"


def moving_average(x: np.ndarray, panel: np.ndarray, time: np.ndarray, delta: float,
                   terms: list[tuple[int, float]]) -> np.ndarray:
    """Weighted averages over the terms present (rows in any order)."""
    key = {(p, t): i for i, (p, t) in enumerate(zip(panel.tolist(), time.tolist()))}
    out = np.full(len(x), np.nan)
    for i, (p, t) in enumerate(zip(panel.tolist(), time.tolist())):
        num = den = 0.0
        for off, w in terms:
            j = key.get((p, t + off * delta))
            if j is not None and not np.isnan(x[j]):
                num += w * x[j]
                den += w
        if den != 0:
            out[i] = num / den
    return out


@command("tssmooth", byable=False, qualifiers="if in", body="anything", exp="required",
         family="Data management", desc="moving-average smoothing of a time series (tssmooth ma)",
         example="tssmooth ma sm = y, window(2 1 2)",
         options=(Opt("window", "w", "string", None, "#lags [#current [#leads]] with equal weights"),
                  Opt("weights", "we", "string", None, "weights: numlist_l <#c> numlist_f"),
                  Opt("replace", desc="replace the variable if it exists")))
def tssmooth_cmd(session, cmd) -> None:
    opts = bind_command("tssmooth", cmd.options)
    vtype, name = _target(session, cmd.body or "", bool(opts.replace))
    win, wts = opts.raw("window"), opts.raw("weights")
    if (win is None) == (wts is None):
        raise StataError("specify either window() or weights()", 198)
    terms = _window(win) if win is not None else _weights(wts)
    ps = time_settings(session)
    ds = session.data
    touse = marksample(session, cmd)
    vals = evaluate(cmd.exp, session)
    if isinstance(vals, np.ndarray) and vals.dtype == object or isinstance(vals, str):
        raise StataError("type mismatch", 109)
    x = np.broadcast_to(np.asarray(vals, dtype=float), (ds.n,)).copy()
    x[~touse] = np.nan
    t = np.asarray(ds.var(ps.timevar).values, dtype=float)
    p = (np.asarray(ds.var(ps.panelvar).values, dtype=float) if ps.panelvar
         else np.zeros(ds.n))
    n_use = int(touse.sum())
    span = max(abs(o) for o, _ in terms)
    if n_use == 0:
        raise StataError("no observations", 2000)
    if 2 * span >= n_use:
        raise StataError("the window is too wide for the sample", 198)
    sm = moving_average(x, p, t, ps.delta, terms)
    sm[~touse] = np.nan
    src = (cmd.exp_text or "").strip().lstrip("=").strip()
    session.out.line("The smoother applied was")
    session.out.line(f"     {_label(terms, src)}")
    if name in ds:
        ds.drop([name])
    spec = f"window({' '.join(win.split())})" if win is not None else f"weights({wts.strip()})"
    ds.add(Variable(name, to_storage(sm, vtype), vtype, label=f"ma: x(t) = {src}: {spec}"))
