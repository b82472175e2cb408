"""stset: declare survival-time data ([ST] stset), and stdescribe, stsum, stvary.

    stset timevar [if] [, failure(var[==numlist]) id(var) origin(time exp) enter(time exp)
                          exit(failure | time exp) scale(#) noshow]
    stset, clear          stset (alone: show the settings again)

Analysis time _t = (timevar - origin)/scale; each record covers (_t0, _t]: from 0 (or enter(),
or with id() the subject's previous record's exit) to its time; _d = 1 when the failure
variable is nonzero and nonmissing (or in the numlist); _st = 1 for records in use (not
missing, not ending on or before their entry, not after the subject's failure or exit()).
The settings are _dta characteristics (_dta[_dta] = "st", st_bt, st_bd, ...), so they
survive save/use like Stata's."""
from __future__ import annotations

import numpy as np

from hlmshell.commands import st_common as sc
from hlmshell.commands._toolkit import touse, typed_args, varlist
from hlmshell.data.dataset import Variable
from hlmshell.errors import StataError
from hlmshell.output.numfmt import fmt_g
from hlmshell.registry import Opt, command
from hlmshell.syntax.evaluate import evaluate

_STSET_OPTS = (
    Opt("failure", "f", "string", None, "failure event: failvar[==numlist]"),
    Opt("id", "id", "string", None, "multiple-record ID variable"),
    Opt("origin", "o", "string", None, "define when a subject becomes at risk: time exp"),
    Opt("enter", "en", "string", None, "specify when subject first enters study: time exp"),
    Opt("exit", "ex", "string", None, "specify when subject exits study: failure or time exp"),
    Opt("scale", "sc", "real", None, "rescale time value"),
    Opt("clear", desc="clear st settings"),
    Opt("noshow", "nosh", desc="do not show st setting information"),
    Opt("show", desc="show st setting information"))


def _failure(session, text: str | None):
    """(variable, events text, events list or None) of failure(var[==numlist])."""
    if not text:
        return "", "", None
    var, _, nums = text.partition("==")
    names = varlist(session, var.strip(), all_if_empty=False)
    if len(names) != 1:
        raise StataError("failure(): one variable required", 198)
    if session.data.var(names[0]).is_string:
        raise StataError("type mismatch", 109)
    if "==" in text:
        from hlmshell.syntax.numlist import numlist as parse_numlist
        try:
            events = [float(v) for v in parse_numlist(nums.strip())]
        except StataError:
            raise StataError("failure(): invalid numlist", 121) from None
        if not events:
            raise StataError("failure(): numlist required", 198)
        return names[0], " ".join(fmt_g(v, 9).strip() for v in events), events
    return names[0], "", None


def _time_exp(session, text: str | None, name: str):
    """Values of `time exp` in origin()/enter()/exit() (None when not given)."""
    if not text:
        return None
    body = text.strip()
    if body.startswith("time "):
        body = body[5:].strip()
    if not body:
        raise StataError(f"{name}() invalid", 198)
    v = evaluate(body, session)
    v = np.asarray(v)
    if v.dtype.kind in "OUS":
        raise StataError("type mismatch", 109)
    return np.broadcast_to(v.astype(float), (session.data.n,)).copy(), body


def _id_values(session, idtext):
    names = varlist(session, idtext.strip(), all_if_empty=False)
    if len(names) != 1:
        raise StataError("id(): one variable required", 198)
    v = np.asarray(session.data.values(names[0]))
    if v.dtype.kind in "OUS":
        miss = v.astype(str) == ""
        codes = np.unique(v.astype(str), return_inverse=True)[1].astype(float)
        return names[0], np.where(miss, np.nan, codes)
    return names[0], v.astype(float)


