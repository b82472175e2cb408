"""egen: Stata's extended generate functions (group statistics, ranks, row statistics, group ids).

Each function works on numpy arrays: `values` (the evaluated argument), `touse` (observations
selected by if/in) and `codes` (by-group code per observation), and returns the new values
(missing outside touse unless the function says otherwise, as Stata's egen does).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from hlmshell.commands import generate as g
from hlmshell.commands import _egen_extra as X
from hlmshell.registry import Args, Opt, bind_options, command
from hlmshell.data.dataset import Variable
from hlmshell.errors import StataError, syntax_error
from hlmshell.output.numfmt import fmt_g

_CALL = re.compile(r"\s*([A-Za-z_]\w*)\s*\((.*)\)\s*$", re.S)


# --- grouping helpers -------------------------------------------------------------------
def groups_from(ds, names: list[str], n: int) -> np.ndarray:
    """Code per observation for the distinct value combinations of `names` (order irrelevant)."""
    if not names:
        return np.zeros(n, dtype=np.int64)
    keys = g.sort_keys(ds, names)
    stacked = np.column_stack(keys) if keys else np.zeros((n, 0))
    _, inv = np.unique(stacked, axis=0, return_inverse=True)
    return np.asarray(inv).reshape(-1).astype(np.int64)


def combine_codes(a: np.ndarray | None, b: np.ndarray) -> np.ndarray:
    if a is None:
        return b
    _, inv = np.unique(np.column_stack([a, b]), axis=0, return_inverse=True)
    return np.asarray(inv).reshape(-1).astype(np.int64)


def _per_group(codes, ok, values, fn):
    """Apply fn to the ok values of each group; result broadcast to the group's members."""
    out = np.full(len(values), np.nan)
    if not ok.any():
        return out
    idx = np.flatnonzero(ok)
    order = idx[np.argsort(codes[idx], kind="stable")]
    c = codes[order]
    starts = np.flatnonzero(np.r_[True, c[1:] != c[:-1]])
    ends = np.r_[starts[1:], len(order)]
    res = np.full(int(codes.max()) + 1, np.nan)
    for s, e in zip(starts, ends):
        res[c[s]] = fn(values[order[s:e]])
    return res[codes]


# --- statistics over groups -------------------------------------------------------------
def pctile_of(x: np.ndarray, p: float) -> float:
    """Stata's default (_pctile) percentile: average of two order statistics at exact cuts."""
    x = np.sort(x)
    n = len(x)
    if n == 0:
        return np.nan
    pos = n * p / 100.0
    k = int(np.floor(pos + 1e-12))
    if abs(pos - round(pos)) < 1e-9 and 0 < round(pos) < n:
        k = int(round(pos))
        return (x[k - 1] + x[k]) / 2.0
    k = int(np.ceil(pos - 1e-12))
    return float(x[min(max(k, 1), n) - 1])


def _seqsum(x: np.ndarray) -> float:
    """Stata's sum() adds in observation order in double; cumsum does the same."""
    return float(np.cumsum(x)[-1]) if len(x) else 0.0


def _sd(x: np.ndarray) -> float:
    if len(x) < 2:
        return np.nan
    m = _seqsum(x) / len(x)
    return float(np.sqrt(_seqsum((x - m) ** 2) / (len(x) - 1)))


def _moment_ratio(x: np.ndarray, k: int) -> float:
    """summarize, detail's skewness (k=3) and kurtosis (k=4): m_k / m_2^(k/2)."""
    n = len(x)
    m = _seqsum(x) / n
    m2 = _seqsum((x - m) ** 2) / n
    if m2 <= 0:
        return np.nan
    return float(_seqsum((x - m) ** k) / n / m2 ** (k / 2))


def mad_values(values, touse, codes):
    """_gmad: the median absolute deviation from the median; the ado stores exp and the
    deviations in float variables (plain `gen`) before taking medians."""
    v = np.asarray(values, dtype=np.float64)
    x = g.store(v, "float")
    med = group_stat("median", x, touse, codes)
    dev = g.store(np.abs(v - med), "float")
    return group_stat("median", dev, touse, codes)


