"""predictnl: a (possibly nonlinear) prediction per observation with delta-method inference.

Public do-files use it for marginal effects built from coefficients and data
(`predictnl me = x1*_b[a] + x2*_b[b], ci(lo hi)`) and for probabilities after logit
(`predictnl p = predict(pr), se(sp)`). The expression is evaluated by hlmshell's own
evaluator; each `predict(...)` or `xb(...)` in it runs hlmshell's `predict` (quietly, into a
temporary double variable) with e(b) in place. As in [R] predictnl, the derivatives of the
prediction with respect to e(b) are numerical (central differences, per parameter, for all
observations at once) and Var_i = g_i V g_i'. Inference is normal (Wald chi2(1)) unless df()
is given (t and F(1, df)).

    predictnl [type] newvar = pnl_exp [if] [in] [, se() variance() wald() p() ci() level()
                                                  g(stub) iterate(#) force df(#)]
"""
from __future__ import annotations

import copy
import re

import numpy as np

from hlmshell import distributions as dist
from hlmshell.commands._postest import active, confidence_level
from hlmshell.commands._toolkit import check_name, touse
from hlmshell.data.dataset import Variable, to_storage
from hlmshell.errors import StataError
from hlmshell.registry import Opt, args_of, command
from hlmshell.syntax.evaluate import evaluate
from hlmshell.syntax.parser import find_top, parse_expr

_TYPES = ("byte", "int", "long", "float", "double")
_CALL = re.compile(r"(?<![\w.\]])(predict|xb)\s*\(")


# --------------------------------------------------------------------------- parsing
def _target(body: str) -> tuple[str, str]:
    """`[type] newvar` -> (type, name)."""
    words = (body or "").split()
    vtype = "float"
    if words and words[0] in _TYPES:
        vtype = words.pop(0)
    elif len(words) > 1 and (words[0] == "strL" or re.fullmatch(r"str\d+", words[0])):
        raise StataError("type mismatch", 109)
    if not words:
        raise StataError("invalid syntax", 198)
    if len(words) > 1:
        raise StataError("too many variables specified", 103)
    check_name(words[0])
    return vtype, words[0]


def predict_calls(text: str) -> tuple[str, list[str]]:
    """The expression with each `predict(opts)` / `xb(eq)` replaced by a placeholder
    (`__pnl_1`, ...), and predict's options for each placeholder (same call, same one)."""
    out, calls, pos = [], [], 0
    while True:
        m = _CALL.search(text, pos)
        if m is None:
            out.append(text[pos:])
            break
        close = find_top(text[m.end():], ")")
        if close < 0:
            raise StataError("unmatched parenthesis", 132)
        inner = text[m.end():m.end() + close].strip()
        if m.group(1) == "xb":
            inner = f"xb equation({inner})" if inner else "xb"
        if inner not in calls:
            calls.append(inner)
        out.append(text[pos:m.start()])
        out.append(f" __pnl_{calls.index(inner) + 1} ")
        pos = m.end() + close + 1
    return "".join(out), calls


# --------------------------------------------------------------------------- evaluation
class _Prediction:
    """g(b) over all observations: the expression with predict() columns for a given e(b)."""

    def __init__(self, session, res, tree, calls: list[str]):
        self.session, self.res, self.tree, self.calls = session, res, tree, calls

    def _predict(self, opts: str) -> np.ndarray:
        s = self.session
        name = "__pnl_tmp"
        runner = s.runner
        if runner is None:
            raise StataError("predictnl: predict() needs the interpreter", 198)
        q = s.out.quiet
        s.out.quiet += 1
        try:
            runner.run_command(f"predict double {name}, {opts}" if opts else f"predict double {name}")
            col = np.asarray(s.data.values(name), dtype=float).copy()
        finally:
            s.out.quiet = q
            if name in s.data:
                s.data.drop([name])
        return col

    def __call__(self, b: np.ndarray) -> np.ndarray:
        s = self.session
        trial = copy.copy(self.res)
        trial.b = np.asarray(b, dtype=float).reshape(np.shape(self.res.b))
        saved = s.e
        s.e = trial
        added: list[str] = []
        try:
            for k, opts in enumerate(self.calls, start=1):
                col = self._predict(opts)
                s.data.add(Variable(f"__pnl_{k}", col, "double"))
                added.append(f"__pnl_{k}")
            v = evaluate(self.tree, s)
        finally:
            s.e = saved
            for nm in added:
                if nm in s.data:
                    s.data.drop([nm])
        v = np.asarray(v)
        if v.dtype == object or v.dtype.kind in "US":
            raise StataError("type mismatch", 109)
        return np.broadcast_to(v.astype(float), (s.data.n,)).copy()


def derivatives(g: _Prediction, b: np.ndarray, omitted: np.ndarray) -> np.ndarray:
    """n x k matrix of d g_i / d b_j by central differences (omitted columns: 0). The step
    scales with the parameter so that large and small coefficients get the same relative
    accuracy."""
    k = len(b)
    G = np.zeros((g.session.data.n, k))
    for j in range(k):
        if omitted[j]:
            continue
        h = 1e-5 * max(abs(b[j]), 1e-2)
        up, dn = b.copy(), b.copy()
        up[j] += h
        dn[j] -= h
        with np.errstate(all="ignore"):
            G[:, j] = (g(up) - g(dn)) / (up[j] - dn[j])
    return G


