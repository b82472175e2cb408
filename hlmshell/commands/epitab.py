"""Stata 17's epitab tables for epidemiologists ([R] epitab): cohort studies (cs, csi),
case-control studies (cc, cci) and incidence-rate data (ir, iri).

    cs  case exposed [if] [in] [fw] [, by(varlist) or woolf tb exact nocrude nohom level(#)]
    csi #a #b #c #d [, or woolf tb exact level(#)]
    cc  case exposed [if] [in] [fw] [, by(varlist) exact cornfield woolf tb bd tarone nocrude
                                      nohom level(#)]
    cci #a #b #c #d [, exact cornfield woolf tb level(#)]
    ir  case exposed time [if] [in] [fw] [, by(varlist) tb nocrude nohom level(#)]
    iri #a #b #N1 #N2 [, tb level(#)]

Outcome and exposure are positive when nonzero. Cells as the manual names them: a exposed
cases, b unexposed cases, c exposed noncases (controls; person-time for ir), d unexposed.
Without by(): the 2 x 2 table and the risk difference/ratio (cs), odds ratio (cc; exact
interval by default, as Stata), rate difference/ratio (ir) with the attributable or
prevented fractions and chi2, Fisher's exact or mid-p tests. With by(): the per-stratum ratios,
crude and Mantel-Haenszel estimates and the homogeneity tests. Results in r() as Stata stores
them. Numbers from engine.epitab, layout from output.epitab_output.
"""
from __future__ import annotations

import math

import numpy as np

from hlmshell import distributions as dist
from hlmshell.commands._postest import confidence_level
from hlmshell.commands._toolkit import touse, typed_args, value_text, varlist, weights
from hlmshell.engine import epitab as ep
from hlmshell.errors import StataError
from hlmshell.output import epitab_output as eo
from hlmshell.registry import Opt, command
from hlmshell.results import RResults

_LEVEL = Opt("level", "l", "real", 95, "set confidence level; default is level(95)")
_BY = (Opt("by", type="varlist", desc="stratify on varlist"),
       Opt("nocrude", desc="do not display the crude estimate"),
       Opt("nohom", desc="do not display the homogeneity test"))
_CS = (Opt("or", desc="report the odds ratio"),
       Opt("woolf", desc="Woolf approximation for the odds ratio's interval"),
       Opt("tb", desc="test-based confidence intervals"),
       Opt("exact", desc="Fisher's exact p instead of chi2"), _LEVEL)
_CC = (Opt("cornfield", desc="Cornfield approximation for the odds ratio's interval"),
       Opt("woolf", desc="Woolf approximation for the odds ratio's interval"),
       Opt("tb", desc="test-based confidence intervals"),
       Opt("exact", desc="Fisher's exact p instead of chi2"), _LEVEL)
_CC_BY = (Opt("bd", desc="Breslow and Day's test of homogeneity"),
          Opt("tarone", desc="Tarone's correction of the Breslow-Day test"))
_IR = (Opt("tb", desc="test-based confidence intervals"), _LEVEL)


def _pv(chi2: float, df: int = 1) -> float:
    return float(dist.chi2_sf(chi2, df)) if math.isfinite(chi2) and df > 0 else math.nan


def _ci_method(opts, cc: bool) -> str:
    chosen = [m for m in (("cornfield",) if cc else ()) + ("woolf", "tb") if getattr(opts, m)]
    if len(chosen) > 1:
        raise StataError(f"options {chosen[0]} and {chosen[1]} may not be combined", 198)
    if chosen:
        return chosen[0]
    return "exact" if cc else "cornfield"


def _fractions(kind: str) -> tuple[str, str]:
    return ("Attr. frac. ex.", "Attr. frac. pop") if kind == "attributable" \
        else ("Prev. frac. ex.", "Prev. frac. pop")


def _miss(x: float) -> float:
    """Stata's missing for anything not finite (a ratio over a zero cell)."""
    return x if math.isfinite(x) else math.nan


def _est(e: ep.Estimate, prefix: str) -> dict:
    return {prefix: _miss(e.est), "lb_" + prefix: _miss(e.lb), "ub_" + prefix: _miss(e.ub)}


