"""`xtreg, fe [fweight|aweight|pweight = exp]`: weights constant within each panel.

Why a module of its own: with weights, xtreg, fe is the weighted regression on the panel
indicators (engine.weighted_within, the route areg's weights take), while the statistics xtreg
adds around it keep their unweighted definitions, as Stata's xtreg_fe computes them:
- weighted: the coefficients and their VCE, e(N) (the sum of fweights; the rows otherwise),
  rss, sigma_e, R-squared within (1 - rss / the weighted within sum of squares), the F tests;
- unweighted: the panel sizes (min, average, max, Tbar), sigma_u (the standard deviation of
  the panels' mean residuals u_i over the panels), corr(u_i, Xb) and R-squared overall over the
  sample rows, R-squared between over the panel means.
pweights imply vce(robust), which for xtreg, fe is clustering on the panels; the cluster factor
is xtreg's (N-1)/(N-k-1), not areg's. A weight that varies within a panel is r(199), as Stata
says it. re and be take no weights (r(101)); the weights Stata allows with mle are not
available here and say so.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from hlmshell.commands._toolkit import weights
from hlmshell.errors import StataError

KINDS = ("aweight", "fweight", "pweight")


def check_kind(cmd, req) -> None:
    """Before anything is computed: which weights the model takes."""
    if cmd.weight is None:
        return
    kind = cmd.weight.kind
    if req.model in ("re", "be"):
        raise StataError("weights not allowed", 101)
    if req.model != "fe":
        raise StataError(f"{kind}s with xtreg, mle are not available", 101)
    if kind not in KINDS:
        raise StataError(f"{kind}s not allowed", 101)
    if kind == "pweight" and req.vce == "conventional":
        req.vce, req.clustvar = "cluster", req.ivar        # robust: clustered on the panels


def sample_weights(session, cmd, data, req) -> np.ndarray | None:
    """The weights of the sample rows (None without weights); r(199) when one varies within
    a panel."""
    if cmd.weight is None:
        return None
    w = weights(session, cmd, data.mask, allowed=KINDS)[data.mask]
    codes = np.asarray(data.codes, dtype=np.int64)
    first = np.full(int(codes.max()) + 1, np.nan)
    first[codes[::-1]] = w[::-1]
    if np.any(first[codes] != w):
        raise StataError(f"weight must be constant within {req.ivar}", 199)
    return w


def fit(data, req, w, kind: str):
    """xtreg, fe's WithinFit with weights (see the module doc for which parts are weighted)."""
    from hlmshell.engine import panel as pn
    from hlmshell.engine import weighted_within as ww
    X = data.design.X_keep
    y = np.asarray(data.y, dtype=float)
    P = pn.panels(data.codes)
    f = ww.fit(y, X, X.shape[1] - 1, P, w, kind, clusters=data.clusters, dfadj=False)
    xb = X @ f.beta
    u = P.means(y) - P.means(xb)
    _, r2_b, r2_o = pn.panel_r2(y, xb, P)
    return replace(f, sigma_u=float(np.std(u, ddof=1)) if P.n_groups > 1 else float("nan"),
                   corr=pn._corr(xb, P.expand(u)), r2_b=r2_b, r2_o=r2_o, u=u)


def fit_checked(session, data, req, w, cmd):
    """fit() with its failures as Stata's return codes; aweights print regress's
    `(sum of wgt is ...)` line first (xtreg_fe runs regress with them)."""
    try:
        f = fit(data, req, w, cmd.weight.kind)
    except ArithmeticError:
        raise StataError("insufficient observations", 2001) from None
    except (np.linalg.LinAlgError, ValueError, FloatingPointError):
        raise StataError("matrix not positive definite", 506) from None
    if cmd.weight.kind == "aweight":
        from hlmshell.output.numfmt import fmt
        session.out.line(f"(sum of wgt is {fmt(float(w.sum()), '%12.0gc').strip()})")
    return f


def post(res, cmd, fit) -> None:
    """e(wtype), e(wexp) and e(N) (the sum of fweights)."""
    if cmd.weight is None:
        return
    res.macros["wtype"] = cmd.weight.kind
    res.macros["wexp"] = f"= {cmd.weight.exp}"
    res.scalars["N"] = float(fit.N) if cmd.weight.kind == "fweight" else res.scalars["N"]
