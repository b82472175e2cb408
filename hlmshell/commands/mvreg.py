"""mvreg: multivariate regression, as Stata 17's [MV] mvreg.

    mvreg depvars = indepvars [if] [in] [, noconstant corr level(#) noheader notable]

One OLS equation per dependent variable on the same (factor-variable) covariates and sample;
the header gives each equation's observations, parameters, RMSE, R-squared and F test, the
table one block per equation (t statistics on N - k residual df), and `corr` the correlation
matrix of the residuals with Breusch and Pagan's test of independence. e(V) couples the
equations (engine.mvreg), so `test` works across them; e(r2), e(rmse), e(F), e(p_F) are
macros listing the equations' values, as Stata stores them. Typed alone, mvreg replays.
"""
from __future__ import annotations

import numpy as np

from hlmshell import distributions as dist
from hlmshell.commands._postest import confidence_level
from hlmshell.commands._toolkit import sample_columns, typed_args, varlist
from hlmshell.commands.estimation import _mixed_sample
from hlmshell.commands.model_terms import engine_terms, factor_labels, resolve_terms
from hlmshell.engine import design as dz
from hlmshell.engine import mvreg as em
from hlmshell.errors import StataError
from hlmshell.output import coeftable as ct
from hlmshell.output.labels import display_groups
from hlmshell.output.numfmt import fmt_count, fmt_g
from hlmshell.output.text import abbrev
from hlmshell.registry import Opt, command
from hlmshell.results import EstimationResults

_HLINE = "-" * 74


def _split(cmd) -> tuple[str, str]:
    """(dependent variables, covariates) of `depvars = indepvars`."""
    body = (cmd.body or "").strip()
    rhs = (getattr(cmd, "exp_text", "") or "").strip()
    rhs = rhs.removeprefix("=")
    if rhs:
        return body, rhs
    for sep in ("=", ":"):                    # Stata's mvreg takes either
        left, found, right = body.partition(sep)
        if found:
            return left, right
    raise StataError("invalid syntax", 198)


def _terms(session, rhs: str):
    from hlmshell.syntax.parser import parse_fvlist
    return resolve_terms(session.data, parse_fvlist(rhs.strip()))


def _names(terms) -> list[str]:
    out: list[str] = []
    for t in terms:
        for p in t.parts:
            if p.name not in out:
                out.append(p.name)
    return out


@command("mvreg", byable=True, body="anything", exp="text", qualifiers="if in weight",
         weights="aw fw",
         family="Estimation", desc="multivariate regression",
         example="mvreg headroom trunk turn = price mpg displacement, corr",
         options=(Opt("noconstant", "nocons", desc="suppress the constant term"),
                  Opt("corr", desc="report the correlation matrix of the residuals and the "
                                   "Breusch-Pagan test of independence"),
                  Opt("level", "l", "real", 95, "set confidence level; default is level(95)"),
                  Opt("noheader", desc="suppress the header table"),
                  Opt("notable", desc="suppress the coefficient table")))
def mvreg_cmd(session, cmd) -> None:
    opts = typed_args(cmd)
    level = confidence_level(session, opts)
    if not (cmd.body or "").strip() and not (getattr(cmd, "exp_text", "") or "").strip():
        res = session.e
        if res is None or res.cmd != "mvreg":
            raise StataError("last estimates not found", 301)
        display(session, res, level, opts)
        return
    left, right = _split(cmd)
    ds = session.data
    deps = [v for w in left.split() for v in varlist(session, w, all_if_empty=False)]
    if not deps:
        raise StataError("varlist required", 100)
    if len(set(deps)) != len(deps):
        raise StataError("cannot specify the same dependent variable more than once", 498)
    terms = _terms(session, right)
    numeric = deps + [v for v in _names(terms) if v not in deps]
    for nm in numeric:
        if ds.var(nm).is_string:
            raise StataError("type mismatch", 109)
    mask = _mixed_sample(session, cmd, numeric, [])
    w, kind = _weights(session, cmd, mask)
    if w is not None:
        mask &= ~np.isnan(w) & (w > 0)
        if not mask.any():
            raise StataError("no observations", 2000)
    column = sample_columns(ds, mask)
    n = int(mask.sum())
    n_obs = n if w is None or kind != "fweight" else int(round(w[mask].sum()))
    design = dz.build_fixed(engine_terms(terms), column, n, constant=not opts.noconstant)
    X = design.X_keep
    if X.shape[1] == 0:
        raise StataError("no variables and no constant", 102)
    if n_obs <= X.shape[1]:
        raise StataError("insufficient residual degrees of freedom", 2001)
    Y = np.column_stack([np.asarray(column(d), dtype=float) for d in deps])
    for note in design.notes:
        session.out.line(note)
    fit = em.fit(Y, X, constant=not opts.noconstant,
                 w=None if w is None else w[mask], kind=kind)
    res = _results(cmd, deps, design, mask, fit, bool(opts.corr))
    res.scalars["N"] = float(n_obs)
    if w is not None:
        res.macros.update(wtype=kind, wexp=f"= {cmd.weight.exp}")
    res.value_labels = factor_labels(ds, terms)
    session.post_estimation(res)
    display(session, res, level, opts)


