"""predict and margins after xtmlogit: the outcome probabilities.

predict: pr (after re, the default) integrates the outcome probabilities over the random
effects' normal distribution; pu0 sets the random effects (after fe: the fixed effects) to zero
(the default after fe); xb and stdp are one outcome's linear prediction and its standard
error. Like mlogit's: a stub* or one new name per outcome gives every outcome, else outcome()
(a value, a label, or #k) or the first outcome.

margins: the default (and predict(pr)) is every outcome's probability as the `_predict`
dimension, predict(pr outcome(#)) / predict(pu0 ...) / predict(xb outcome(#)) one of them. The
statistic depends on every equation's coefficients (and the variances for pr), so the margins
model's fixed part is the first equation and the rest of e(b) moves in the delta method as
theta (margins_build.with_theta).
"""
from __future__ import annotations

import re

import numpy as np

from hlmshell.errors import StataError


def quad_points(S: np.ndarray) -> int:
    """Gauss-Hermite points per random effect for the probabilities integrated over them: the
    integrand flattens out less quickly the larger the variances (max error about 1e-7 at
    variances up to 1.5 with 11 points, 1e-5 at 4 with 15; measured against 60 points)."""
    v = float(np.max(np.diag(S))) if S.size else 0.0
    pts = 11 if v <= 1.5 else 15 if v <= 4 else 21
    return min(pts, max(5, round(4000 ** (1 / max(1, S.shape[0])))))


_OUTCOME = re.compile(r"\bout\w*\(\s*([^)]*)\)", re.IGNORECASE)


def _coef_matrix(res) -> np.ndarray:
    """(J, kc) coefficients (zeros for the base outcome and omitted columns)."""
    J, kc = len(res.outcomes), res.k_f
    B = np.asarray(res.b, dtype=float).ravel()[:J * kc].reshape(J, kc)
    return np.where(np.isnan(B), 0.0, B)


def sigma_of(res, natural: np.ndarray | None = None) -> np.ndarray:
    """The random effects' covariance from e(b)'s / equation (or the given values of it)."""
    from hlmshell.engine import xtmlogit_re as xr
    q = len(res.outcomes) - 1
    if res.macros.get("model") != "re":
        return np.zeros((q, q))
    J, kc = len(res.outcomes), res.k_f
    nat = np.asarray(res.b, dtype=float).ravel()[J * kc:] if natural is None else natural
    return xr.sigma_natural(nat, xr.basis(q, res.macros["covariance"]))


def probabilities(res, eta: np.ndarray, stat: str, S: np.ndarray | None = None) -> np.ndarray:
    from hlmshell.engine import xtmlogit_re as xr
    base = int(res.scalars["ibaseout"]) - 1
    if stat == "pr":
        S = sigma_of(res) if S is None else S
        return xr.marginal_probabilities(eta, S, base, quad_points(S))
    ex = np.exp(eta - eta.max(1, keepdims=True))
    return ex / ex.sum(1, keepdims=True)


# --------------------------------------------------------------------------- predict
def _statistic(res, opts) -> tuple[str, bool]:
    allowed = ("pr", "pu0", "xb", "stdp")
    given = [w for w in allowed + ("mu", "eta", "fitted", "residuals", "reffects", "pc1")
             if w in opts and getattr(opts, w, None)]
    if len(given) > 1:
        raise StataError("only one statistic may be specified", 198)
    if given and (given[0] not in allowed or (given[0] == "pr" and res.macros["model"] == "fe")):
        raise StataError(f"option {given[0]} not allowed", 198)
    if given:
        return given[0], True
    return ("pr" if res.macros["model"] == "re" else "pu0"), False


