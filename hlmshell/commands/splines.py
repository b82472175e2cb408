"""mkspline: linear and restricted cubic spline variables, for piecewise growth curves and
nonlinear covariates in multilevel models.

    mkspline new1 #1 [new2 #2 ...] newk = oldvar [if] [in] [, marginal displayknots]
    mkspline stub # = oldvar [if] [in] [, marginal pctile displayknots]
    mkspline stub = oldvar [if] [in], cubic [nknots(#) knots(numlist) displayknots]

Linear splines as Stata's manual defines them: by default each new variable holds the part of
x inside its interval (so the coefficients are the slopes of the segments); `marginal` gives
x and (x - k)+ (coefficients are changes in slope). `# = oldvar` puts #-1 knots equally
spaced over the range, or at the percentiles with `pctile`. Restricted cubic splines follow
Harrell's formula with his default knot percentiles. Outside if/in the new variables are
missing. r(knots) holds the knots with displayknots.
"""
from __future__ import annotations

import re

import numpy as np

from hlmshell.commands import generate as g
from hlmshell.commands._toolkit import percentile, touse, typed_args, varlist
from hlmshell.data.dataset import Variable
from hlmshell.errors import StataError
from hlmshell.output.numfmt import fmt_g
from hlmshell.registry import Opt, command
from hlmshell.results import RResults

# Harrell's default knot percentiles for restricted cubic splines (as Stata's mkspline)
HARRELL = {3: (10, 50, 90), 4: (5, 35, 65, 95), 5: (5, 27.5, 50, 72.5, 95),
           6: (5, 23, 41, 59, 77, 95), 7: (2.5, 18.33, 34.17, 50, 65.83, 81.67, 97.5)}


def linear_basis(x: np.ndarray, knots: list[float], marginal: bool) -> list[np.ndarray]:
    """One column per interval: the piece of x in it (default) or x and (x - k)+ (marginal)."""
    if marginal:
        return [x.copy()] + [np.maximum(x - k, 0.0) for k in knots]
    cols = [np.minimum(x, knots[0])]
    for lo, hi in zip(knots[:-1], knots[1:]):
        cols.append(np.clip(x, lo, hi) - lo)
    cols.append(np.maximum(x, knots[-1]) - knots[-1])
    return cols


def cubic_basis(x: np.ndarray, t: list[float]) -> list[np.ndarray]:
    """Harrell's restricted cubic spline terms, scaled by (t_k - t_1)^2 as Stata does."""
    k = len(t)

    def p3(v):
        return np.maximum(v, 0.0) ** 3

    cols = [x.copy()]
    scale = (t[-1] - t[0]) ** 2
    for i in range(k - 2):
        c = (p3(x - t[i]) - p3(x - t[k - 2]) * (t[k - 1] - t[i]) / (t[k - 1] - t[k - 2])
             + p3(x - t[k - 1]) * (t[k - 2] - t[i]) / (t[k - 1] - t[k - 2]))
        cols.append(c / scale)
    return cols


def _parse(text: str):
    """`a 1 b 2 c` -> (['a','b','c'], [1,2]); `stub 3` -> ('stub', 3); `stub` -> ('stub', None)."""
    words = text.split()
    if not words:
        raise StataError("invalid syntax", 198)
    if len(words) == 1:
        return "stub", words[0], None
    if len(words) == 2 and re.fullmatch(r"\d+", words[1]):
        return "equal", words[0], int(words[1])
    if len(words) % 2 == 0 or len(words) < 3:
        raise StataError("invalid syntax", 198)
    names, knots = words[0::2], []
    for w in words[1::2]:
        try:
            knots.append(float(w))
        except ValueError:
            raise StataError("invalid syntax", 198) from None
    if any(b <= a for a, b in zip(knots, knots[1:])):
        raise StataError("knot specifications out of order", 198)
    return "explicit", names, knots