def _weights(session, cmd, mask):
    """(weights over all observations, kind) of [aw=] or [fw=], or (None, "")."""
    if cmd.weight is None:
        return None, ""
    from hlmshell.commands._toolkit import weights
    w = weights(session, cmd, mask, ("fweight", "aweight"))
    return w, cmd.weight.kind


def _results(cmd, deps, design, mask, fit: em.MvregFit, corr: bool) -> EstimationResults:
    cols = design.stata_names
    kc = len(cols)
    keep = np.flatnonzero(design.keep)
    p = len(deps)
    names = [(d, nm) for d in deps for nm in cols]
    K = len(names)
    b = np.zeros(K)
    V = np.zeros((K, K))
    pos = np.concatenate([j * kc + keep for j in range(p)])
    b[pos] = np.concatenate([e.beta for e in fit.equations])
    V[np.ix_(pos, pos)] = fit.V
    omitted = np.ones(K, dtype=bool)
    omitted[pos] = False
    res = EstimationResults(cmd="mvreg", names=names, b=b, V=V, omitted=omitted, k_f=K,
                            sample=mask.copy())
    k = len(keep)
    res.scalars = {"N": float(mask.sum()), "k": float(k), "k_eq": float(p),
                   "df_r": float(fit.df_r), "rank": float(k * p)}
    if corr:
        res.scalars.update(chi2=fit.bp_chi2, df_chi2=float(fit.bp_df))
    eqs = fit.equations

    def listing(vals, four: bool = False):
        return " ".join(("." if v != v else f"{v:6.4f}") if four else fmt_g(float(v), 9).strip()
                        for v in vals)
    # as mvreg.ado stores them: strings of each equation's value (%9.0g; R-squared and p %6.4f)
    res.macros = {"cmd": "mvreg", "cmdline": cmd.text, "depvar": " ".join(deps),
                  "eqnames": " ".join(deps), "properties": "b V", "predict": "reg3_p",
                  "estat_cmd": "mvreg_estat", "marginsok": "XB default",
                  "marginsnotok": "stdp Residuals stddp",
                  "r2": listing((e.r2 for e in eqs), True), "rmse": listing(e.rmse for e in eqs),
                  "F": listing(e.F for e in eqs), "p_F": listing((e.pF for e in eqs), True)}
    res.matrices["Sigma"] = fit.Sigma
    res.design = design
    res.fit = fit
    return res


def header_lines(res) -> list[str]:
    """The equations' summary: name, observations (with commas), parameters, RMSE,
    R-squared, F and its p-value, in mvreg's columns."""
    fit = res.fit
    n = int(res.scalars["N"])
    k = int(res.scalars["k"])
    out = ["", 'Equation             Obs   Parms        RMSE    "R-sq"          F        P',
           _HLINE]
    for d, e in zip(res.macros["eqnames"].split(), fit.equations):
        r2 = "." if e.r2 != e.r2 else f"{e.r2:.4f}"
        pf = "." if e.pF != e.pF else f"{e.pF:.4f}"
        out.append(f"{abbrev(d, 12):<14}{fmt_count(n):>10}{k:>8}   {fmt_g(e.rmse, 9):>9}"
                   f"{r2:>10}  {fmt_g(e.F, 9):>9}{pf:>9}")
    return out + [_HLINE]


def _eq_groups(groups, offset: int):
    return [ct.Group(g.header, [ct.Row(r.label, r.index + offset, r.status) for r in g.rows])
            for g in groups]


