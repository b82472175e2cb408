"""icc: intraclass correlations for one-way and two-way random- and mixed-effects models
(Stata 17's `icc`, Shrout & Fleiss 1979, McGraw & Wong 1996).

    icc depvar target [if] [in] [, absolute level(#) testvalue(#)]                   one-way
    icc depvar target rater [if] [in] [, mixed consistency absolute level(#) testvalue(#)]

Data are long: one rating per target (and rater). Each target needs the same number of
ratings; in two-way models each rater rates each target exactly once. Individual and average
ICCs with their F-based confidence intervals and F tests of ICC = testvalue() come from the
ANOVA mean squares (targets MSR, raters MSC, error MSE, within MSW). r(icc_i), r(icc_avg),
their bounds, F, df and p-values are stored.
"""
from __future__ import annotations

import numpy as np

from hlmshell import distributions as dist
from hlmshell.commands._postest import confidence_level
from hlmshell.commands._toolkit import touse, typed_args, varlist
from hlmshell.errors import StataError
from hlmshell.output.numfmt import fmt_count, fmt_g
from hlmshell.output.text import abbrev
from hlmshell.registry import Opt, command
from hlmshell.results import RResults


def _fq(q: float, d1: float, d2: float) -> float:
    from scipy.stats import f as fdist
    return float(fdist.ppf(q, d1, d2))


def mean_squares(Y: np.ndarray) -> dict:
    """n x k ratings -> the ANOVA mean squares of targets (rows), raters (columns), error
    and within targets."""
    n, k = Y.shape
    g = Y.mean()
    ssr = k * ((Y.mean(1) - g) ** 2).sum()
    ssc = n * ((Y.mean(0) - g) ** 2).sum()
    sst = ((Y - g) ** 2).sum()
    sse = sst - ssr - ssc
    ssw = sst - ssr
    return {"n": n, "k": k, "MSR": ssr / (n - 1), "MSC": ssc / (k - 1) if k > 1 else np.nan,
            "MSE": sse / ((n - 1) * (k - 1)) if k > 1 else np.nan, "MSW": ssw / (n * (k - 1))}


def oneway(ms: dict, alpha: float, r0: float) -> dict:
    n, k, MSR, MSW = ms["n"], ms["k"], ms["MSR"], ms["MSW"]
    d1, d2 = n - 1, n * (k - 1)
    F0 = MSR / MSW
    FL = F0 / _fq(1 - alpha / 2, d1, d2)
    FU = F0 * _fq(1 - alpha / 2, d2, d1)
    ind = {"icc": (MSR - MSW) / (MSR + (k - 1) * MSW), "lb": (FL - 1) / (FL + k - 1),
           "ub": (FU - 1) / (FU + k - 1), "F": F0 * (1 - r0) / (1 + (k - 1) * r0), "df1": d1, "df2": d2}
    avg = {"icc": (MSR - MSW) / MSR, "lb": 1 - 1 / FL, "ub": 1 - 1 / FU, "F": F0 * (1 - r0),
           "df1": d1, "df2": d2}
    return {"i": ind, "avg": avg}


def consistency(ms: dict, alpha: float, r0: float) -> dict:
    n, k, MSR, MSE = ms["n"], ms["k"], ms["MSR"], ms["MSE"]
    d1, d2 = n - 1, (n - 1) * (k - 1)
    F0 = MSR / MSE
    FL = F0 / _fq(1 - alpha / 2, d1, d2)
    FU = F0 * _fq(1 - alpha / 2, d2, d1)
    ind = {"icc": (MSR - MSE) / (MSR + (k - 1) * MSE), "lb": (FL - 1) / (FL + k - 1),
           "ub": (FU - 1) / (FU + k - 1), "F": F0 * (1 - r0) / (1 + (k - 1) * r0), "df1": d1, "df2": d2}
    avg = {"icc": (MSR - MSE) / MSR, "lb": 1 - 1 / FL, "ub": 1 - 1 / FU, "F": F0 * (1 - r0),
           "df1": d1, "df2": d2}
    return {"i": ind, "avg": avg}


def _satterthwaite(a: float, b: float, ms: dict) -> float:
    n, k, MSC, MSE = ms["n"], ms["k"], ms["MSC"], ms["MSE"]
    num = (a * MSC + b * MSE) ** 2
    den = (a * MSC) ** 2 / (k - 1) + (b * MSE) ** 2 / ((n - 1) * (k - 1))
    return num / den