def group_stat(kind: str, values, touse, codes, *, p: float = 50.0, missing: bool = False):
    v = np.asarray(values, dtype=np.float64)
    ok = touse & ~np.isnan(v)
    fns = {
        "mean": lambda x: _seqsum(x) / len(x),
        "sd": _sd,
        "total": _seqsum,
        "count": lambda x: float(len(x)),
        "min": np.min,
        "max": np.max,
        "median": lambda x: pctile_of(x, 50.0),
        "pctile": lambda x: pctile_of(x, p),
        "iqr": lambda x: pctile_of(x, 75.0) - pctile_of(x, 25.0),
        "skew": lambda x: _moment_ratio(x, 3),
        "kurt": lambda x: _moment_ratio(x, 4),
        "mdev": lambda x: _seqsum(np.abs(x - _seqsum(x) / len(x))) / len(x),
    }
    out = _per_group(codes, ok, v, fns[kind])
    if kind in ("total", "count"):
        # groups with no nonmissing values: 0 (total's `missing` option keeps missing)
        in_grp = _per_group(codes, touse, np.zeros(len(v)), lambda x: 0.0)
        fill = ~np.isnan(in_grp) & np.isnan(out)
        if not (kind == "total" and missing):
            out[fill] = 0.0
    out[~touse] = np.nan
    return out