def table_lines(res, level: float) -> list[str]:
    design = res.design
    groups = display_groups(design, baselevels=False,
                            value_labels=getattr(res, "value_labels", {}))
    kc = len(design.stata_names)
    df_r = res.scalars["df_r"]
    lines = [ct.rule(), ct.column_header("", "t", level)]
    for j, eq in enumerate(res.macros["eqnames"].split()):
        lines.append(ct.rule("mid"))
        lines.append(f"{abbrev(eq, ct.NAME_W):<{ct.NAME_W}} |")
        lines += ct.body_lines(_eq_groups(groups, j * kc), res.b, res.se, stat="t",
                               df_r=df_r, level=level)
    return lines + [ct.rule()]


def corr_lines(res) -> list[str]:
    """`Correlation matrix of residuals:` listed as `matrix list` shows a symmetric matrix
    with format(%9.4f) (row names left, columns 11 wide, five to a block), then Breusch and
    Pagan's test."""
    deps = res.macros["eqnames"].split()
    C = res.fit.corr
    out = ["", "Correlation matrix of residuals:", ""]
    lw = max([len(d) for d in deps] + [2]) + 1
    p = len(deps)
    for start in range(0, p, 5):
        block = range(start, min(start + 5, p))
        out.append(" " * lw + "".join(f"{d[-10:]:>11}" for d in deps[start:start + 5]))
        for i in range(start, p):
            cells = "".join(f"{C[i, j]:11.4f}" for j in block if j <= i)
            out.append(f"{deps[i]:<{lw}}" + cells)
        if start + 5 < p:
            out.append("")
    chi2, df = res.fit.bp_chi2, res.fit.bp_df
    pv = float(dist.chi2_sf(chi2, df)) if df else float("nan")
    out += ["", f"Breusch-Pagan test of independence: chi2({df}) = {chi2:9.3f}, Pr = {pv:6.4f}"]
    return out


def display(session, res, level: float, opts) -> None:
    out = session.out
    lines: list[str] = []
    if not opts.noheader:
        lines += header_lines(res)
    if not opts.notable:
        lines += [""] + table_lines(res, level)
    if opts.corr:
        lines += corr_lines(res)
    for ln in lines:
        out.line(ln)



# --------------------------------------------------------------------------- predict
def _equation(res, text: str | None) -> int:
    eqs = res.macros["eqnames"].split()
    t = (text or "#1").strip()
    if t.startswith("#"):
        try:
            k = int(t[1:])
        except ValueError:
            k = 0
        if not 1 <= k <= len(eqs):
            raise StataError(f"equation {t} not found", 303)
        return k - 1
    if t not in eqs:
        raise StataError(f"equation {t} not found", 303)
    return eqs.index(t)


def predict(session, cmd, res, opts) -> None:
    """predict after mvreg: xb (the default), stdp or residuals of equation() (the first one
    by default), from that equation's columns of e(b) and e(V)."""
    from hlmshell.commands.predict import _add, _new_names, _touse, column_values
    given = [w for w in ("xb", "stdp", "residuals", "pr", "mu", "fitted", "reffects", "pc1", "pu0")
             if w in opts and getattr(opts, w, None)]
    if len(given) > 1:
        raise StataError("only one statistic may be specified", 198)
    if given and given[0] not in ("xb", "stdp", "residuals"):
        raise StataError(f"option {given[0]} not allowed", 198)
    stat = given[0] if given else "xb"
    j = _equation(res, opts.raw("equation"))
    if not given:
        session.out.line("(option xb assumed; fitted values)")
    vtype, names = _new_names(cmd.body or "", None)
    data = session.data
    touse = _touse(session, cmd)
    kc = len(res.design.stata_names)
    idx = [j * kc + c for c in range(kc) if not res.omitted[j * kc + c]]
    X = np.column_stack([column_values(data, res.names[i][1]) for i in idx])
    b = np.ravel(res.b)[idx]
    eq = res.macros["eqnames"].split()[j]
    if stat == "stdp":
        V = np.asarray(res.V)[np.ix_(idx, idx)]
        col = np.sqrt(np.clip(np.einsum("ij,jk,ik->i", X, V, X), 0, None))
        lab = f"S.E. of the prediction, equation {eq}"
    elif stat == "residuals":
        col = np.asarray(data.values(eq), dtype=float) - X @ b
        lab = f"Residuals: {eq}"
    else:
        col, lab = X @ b, f"Fitted values: {eq}"
    _add(session, names, [col], [lab], vtype, touse)


def _register_predict() -> None:
    from hlmshell.commands.predict import PREDICTORS
    PREDICTORS["mvreg"] = predict


_register_predict()
