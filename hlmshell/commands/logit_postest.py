"""After logit, logistic and probit: estat classification (and its old name lstat), estat gof
(and lfit): Pearson over covariate patterns or Hosmer-Lemeshow with group(#), lroc (area
under the ROC curve, with its graph) and lsens (sensitivity and specificity against the
probability cutoff), in Stata 17's layouts ([R] estat classification, estat gof, lroc, lsens).

Statistics use the estimation sample unless `all` asks for every observation with the
covariates. The outcome D is depvar != 0; an observation is classified positive when its
predicted probability is >= cutoff() (0.5). The ROC area is the trapezoid area under the
empirical curve, the Mann-Whitney probability with ties counted one half."""
from __future__ import annotations

import numpy as np

from hlmshell import distributions as dist
from hlmshell.commands._postest import active
from hlmshell.commands.program import NamedMatrix
from hlmshell.errors import StataError
from hlmshell.output.numfmt import fmt_g
from hlmshell.registry import Opt, args_of, command
from hlmshell.results import RResults

BINARY = {"logit": "Logistic", "logistic": "Logistic", "probit": "Probit"}


# ---- the sample and its predictions ---------------------------------------------------------------
def binary_data(session, res, who: str, all_obs: bool = False, rc: int = 321, restrict=None):
    """(y as 0/1, predicted probability, covariate matrix) on the observations used: e(sample),
    every observation with `all`, or those of `restrict` (the command's if/in)."""
    from hlmshell.commands.predict import fixed_part
    if res.cmd not in BINARY:
        raise StataError(f"{who} not available after {res.cmd}", rc)
    data = session.data
    if res.sample is None or len(res.sample) != data.n:
        raise StataError(f"{who} requires that the data used in estimation be in memory", 459)
    X, idx = fixed_part(res, data)
    b = np.asarray(res.b, dtype=float)[idx]
    xb = X @ b + _offset(res, data)
    y = np.asarray(data.values(res.depvar), dtype=float)
    use = np.asarray(res.sample, dtype=bool).copy()
    if all_obs or restrict is not None:
        use = ~np.isnan(xb) & ~np.isnan(y)
        if restrict is not None:
            use &= restrict
    xb, y, X = xb[use], y[use], X[use]
    if not len(y):
        raise StataError("no observations", 2000)
    p = 1.0 / (1.0 + np.exp(-xb)) if res.cmd != "probit" else np.asarray(dist.norm_cdf(xb), float)
    return (y != 0).astype(float), p, X


def _offset(res, data) -> np.ndarray:
    text = res.macros.get("offset", "")
    if not text:
        return np.zeros(data.n)
    if text.startswith("ln(") and text.endswith(")"):
        return np.log(np.asarray(data.values(text[3:-1]), dtype=float))
    return np.asarray(data.values(text), dtype=float)


def _model_line(res) -> str:
    return f"{BINARY[res.cmd]} model for {res.depvar}"


# ---- estat classification ------------------------------------------------------------------------
def classification(y, p, cutoff: float) -> dict:
    pos = p >= cutoff
    a = int(np.sum(pos & (y == 1)))
    b = int(np.sum(pos & (y == 0)))
    c = int(np.sum(~pos & (y == 1)))
    d = int(np.sum(~pos & (y == 0)))

    def pct(num, den):
        return 100.0 * num / den if den else float("nan")
    return {"a": a, "b": b, "c": c, "d": d,
            "P_p1": pct(a, a + c), "P_n0": pct(d, b + d), "P_1p": pct(a, a + b),
            "P_0n": pct(d, c + d), "P_p0": pct(b, b + d), "P_n1": pct(c, a + c),
            "P_0p": pct(b, a + b), "P_1n": pct(c, c + d), "P_corr": pct(a + d, a + b + c + d)}


def _pct(v: float) -> str:
    return f"{'.':>8}%" if v != v else f"{v:8.2f}%"