def _exact_p(a, b, c, d) -> tuple[float, float]:
    from hlmshell.engine.contingency import fisher_exact
    res = fisher_exact(np.array([[a, b], [c, d]], dtype=float).round())
    return (1.0 if res.p1 is None else float(res.p1)), float(res.p)


# ------------------------------------------------------------------------------- reports
def report_cs(session, cells, opts, varname: str | None) -> None:
    a, b, c, d = cells
    level = confidence_level(session, opts)
    or_method = None
    if "or" in opts:
        or_method = "tb" if opts.tb else ("woolf" if opts.woolf else "cornfield")
    res = ep.cohort(a, b, c, d, level, tb=opts.tb, or_method=or_method)
    out = session.out
    rows = [("Cases", a, b, a + b), ("Noncases", c, d, c + d)]
    for ln in eo.two_by_two(varname=varname, rows=rows, totals=("Total", a + c, b + d, a + b + c + d),
                            extra=("Risk", res.risk1, res.risk0, res.risk)):
        out.line(ln)
    fe, fp = _fractions(res.kind)
    tag = "tb" if opts.tb else ""
    est = [("Risk difference", res.rd.est, res.rd.lb, res.rd.ub, tag),
           ("Risk ratio", res.rr.est, res.rr.lb, res.rr.ub, tag),
           (fe, res.afe.est, res.afe.lb, res.afe.ub, tag), (fp, res.afp, None, None, "")]
    if res.orr is not None:          # below the fractions, as Stata prints it
        est.append(("Odds ratio", res.orr.est, res.orr.lb, res.orr.ub, res.orr.method))
    for ln in eo.estimates(est, level):
        out.line(ln)
    sc = {"p": _pv(res.chi2), "chi2": res.chi2, **_est(res.rd, "rd"), **_est(res.rr, "rr"),
          **_est(res.afe, "afe"), "afp": res.afp}
    if res.orr is not None:
        sc.update(_est(res.orr, "or"))
    _tests(session, opts, (a, b, c, d), res.chi2, sc)
    session.r = RResults(scalars=sc)


def _tests(session, opts, cells, chi2, sc) -> None:
    """chi2 (r(chi2), r(p)) or, with exact, Fisher's p-values (r(p1_exact), r(p_exact))
    instead, as csi and cci store them."""
    if opts.exact:
        p1, p2 = _exact_p(*cells)
        sc.pop("chi2", None)
        sc.pop("p", None)
        sc.update(p1_exact=p1, p_exact=p2)
        for ln in eo.fisher_lines(p1, p2):
            session.out.line(ln)
    else:
        session.out.line(eo.chi2_line(chi2, _pv(chi2)))


def report_cc(session, cells, opts, varname: str | None) -> None:
    a, b, c, d = cells
    level = confidence_level(session, opts)
    res = ep.case_control(a, b, c, d, level, _ci_method(opts, True))
    n = a + b + c + d
    rows = [("Cases", a, b, a + b, a / (a + b) if a + b else math.nan),
            ("Controls", c, d, c + d, c / (c + d) if c + d else math.nan)]
    out = session.out
    for ln in eo.two_by_two(varname=varname, rows=rows,
                            totals=("Total", a + c, b + d, n, (a + c) / n if n else math.nan),
                            proportion=True):
        out.line(ln)
    fe, fp = _fractions(res.kind)
    m = res.orr.method
    tag = m if m in ("exact", "Cornfield", "Woolf", "tb") else ""
    for ln in eo.estimates([("Odds ratio", res.orr.est, res.orr.lb, res.orr.ub, tag),
                            (fe, res.afe.est, res.afe.lb, res.afe.ub, tag),
                            (fp, res.afp, None, None, "")], level):
        out.line(ln)
    sc = {"p": _pv(res.chi2), "chi2": res.chi2, **_est(res.orr, "or"), **_est(res.afe, "afe"),
          "afp": res.afp}
    _tests(session, opts, (a, b, c, d), res.chi2, sc)
    if _ci_method(opts, True) == "exact" and m != "exact":
        out.line("")
        out.line(" Note: Exact confidence levels not possible with zero count cells.")
    session.r = RResults(scalars=sc)


