"""Helpers the data commands share: varlists, the sample (if/in, by-group, nonmissing),
weights, values as shown, new-name checks, Stata's sort order and percentiles.

They live here, not in one of the commands that use them, so that command modules import
helpers and never one another (describe/summarize/list and sort/keep/drop used to import
each other for these).
"""
from __future__ import annotations

import math
import re

import numpy as np

from hlmshell.data.missing import missing_str, order_key
from hlmshell.errors import StataError
from hlmshell.output.numfmt import fmt, fmt_g
from hlmshell.registry import Args, bind_command
from hlmshell.syntax.evaluate import evaluate, marksample
from hlmshell.syntax.varlist import expand_varlist


# ----------------------------------------------------------------------------- options
def typed_args(cmd, options=None, *, sub: str | None = None) -> Args:
    """The command's options as typed values (hlmshell.registry.Args), bound to the spec on
    its registration line (a subcommand's with `sub`), strictly: an argument missing where
    one is needed is `invalid syntax`, one given to a flag `option x not allowed` (r(198)).
    Values are converted to the declared types in one place, registry.convert_option."""
    return bind_command(cmd.name, cmd.options if options is None else options, sub)


# ----------------------------------------------------------------------------- variables
def varlist(session, text: str, *, all_if_empty: bool = True, **kw) -> list[str]:
    """Expand a varlist typed by the user; empty means every variable (Stata's _all)."""
    text = (text or "").strip()
    if not text:
        return list(session.data.names) if all_if_empty else []
    return list(expand_varlist(session.data, text, **kw))


def ensure_data(session) -> None:
    if not session.data.names and session.data.n == 0:
        raise StataError("no variables defined", 111)


_NAME = re.compile(r"[^\W\d]\w{0,31}$")   # Stata 14+: Unicode letters too
RESERVED = {"_all", "_b", "byte", "_coef", "_cons", "double", "float", "if", "in", "int",
            "long", "_n", "_N", "_pi", "_pred", "_rc", "_se", "_skip", "using", "with",
            "strL", "str#"}


def check_name(name: str) -> None:
    """A legal new variable name, or Stata's r(198)."""
    if not _NAME.match(name) or name in RESERVED or re.fullmatch(r"str\d+", name):
        raise StataError(f"{name} invalid name", 198)


# ----------------------------------------------------------------------------- the sample
def touse(session, cmd, varnames=(), strok: bool = True) -> np.ndarray:
    """Observations selected by if/in (and the by-group), nonmissing in `varnames`."""
    if cmd.if_ is None and cmd.in_ is None and not varnames \
            and getattr(session, "by_restrict", None) is None:
        return np.ones(session.data.n, dtype=bool)
    return np.asarray(marksample(session, cmd, list(varnames), strok=strok), dtype=bool)


def weights(session, cmd, mask: np.ndarray, allowed=("fweight", "aweight", "iweight")):
    """Weight values (None without weights); fweights must be integers."""
    if cmd.weight is None:
        return None
    kind = cmd.weight.kind
    if kind not in allowed:
        raise StataError(f"{kind}s not allowed", 101)
    w = np.asarray(evaluate(cmd.weight.exp, session))
    if w.dtype == object or w.dtype.kind in "US":    # a string variable or literal
        raise StataError("type mismatch", 109)
    w = w.astype(np.float64)
    if w.ndim == 0:
        w = np.full(session.data.n, float(w))
    if kind == "fweight":
        ok = mask & ~np.isnan(w)
        if np.any(w[ok] != np.round(w[ok])):
            raise StataError("may not use noninteger frequency weights", 401)
    if np.any(w[mask & ~np.isnan(w)] < 0):
        raise StataError("negative weights encountered", 402)
    return w