def predict(session, cmd, res, opts) -> None:
    from hlmshell.commands.mlogit import _outcome_index, _targets
    from hlmshell.commands.predict import _add, _touse, column_values
    stat, typed = _statistic(res, opts)
    data = session.data
    touse = _touse(session, cmd)
    eqs = res.macros["eqnames"].split()
    depvar = res.depvar
    vtype, names, which = _targets(cmd, res, "pr" if stat in ("pr", "pu0") else stat,
                                   opts.raw("outcome"))
    if stat in ("xb", "stdp") and opts.raw("outcome"):
        which = [_outcome_index(res, opts.raw("outcome"))]
    if not typed:
        session.out.line(f"(option {stat} assumed; predicted probabilit"
                         + ("ies)" if len(which) > 1 else "y)"))
    X = np.column_stack([column_values(data, nm) for nm in res.design.stata_names])
    eta = X @ _coef_matrix(res).T
    if stat in ("pr", "pu0"):
        P = np.full(eta.shape, np.nan)
        ok = np.all(np.isfinite(eta), 1) & touse
        P[ok] = probabilities(res, eta[ok], stat)
        cols = [P[:, j] for j in which]
        tail = ", u=0" if stat == "pu0" else ""
        labels = [f"Pr({depvar}=={eqs[j]}{tail})" for j in which]
    elif stat == "xb":
        cols = [eta[:, j] for j in which]
        labels = [f"Linear prediction, {depvar}=={eqs[j]}" for j in which]
    else:
        j, kc = which[0], res.k_f
        V = np.asarray(res.V, dtype=float)[j * kc:(j + 1) * kc, j * kc:(j + 1) * kc]
        cols = [np.sqrt(np.clip(np.einsum("ij,jk,ik->i", X, V, X), 0, None))]
        labels = [f"S.E. of linear prediction, {depvar}=={eqs[j]}"]
    _add(session, names, cols, labels, vtype, touse)


def register() -> None:
    from hlmshell.commands.predict import PREDICTORS
    PREDICTORS["xtmlogit"] = predict


# --------------------------------------------------------------------------- margins
def handles(res) -> bool:
    return res.cmd == "xtmlogit" and getattr(res, "design", None) is not None


def _model(res):
    """The margins model: the design's columns, the first equation as the fixed part."""
    from hlmshell.commands import margins_build as mb
    from hlmshell.engine import margins as me
    names = list(res.design.stata_names)
    kc = len(names)
    cols = [me.parse_column(nm) for nm in names]
    keep = ~np.asarray(res.omitted, dtype=bool)[:kc]
    b = np.where(keep, np.asarray(res.b, dtype=float).ravel()[:kc], 0.0)
    k = len(res.names)
    V = np.asarray(res.V, dtype=float).reshape(k, k)[:kc, :kc].copy()
    V[~keep, :] = 0.0
    V[:, ~keep] = 0.0
    model = mb.Model(names, cols, b, V, keep, [], {}, {})
    for nm, parts in zip(names, cols):
        for piece, p in zip(nm.split("#"), parts):
            if p.level is None:
                if p.var not in model.cont:
                    model.cont.append(p.var)
                continue
            lv = model.levels.setdefault(p.var, [])
            if p.level not in lv:
                lv.append(p.level)
            if "b" in piece.split(".")[0].lstrip("0123456789"):
                model.bases.setdefault(p.var, p.level)
    for v, lv in model.levels.items():
        lv.sort()
        model.bases.setdefault(v, lv[0])
    return model


def _words(text: str) -> tuple[str, str | None]:
    m = _OUTCOME.search(text or "")
    words = [w.lower() for w in _OUTCOME.sub(" ", text or "").split()]
    stats = [w for w in words if w in ("pr", "pu0", "xb")]
    other = [w for w in words if w not in ("pr", "pu0", "xb")]
    if other:
        raise StataError(f"option {other[0]} not allowed", 198)
    if len(stats) > 1:
        raise StataError("only one statistic may be specified", 198)
    return (stats[0] if stats else ""), (m.group(1) if m else None)


def _fmt(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:g}"