def std_values(values, touse, vtype: str = "double", mean=0.0, sd=1.0):
    """egen std(): Stata stores exp in the new variable first, then standardises those values
    with summarize's mean and sd over the sample."""
    v = np.where(touse, g.store(np.asarray(values, dtype=np.float64), vtype), np.nan)
    x = v[~np.isnan(v)]
    if len(x) < 2:
        return np.full(len(v), np.nan)
    m = _seqsum(x) / len(x)
    s = np.sqrt(_seqsum((x - m) ** 2) / (len(x) - 1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return (v - m) / s * sd + mean


def _runs(flags: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For sorted data with `flags` marking where a run starts: each position's run start
    and run end index."""
    n = len(flags)
    pos = np.arange(n)
    start = np.maximum.accumulate(np.where(flags, pos, 0))
    ends_here = np.r_[flags[1:], True]
    end = np.minimum.accumulate(np.where(ends_here, pos, n)[::-1])[::-1]
    return start, end


def rank_values(values, touse, codes, how: str = "average"):
    """Ranks within groups: average ties (default), field (1 = highest), track (1 = lowest,
    ties share the lowest rank), unique (ties broken by observation order)."""
    v = np.asarray(values, dtype=np.float64)
    ok = touse & ~np.isnan(v)
    out = np.full(len(v), np.nan)
    idx = np.flatnonzero(ok)
    if not idx.size:
        return out
    order = idx[np.lexsort((v[idx], codes[idx]))]     # stable: ties keep observation order
    c, x = codes[order], v[order]
    newg = np.r_[True, c[1:] != c[:-1]]
    gs, ge = _runs(newg)
    rs, re_ = _runs(newg | np.r_[True, x[1:] != x[:-1]])
    lo, hi = rs - gs + 1, re_ - gs + 1
    if how == "unique":
        r = np.arange(len(order)) - gs + 1
    elif how == "field":
        r = (ge - gs + 1) - hi + 1
    elif how == "track":
        r = lo
    else:
        r = (lo + hi) / 2.0
    out[order] = r
    return out


def row_stat(kind: str, mat: np.ndarray, touse, missing: bool = False, vtype: str = "double"):
    """Row statistics over columns of mat (observations x variables), ignoring missing,
    accumulated column by column as _growmean/_growtotal do (rowtotal in the new type)."""
    n, k = mat.shape
    nonmiss = (~np.isnan(mat)).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        if kind == "rowtotal":
            col = mat[:, 0]
            out = g.store(np.where(np.isnan(col), np.nan if missing else 0.0, col), vtype)
            for j in range(1, k):
                col = mat[:, j]
                if missing:
                    out = np.where(np.isnan(out), col, np.where(np.isnan(col), out, out + col))
                else:
                    out = out + np.where(np.isnan(col), 0.0, col)
                out = g.store(out, vtype)
        elif kind == "rowmean":
            acc = np.zeros(n)
            for j in range(k):
                acc = acc + np.where(np.isnan(mat[:, j]), 0.0, mat[:, j])
            out = np.where(nonmiss == 0, np.nan, acc / np.maximum(nonmiss, 1))
        elif kind == "rowmin":
            out = np.where(nonmiss == 0, np.nan, np.min(np.where(np.isnan(mat), np.inf, mat), axis=1))
        elif kind == "rowmax":
            out = np.where(nonmiss == 0, np.nan, np.max(np.where(np.isnan(mat), -np.inf, mat), axis=1))
        elif kind == "rownonmiss":
            out = nonmiss.astype(float)
        elif kind == "rowmiss":
            out = (k - nonmiss).astype(float)
        elif kind == "rowsd":
            cnt = nonmiss.astype(float)
            acc = np.zeros(n)
            for j in range(k):
                acc = acc + np.where(np.isnan(mat[:, j]), 0.0, mat[:, j])
            mean = acc / np.maximum(cnt, 1)
            ss = np.zeros(n)
            for j in range(k):
                d = mat[:, j] - mean
                ss = ss + np.where(np.isnan(d), 0.0, d * d)
            out = np.where(cnt > 1, np.sqrt(ss / np.maximum(cnt - 1, 1)), np.nan)
        else:  # pragma: no cover
            raise ValueError(kind)
    out = np.asarray(out, dtype=np.float64)
    out[~touse] = np.nan
    return out


def _rows_missing(ds, names, n):
    miss = np.zeros(n, dtype=bool)
    for nm in names:
        v = ds.var(nm)
        miss |= (v.values == "") if v.is_string else np.isnan(v.values)
    return miss


def group_ids(ds, names, touse, missing=False):
    """egen group(): 1, 2, ... in sort order of the variables' values."""
    n = ds.n
    ok = touse.copy()
    if not missing:
        ok &= ~_rows_missing(ds, names, n)
    out = np.full(n, np.nan)
    if ok.any():
        keys = [k[ok] for k in g.sort_keys(ds, names)]
        _, inv = np.unique(np.column_stack(keys), axis=0, return_inverse=True)
        out[ok] = np.asarray(inv).reshape(-1) + 1
    return out


def tag_values(ds, names, touse, missing=False):
    """egen tag(): 1 on the first observation of each distinct combination, else 0."""
    n = ds.n
    ok = touse.copy()
    if not missing:
        ok &= ~_rows_missing(ds, names, n)
    out = np.zeros(n)
    idx = np.flatnonzero(ok)
    if idx.size:
        codes = groups_from(ds, names, n)
        _, first = np.unique(codes[idx], return_index=True)
        out[idx[first]] = 1.0
    return out


def _value_text(ds, name, x):
    var = ds.var(name)
    if var.is_string:
        return x
    labs = ds.value_labels.get(var.vallab or "", {})
    if x in labs:
        return labs[x]
    return fmt_g(float(x), 9)


# --- the command -------------------------------------------------------------------------
_GROUP_STATS = ("mean", "sd", "total", "count", "min", "max", "median", "pctile", "iqr",
                "skew", "kurt", "mdev", "mad")
_ROW = ("rowtotal", "rowmean", "rowmin", "rowmax", "rownonmiss", "rowmiss", "rowsd")
_NOBY = ("group", "tag", "std", "rowtotal", "rowmean", "rowmin", "rowmax", "rownonmiss",
         "rowmiss", "rowsd", "concat", "anycount", "anymatch", "cut", "fill")
# functions of _egen_extra.py (their own argument kinds and options)
_EXTRA = ("concat", "anycount", "anymatch", "cut", "seq", "fill", "pc", "mode")
# older names Stata still accepts
_ALIASES = {"sum": "total", "rsum": "rowtotal", "rmean": "rowmean", "rmin": "rowmin",
            "rmax": "rowmax", "rsd": "rowsd", "robs": "rownonmiss", "rmiss": "rowmiss"}
# every option of every function (help prints them); each function takes by() and its own
EGEN_OPTIONS = (
    Opt("by", type="varlist", desc="compute within groups of varlist (not group, tag, std, row*)"),
    Opt("missing", desc="total, rowtotal: all missing gives missing; group, tag: missing is a group"),
    Opt("p", type="real", default=50.0, desc="pctile: the percentile, strictly between 0 and 100"),
    Opt("mean", type="real", default=0.0, desc="std: mean of the standardized values"),
    Opt("std", type="real", default=1.0, desc="std: standard deviation of the standardized values"),
    Opt("field", desc="rank: 1 = highest, ties share the best rank"),
    Opt("track", desc="rank: 1 = lowest, ties share the lowest rank"),
    Opt("unique", desc="rank: ties broken by observation order"),
    Opt("truncate", type="int", desc="group: accepted for compatibility (no effect)"),
    Opt("label", "lab", "string", desc="group: label or label(name): value label naming each group (default name: the new variable's)"),
    Opt("strok", desc="rownonmiss: allow string variables"),
    Opt("format", type="string", desc="concat: display format used for numeric variables"),
    Opt("decode", desc="concat: use value labels of numeric variables"),
    Opt("maxlength", type="int", desc="concat: keep at most # bytes"),
    Opt("punct", type="string", desc="concat: text put between the variables"),
    Opt("values", "v", type="numlist", desc="anycount, anymatch: the values counted"),
    Opt("at", type="numlist", desc="cut: interval boundaries"),
    Opt("group", type="int", desc="cut: number of equal-frequency groups"),
    Opt("icodes", desc="cut: codes 0, 1, 2, ... instead of left ends"),
    Opt("from", "f", type="real", default=1.0, desc="seq: first value (default 1)"),
    Opt("to", "t", type="real", desc="seq: last value before starting again"),
    Opt("block", "b", type="int", default=1, desc="seq: times each value is repeated (default 1)"),
    Opt("prop", desc="pc: proportions rather than percentages"),
    Opt("minmode", desc="mode: the lowest of several modes"),
    Opt("maxmode", desc="mode: the highest of several modes"),
    Opt("nummode", type="int", desc="mode: the #th mode (ascending)"),
)
_LABEL = next(o for o in EGEN_OPTIONS if o.name == "label")
_OPTS = {
    "mean": (), "sd": (), "count": (), "min": (), "max": (), "median": (), "iqr": (),
    "skew": (), "kurt": (), "mdev": (), "mad": (),
    "total": ("missing",), "pctile": ("p",), "std": ("mean", "std"),
    "rank": ("field", "track", "unique"), "group": ("missing", "truncate"),
    "tag": ("missing",), "rowtotal": ("missing",), "rowmean": (), "rowmin": (), "rowmax": (),
    "rownonmiss": ("strok",), "rowmiss": (), "rowsd": (),
    "concat": ("format", "decode", "maxlength", "punct"), "anycount": ("values",),
    "anymatch": ("values",), "cut": ("at", "group", "icodes"), "seq": ("from", "to", "block"),
    "fill": (), "pc": ("prop",), "mode": ("minmode", "maxmode", "nummode", "missing"),
}


# options=EGEN_OPTIONS for help; check_options=False: which options are allowed depends on
# the function, so the handler binds them (after `unknown egen function`, as Stata does)
@command("egen", byable="self", qualifiers="if in", options=EGEN_OPTIONS, check_options=False,
          family="Data management", body="newvarlist", exp="text", desc="extended generate (functions of groups)", example="egen meanses_g = mean(ses), by(id)")
def egen(session, cmd):
    g.no_weights(cmd)
    ds = session.data
    vtype, name, lbl = g.parse_target(cmd.body)
    g.check_newname(session, name)
    fname, argtext = _parse_call(cmd.exp_text)
    opts, label = _function_options(fname, cmd.options)
    prefix_codes, by_vars = _by_groups(session, cmd, opts, fname)
    if vtype is not None and g.is_string_type(vtype) and fname not in ("concat", "mode"):
        raise StataError("type mismatch", 109)
    call = EgenCall(fname, argtext, opts, by_vars, prefix_codes,
                    combine_codes(prefix_codes, groups_from(ds, by_vars, ds.n)),
                    g.sample(session, cmd),
                    # _gtag ignores the type it is given: a byte is enough for 0/1
                    "byte" if fname == "tag" else (vtype or g.default_type(session)), label)
    if fname in _EXTRA:
        res, varlabel, lbl, call.vtype = extra_function(session, call, name, lbl, vtype)
    elif fname in _GROUP_STATS or fname in ("std", "rank"):
        res, varlabel = _expression_function(session, call)
    elif fname in _ROW:
        res, varlabel = _row_function(session, call), ""
    else:
        res, varlabel, lbl = _group_function(session, call, name, lbl)
    vals = g.store(res, call.vtype)
    ds.add(Variable(name, vals, call.vtype, label=varlabel, vallab=lbl))
    ds.changed = True
    g.missing_message(session, vals)


@dataclass
class EgenCall:
    """One egen function call, parsed and checked: what the function computations read."""

    fname: str                       # canonical function name
    argtext: str                     # its argument as typed: an expression or a varlist
    opts: Args                       # its options, typed
    by_vars: list[str]               # by() and by-prefix variables
    prefix_codes: np.ndarray | None  # the by prefix's group per observation
    codes: np.ndarray                # group per observation (prefix and by())
    touse: np.ndarray                # if/in
    vtype: str                       # storage type of the result
    label: str | None = None         # group()'s label option ("" without a name), None if absent


def _parse_call(exp_text: str | None) -> tuple[str, str]:
    """`= fname(args)` -> (canonical function name, argument text)."""
    text = (exp_text or "").strip()
    if text.startswith("="):
        text = text[1:].strip()
    if not text:
        raise StataError("=exp required", 100)
    m = _CALL.match(text)
    if not m:
        raise syntax_error()
    fname = _ALIASES.get(m.group(1), m.group(1))
    if fname not in _OPTS:
        raise StataError(f"unknown egen function {m.group(1)}()", 133)
    return fname, m.group(2).strip()


def _function_options(fname: str, options) -> tuple[Args, str | None]:
    """The function's options plus by() (any other is `option x not allowed`), typed by
    EGEN_OPTIONS; group()'s label takes an
    optional argument, which a typed spec cannot express, so it is split off here:
    (options, label name or "" or None)."""
    allowed = ("by",) + _OPTS[fname]
    specs = tuple(o for o in EGEN_OPTIONS if o.name in allowed)
    labels = [o for o in options if fname in ("group", "cut") and _LABEL.matches(o.name)]
    given = bind_options(specs, [o for o in options if o not in labels], strict=True).given
    label = (labels[-1].arg or "").strip() if labels else None
    return Args(EGEN_OPTIONS, given), label        # every option readable (defaults if absent)


def _by_groups(session, cmd, opts: Args, fname: str) -> tuple[np.ndarray | None, list[str]]:
    """The by prefix's groups and the by variables (prefix first, then by())."""
    prefix_codes = g.by_groups(session, cmd)
    if prefix_codes is not None and cmd.in_ is not None:
        raise StataError("in may not be combined with by", 190)
    prefix = g.by_prefix(cmd)
    by_vars = g.varlist(session, " ".join(opts.by)) if opts.by else []
    if prefix is not None:
        by_vars = g.varlist(session, " ".join(prefix.by_vars)) + by_vars
    if by_vars and fname in _NOBY:
        raise StataError(f"egen ... {fname}() may not be combined with by", 190)
    return prefix_codes, by_vars


def _argument_values(session, call: EgenCall) -> np.ndarray:
    """The argument expression over every observation (count() also takes strings)."""
    if not call.argtext:
        raise syntax_error()
    vals = g.broadcast(g.evaluate(g.parse_expr(call.argtext), session, call.prefix_codes),
                       session.data.n)
    if vals.dtype == object and call.fname == "count":
        # _gcount counts !missing(exp), which works for strings too
        return np.where(vals == "", np.nan, 0.0)
    if vals.dtype == object:
        raise StataError("type mismatch", 109)
    return vals


def _expression_function(session, call: EgenCall) -> tuple[np.ndarray, str]:
    """Group statistics, std() and rank() of an expression: (values, variable label)."""
    vals = _argument_values(session, call)
    opts = call.opts
    if call.fname == "std":
        res = std_values(vals, call.touse, call.vtype, opts.mean, opts.std)
        return res, f"Standardized values of {call.argtext}"
    if call.fname == "rank":
        hows = [h for h in ("field", "track", "unique") if getattr(opts, h)]
        if len(hows) > 1:
            raise StataError("only one of field, track, or unique may be specified", 198)
        res = rank_values(vals, call.touse, call.codes, hows[0] if hows else "average")
        varlabel = (f"{hows[0]} " if hows else "") + f"rank of {call.argtext}"
        if call.by_vars:
            varlabel += " by " + " ".join(call.by_vars)
        return res, varlabel
    p = opts.p
    if not 0 < p < 100:
        raise StataError(f"p({opts.raw('p').strip()}) must be between 0 and 100", 198)
    if call.fname == "mad":
        return mad_values(vals, call.touse, call.codes), ""
    return group_stat(call.fname, vals, call.touse, call.codes, p=p, missing=opts.missing), ""


def _row_function(session, call: EgenCall) -> np.ndarray:
    """rowtotal(), rowmean(), ... over a varlist (rownonmiss(), strok takes strings)."""
    ds = session.data
    cols = []
    for nm in g.varlist(session, call.argtext):
        v = ds.var(nm)
        if v.is_string:
            if call.fname == "rownonmiss" and call.opts.strok:
                cols.append(np.where(v.values == "", np.nan, 0.0))
                continue
            raise StataError(f"string variables not allowed in varlist;\n{nm} is a string variable", 109)
        cols.append(v.values)
    return row_stat(call.fname, np.column_stack(cols), call.touse, missing=call.opts.missing,
                    vtype=call.vtype)


def _group_function(session, call: EgenCall, name: str, lbl):
    """group() and tag() of a varlist: (values, variable label, value label name); group's
    label option defines a value label naming each group by its variables' values."""
    ds = session.data
    names = g.varlist(session, call.argtext)
    varlabel = f"{call.fname}({' '.join(names)})"
    if len(varlabel) > 80:
        varlabel = "see notes" if call.fname == "group" else "tag: see notes"
    if call.fname == "tag":
        return tag_values(ds, names, call.touse, call.opts.missing), varlabel, lbl
    res = group_ids(ds, names, call.touse, call.opts.missing)
    if call.label is not None:
        lbl = call.label or name
        ds.value_labels[lbl] = _group_value_label(ds, names, res)
    return res, varlabel, lbl


def _group_value_label(ds, names: list[str], res: np.ndarray) -> dict[float, str]:
    """Each group code -> its variables' values (as shown) in its first observation."""
    first: dict = {}
    for i in np.flatnonzero(~np.isnan(res)):
        first.setdefault(res[i], i)
    return {float(code): " ".join(str(_value_text(ds, nm, ds.var(nm).values[i])).strip()
                                  for nm in names)
            for code, i in first.items()}


# --- concat(), anycount(), anymatch(), cut(), seq(), fill(), pc(), mode() ------------------
def extra_function(session, call: EgenCall, name: str, lbl, vtype: str | None):
    """The functions of _egen_extra.py: (values, variable label, value label, storage type)."""
    fn = {"concat": _concat, "anycount": _anycount, "anymatch": _anycount, "cut": _cut,
          "seq": _seq, "fill": _fill, "pc": _pc, "mode": _mode}[call.fname]
    return fn(session, call, name, lbl, vtype)


def _concat(session, call, name, lbl, vtype):
    ds = session.data
    o = call.opts
    if o.format:
        try:
            X.fmt(1.0, o.format)                  # validates the format
        except ValueError:
            raise StataError("invalid %format", 120) from None
    cols = [X.concat_column(ds, ds.var(nm), o.format, o.decode)
            for nm in g.varlist(session, call.argtext)]
    punct = o.punct if o.punct is not None else ""
    if len(punct) >= 2 and punct[0] == punct[-1] == '"':
        punct = punct[1:-1]
    res = X.concat_values(cols, call.touse, punct, o.maxlength)
    st = vtype if vtype is not None and g.is_string_type(vtype) else g.str_type_for(res)
    return res, "", lbl, st


def _numeric_matrix(session, argtext: str) -> np.ndarray:
    ds = session.data
    cols = []
    for nm in g.varlist(session, argtext):
        v = ds.var(nm)
        if v.is_string:
            raise StataError(f"string variables not allowed in varlist;\n{nm} is a string variable", 109)
        cols.append(v.values)
    return np.column_stack(cols)


def _anycount(session, call, name, lbl, vtype):
    if not call.opts.values:
        raise StataError("option values() required", 198)
    from hlmshell.syntax.numlist import numlist
    vals = numlist(" ".join(call.opts.values))
    mat = _numeric_matrix(session, call.argtext)
    if call.fname == "anymatch":
        return X.anymatch_values(mat, vals, call.touse), "", lbl, vtype or "byte"
    return X.anycount_values(mat, vals, call.touse), "", lbl, vtype or call.vtype


def _cut(session, call, name, lbl, vtype):
    o = call.opts
    from hlmshell.syntax.numlist import numlist
    nm = g.one_var(session, call.argtext)
    var = session.data.var(nm)
    if var.is_string:
        raise StataError("type mismatch", 109)
    at = numlist(" ".join(o.at)) if o.at else None
    if at is None and o.group is None:
        raise StataError("at() or group() must be specified", 198)
    if at is not None and o.group is not None:
        raise StataError("at() and group() may not be specified together", 198)
    pts = X.cut_points(var.values, call.touse, at, o.group)
    res = X.cut_values(var.values, call.touse, pts, bool(o.icodes))
    if call.label is not None:
        lbl = name
        session.data.value_labels[lbl] = X.cut_labels(pts, bool(o.icodes))
    return res, "", lbl, vtype or call.vtype


def _seq(session, call, name, lbl, vtype):
    o = call.opts
    if call.argtext:
        raise syntax_error()
    if o.block is not None and o.block < 1:
        raise StataError("block() must be a positive integer", 198)
    res = X.seq_values(call.codes, call.touse, session.data.n, getattr(o, "from"),
                       o.to, o.block or 1)
    return res, "", lbl, vtype or call.vtype


def _fill(session, call, name, lbl, vtype):
    from hlmshell.syntax.numlist import numlist
    res = X.fill_values(numlist(call.argtext), session.data.n)
    res = np.where(call.touse, res, np.nan)
    return res, "", lbl, vtype or call.vtype


def _pc(session, call, name, lbl, vtype):
    vals = _argument_values(session, call)
    return X.pc_values(vals, call.touse, call.codes, bool(call.opts.prop)), "", lbl, vtype or call.vtype


def _mode(session, call, name, lbl, vtype):
    o = call.opts
    hows = [h for h in ("minmode", "maxmode") if getattr(o, h)] + (["nummode"] if o.nummode is not None else [])
    if len(hows) > 1:
        raise StataError("only one of minmode, maxmode, and nummode() may be specified", 198)
    nm = g.one_var(session, call.argtext)
    var = session.data.var(nm)
    res = X.mode_values(var.values, call.touse, call.codes, how=hows[0] if hows else "",
                        nummode=o.nummode or 1, missing=bool(o.missing))
    if var.is_string:
        st = vtype if vtype is not None and g.is_string_type(vtype) else var.vtype
        return res, "", lbl, st
    if vtype is not None and g.is_string_type(vtype):
        raise StataError("type mismatch", 109)
    if not hows and not o.missing and np.isnan(res[call.touse]).any():
        session.out.line("Warning: at least one group contains all missing values or contains multiple modes.")
        session.out.line("         Generating missing values for the mode of these groups.  Use the missing,")
        session.out.line("         maxmode, minmode, or nummode() options to control this behavior.")
    return res, "", lbl, vtype or call.vtype
