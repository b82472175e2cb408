"""stdescribe and stsum: summaries of stset data ([ST] stdescribe, [ST] stsum).

stdescribe: per-subject counts, entry and exit times, time at risk and failures (total, mean,
min, median, max over subjects). stsum: time at risk, incidence rate (failures / time at
risk), subjects and the Kaplan-Meier 25/50/75% survival times, optionally by(varlist)."""
from __future__ import annotations

import numpy as np

from hlmshell.commands import st_common as sc
from hlmshell.commands._toolkit import touse, typed_args, value_text, varlist
from hlmshell.engine.survival import kaplan_meier, km_quantile
from hlmshell.errors import StataError
from hlmshell.output.numfmt import fmt_g
from hlmshell.registry import Opt, command
from hlmshell.results import RResults


def _g(v) -> str:
    return fmt_g(float(v), 9) if np.isfinite(v) else "."


def _per_subject(ids, vals, how):
    u, inv = np.unique(ids, return_inverse=True)
    out = np.zeros(len(u))
    if how == "sum":
        np.add.at(out, inv, vals)
    elif how == "min":
        out[:] = np.inf
        np.minimum.at(out, inv, vals)
    else:
        out[:] = -np.inf
        np.maximum.at(out, inv, vals)
    return out


@command("stdescribe", abbrev="stdes", family="Survival", body="none", qualifiers="if in",
         byable=False, desc="describe survival-time data", example="stdescribe",
         options=(Opt("noshow", "nosh", desc="do not show st setting information"),))
def stdescribe_cmd(session, cmd) -> None:
    opts = typed_args(cmd)
    st = sc.settings(session)
    rec = sc.records(session, touse(session, cmd))
    if not opts.noshow:
        sc.header(session, st)
    if rec.t.size == 0:
        raise StataError("no observations", 2000)
    ids = sc.idvalues(session, st, rec.mask)
    nsub = len(np.unique(ids))
    nrec = _per_subject(ids, np.ones_like(rec.t), "sum")
    entry = _per_subject(ids, rec.t0, "min")
    exit_ = _per_subject(ids, rec.t, "max")
    risk = _per_subject(ids, rec.t - rec.t0, "sum")
    fails = _per_subject(ids, rec.d, "sum")
    gaps = exit_ - entry - risk
    out = session.out
    out.line(f"{'':35}|{'-' * 14} Per subject {'-' * 14}|")
    out.line(f"{'Category':<22}{'Total':>10}{'Mean':>12}{'Min':>12}{'Median':>11}{'Max':>11}")
    out.line("-" * 78)

    def row(label, total, arr):
        cells = "" if arr is None else "".join(
            f"{_g(v):>{w}}" for v, w in ((arr.mean(), 12), (arr.min(), 12),
                                          (np.median(arr), 11), (arr.max(), 11)))
        out.line(f"{label:<22}{total:>10}{cells}".rstrip())

    row("Number of subjects", f"{nsub:,}", None)
    row("Number of records", f"{len(rec.t):,}", nrec)
    out.line("")
    row("Entry time (first)", "", entry)
    row("Exit time (final)", "", exit_)
    out.line("")
    row("Subjects with gap", f"{int((gaps > 1e-12).sum()):,}", None)
    row("Time on gap", _g(max(gaps.sum(), 0.0)), None)
    row("Time at risk", _g(risk.sum()), risk)
    out.line("")
    row("Failures", _g(fails.sum()), fails)
    out.line("-" * 78)
    r = RResults()
    r.scalars.update({"N_sub": float(nsub), "N_total": float(len(rec.t)),
                      "N_fail": float(fails.sum()), "risk": float(risk.sum()),
                      "t0_min": float(entry.min()), "t1_max": float(exit_.max())})
    session.r = r


@command("stsum", family="Survival", body="none", qualifiers="if in", byable=False,
         desc="summarize survival-time data", example="stsum, by(drug)",
         options=(Opt("by", "by", "string", None, "report separate summaries for each group"),
                  Opt("noshow", "nosh", desc="do not show st setting information")))