def classification_lines(res, st: dict, cutoff: float) -> list[str]:
    a, b, c, d = st["a"], st["b"], st["c"], st["d"]
    rule = "-" * 50
    rows = [("Sensitivity", "Pr( +| D)", "P_p1"), ("Specificity", "Pr( -|~D)", "P_n0"),
            ("Positive predictive value", "Pr( D| +)", "P_1p"),
            ("Negative predictive value", "Pr(~D| -)", "P_0n"), None,
            ("False + rate for true ~D", "Pr( +|~D)", "P_p0"),
            ("False - rate for true D", "Pr( -| D)", "P_n1"),
            ("False + rate for classified +", "Pr(~D| +)", "P_0p"),
            ("False - rate for classified -", "Pr( D| -)", "P_1n")]
    out = [_model_line(res), "", "              -------- True --------",
           f"Classified |{'D':>10}{'~D':>14}  |{'Total':>11}",
           "-----------+--------------------------+-----------",
           f"     +     |{a:>10}{b:>14}  |{a + b:>11}",
           f"     -     |{c:>10}{d:>14}  |{c + d:>11}",
           "-----------+--------------------------+-----------",
           f"   Total   |{a + c:>10}{b + d:>14}  |{a + b + c + d:>11}", "",
           f"Classified + if predicted Pr(D) >= {fmt_g(cutoff, 9).strip()}",
           f"True D defined as {res.depvar} != 0", rule]
    for r in rows:
        out.append(rule if r is None else f"{r[0]:<32}{r[1]}{_pct(st[r[2]])}")
    return out + [rule, f"{'Correctly classified':<41}{_pct(st['P_corr'])}", rule]


def estat_classification(session, res, opts) -> None:
    cutoff = float(opts.cutoff) if getattr(opts, "cutoff", None) is not None else 0.5
    if not 0 <= cutoff <= 1:
        raise StataError("cutoff() must be between 0 and 1", 198)
    y, p, _X = binary_data(session, res, "estat classification", bool(getattr(opts, "all", False)))
    st = classification(y, p, cutoff)
    session.out.line("")
    for ln in classification_lines(res, st, cutoff):
        session.out.line(ln)
    sc = {k: v for k, v in st.items() if k.startswith("P_")}
    ctab = NamedMatrix([[st["a"], st["b"]], [st["c"], st["d"]]], ["+", "-"], ["D", "~D"])
    session.r = RResults(scalars=sc, matrices={"ctable": ctab})


# ---- estat gof -------------------------------------------------------------------------------------
def pearson_patterns(y, p, X) -> tuple[float, int]:
    """(Pearson chi2 over covariate patterns, number of patterns)."""
    _, inv = np.unique(X, axis=0, return_inverse=True)
    inv = inv.ravel()
    m = np.bincount(inv).astype(float)
    obs = np.bincount(inv, weights=y)
    pj = np.bincount(inv, weights=p) / m
    chi2 = float(np.sum((obs - m * pj) ** 2 / (m * pj * (1.0 - pj))))
    return chi2, len(m)


def hl_groups(y, p, groups: int):
    """Hosmer-Lemeshow table: per nonempty group (cut point, obs1, exp1, obs0, exp0, total),
    groups cut at the quantiles of the predicted probabilities (p <= cut in the lower one)."""
    from hlmshell.commands._toolkit import percentile
    ps = np.sort(p)
    cuts = [percentile(ps, 100.0 * g / groups) for g in range(1, groups)]
    code = np.searchsorted(np.asarray(cuts), p, side="left")
    rows = []
    for g in range(groups):
        sel = code == g
        if not sel.any():
            continue
        cut = cuts[g] if g < len(cuts) else float(ps[-1])
        n1, e1, tot = float(y[sel].sum()), float(p[sel].sum()), int(sel.sum())
        rows.append((cut, n1, e1, tot - n1, tot - e1, tot))
    return rows


def hl_chi2(rows) -> float:
    return float(sum((o1 - e1) ** 2 / e1 + (o0 - e0) ** 2 / e0 for _c, o1, e1, o0, e0, _t in rows))


def _gof_table(rows) -> list[str]:
    bar = "  +--------------------------------------------------------+"
    out = ["  Table collapsed on quantiles of estimated probabilities", bar,
           "  | Group |   Prob | Obs_1 | Exp_1 | Obs_0 | Exp_0 | Total |",
           "  |-------+--------+-------+-------+-------+-------+-------|"]
    for g, (cut, o1, e1, o0, e0, tot) in enumerate(rows, 1):
        out.append(f"  | {g:>5} | {cut:6.4f} | {o1:5.0f} | {e1:5.1f} | {o0:5.0f} | {e0:5.1f} | {tot:>5} |")
    return out + [bar, ""]