# --------------------------------------------------------------------------- command
_OPTS = (Opt("se", "se", "name", None, "create newvar containing standard errors"),
         Opt("variance", "var", "name", None, "create newvar containing variances"),
         Opt("wald", "w", "name", None, "create newvar containing the Wald test statistic"),
         Opt("p", "p", "name", None, "create newvar containing the p-value for the Wald test"),
         Opt("ci", "ci", "string", None, "create newvars containing lower and upper confidence intervals"),
         Opt("level", "l", "real", None, "set confidence level; default is level(95)"),
         Opt("g", "g", "name", None, "create stub1, ..., stubk variables containing the derivatives"),
         Opt("iterate", "iter", "int", 100, "maximum iterations for finding optimal step size"),
         Opt("force", desc="calculate standard errors, etc., even when possibly inappropriate"),
         Opt("df", "df", "real", None, "use t and F(1, #) as the reference distributions"))


def _outputs(opts, k: int) -> list[tuple[str, str]]:
    """(option, new variable) for everything asked for, checked before anything is made."""
    out = [(o, getattr(opts, o)) for o in ("se", "variance", "wald", "p") if getattr(opts, o)]
    if opts.ci is not None:
        names = opts.ci.split()
        if len(names) != 2:
            raise StataError("ci() requires two new variable names", 198)
        out += [("ci_lb", names[0]), ("ci_ub", names[1])]
    if opts.g:
        out += [(f"g{j}", f"{opts.g}{j}") for j in range(1, k + 1)]
    return out


def _check_new(session, names: list[str]) -> None:
    for nm in names:
        check_name(nm)
        if nm in session.data:
            raise StataError(f"variable {nm} already defined", 110)
    dup = [nm for nm in names if names.count(nm) > 1]
    if dup:
        raise StataError(f"variable {dup[0]} already defined", 110)


@command("predictnl", qualifiers="if in", body="anything", exp="text", byable=False,
         family="Postestimation", desc="nonlinear predictions with delta-method standard errors",
         example="predictnl p = predict(pr), se(p_se) ci(p_lb p_ub)", options=_OPTS)
def predictnl_cmd(session, cmd) -> None:
    res = active(session)
    opts = args_of(cmd)
    vtype, name = _target(cmd.body)
    text = (getattr(cmd, "exp_text", "") or "").strip()
    if not text:
        raise StataError("invalid syntax", 198)
    if opts.iterate < 0:
        raise StataError("option iterate() incorrectly specified", 198)
    if opts.df is not None and not opts.df > 0:
        raise StataError("df() must be positive", 198)
    level = confidence_level(session, opts)
    k = len(res.names)
    extra = _outputs(opts, k)
    _check_new(session, [name] + [nm for _, nm in extra])
    expr, calls = predict_calls(text)
    tree = parse_expr(expr)
    sel = touse(session, cmd)
    g = _Prediction(session, res, tree, calls)
    b = np.asarray(res.b, dtype=float).reshape(-1).copy()
    value = g(b)
    cols = {"": value}
    if extra:
        omitted = np.asarray(res.omitted, dtype=bool).reshape(-1) if res.omitted is not None \
            else np.zeros(k, dtype=bool)
        G = derivatives(g, b, omitted)
        V = np.asarray(res.V, dtype=float).reshape(k, k)
        cols.update(_inference(value, G, V, level, opts.df))
    _store(session, name, vtype, value, sel)
    if opts.ci is not None and opts.df is None:
        session.out.line("note: confidence intervals calculated using Z critical values")
    for key, nm in extra:
        _store(session, nm, "float" if vtype != "double" else "double", cols[key], sel, quiet=True)


def _inference(value, G, V, level: float, df) -> dict[str, np.ndarray]:
    with np.errstate(all="ignore"):
        var = np.einsum("ij,jk,ik->i", G, V, G)
        var = np.where(np.isnan(value), np.nan, np.clip(var, 0.0, None))
        se = np.sqrt(var)
        wald = value ** 2 / var
        a = (1 - level / 100) / 2
        if df is None:
            p = np.asarray(dist.chi2_sf(wald, 1), dtype=float)
            crit = float(dist.norm_ppf(1 - a))
        else:
            p = np.asarray(dist.f_sf(wald, 1, df), dtype=float)
            crit = float(dist.t_ppf(1 - a, df))
    out = {"se": se, "variance": var, "wald": wald, "p": p,
           "ci_lb": value - crit * se, "ci_ub": value + crit * se}
    for j in range(G.shape[1]):
        out[f"g{j + 1}"] = np.where(np.isnan(value), np.nan, G[:, j])
    return out


def _store(session, name: str, vtype: str, col, sel, quiet: bool = False) -> None:
    vals = np.where(sel, np.asarray(col, dtype=float), np.nan)
    vals = np.where(np.isfinite(vals), vals, np.nan)
    session.data.add(Variable(name, to_storage(vals, vtype), vtype))
    nmiss = int(np.count_nonzero(np.isnan(vals)))
    if nmiss and not quiet:
        session.out.line(f"({nmiss:,} missing value{'s' if nmiss != 1 else ''} generated)")