def _knots_equal(x: np.ndarray, k: int, pctile: bool) -> list[float]:
    if k < 2:
        raise StataError("number of knots must be at least 2", 198)
    if pctile:
        xs = np.sort(x)
        return [percentile(xs, 100 * i / k) for i in range(1, k)]
    lo, hi = float(x.min()), float(x.max())
    return [lo + i * (hi - lo) / k for i in range(1, k)]


def _cubic_knots(x: np.ndarray, opts) -> list[float]:
    if opts.knots is not None:
        t = sorted(float(v) for v in opts.knots)
        if len(t) < 3:
            raise StataError("at least 3 knots required", 198)
        return t
    nk = opts.nknots if opts.nknots is not None else 5
    if nk not in HARRELL:
        raise StataError("nknots() must be between 3 and 7", 198)
    xs = np.sort(x)
    t = [percentile(xs, p) for p in HARRELL[nk]]
    if any(b <= a for a, b in zip(t, t[1:])):
        raise StataError("knots not distinct: too few distinct values of the variable", 498)
    return t


@command("mkspline", byable=False, qualifiers="if in", body="anything", exp="text",
         family="Data management", desc="linear and restricted cubic spline construction",
         example="mkspline ses1 0 ses2 = ses",
         options=(Opt("marginal", "m", desc="marginal effects (changes in slope) coding"),
                  Opt("pctile", "pc", desc="knots at percentiles"),
                  Opt("displayknots", "disp", desc="display the knots"),
                  Opt("cubic", desc="restricted cubic spline"),
                  Opt("nknots", "nk", "int", None, "number of knots of the cubic spline"),
                  Opt("knots", "k", "numlist", None, "knots of the cubic spline")))
def mkspline_cmd(session, cmd):
    opts = typed_args(cmd)
    src = (cmd.exp_text or "").lstrip("=").strip()
    if not src:
        raise StataError("= required", 198)
    old = varlist(session, src, all_if_empty=False)
    if len(old) != 1:
        raise StataError("too many variables specified", 103)
    ds = session.data
    if ds.var(old[0]).is_string:
        raise StataError("type mismatch", 109)
    kind, names, spec = _parse(cmd.body or "")
    mask = touse(session, cmd, old)
    x = ds.var(old[0]).values.astype(float)
    xs = x[mask]
    if xs.size == 0:
        raise StataError("no observations", 2000)
    if opts.cubic:
        if kind != "stub":
            raise StataError("invalid syntax", 198)
        knots = _cubic_knots(xs, opts)
        cols = cubic_basis(np.where(mask, x, np.nan), knots)
        names = [f"{names}{i}" for i in range(1, len(cols) + 1)]
    else:
        if kind == "stub" or opts.nknots is not None or opts.knots is not None:
            raise StataError("invalid syntax", 198)
        if kind == "equal":
            knots = _knots_equal(xs, spec, opts.pctile)
            names = [f"{names}{i}" for i in range(1, spec + 1)]
        else:
            if opts.pctile:
                raise StataError("option pctile not allowed", 198)
            knots = spec
        cols = linear_basis(np.where(mask, x, np.nan), knots, opts.marginal)
    for nm in names:
        g.check_newname(session, nm)
    if len(set(names)) != len(names):
        raise StataError(f"{names[0]} already defined", 110)
    for nm, col in zip(names, cols):
        ds.add(Variable(nm, np.where(mask, col, np.nan), "float"))
    ds.changed = True
    if opts.displayknots:
        out = session.out
        out.line("")
        out.line(f"{'':13}|" + "".join(f"{'knot' + str(i):>10}" for i in range(1, len(knots) + 1)))
        out.line("-" * 13 + "+" + "-" * (10 * len(knots)))
        out.line(f"{old[0]:>12} |" + "".join(f"{fmt_g(k, 9):>10}" for k in knots))
    session.r = RResults(matrices={"knots": np.asarray(knots, float)[None, :]})
