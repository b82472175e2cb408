"""linktest and dfbeta: the specification and influence checks course do-files run after
regress (linktest also after logit, logistic, probit, cloglog, poisson and qreg).

linktest ([R] linktest) predicts the linear prediction _hat on the estimation sample, squares it
into _hatsq and refits the same command of the dependent variable on _hat and _hatsq, shown as
that command shows itself; its results are what e() holds afterwards, as in Stata, and r(t)
(r(z) after the likelihood models) and r(df) carry the test of _hatsq. dfbeta ([R] regress
postestimation) stores the DFBETAs of the chosen coefficients (all but _cons by default) in
_dfbeta_1, _dfbeta_2, ... (the next free numbers), labelled dfbeta(varname)."""
from __future__ import annotations

import numpy as np

from hlmshell.commands._postest import active
from hlmshell.commands.predict import INFLUENCE, _add, _new_names, _touse, fixed_part, xb_all
from hlmshell.data.dataset import Variable
from hlmshell.errors import StataError
from hlmshell.registry import Opt, args_of, command
from hlmshell.results import RResults

LINKTEST_CMDS = ("regress", "logit", "logistic", "probit", "cloglog", "poisson", "qreg")
_T_CMDS = ("regress", "qreg")


def regress_sample(session, res, who: str):
    """(X with the non-omitted columns of e(b), their names, y, sample mask) of the active
    regress results on the data in memory; Stata's errors when that is not possible."""
    if res.cmd != "regress":
        raise StataError(f"{who} is only available after regress" if res.cmd != "anova"
                         else f"{who} not allowed after anova", 301)
    data = session.data
    sample = res.sample
    if sample is None or len(sample) != data.n:
        raise StataError("estimation sample changed; the data used in estimation must be in memory",
                         459)
    sample = np.asarray(sample, dtype=bool)
    if res.depvar not in data:
        raise StataError(f"variable {res.depvar} not found", 111)
    X, idx = fixed_part(res, data)
    names = [res.names[j][1] for j in idx]
    y = np.asarray(data.values(res.depvar), dtype=float)
    return X[sample], names, y[sample], sample


# ---- linktest ------------------------------------------------------------------------------------
@command("linktest", family="Postestimation", raw=True, byable=False,
         desc="specification link test of a single-equation model",
         example="linktest")
def linktest_cmd(session, cmd) -> None:
    from hlmshell.syntax.ast import Command
    from hlmshell.syntax.parser import fill_qualifiers

    res = active(session)
    if res.cmd not in LINKTEST_CMDS:
        raise StataError(f"linktest not available after {res.cmd}", 301)
    c = Command(name="linktest")
    fill_qualifiers(c, cmd.body or "", allow_exp=False)
    if c.body.strip():
        raise StataError("varlist not allowed", 101)
    if c.weight is not None:
        raise StataError("weights not allowed", 101)
    data = session.data
    sample = res.sample
    if sample is None or len(sample) != data.n:
        raise StataError("linktest requires that the data used in estimation be in memory", 459)
    from hlmshell.syntax.evaluate import marksample
    touse = np.asarray(sample, dtype=bool) & np.asarray(marksample(session, c), dtype=bool)
    if not touse.any():
        raise StataError("no observations", 2000)
    hat = np.where(touse, xb_all(res, data), np.nan)
    for nm in ("_hat", "_hatsq"):
        if nm in data:
            data.drop([nm])
    data.add(Variable("_hat", hat, "double", label="Linear prediction"))
    data.add(Variable("_hatsq", hat ** 2, "double"))
    mark = "__linktest_touse"
    data.add(Variable(mark, touse.astype(float), "byte"))
    opts = " ".join(_opt_text(o) for o in c.options)
    line = f"{res.cmd} {res.depvar} _hat _hatsq if {mark}" + (f", {opts}" if opts else "")
    try:
        session.runner.run_command(line)
    finally:
        if mark in session.data:
            session.data.drop([mark])
    new = session.e
    new.macros["cmdline"] = f"{res.cmd} {res.depvar} _hat _hatsq"
    j = new.coef_index(None, "_hatsq")
    stat = float(new.b[j] / new.se[j]) if j >= 0 and new.se[j] > 0 else float("nan")
    key = "t" if res.cmd in _T_CMDS else "z"
    sc = {key: stat}
    if key == "t":
        sc["df"] = float(new.scalars.get("df_r", float("nan")))
    session.r = RResults(scalars=sc)


def _opt_text(o) -> str:
    return o.name if o.arg is None else f"{o.name}({o.arg})"


# ---- dfbeta --------------------------------------------------------------------------------------
def _next_numbers(data, stub: str, count: int) -> list[str]:
    out, i = [], 1
    while len(out) < count:
        nm = f"{stub}{i}"
        if nm not in data:
            out.append(nm)
        i += 1
    return out


@command("dfbeta", family="Postestimation", body="varlist", qualifiers="if in", byable=False,
         desc="DFBETA influence statistics after regress",
         example="dfbeta",
         options=(Opt("stub", "stub", "name", None, "stub of the new variables; default _dfbeta_"),))