def compute(session, cmd, timevar, opts):
    """(_st, _d, _t, _t0, exclusion counts, settings) for the stset line."""
    n = session.data.n
    time = np.asarray(session.data.values(timevar), float)
    fvar, ev_text, events = _failure(session, opts.raw("failure"))
    scale = float(opts.scale) if opts.scale is not None else 1.0
    if not scale > 0:
        raise StataError("scale() must be positive", 198)
    orig = _time_exp(session, opts.raw("origin"), "origin")
    enter = _time_exp(session, opts.raw("enter"), "enter")
    exit_text = (opts.raw("exit") or "").strip()
    exit_ = None if exit_text in ("", "failure", "f", "fail") else _time_exp(session, exit_text, "exit")
    idvar, ids = ("", None) if not opts.raw("id") else _id_values(session, opts.raw("id"))
    use = touse(session, cmd)
    o = orig[0] if orig else np.zeros(n)
    if fvar:
        fv = np.asarray(session.data.values(fvar), float)
        d = np.isin(fv, events) if events is not None else (fv != 0) & ~np.isnan(fv)
    else:
        d = np.ones(n, bool)
    t = (time - o) / scale
    if exit_ is not None:
        ex = (exit_[0] - o) / scale
        d = d & ~(t > ex)
        t = np.where(t > ex, ex, t)
    miss = np.isnan(time) | np.isnan(o) | ~use
    if ids is not None:
        miss = miss | np.isnan(ids)
    excl = {"ignored at outset because of if exp": int((~use).sum()),
            f"event time missing ({timevar}>=.)  PROBABLE ERROR": int((use & np.isnan(time)).sum()),
            "ignored because of missing values": int((use & ~np.isnan(time) & (miss)).sum())}
    t0 = np.zeros(n)
    if ids is not None:
        t0 = _previous_exit(ids, t, miss)
    if enter is not None:
        t0 = np.fmax(t0, (enter[0] - o) / scale)
    t0 = np.maximum(t0, 0.0)
    before_origin = ~miss & ~(t > 0)
    bad_end = ~miss & ~before_origin & ~(t > t0)
    excl["obs. end on or before origin()"] = int(before_origin.sum())
    excl["obs. end on or before enter()"] = int(bad_end.sum())
    st = ~miss & ~bad_end & ~before_origin
    after = np.zeros(n, bool)
    if ids is not None:
        after = _after_failure(ids, t, d, st)
        st = st & ~after
    excl["obs. begin on or after (first) failure"] = int(after.sum())
    return st, d & st, t, t0, excl, sc.StSettings(
        timevar, fvar, ev_text, idvar, orig[1] if orig else "", enter[1] if enter else "",
        exit_[1] if exit_ is not None else "", fmt_g(scale, 9).strip())


def _previous_exit(ids, t, miss):
    order = np.lexsort((t, ids))
    t0 = np.zeros(len(t))
    prev_id, prev_t = None, 0.0
    for i in order:
        if miss[i]:
            continue
        t0[i] = prev_t if ids[i] == prev_id else 0.0
        prev_id, prev_t = ids[i], t[i]
    return t0


def _after_failure(ids, t, d, st):
    order = np.lexsort((t, ids))
    out = np.zeros(len(t), bool)
    failed, cur = False, None
    for i in order:
        if not st[i]:
            continue
        if ids[i] != cur:
            cur, failed = ids[i], False
        if failed:
            out[i] = True
        elif d[i]:
            failed = True
    return out


def _store(session, st_, d, t, t0, s: sc.StSettings) -> None:
    ds = session.data
    for name, vals, vtype, fmtx in (("_st", st_.astype(float), "byte", "%8.0g"),
                                    ("_d", np.where(st_, d, np.nan).astype(float), "byte", "%8.0g"),
                                    ("_t", np.where(st_, t, np.nan), "double", "%10.0g"),
                                    ("_t0", np.where(st_, t0, np.nan), "double", "%10.0g")):
        if name in ds:
            ds.drop([name])
        ds.add(Variable(name, vals, vtype, format=fmtx))
    values = {"_dta": "st", "st_ver": "2", "st_bt": s.timevar, "st_bd": s.failvar,
              "st_ev": s.events, "st_id": s.idvar, "st_orig": s.origin, "st_enter": s.enter,
              "st_exit": s.exit, "st_bs": s.scale}
    for k, v in values.items():
        ds.set_char("_dta", k, v)


def _clear(session) -> None:
    ds = session.data
    ds.drop([v for v in sc.ST_VARS if v in ds])
    for k in ("_dta", "st_ver") + sc.KEYS:
        ds.set_char("_dta", k, "")