def absolute(ms: dict, alpha: float, r0: float) -> dict:
    """Two-way absolute agreement (McGraw & Wong's ICC(A,1) and ICC(A,k)): the interval from
    Satterthwaite's df, the F test of ICC = r0 with its approximate denominator df."""
    n, k, MSR, MSC, MSE = ms["n"], ms["k"], ms["MSR"], ms["MSC"], ms["MSE"]
    icc1 = (MSR - MSE) / (MSR + (k - 1) * MSE + k * (MSC - MSE) / n)
    icck = (MSR - MSE) / (MSR + (MSC - MSE) / n)
    a = k * icc1 / (n * (1 - icc1))
    b = 1 + k * icc1 * (n - 1) / (n * (1 - icc1))
    v = _satterthwaite(a, b, ms)
    Fs = _fq(1 - alpha / 2, n - 1, v)
    Fs2 = _fq(1 - alpha / 2, v, n - 1)
    c = k * MSC + (k * n - k - n) * MSE
    lb1 = n * (MSR - Fs * MSE) / (Fs * c + n * MSR)
    ub1 = n * (Fs2 * MSR - MSE) / (c + n * Fs2 * MSR)
    lbk = lb1 * k / (1 + (k - 1) * lb1)
    ubk = ub1 * k / (1 + (k - 1) * ub1)
    out = {}
    for key, icc, lb, ub, (aa, bb) in (
            ("i", icc1, lb1, ub1, (k * r0 / (n * (1 - r0)), 1 + k * r0 * (n - 1) / (n * (1 - r0)))),
            ("avg", icck, lbk, ubk, (r0 / (n * (1 - r0)), 1 + r0 * (n - 1) / (n * (1 - r0))))):
        d2 = (n - 1) * (k - 1) if r0 == 0 else _satterthwaite(aa, bb, ms)
        out[key] = {"icc": icc, "lb": lb, "ub": ub, "F": MSR / (aa * MSC + bb * MSE),
                    "df1": n - 1, "df2": d2}
    return out


def _layout(session, ydata, tdata, rdata):
    """Ratings as an n x k array, balanced as icc requires."""
    t_levels, t_inv = np.unique(tdata, return_inverse=True)
    n = len(t_levels)
    counts = np.bincount(t_inv)
    if rdata is None:
        if counts.min() != counts.max():
            raise StataError("unbalanced data: each target must be rated by the same number of raters", 459)
        k = int(counts[0])
        Y = np.empty((n, k))
        pos = np.zeros(n, dtype=int)
        for i, t in enumerate(t_inv):
            Y[t, pos[t]] = ydata[i]
            pos[t] += 1
        return Y
    r_levels, r_inv = np.unique(rdata, return_inverse=True)
    k = len(r_levels)
    Y = np.full((n, k), np.nan)
    seen = np.zeros((n, k), dtype=int)
    np.add.at(seen, (t_inv, r_inv), 1)
    if seen.max() > 1:
        raise StataError("multiple observations per target and rater are not allowed", 459)
    if seen.min() == 0:
        raise StataError("unbalanced data: each rater must rate each target", 459)
    Y[t_inv, r_inv] = ydata
    return Y


_MODEL = {"oneway": "one-way random effects", "random": "two-way random effects",
          "mixed": "two-way mixed effects"}


def _check(names, opts) -> None:
    if len(names) < 2:
        raise StataError("too few variables specified", 102)
    if len(names) > 3:
        raise StataError("too many variables specified", 103)
    if opts.absolute and opts.consistency:
        raise StataError("options absolute and consistency may not be combined", 198)
    if len(names) == 2 and (opts.mixed or opts.consistency):
        bad = "mixed" if opts.mixed else "consistency"
        raise StataError(f"option {bad} not allowed with one-way random-effects model", 198)
    if not 0 <= opts.testvalue < 1:
        raise StataError("testvalue() must be in [0, 1)", 198)


@command("icc", byable=True, qualifiers="if in", body="varlist", changes_data=False,
         family="Statistics", desc="intraclass correlation coefficients (one-way, two-way random and mixed)",
         example="icc rating target judge",
         options=(Opt("mixed", desc="two-way mixed-effects model (raters fixed)"),
                  Opt("absolute", "abs", desc="absolute agreement"),
                  Opt("consistency", "cons", desc="consistency of agreement"),
                  Opt("level", "l", "real", 95, "set confidence level; default is level(95)"),
                  Opt("testvalue", "testv", "real", 0.0, "test whether ICCs equal #; default 0"),
                  Opt("format", "for", "string", None, "accepted for compatibility")))