def dfbeta_cmd(session, cmd) -> None:
    from hlmshell.engine.reg_influence import dfbetas
    from hlmshell.syntax.evaluate import marksample
    from hlmshell.syntax.varlist import expand_varlist

    res = active(session)
    X, names, y, sample = regress_sample(session, res, "dfbeta")
    opts = args_of(cmd)
    stub = (opts.stub or "_dfbeta_").strip()
    wanted = [n for n in names if n != "_cons"]
    if (cmd.body or "").strip():
        asked = list(expand_varlist(session.data, cmd.body))
        for v in asked:
            if v not in names:
                raise StataError(f"variable {v} not found in list of covariates", 322)
        wanted = asked
    if not wanted:
        raise StataError("no independent variables", 102)
    n, k = X.shape
    if n - k - 1 <= 0:
        raise StataError("insufficient observations", 2001)
    D = dfbetas(X, y)
    touse = np.asarray(marksample(session, cmd), dtype=bool) & sample
    data = session.data
    new = _next_numbers(data, stub, len(wanted))
    from hlmshell.commands._toolkit import check_name
    for nm in new:
        check_name(nm)
    pos = np.flatnonzero(sample)
    for nm, v in zip(new, wanted):
        col = np.full(data.n, np.nan)
        col[pos] = D[:, names.index(v)]
        col[~touse] = np.nan
        data.add(Variable(nm, col.astype(np.float32).astype(float), "float",
                          label=f"dfbeta({v})"))
        session.out.line(f"{nm:>32}:  dfbeta({v})")


# ---- predict after regress: the influence statistics ----------------------------------------------
_INFLUENCE = {"rstandard": "Standardized residuals", "rstudent": "Studentized residuals",
              "leverage": "Leverage", "hat": "Leverage", "cooksd": "Cook's D",
              "dfits": "Dfits", "covratio": "Covratio", "welsch": "Welsch distance",
              "stdf": "S.E. of the forecast", "stdr": "S.E. of the residual", "dfbeta": ""}
# computed on the estimation sample only, as Stata's starred statistics
_IN_SAMPLE = ("cooksd", "dfits", "covratio", "welsch", "dfbeta")


def _one_statistic(opts) -> str:
    chosen = [s for s in _INFLUENCE if s in opts and (opts.raw(s) if s == "dfbeta" else getattr(opts, s))]
    others = [s for s in ("xb", "stdp", "residuals", "fitted", "reffects", "scores") if s in opts]
    if len(chosen) + len(others) > 1:
        raise StataError("only one statistic may be specified", 198)
    if not chosen:
        raise StataError("invalid syntax", 198)
    return chosen[0]


def predict_influence(session, cmd, res, opts) -> None:
    """predict newvar, rstandard|rstudent|leverage|cooksd|dfbeta(x)|dfits|covratio|welsch|
    stdf|stdr after regress ([R] regress postestimation, Methods and formulas)."""
    from hlmshell.engine.reg_influence import dfbetas
    stat = _one_statistic(opts)
    vtype, names = _new_names(cmd.body or "", None)
    Xs, cols, ys, sample = regress_sample(session, res, "predict")
    n, k = Xs.shape
    if n - k - 1 <= 0:
        raise StataError("insufficient observations", 2001)
    data = session.data
    X, _idx = fixed_part(res, data)
    y = np.asarray(data.values(res.depvar), dtype=float)
    XtXi = np.linalg.inv(Xs.T @ Xs)
    b = XtXi @ (Xs.T @ ys)
    e = y - X @ b
    h = np.einsum("ij,jk,ik->i", X, XtXi, X)
    s2 = float(np.sum((ys - Xs @ b) ** 2)) / (n - k)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = e / np.sqrt(s2 * (1 - h))
        t = r * np.sqrt((n - k - 1) / (n - k - r ** 2))
        vals = {"rstandard": r, "rstudent": t, "leverage": h, "hat": h,
                "cooksd": r ** 2 * h / (k * (1 - h)),
                "dfits": t * np.sqrt(h / (1 - h)),
                "covratio": ((n - k - r ** 2) / (n - k - 1)) ** k / (1 - h),
                "welsch": t * np.sqrt(h / (1 - h)) * np.sqrt((n - 1) / (1 - h)),
                "stdf": np.sqrt(s2 * (1 + h)), "stdr": np.sqrt(s2 * (1 - h))}
    label = _INFLUENCE[stat]
    if stat == "dfbeta":
        from hlmshell.syntax.varlist import expand_varlist
        v = list(expand_varlist(data, opts.raw("dfbeta") or ""))
        if len(v) != 1:
            raise StataError("too many variables specified" if v else "varlist required",
                             103 if v else 100)
        if v[0] not in cols:
            raise StataError(f"variable {v[0] if v else ''} not found in list of covariates", 322)
        col = np.full(data.n, np.nan)
        col[np.flatnonzero(sample)] = dfbetas(Xs, ys)[:, cols.index(v[0])]
        label = f"Dfbeta {v[0]}"
    else:
        col = vals[stat]
    touse = _touse(session, cmd)
    if stat in _IN_SAMPLE:
        touse = touse & sample
    _add(session, names, [col], [label], vtype, touse)


INFLUENCE["regress"] = predict_influence