def report_ir(session, cells, opts, names: tuple[str, str] | None, varname: str | None) -> None:
    a, b, t1, t0 = cells
    level = confidence_level(session, opts)
    res = ep.rates(a, b, t1, t0, level, tb=opts.tb)
    labels = names or ("Cases", "Person-time")
    out = session.out
    rows = [(labels[0], a, b, a + b), (labels[1], t1, t0, t1 + t0)]
    for ln in eo.two_by_two(varname=varname, rows=rows, totals=None,
                            extra=("Incidence rate", res.rate1, res.rate0, res.rate)):
        out.line(ln)
    fe, fp = _fractions(res.kind)
    tag = "tb" if opts.tb else "exact"
    for ln in eo.estimates([("Inc. rate diff.", res.ird.est, res.ird.lb, res.ird.ub,
                             "tb" if opts.tb else ""),
                            ("Inc. rate ratio", res.irr.est, res.irr.lb, res.irr.ub, tag),
                            (fe, res.afe.est, res.afe.lb, res.afe.ub, tag),
                            (fp, res.afp, None, None, "")], level):
        out.line(ln)
    for ln in eo.midp_lines(a, res.upper, res.p_one):
        out.line(ln)
    # r(p) is the one-sided mid-p, as Stata's iri stores it
    session.r = RResults(scalars={"p": res.p_one, **_est(res.ird, "ird"), **_est(res.irr, "irr"),
                                  **_est(res.afe, "afe"), "afp": res.afp})


# ------------------------------------------------------------------------------- by()
_TAGS = ("exact", "Cornfield", "Woolf", "tb")


def _tag(e: ep.Estimate, exact: bool = False) -> str:
    """The interval's method as the tables tag it; cc's default tags every row (exact), even
    a stratum whose zero cell gave it Cornfield's bounds, as Stata's cc does."""
    if not (math.isfinite(e.lb) or math.isfinite(e.ub)):
        return ""
    return "exact" if exact else (e.method if e.method in _TAGS else "")


def _stratified(kind: str, tabs, level: float, opts):
    """(engine result, column title, r() key): IRR for ir, OR for cc and cs's `or`, else RR."""
    if kind == "ir":
        return ep.mh_rate_ratio(tabs, level), "IRR", "irr"
    if kind == "cc" or "or" in opts:
        return ep.mh_odds_ratio(tabs, level, _ci_method(opts, kind == "cc")), "OR", "or"
    return ep.mh_risk_ratio(tabs, level), "RR", "rr"


def report_strata(session, kind: str, tabs: np.ndarray, labels, byname: str, opts) -> None:
    """The stratified table of by() with its tests, and r() as each command stores them."""
    level = confidence_level(session, opts)
    st, stat, key = _stratified(kind, tabs, level, opts)
    exact = kind == "cc" and _ci_method(opts, True) == "exact"
    rows = [(lab, e.est, e.lb, e.ub, w, _tag(e, exact)) for lab, (e, w) in zip(labels, st.strata)]
    # cs prints no tag on its crude row; the combined row carries one for tb only
    crude = (st.crude.est, st.crude.lb, st.crude.ub, "" if kind == "cs" else _tag(st.crude, exact))
    tb = "tb" in opts and opts.tb and key != "irr"
    out = session.out
    for ln in eo.strata_table(kind, byname, stat, rows, crude,
                              (st.mh.est, st.mh.lb, st.mh.ub, "tb" if tb else ""),
                              level=level, nocrude=opts.nocrude):
        out.line(ln)
    sc = {key: st.mh.est, "lb_" + key: st.mh.lb, "ub_" + key: st.mh.ub}
    if not opts.nocrude:
        sc.update(crude=st.crude.est, lb_crude=st.crude.lb, ub_crude=st.crude.ub)
    tests = _homogeneity_tests(kind, st, opts)
    if not opts.nohom:
        out.line("-" * 67)
    for what, name, chi2, df in tests if not opts.nohom else ():
        out.line(eo.homogeneity_line(kind, what, chi2, df, _pv(chi2, df)))
    for what, name, chi2, df in tests:
        sc.update({name: chi2, ("df" if name in ("chi2_mh", "chi2_p") else "df_" + name[5:]): float(df)})
    if key == "or":
        p = _pv(st.chi2_mh)
        for ln in eo.combined_or_test(st.chi2_mh, p):
            out.line(ln)
        sc["chi2"] = st.chi2_mh
    session.r = RResults(scalars=sc)


