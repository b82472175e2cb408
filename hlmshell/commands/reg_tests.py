"""estat hettest and estat ovtest after regress (also under their old names hettest and
ovtest): the Breusch-Pagan/Cook-Weisberg test for heteroskedasticity and Ramsey's RESET
([R] regress postestimation).

hettest [varlist] [, rhs iid fstat]: z is the fitted values unless a varlist or rhs (the
regressors) is given. Normal version (the default): regress e^2/(RSS/N) on z; chi2 = model SS/2.
iid: N R^2 of e^2 on z. fstat: that regression's F test. ovtest: F test of yhat^2, yhat^3,
yhat^4 added to the model."""
from __future__ import annotations

import numpy as np

from hlmshell import distributions as dist
from hlmshell.commands._postest import active
from hlmshell.commands.reg_diagnostics import regress_sample
from hlmshell.errors import StataError
from hlmshell.registry import Opt, args_of, command
from hlmshell.results import RResults


def _ols_fit(y, Z):
    """(model SS, residual SS, R^2) of y on Z plus a constant."""
    Zc = np.column_stack([Z, np.ones(len(y))])
    coef = np.linalg.lstsq(Zc, y, rcond=None)[0]
    rss = float(np.sum((y - Zc @ coef) ** 2))
    tss = float(np.sum((y - y.mean()) ** 2))
    return tss - rss, rss, (1.0 - rss / tss) if tss > 0 else 0.0


def _z_matrix(session, res, X, names, sample, varlist: str, rhs: bool):
    """(z columns, their description) of the test."""
    from hlmshell.syntax.varlist import expand_varlist
    if varlist.strip():
        vs = list(expand_varlist(session.data, varlist))
        Z = np.column_stack([np.asarray(session.data.values(v), dtype=float)[sample] for v in vs])
        if np.isnan(Z).any():
            raise StataError("missing values encountered", 459)
        return Z, "Variables: " + " ".join(vs)
    if rhs:
        cols = [j for j, nm in enumerate(names) if nm != "_cons"]
        if not cols:
            raise StataError("no independent variables", 102)
        return X[:, cols], "Variables: All independent variables"
    return None, f"Variable: Fitted values of {res.depvar}"


def _lines(out, title_lines, stat_rows):
    out.line("")
    for ln in title_lines:
        out.line(ln)
    w = max(len(lab) for lab, _ in stat_rows)
    for lab, val in stat_rows:
        out.line(f"{lab:>{w}} = {val}")


def hettest(session, res, text: str, opts) -> None:
    X, names, y, sample = regress_sample(session, res, "estat hettest")
    n = len(y)
    coef = np.linalg.lstsq(X, y, rcond=None)[0]
    fitted = X @ coef
    e2 = (y - fitted) ** 2
    Z, what = _z_matrix(session, res, X, names, sample, text, bool(opts.rhs))
    if Z is None:
        Z = fitted[:, None]
    df = Z.shape[1]
    out = session.out
    head = ["Breusch–Pagan/Cook–Weisberg test for heteroskedasticity",
            "Assumption: " + ("i.i.d. error terms" if opts.iid or opts.fstat else "Normal error terms"),
            what, "", "H0: Constant variance", ""]
    if opts.fstat:
        mss, rss, _r2 = _ols_fit(e2, Z)
        df_r = n - df - 1
        F = (mss / df) / (rss / df_r)
        p = float(dist.f_sf(F, df, df_r))
        _lines(out, head, [(f"F({df}, {df_r})", f"{F:6.2f}"), ("Prob > F", f"{p:6.4f}")])
        session.r = RResults(scalars={"F": F, "df_m": float(df), "df_r": float(df_r), "p": p})
        return
    if opts.iid:
        _mss, _rss, r2 = _ols_fit(e2, Z)
        chi2 = n * r2
    else:
        mss, _rss, _r2 = _ols_fit(e2 / (e2.sum() / n), Z)
        chi2 = mss / 2.0
    p = float(dist.chi2_sf(chi2, df))
    _lines(out, head, [(f"chi2({df})", f"{chi2:6.2f}"), ("Prob > chi2", f"{p:6.4f}")])
    session.r = RResults(scalars={"chi2": chi2, "df": float(df), "p": p})


def ovtest(session, res, text: str, opts) -> None:
    if text.strip():
        raise StataError("varlist not allowed", 101)
    if getattr(opts, "rhs", False):
        raise StataError("option rhs not implemented; ovtest uses the powers of the fitted values", 198)
    X, _names, y, _s = regress_sample(session, res, "estat ovtest")
    n, k = X.shape
    coef = np.linalg.lstsq(X, y, rcond=None)[0]
    h = X @ coef
    span = float(h.max() - h.min())
    if span <= 0:
        raise StataError("fitted values do not vary", 459)
    hs = (h - h.min()) / span
    Xa = np.column_stack([X, hs ** 2, hs ** 3, hs ** 4])
    rss0 = float(np.sum((y - h) ** 2))
    ra = y - Xa @ np.linalg.lstsq(Xa, y, rcond=None)[0]
    rss1 = float(ra @ ra)
    df_r = n - np.linalg.matrix_rank(Xa)
    if df_r <= 0:
        raise StataError("insufficient observations", 2001)
    F = ((rss0 - rss1) / 3.0) / (rss1 / df_r)
    p = float(dist.f_sf(F, 3, df_r))
    _lines(session.out, ["Ramsey RESET test for omitted variables",
                         f"Omitted: Powers of fitted values of {res.depvar}", "",
                         "H0: Model has no omitted variables", ""],
           [(f"F(3, {df_r})", f"{F:6.2f}"), ("Prob > F", f"{p:6.4f}")])
    session.r = RResults(scalars={"F": F, "df": 3.0, "df_r": float(df_r), "p": p})


_HET_OPTS = (Opt("rhs", desc="use the right-hand-side variables"),
             Opt("iid", desc="assume i.i.d. error terms (N R-squared version)"),
             Opt("fstat", desc="report the F-statistic version"),
             Opt("normal", desc="assume normal error terms; the default"))


@command("hettest", family="Postestimation", body="varlist", qualifiers="", byable=False,
         desc="Breusch-Pagan/Cook-Weisberg test for heteroskedasticity (old name of estat hettest)",
         example="hettest", options=_HET_OPTS)
def hettest_cmd(session, cmd) -> None:
    hettest(session, active(session), cmd.body or "", args_of(cmd))


@command("ovtest", family="Postestimation", body="anything", qualifiers="", byable=False,
         desc="Ramsey RESET test for omitted variables (old name of estat ovtest)",
         example="ovtest", options=(Opt("rhs", desc="use powers of the regressors (not available)"),))
def ovtest_cmd(session, cmd) -> None:
    ovtest(session, active(session), cmd.body or "", args_of(cmd))