# ----------------------------------------------------------------------------- values
def value_text(ds, var, x, *, labels: bool = True, format: str | None = None) -> str:
    """A value as list/tabulate show it: its value label, else its display format, trimmed."""
    if var.is_string:
        return str(x)
    if labels and var.vallab and var.vallab in ds.value_labels:
        lab = ds.value_labels[var.vallab].get(float(x)) if not np.isnan(x) else None
        if lab is not None:
            return lab
    if np.isnan(x):
        return missing_str(x)
    f = format or var.format
    try:
        return fmt(float(x), f).strip()
    except ValueError:
        return fmt_g(float(x), 9)


def percentile(x: np.ndarray, p: float, w: np.ndarray | None = None) -> float:
    """Stata's summarize percentiles of sorted `x` (averaging at exact positions)."""
    n = len(x)
    if n == 0:
        return math.nan
    if w is None:
        pos = n * p / 100.0
        i = int(math.floor(pos))
        if pos == i and i > 0:
            return float((x[i - 1] + x[min(i, n - 1)]) / 2) if i < n else float(x[n - 1])
        return float(x[min(i, n - 1)])
    cw = np.cumsum(w)
    tot = cw[-1]
    target = tot * p / 100.0
    j = int(np.searchsorted(cw, target, side="left"))
    j = min(j, n - 1)
    if math.isclose(cw[j], target, rel_tol=0, abs_tol=1e-12 * max(tot, 1)) and j + 1 < n:
        return float((x[j] + x[j + 1]) / 2)
    return float(x[j])


def sort_keys(ds, names, descending=None, mfirst=False) -> np.ndarray:
    """Stable permutation sorting by `names` in Stata's order (missing after numbers)."""
    descending = descending or [False] * len(names)
    keys = []
    for nm, desc in zip(names, descending):
        v = ds.vars[nm]
        if v.is_string:
            _, codes = np.unique(v.values.astype(str), return_inverse=True)
            k = codes.astype(np.float64)
            keys.append(-k if desc else k)
        else:
            vals = v.values
            miss = np.isnan(vals)
            k = order_key(vals)
            if desc:
                # largest first; missing values still last unless mfirst
                flag = np.where(miss, 0.0, 1.0) if mfirst else np.where(miss, 1.0, 0.0)
                keys.append(flag)
                keys.append(-k)
            else:
                keys.append(k)
    if not keys:
        return np.arange(ds.n)
    return np.lexsort(tuple(reversed(keys)))


def sample_columns(ds, mask: np.ndarray):
    """column(name) -> that variable on the estimation sample as float64 (a string variable as
    codes of its sorted values), each read once; every row in the sample: the (read-only)
    column itself, no copy."""
    cache: dict[str, np.ndarray] = {}
    whole = bool(mask.all())

    def column(nm: str) -> np.ndarray:
        if nm not in cache:
            var = ds.var(nm)
            v = var.values if whole else var.values[mask]
            if var.is_string:
                _, v = np.unique(v.astype(str), return_inverse=True)
            cache[nm] = np.asarray(v, dtype=np.float64)
        return cache[nm]

    return column


def collect_options(options, specs, repeatable) -> tuple[dict, dict]:
    """Typed options against a command's OptionSpecs for commands whose options may repeat
    (etable's cstat(), table's statistic()): (last value by name, every value of the
    repeatable ones); Stata's messages for an unknown option, a missing argument or an
    argument where none goes (r(198))."""
    given: dict[str, str | None] = {}
    rep: dict[str, list[str]] = {k: [] for k in repeatable}
    for o in options:
        spec = next((s for s in specs if s.matches(o.name)), None)
        if spec is None:
            raise StataError(f"option {o.name} not allowed", 198)
        if spec.takes_arg and (o.arg is None or not o.arg.strip()):
            raise StataError(f"option {spec.name}() incorrectly specified", 198)
        if not spec.takes_arg and o.arg is not None:
            raise StataError(f"option {o.name} not allowed", 198)
        given[spec.name] = o.arg
        if spec.name in rep:
            rep[spec.name].append(o.arg)
    return given, rep