def estat_gof(session, res, opts) -> None:
    y, p, X = binary_data(session, res, "estat gof", bool(getattr(opts, "all", False)))
    groups = getattr(opts, "group", None)
    k = int(res.scalars.get("rank", res.scalars.get("k", 0)))
    model = {"Logistic": "logistic", "Probit": "probit"}[BINARY[res.cmd]]
    out = session.out
    out.line("")
    out.line(f"Goodness-of-fit test after {model} model")
    out.line(f"Variable: {res.depvar}")
    out.line("")
    if groups is not None:
        groups = int(groups)
        if groups < 1:
            raise StataError("group() must be a positive integer", 198)
        rows = hl_groups(y, p, groups)
        if getattr(opts, "table", False):
            for ln in _gof_table(rows):
                out.line(ln)
        chi2, m, df = hl_chi2(rows), len(rows), len(rows) - 2
        lab_m, lab_c = "Number of groups", f"Hosmer–Lemeshow chi2({df})"
    else:
        chi2, m = pearson_patterns(y, p, X)
        df = m - k
        lab_m, lab_c = "Number of covariate patterns", f"Pearson chi2({df})"
    pv = float(dist.chi2_sf(chi2, df)) if df > 0 else float("nan")
    w = max(len(lab_c), len(lab_m), 22)
    for lab, val in (("Number of observations", f"{len(y)}"), (lab_m, f"{m}"),
                     (lab_c, f"{chi2:.2f}"), ("Prob > chi2", "." if pv != pv else f"{pv:.4f}")):
        out.line(f"{lab:>{w}} = {val:>6}")
    session.r = RResults(scalars={"N": float(len(y)), "m": float(m), "df": float(df),
                                  "chi2": chi2, "p": pv})


# ---- the ROC curve --------------------------------------------------------------------------------
def roc_points(y, p):
    """(1 - specificity, sensitivity) at every distinct cutoff, from (0,0) to (1,1)."""
    cuts = np.unique(p)[::-1]
    n1, n0 = float(np.sum(y == 1)), float(np.sum(y == 0))
    fpr, tpr = [0.0], [0.0]
    for c in cuts:
        pos = p >= c
        tpr.append(float(np.sum(pos & (y == 1))) / n1)
        fpr.append(float(np.sum(pos & (y == 0))) / n0)
    return np.array(fpr), np.array(tpr)


def roc_area(fpr, tpr) -> float:
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2.0))


_GRAPH = {"nograph": ("nog", False)}


def _graph_options(session, text: str, who: str, own_table: dict):
    from hlmshell.commands import graph_common as gc
    from hlmshell.syntax.ast import Command
    from hlmshell.syntax.parser import fill_qualifiers
    from hlmshell.syntax.evaluate import marksample
    c = Command(name=who)
    fill_qualifiers(c, text, allow_exp=False)
    if c.body.strip():
        raise StataError("varlist not allowed", 101)
    if c.weight is not None:
        raise StataError("weights not allowed", 101)
    own, gopts = gc.split_options(c.options, dict(_GRAPH, all=("all", False), **own_table))
    restrict = None
    if c.if_ is not None or c.in_ is not None:
        restrict = np.asarray(marksample(session, c), dtype=bool)
    return own, gopts, restrict


@command("lroc", family="Postestimation", raw=True, byable=False,
         desc="area under the ROC curve and its graph after logit, logistic, probit",
         example="lroc, nograph")
def lroc_cmd(session, cmd) -> None:
    from hlmshell.graphics.model import Panel, Series
    own, gopts, restrict = _graph_options(session, cmd.body or "", "lroc", {})
    res = active(session)
    y, p, _X = binary_data(session, res, "lroc", "all" in own, rc=301, restrict=restrict)
    if y.min() == y.max():
        raise StataError("outcome does not vary", 2000)
    fpr, tpr = roc_points(y, p)
    area = roc_area(fpr, tpr)
    out = session.out
    out.line("")
    out.line(_model_line(res))
    out.line("")
    out.line(f"Number of observations = {len(y):>8}")
    out.line(f"Area under ROC curve   = {area:8.4f}")
    session.r = RResults(scalars={"N": float(len(y)), "area": area})
    if "nograph" in own:
        return
    from hlmshell.commands.graph_stat import make_graph

    def build(m, title):
        return Panel(series=[Series("connected", fpr, tpr, label="", legend=False,
                                    style={"pstyle": 0}),
                             Series("line", [0, 1], [0, 1], legend=False,
                                    style={"pstyle": 1, "lcolor": "gs8"})])
    gopts.pop("by", None)
    gopts.setdefault("note", f'"Area under ROC curve = {area:.4f}"')
    make_graph(session, "lroc", gopts, build, ("1 - specificity", None), ("Sensitivity", None),
               cmd.text)