def stsum_cmd(session, cmd) -> None:
    opts = typed_args(cmd)
    st = sc.settings(session)
    byvars = varlist(session, opts.raw("by"), all_if_empty=False) if opts.raw("by") else []
    mask = touse(session, cmd, byvars)
    rec = sc.records(session, mask)
    if not opts.noshow:
        sc.header(session, st)
    if rec.t.size == 0:
        raise StataError("no observations", 2000)
    ids = sc.idvalues(session, st, rec.mask)
    out = session.out
    lab = byvars[0][:8] if len(byvars) == 1 else ""
    out.line(f"{'':9}|{'Incidence':>24}{'Number of':>14}   |{'-' * 6} Survival time {'-' * 5}|")
    out.line(f"{lab:>8} | Time at risk       rate      subjects        25%       50%       75%")
    out.line("-" * 9 + "+" + "-" * 69)
    rows = []
    if byvars:
        gv = np.asarray(session.data.values(byvars[0]))[rec.mask]
        for g in np.unique(gv):
            rows.append((_label(session, byvars[0], g), gv == g))
    if rows:
        rows.append(None)
    rows.append(("Total", np.ones(len(rec.t), bool)))
    r = RResults()
    for item in rows:
        if item is None:
            out.line("-" * 9 + "+" + "-" * 69)
            continue
        name, m = item
        risk = float(np.sum(rec.t[m] - rec.t0[m]))
        km = kaplan_meier(rec.t0[m], rec.t[m], rec.d[m], 1.96)
        q = [km_quantile(km, p) for p in (0.25, 0.5, 0.75)]
        nsub = len(np.unique(ids[m]))
        rate = rec.d[m].sum() / risk if risk > 0 else np.nan
        out.line(f"{name:>8} | {_g(risk):>12}  {_g(rate):>9}  {nsub:>12,}  "
                 + " ".join(f"{_g(v):>9}" for v in q))
        r.scalars.update({"risk": risk, "ir": float(rate), "N_sub": float(nsub),
                          "p25": q[0], "p50": q[1], "p75": q[2]})
    session.r = r


def _label(session, var: str, value) -> str:
    v = session.data.var(var)
    return (str(value) if v.is_string else value_text(session.data, v, float(value)))[:8]


@command("stvary", family="Survival", body="varlist", qualifiers="if in", byable=False,
         desc="report whether variables vary over time within subjects", example="stvary age",
         options=(Opt("noshow", "nosh", desc="do not show st setting information"),))
def stvary_cmd(session, cmd) -> None:
    opts = typed_args(cmd)
    st = sc.settings(session)
    names = [v for v in varlist(session, cmd.body or "") if v not in sc.ST_VARS]
    rec = sc.records(session, touse(session, cmd))
    if not opts.noshow:
        sc.header(session, st)
    if rec.t.size == 0:
        raise StataError("no observations", 2000)
    ids = sc.idvalues(session, st, rec.mask)
    out = session.out
    out.line(f"{'':16}Subjects for whom the variable is")
    out.line(f"{'':35}{'never':>10} {'always':>10} {'sometimes':>10}")
    out.line(f"{'Variable':>12} " + " ".join(f"{h:>10}" for h in ("constant", "varying", "missing",
                                                                 "missing", "missing")))
    out.line("-" * 72)
    for nm in names:
        c = _stvary_counts(np.asarray(session.data.values(nm))[rec.mask], ids)
        out.line(f"{nm[:12]:>12} " + "".join(f"{v:>10,}" + " " for v in c).rstrip())


def _stvary_counts(values, ids):
    """(constant, varying, never missing, always missing, sometimes missing) subjects; the
    first two among subjects with a nonmissing value, as Stata's stvary counts them."""
    if values.dtype.kind in "OUS":
        vals = values.astype(str)
        miss = vals == ""
    else:
        vals = values.astype(float)
        miss = np.isnan(vals)
    const = vary = never = always = some = 0
    for sid in np.unique(ids):
        m = ids == sid
        mm = miss[m]
        seen = np.unique(vals[m][~mm])
        never += int(not mm.any())
        always += int(mm.all())
        some += int(mm.any() and not mm.all())
        if seen.size:
            const += int(seen.size == 1)
            vary += int(seen.size > 1)
    return const, vary, never, always, some