def setup(session, res, model, req, text: str):
    """predict(text) after xtmlogit -> (model, r(predict_label), r(expression)); sets
    req.theta_fn (one outcome) or req.outcomes and req.predict_lines (every outcome)."""
    from hlmshell.commands import margins_build as mb
    from hlmshell.commands.mlogit import _outcome_index
    stat, out = _words(text)
    if not stat:
        stat = "pr" if res.macros["model"] == "re" else "pu0"
    if stat == "pr" and res.macros["model"] == "fe":
        raise StataError("option pr not allowed", 198)
    J, kc = len(res.outcomes), res.k_f
    omitted = np.asarray(res.omitted, dtype=bool)
    coef_idx = [i for i in range(kc, J * kc) if not omitted[i]]
    var_idx = list(range(J * kc, len(res.names))) if stat == "pr" else []
    model = mb.with_theta(_model(res), res, coef_idx + var_idx)
    eqs = res.macros["eqnames"].split()
    depvar = res.depvar
    cache = _Cache()
    fns = [_outcome_fn(res, stat, j, coef_idx, model, cache) for j in range(J)]
    tail = ", u=0" if stat == "pu0" else ""
    if stat == "xb" and out is None:
        out = "#1"
    if out is not None:
        j = _outcome_index(res, out)
        req.theta_fn = fns[j]
        lab = (f"Linear prediction, {depvar}=={eqs[j]}" if stat == "xb"
               else f"Pr({depvar}=={eqs[j]}{tail})")
        return model, lab, f"predict({text.strip()})"
    req.outcomes = fns
    req.predict_lines = [f"{j + 1}._predict: Pr({depvar}=={eqs[j]}{tail}), "
                         f"predict({stat} outcome({_fmt(v)}))" for j, v in enumerate(res.outcomes)]
    return model, f"Pr({depvar}=={eqs[0]}{tail})", f"predict({stat} outcome({_fmt(res.outcomes[0])}))"


class _Cache:
    """The outcome probabilities of every row at given (covariates, coefficients), shared by the
    outcomes' functions: margins evaluates each outcome at the same points (the cell's rows and
    the jacobian's steps), and the integral over the random effects gives all outcomes at once.
    Bounded by size; the oldest entries go first."""

    LIMIT = 400 * 2 ** 20

    def __init__(self):
        from collections import OrderedDict
        self.store: OrderedDict = OrderedDict()
        self.size = 0

    def get(self, key, compute):
        hit = self.store.get(key)
        if hit is not None:
            return hit
        val = compute()
        self.store[key] = val
        self.size += val.nbytes
        while self.size > self.LIMIT and len(self.store) > 1:
            self.size -= self.store.popitem(last=False)[1].nbytes
        return val


def _key(*arrays) -> bytes:
    import hashlib
    h = hashlib.blake2b(digest_size=20)
    for a in arrays:
        a = np.ascontiguousarray(a, dtype=float)
        h.update(str(a.shape).encode())
        h.update(a.tobytes())
    return h.digest()


def _outcome_fn(res, stat: str, j: int, coef_idx: list[int], model, cache: _Cache):
    """fn(cov, xb, theta) of outcome j: xb is the first equation's linear prediction, theta the
    other equations' kept coefficients (coef_idx of e(b)) then the variances."""
    from hlmshell.engine import margins as me
    J, kc = len(res.outcomes), res.k_f
    pos = np.array(coef_idx, dtype=int)

    def all_outcomes(X, xb, theta):
        flat = np.zeros(J * kc)
        flat[pos] = theta[:len(pos)]
        eta = X @ flat.reshape(J, kc).T
        eta[:, 0] = xb
        if stat == "xb":
            return eta
        S = sigma_of(res, theta[len(pos):]) if stat == "pr" else None
        return probabilities(res, eta, stat, S)

    def fn(cov, xb, theta):
        theta = np.asarray(theta, dtype=float)
        X = me.design(model.cols, cov)
        xb = np.asarray(xb, dtype=float) * np.ones(X.shape[0])
        return cache.get(_key(X, xb, theta), lambda: all_outcomes(X, xb, theta))[:, j]

    return fn