def sens_spec_curve(y, p):
    """(cutoffs, sensitivity, specificity): 0, every distinct probability, 1."""
    cuts = np.r_[0.0, np.unique(p), 1.0]
    cuts = np.unique(cuts)
    n1, n0 = float(np.sum(y == 1)), float(np.sum(y == 0))
    sens = np.array([np.sum((p >= c) & (y == 1)) / n1 for c in cuts])
    spec = np.array([np.sum((p < c) & (y == 0)) / n0 for c in cuts])
    return cuts, sens, spec


@command("lsens", family="Postestimation", raw=True, byable=False,
         desc="graph sensitivity and specificity against the probability cutoff",
         example="lsens, genprob(c) gensens(se) genspec(sp) nograph")
def lsens_cmd(session, cmd) -> None:
    from hlmshell.data.dataset import Variable
    from hlmshell.graphics.model import Panel, Series
    own, gopts, restrict = _graph_options(session, cmd.body or "", "lsens",
                                {"genprob": ("genp", True), "gensens": ("gens", True),
                                 "genspec": ("genspec", True), "replace": ("replace", False)})
    res = active(session)
    y, p, _X = binary_data(session, res, "lsens", "all" in own, rc=301, restrict=restrict)
    if y.min() == y.max():
        raise StataError("outcome does not vary", 2000)
    cuts, sens, spec = sens_spec_curve(y, p)
    data = session.data
    gens = [(own.get(k), v, lab) for k, v, lab in (("genprob", cuts, "Probability cutoff"),
                                                   ("gensens", sens, "Sensitivity"),
                                                   ("genspec", spec, "Specificity")) if own.get(k)]
    from hlmshell.commands._toolkit import check_name
    for name, _v, _l in gens:
        name = name.strip()
        check_name(name)
        if name in data and "replace" not in own:
            raise StataError(f"variable {name} already defined", 110)
    if gens and len(cuts) > data.n:
        raise StataError("too few observations to hold the curve", 2001)
    for name, vals, lab in gens:
        name = name.strip()
        col = np.full(data.n, np.nan)
        col[:len(vals)] = vals
        if name in data:
            data.drop([name])
        data.add(Variable(name, col, "float", label=lab))
    session.r = RResults(scalars={"N": float(len(y))})
    if "nograph" in own:
        return
    from hlmshell.commands.graph_stat import make_graph

    def build(m, title):
        return Panel(series=[Series("connected", cuts, sens, label="Sensitivity",
                                    style={"pstyle": 0}),
                             Series("connected", cuts, spec, label="Specificity",
                                    style={"pstyle": 1})])
    gopts.pop("by", None)
    make_graph(session, "lsens", gopts, build, ("Probability cutoff", None),
               ("Sensitivity/specificity", None), cmd.text)


# ---- the old names -------------------------------------------------------------------------------
@command("lstat", family="Postestimation", qualifiers="", byable=False,
         desc="classification table (old name of estat classification)", example="lstat",
         options=(Opt("cutoff", "cut", "real", 0.5, "positive outcome threshold; default is 0.5"),
                  Opt("all", desc="use all observations in the data")))
def lstat_cmd(session, cmd) -> None:
    estat_classification(session, active(session), args_of(cmd))


@command("lfit", family="Postestimation", qualifiers="", byable=False,
         desc="goodness-of-fit test (old name of estat gof)", example="lfit, group(10)",
         options=(Opt("group", "g", "int", None, "Hosmer-Lemeshow test with # quantile groups"),
                  Opt("table", "t", desc="display the table of groups"),
                  Opt("all", desc="use all observations in the data")))
def lfit_cmd(session, cmd) -> None:
    estat_gof(session, active(session), args_of(cmd))