def icc_cmd(session, cmd):
    opts = typed_args(cmd)
    names = varlist(session, cmd.body, all_if_empty=False)
    _check(names, opts)
    twoway = len(names) == 3
    r0 = opts.testvalue
    level = confidence_level(session, opts)
    ds = session.data
    if ds.var(names[0]).is_string:
        raise StataError("type mismatch", 109)
    mask = touse(session, cmd, names)
    y = ds.var(names[0]).values[mask].astype(float)
    if y.size == 0:
        raise StataError("no observations", 2000)
    col = lambda nm: (ds.var(nm).values[mask] if ds.var(nm).is_string  # noqa: E731
                      else ds.var(nm).values[mask].astype(float))
    Y = _layout(session, y, col(names[1]), col(names[2]) if twoway else None)
    n, k = Y.shape
    if n < 2 or k < 2:
        raise StataError("insufficient observations", 2001)
    model = "oneway" if not twoway else ("mixed" if opts.mixed else "random")
    kind = "consistency" if opts.consistency or (model == "mixed" and not opts.absolute) else "absolute"
    ms = mean_squares(Y)
    a = 1 - level / 100
    res = oneway(ms, a, r0) if model == "oneway" else (
        absolute(ms, a, r0) if kind == "absolute" else consistency(ms, a, r0))
    for key in ("i", "avg"):
        e = res[key]
        e["p"] = float(dist.f_sf(e["F"], e["df1"], e["df2"]))
    _show(session, names, model, kind, n, k, res, level, r0)
    sc = {"N_target": float(n), "N_rater": float(k)}
    for key in ("i", "avg"):
        e = res[key]
        sc.update({f"icc_{key}": e["icc"], f"icc_{key}_lb": e["lb"], f"icc_{key}_ub": e["ub"],
                   f"icc_{key}_F": e["F"], f"icc_{key}_df1": float(e["df1"]),
                   f"icc_{key}_df2": float(e["df2"]), f"icc_{key}_p": e["p"]})
    sc.update({"testvalue": r0, "level": level})
    mac = {"model": _MODEL[model], "type": kind, "depvar": names[0], "target": names[1]}
    if twoway:
        mac["rater"] = names[2]
    session.r = RResults(scalars=sc, macros=mac)


def _show(session, names, model, kind, n, k, res, level, r0) -> None:
    out = session.out
    out.line("")
    out.line("Intraclass correlations")
    out.line({"oneway": "One-way random-effects model", "random": "Two-way random-effects model",
              "mixed": "Two-way mixed-effects model"}[model])
    out.line("Absolute agreement" if kind == "absolute" else "Consistency of agreement")
    out.line("")
    out.line(f"{'Random effects: ' + names[1]:<33}Number of targets = {fmt_count(n):>9}")
    if model == "oneway":
        out.line(f"{'':<33}Number of raters  = {fmt_count(k):>9}")
    else:
        lab = ("Random effects: " if model == "random" else "Fixed effects:  ") + names[2]
        out.line(f"{lab:<33}Number of raters  = {fmt_count(k):>9}")
    out.line("")
    out.line("-" * 62)
    ci = f"[{fmt_g(level, 9)}% conf. interval]"
    out.line(f"{abbrev(names[0], 22):>22} |{'ICC':>11}{ci:>26}")
    out.line("-" * 23 + "+" + "-" * 38)
    for key, lab in (("i", "Individual"), ("avg", "Average")):
        e = res[key]
        out.line(f"{lab:>22} |{fmt_g(e['icc'], 9):>11}{fmt_g(e['lb'], 9):>14}{fmt_g(e['ub'], 9):>12}")
    out.line("-" * 62)
    out.line("F test that")
    e = res["i"]
    fstr = f"F({e['df1']:.1f}, {e['df2']:.1f}) = {e['F']:.2f}"
    out.line(f"  ICC={r0:.2f}: {fstr:<31}Prob > F = {e['p']:.3f}")
    e2 = res["avg"]
    if abs(e2["F"] - e["F"]) > 1e-12 or abs(e2["df2"] - e["df2"]) > 1e-12:
        fstr = f"F({e2['df1']:.1f}, {e2['df2']:.1f}) = {e2['F']:.2f}"
        out.line(f"  (average) {fstr:<31}Prob > F = {e2['p']:.3f}")
    out.line("")
    out.line("Note: ICCs estimate correlations between individual measurements")
    out.line("      and between average measurements made on the same target.")