def _homogeneity_tests(kind: str, st, opts) -> list:
    """(label, r() name, chi2, df) of the tests to print: M-H (r(chi2_mh); cc: r(chi2_p)),
    unless a stratum's odds ratio is 0 or missing, when cc shows Tarone's instead; bd and
    tarone add Breslow-Day's (r(chi2_bd)) and Tarone's (r(chi2_t))."""
    tests = []
    suppress = kind == "cc" and any(not (math.isfinite(e.est) and e.est > 0) for e, _ in st.strata)
    if st.df_hom > 0 and not suppress:
        tests.append(("M-H", "chi2_p" if kind == "cc" else "chi2_mh", st.chi2_hom, st.df_hom))
    if kind == "cc" and st.df_bd > 0:
        if "bd" in opts:
            tests.append(("B-D", "chi2_bd", st.chi2_bd, st.df_bd))
        if "tarone" in opts or suppress:
            tests.append(("Tarone", "chi2_t", st.chi2_tarone, st.df_bd))
    return tests


# ------------------------------------------------------------------------------- data forms
def _binary(x: np.ndarray) -> np.ndarray:
    return (x != 0).astype(float)


def _data_tables(session, cmd, kind: str, opts):
    """(stacked cell rows, stratum labels or None, variable names) from the data."""
    ds = session.data
    names = varlist(session, cmd.body or "", all_if_empty=False)
    need = 3 if kind == "ir" else 2
    if len(names) < need:
        raise StataError("too few variables specified", 102)
    if len(names) > need:
        raise StataError("too many variables specified", 103)
    for nm in names:
        if ds.var(nm).is_string:
            raise StataError("type mismatch", 109)
    byvars = list(opts.by or [])
    mask = touse(session, cmd, names + byvars)
    w = weights(session, cmd, mask, ("fweight",))
    if w is not None:
        mask &= ~np.isnan(w)
    if not mask.any():
        raise StataError("no observations", 2000)
    wt = np.ones(int(mask.sum())) if w is None else w[mask]
    case = np.asarray(ds.var(names[0]).values, dtype=float)[mask]
    expo = _binary(np.asarray(ds.var(names[1]).values, dtype=float)[mask])
    if kind == "ir":
        time = np.asarray(ds.var(names[2]).values, dtype=float)[mask]
        if np.any(case < 0) or np.any(time < 0):
            raise StataError(f"{names[0] if np.any(case < 0) else names[2]} must be "
                             "greater than or equal to zero", 459)
        cols = np.column_stack([case * expo, case * (1 - expo), time * expo, time * (1 - expo)])
    else:
        y = _binary(case)
        cols = np.column_stack([y * expo, y * (1 - expo), (1 - y) * expo, (1 - y) * (1 - expo)])
    cols = cols * wt[:, None]
    if not byvars:
        return cols.sum(axis=0)[None, :], None, names, ""
    keys = [np.asarray(ds.var(v).values)[mask] for v in byvars]
    combos = sorted(set(zip(*[k.tolist() for k in keys])))
    tabs, labels = [], []
    for combo in combos:
        m = np.ones(len(wt), dtype=bool)
        for k, v in zip(keys, combo):
            m &= k == v
        tabs.append(cols[m].sum(axis=0))
        labels.append(" ".join(value_text(ds, ds.var(v), x) for v, x in zip(byvars, combo)))
    return np.array(tabs), labels, names, (_label(session, byvars[0]) if len(byvars) == 1
                                           else " ".join(byvars))


def _label(session, name: str) -> str:
    """What Stata shows for a variable in these tables: its label, else its name (the table
    truncates it to 16 characters)."""
    return session.data.var(name).label or name