def _show(session, s: sc.StSettings, st_, d, t, t0, excl, ids) -> None:
    out = session.out
    out.line("")
    out.line("Survival-time data settings")
    out.line("")
    if s.idvar:
        out.line(f"           ID variable: {s.idvar}")
    ev = f"{s.failvar}!=0 & {s.failvar}<." if s.failvar and not s.events else \
        (f"{s.failvar}=={s.events}" if s.failvar else f"(assumed to fail at time={s.timevar})")
    out.line(f"         Failure event: {ev}")
    out.line(f"Observed time interval: (0, {s.timevar}]" if not s.idvar
             else f"Observed time interval: ({s.timevar}[_n-1], {s.timevar}]")
    if s.enter:
        out.line(f"     Enter on or after: time {s.enter}")
    out.line(f"     Exit on or before: {'failure' if not s.exit else 'time ' + s.exit}")
    if s.origin:
        out.line(f"     Time for analysis: (time-origin){'' if s.scale == '1' else '/' + s.scale}")
        out.line(f"                Origin: time {s.origin}")
    elif s.scale != "1":
        out.line(f"     Time for analysis: time/{s.scale}")
    rule = "-" * 74
    n_tot, n_st = len(st_), int(st_.sum())
    nex = n_tot - n_st
    out.line("")
    out.line(rule)
    out.line(f"{n_tot:>11,}  total observations")
    for why, k in excl.items():
        if k:
            out.line(f"{k:>11,}  {why}")
    if nex == sum(excl.values()) and nex == 0:
        out.line(f"{0:>11}  exclusions")
    out.line(rule)
    out.line(f"{n_st:>11,}  observations remaining, representing")
    if s.idvar:
        out.line(f"{len(np.unique(ids[st_])):>11,}  subjects")
    kind = "multiple-record" if s.idvar else "single-record"
    out.line(f"{int(d[st_].sum()):>11,}  failures in {kind}/single-failure data")
    risk = float(np.sum(t[st_] - t0[st_]))
    out.line(f"{fmt_g(risk, 10):>11}  total analysis time at risk and under observation")
    if n_st:
        for lab, v in (("At risk from t =", 0.0), ("Earliest observed entry t =", t0[st_].min()),
                       ("Last observed exit t =", t[st_].max())):
            out.line(f"{lab:>64} {fmt_g(float(v), 9):>9}")


@command("stset", family="Survival", body="varlist", qualifiers="if", byable=False,
         desc="declare data to be survival-time data",
         example="stset studytime, failure(died)", options=_STSET_OPTS)
def stset_cmd(session, cmd) -> None:
    opts = typed_args(cmd)
    names = varlist(session, cmd.body or "", all_if_empty=False)
    if opts.clear:
        if names:
            raise StataError("option clear not allowed with a time variable", 198)
        _clear(session)
        return
    if not names:
        s = sc.settings(session)
        text = s.timevar
        fake = {"failure": s.failvar + ("==" + s.events if s.events else "") or None,
                "id": s.idvar or None, "origin": s.origin or None, "enter": s.enter or None,
                "exit": s.exit or None}
        session.out.line("-> stset " + text + (", " if any(fake.values()) else "")
                         + " ".join(f"{k}({v})" for k, v in fake.items() if v))
        names = [text]
        opts = _Replay(fake, float(s.scale))
    if len(names) != 1:
        raise StataError("too many variables specified", 103)
    if session.data.var(names[0]).is_string:
        raise StataError("type mismatch", 109)
    st_, d, t, t0, excl, s = compute(session, cmd, names[0], opts)
    _store(session, st_, d, t, t0, s)
    ids = np.asarray(session.data.values(s.idvar), dtype=object) if s.idvar else None
    if not opts.noshow:
        _show(session, s, st_, d, t, t0, excl, ids)


class _Replay:
    """Options of bare `stset`: the stored settings typed again."""

    def __init__(self, raw: dict, scale: float):
        self._raw, self.scale, self.noshow, self.clear = raw, scale, False, False

    def raw(self, name):
        return self._raw.get(name)