def _run_data(session, cmd, kind: str) -> None:
    opts = typed_args(cmd)
    _check_options(kind, opts, bool(opts.by))
    tabs, labels, names, byname = _data_tables(session, cmd, kind, opts)
    if labels is not None:
        report_strata(session, kind, tabs, labels, byname, opts)
        return
    cells = tuple(float(x) for x in tabs[0])
    exposure = _label(session, names[1])
    if kind == "cs":
        report_cs(session, cells, opts, exposure)
    elif kind == "cc":
        report_cc(session, cells, opts, exposure)
    else:
        report_ir(session, cells, opts, (_label(session, names[0]), _label(session, names[2])),
                  exposure)


def _check_options(kind: str, opts, by: bool) -> None:
    if kind == "cc":
        _ci_method(opts, True)
        for o in ("bd", "tarone"):
            if not by and o in opts:
                raise StataError(f"option {o} requires by()", 198)
    if kind == "cs":
        _ci_method(opts, False)
        if opts.woolf and "or" not in opts:
            raise StataError("woolf option only valid with OR", 198)
    if by and "exact" in opts and opts.exact:
        raise StataError("option exact not allowed with by()", 198)


@command("cs", byable=True, body="varlist", qualifiers="if in weight", weights="fw",
         family="Statistics", changes_data=False, desc="tables for cohort studies (risks)",
         example="cs case exposed [fw=pop], by(age) or", options=_BY + _CS)
def cs_cmd(session, cmd) -> None:
    _run_data(session, cmd, "cs")


@command("cc", byable=True, body="varlist", qualifiers="if in weight", weights="fw",
         family="Statistics", changes_data=False, desc="tables for case-control studies (odds ratios)",
         example="cc case exposed [fw=pop], by(age) bd", options=_BY + _CC + _CC_BY)
def cc_cmd(session, cmd) -> None:
    _run_data(session, cmd, "cc")


@command("ir", byable=True, body="varlist", qualifiers="if in weight", weights="fw",
         family="Statistics", changes_data=False, desc="tables for incidence-rate data",
         example="ir deaths smokes pyears, by(age)", options=_BY + _IR)
def ir_cmd(session, cmd) -> None:
    _run_data(session, cmd, "ir")


# ------------------------------------------------------------------------------- immediate
def _numbers(cmd, integer: tuple[bool, ...]) -> tuple[float, ...]:
    """The four numbers of an immediate command, checked as Stata's confirm (integer) number
    and its `negative numbers invalid` check do."""
    words = (cmd.body or "").split()
    if len(words) != 4:
        raise StataError("invalid syntax", 198)
    vals = []
    for w, must_int in zip(words, integer):
        try:
            v = float(w)
        except ValueError:
            v = math.nan
        if not math.isfinite(v):
            raise StataError(f"'{w}' found where number expected", 7)
        if must_int and v != math.floor(v):
            raise StataError(f"'{w}' found where integer expected", 7)
        vals.append(v)
    if min(vals) < 0:
        raise StataError("negative numbers invalid", 498)
    return tuple(vals)


@command("csi", byable=False, body="anything", exp=False, qualifiers="", family="Statistics",
         changes_data=False, desc="cohort-study table from typed counts",
         example="csi 7 12 9 2", options=_CS)
def csi_cmd(session, cmd) -> None:
    cells = _numbers(cmd, (True,) * 4)
    opts = typed_args(cmd)
    _check_options("cs", opts, False)
    report_cs(session, cells, opts, None)


@command("cci", byable=False, body="anything", exp=False, qualifiers="", family="Statistics",
         changes_data=False, desc="case-control table from typed counts",
         example="cci 12 16 55 125", options=_CC)
def cci_cmd(session, cmd) -> None:
    cells = _numbers(cmd, (True,) * 4)
    opts = typed_args(cmd)
    _check_options("cc", opts, False)
    report_cc(session, cells, opts, None)


@command("iri", byable=False, body="anything", exp=False, qualifiers="", family="Statistics",
         changes_data=False, desc="incidence-rate table from typed counts and person-time",
         example="iri 41 15 28010 19017", options=_IR)
def iri_cmd(session, cmd) -> None:
    a, b, t1, t0 = _numbers(cmd, (True, True, False, False))
    if t1 <= 0 or t0 <= 0:
        raise StataError("person-time must be positive", 198)
    report_ir(session, (a, b, t1, t0), typed_args(cmd), None, None)
