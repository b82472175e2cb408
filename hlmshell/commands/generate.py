"""generate, replace, clonevar, assert: creating and changing variables the way Stata 17 does.

Values are stored on their storage type's grid (a `float` variable holds float32-rounded
numbers), so later comparisons agree with Stata's (`gen x = 0.1` then `count if x == 0.1`
counts 0). The helpers at the top are shared with egen/recode/convert.
"""
from __future__ import annotations

import re

import numpy as np

from hlmshell.registry import Args, Opt, bind_command, command
from hlmshell.data.dataset import DEFAULT_FORMATS, INT_LIMITS, Variable, is_string_type, to_storage
from hlmshell.data.missing import order_key
from hlmshell.errors import StataError, syntax_error
from hlmshell.syntax.evaluate import by_groups as _by_groups
from hlmshell.syntax.evaluate import evaluate as _ev
from hlmshell.syntax.evaluate import by_codes, marksample
from hlmshell.syntax.expr_ast import Binary, Call, Expr, Name, Subscript, names_in
from hlmshell.syntax.parser import parse_expr as _pe
from hlmshell.syntax.varlist import expand_varlist, unabbrev

# Stata's largest storable magnitudes: beyond these a value is stored as missing.
FLOAT_MAX = 1.70141173319e38
DOUBLE_MAX = 8.988465674311579e307
STR_MAX = 2045
RESERVED = {"_all", "_b", "byte", "_coef", "_cons", "double", "float", "if", "in", "int",
            "long", "_n", "_N", "_pi", "_pred", "_rc", "_se", "_skip", "strL", "using", "with"}
_NAME = re.compile(r"[^\W\d]\w*$")   # Stata 14+: Unicode letters too
_TYPE = re.compile(r"(byte|int|long|float|double|strL|str\d*)$")


# --- shared helpers -------------------------------------------------------------------
def plural(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"


def check_newname(session, name: str) -> None:
    """A new variable's name must be legal and unused (Stata: r(198) / r(110))."""
    if (not _NAME.match(name) or len(name) > 32 or name in RESERVED
            or re.fullmatch(r"str\d+", name)):
        raise StataError(f"{name} invalid name", 198)
    if name in session.data:
        raise StataError(f"variable {name} already defined", 110)


def broadcast(values, n: int) -> np.ndarray:
    """Scalar results of observation-free expressions -> one value per observation."""
    if isinstance(values, np.ndarray) and values.ndim == 1 and len(values) == n:
        return values
    if isinstance(values, np.ndarray) and values.ndim == 0:
        values = values.item()
    if isinstance(values, str):
        return np.full(n, values, dtype=object)
    return np.full(n, np.nan if values is None else float(values))


def strwidth(values: np.ndarray) -> int:
    return max((len(str(s).encode("utf-8")) for s in values), default=0)


def str_type_for(values: np.ndarray) -> str:
    w = strwidth(values)
    return "strL" if w > STR_MAX else f"str{max(w, 1)}"


def truncate_str(values: np.ndarray, width: int) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    for i, s in enumerate(values):
        b = str(s).encode("utf-8")
        out[i] = b[:width].decode("utf-8", errors="ignore") if len(b) > width else str(s)
    return out


def store(values: np.ndarray, vtype: str) -> np.ndarray:
    """Values as a variable of type vtype holds them: grid rounding, out-of-range -> missing."""
    if is_string_type(vtype):
        vals = np.array(["" if v is None else str(v) for v in values], dtype=object)
        if vtype != "strL" and vtype[3:].isdigit():
            vals = truncate_str(vals, int(vtype[3:]))
        return vals
    v = np.asarray(values, dtype=np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        if vtype in INT_LIMITS:
            lo, hi = INT_LIMITS[vtype]
            t = np.trunc(v)
            out = np.where((t < lo) | (t > hi), np.nan, t)
            return np.where(np.isnan(v), v, out)
        if vtype == "float":
            out = np.where(np.abs(v) > FLOAT_MAX, np.nan, v)
            return np.where(np.isnan(v), v, to_storage(out, "float"))
        return np.where(np.abs(v) > DOUBLE_MAX, np.nan, v)


def n_missing(values: np.ndarray) -> int:
    if values.dtype == object:
        return int(sum(1 for s in values if s == ""))
    return int(np.isnan(values).sum())


def missing_message(session, values: np.ndarray) -> None:
    k = n_missing(values)
    if k:
        session.out.line(f"({plural(k, 'missing value', 'missing values')} generated)")


def default_type(session) -> str:
    t = session.settings.get("type", "float")
    return t if t in ("float", "double") else "float"


def numeric_type_needed(cur: str, values: np.ndarray) -> str:
    """The storage type `replace` promotes `cur` to so that `values` fit (Stata's rule)."""
    v = values[~np.isnan(values)]
    if cur in INT_LIMITS:
        if v.size and np.any(v != np.trunc(v)):
            return "double" if cur == "long" else "float"
        order = ["byte", "int", "long"]
        for t in order[order.index(cur):]:
            lo, hi = INT_LIMITS[t]
            if not v.size or (v.min() >= lo and v.max() <= hi):
                return t
        return "double"
    return cur


def int_type_for(values: np.ndarray) -> str | None:
    """Smallest integer type holding all values, or None if some are not integers."""
    v = values[~np.isnan(values)]
    if v.size and np.any(v != np.trunc(v)):
        return None
    for t in ("byte", "int", "long"):
        lo, hi = INT_LIMITS[t]
        if not v.size or (v.min() >= lo and v.max() <= hi):
            return t
    return None


def same_values(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Elementwise equality that treats identical missing codes as equal."""
    if a.dtype == object or b.dtype == object:
        return np.array([x == y for x, y in zip(a, b)], dtype=bool)
    return order_key(a) == order_key(b)


# --- parsing and evaluation glue --------------------------------------------------------
def strict_args(cmd, sub: str | None = None) -> Args:
    """The command's options typed by its spec (what args_of gives; with `sub`, the options of
    that subcommand, none for an unknown one), bound with the stricter checks Stata makes for
    these commands: an option declared with an argument but typed without one is `invalid
    syntax` r(198), an argument given to a flag `option x not allowed`."""
    cmd.opts = bind_command(cmd.name, cmd.options, sub)
    return cmd.opts


def parse_expr(text: str):
    return _pe(text)


def evaluate(expr, session, groups=None):
    if groups is None:
        return _ev(expr, session)
    return _ev(expr, session, groups=groups)


def one_var(session, text: str) -> str:
    """An existing variable named (or abbreviated) by text."""
    text = text.strip()
    if not text:
        raise StataError("varlist required", 100)
    names = expand_varlist(session.data, text)
    if len(names) != 1:
        raise StataError("too many variables specified", 103)
    return names[0]


def varlist(session, text: str) -> list[str]:
    if not text.strip():
        raise StataError("varlist required", 100)
    return expand_varlist(session.data, text)


def by_prefix(cmd):
    for p in getattr(cmd, "prefixes", None) or []:
        if p.kind == "by":
            return p
    return None


def sort_keys(ds, names: list[str]) -> list[np.ndarray]:
    """Per-variable keys that order observations as Stata sorts them (missing last)."""
    keys = []
    for nm in names:
        v = ds.var(nm)
        if v.is_string:
            vals = v.values
            uniq = sorted(set(vals), key=lambda s: s.encode("utf-8"))
            pos = {s: i for i, s in enumerate(uniq)}
            keys.append(np.array([pos[s] for s in vals], dtype=np.float64))
        else:
            keys.append(order_key(v.values))
    return keys


def by_groups(session, cmd) -> np.ndarray | None:
    """For byable='self' commands: the group code per observation of the by prefix
    (bysort sorts first; by on unsorted data is `not sorted` r(5)); None without by."""
    p = by_prefix(cmd)
    if p is None:
        return None
    return np.asarray(_by_groups(session, p))


def sample(session, cmd, groups=None, varnames=(), strok=True) -> np.ndarray:
    """Observations selected by if/in; under a by prefix `if` sees by-group _n/_N."""
    if groups is None:
        return np.asarray(marksample(session, cmd, varnames, strok=strok), dtype=bool)
    if cmd.in_ is not None:
        raise StataError("in may not be combined with by", 190)
    n = session.data.n
    mask = np.ones(n, dtype=bool)
    if cmd.if_ is not None:
        val = broadcast(evaluate(cmd.if_, session, groups), n)
        if val.dtype == object:
            raise StataError("type mismatch", 109)
        mask &= val != 0  # missing counts as true, like Stata
    for nm in varnames:
        v = session.data.var(nm)
        mask &= (v.values != "") if v.is_string else ~np.isnan(v.values)
    return mask


_RUNNING = {"sum"}


def _calls_and_positions(expr) -> tuple[set[str], bool]:
    """Function names called in expr, and whether it reads _n/_N or subscripts."""
    from dataclasses import fields, is_dataclass

    calls: set[str] = set()
    pos = False

    def walk(e):
        nonlocal pos
        if isinstance(e, Call):
            calls.add(e.func)
        elif isinstance(e, Subscript):
            pos = True
        elif isinstance(e, Name) and e.name in ("_n", "_N"):
            pos = True
        if is_dataclass(e) and isinstance(e, Expr):
            for f in fields(e):
                val = getattr(e, f.name)
                for v in (val if isinstance(val, tuple) else (val,)):
                    walk(v)

    walk(expr)
    return calls, pos


def evaluate_in(expr, session, mask: np.ndarray, groups=None):
    """Evaluate expr where Stata would: only on the selected observations. That matters for
    running sums (`gen s = sum(x) if f` accumulates over the f observations only); other
    expressions are evaluated on all observations and masked by the caller."""
    n = session.data.n
    if mask.all() or not hasattr(expr, "__dataclass_fields__"):
        return evaluate(expr, session, groups)
    calls, positional = _calls_and_positions(expr)
    if not (calls & _RUNNING) or positional:
        return evaluate(expr, session, groups)
    full = session.data
    sub = full.copy()
    sub.take(np.flatnonzero(mask))
    session.data = sub
    try:
        res = evaluate(expr, session, None if groups is None else np.asarray(groups)[mask])
    finally:
        session.data = full
    res = broadcast(res, int(mask.sum()))
    out = np.full(n, "", dtype=object) if res.dtype == object else np.full(n, np.nan)
    out[mask] = res
    return out


def no_weights(cmd) -> None:
    if getattr(cmd, "weight", None) is not None:
        raise StataError("weights not allowed", 101)


def get_exp(cmd):
    no_weights(cmd)
    if cmd.exp is None:
        raise StataError("=exp required", 100)
    return cmd.exp


# --- generate -------------------------------------------------------------------------
def parse_target(body: str) -> tuple[str | None, str, str | None]:
    """'[type] newvar[:lblname]' -> (type, name, lblname)."""
    words = body.replace(" :", ":").replace(": ", ":").split()
    if not words:
        raise StataError("varlist required", 100)
    vtype = None
    if len(words) == 2 and _TYPE.match(words[0]):
        vtype = words[0]
        words = words[1:]
        if vtype[3:].isdigit() and not 1 <= int(vtype[3:]) <= STR_MAX:
            raise syntax_error()
    if len(words) != 1:
        raise syntax_error()
    name, _, lbl = words[0].partition(":")
    if ":" in words[0] and not _NAME.match(lbl or ""):
        raise syntax_error()
    return vtype, name, (lbl or None)


def compute_new(session, values, vtype: str | None, mask: np.ndarray) -> tuple[np.ndarray, str]:
    """generate's value and type rules (type mismatch, str# width, float default)."""
    n = session.data.n
    values = broadcast(values, n)
    string = values.dtype == object
    if vtype is not None and is_string_type(vtype) != string:
        raise StataError("type mismatch", 109)
    if string:
        vals = np.where(mask, values, "").astype(object)
        if vtype is None or vtype == "str":
            vtype = str_type_for(vals)
    else:
        vals = np.where(mask, values.astype(np.float64), np.nan)
        vtype = vtype or default_type(session)
    return store(vals, vtype), vtype


def generate_core(session, name, vtype, lbl, values, mask) -> Variable:
    check_newname(session, name)
    vals, vtype = compute_new(session, values, vtype, mask)
    var = Variable(name, vals, vtype, vallab=lbl)
    session.data.add(var)
    session.data.changed = True
    missing_message(session, vals)
    return var


@command("generate", abbrev="g", byable="self", qualifiers="if in",
          family="Data management", body="newvarlist", exp="required", desc="create a new variable",
          example="generate ses2 = ses^2",
          options=(Opt("before", type="varlist", desc="place the new variable before varname"),
                   Opt("after", type="varlist", desc="place the new variable after varname")))
def generate(session, cmd):
    opts = strict_args(cmd)
    vtype, name, lbl = parse_target(cmd.body)
    check_newname(session, name)
    anchor = _placement(session, opts)
    expr = get_exp(cmd)
    groups = by_groups(session, cmd)
    mask = sample(session, cmd, groups)
    generate_core(session, name, vtype, lbl, evaluate_in(expr, session, mask, groups), mask)
    if anchor:
        ds = session.data
        rest = [n for n in ds.names if n != name]
        pos = rest.index(anchor[0]) + (1 if anchor[1] == "after" else 0)
        ds.vars = {n: ds.vars[n] for n in rest[:pos] + [name] + rest[pos:]}


def _placement(session, opts: Args) -> tuple[str, str] | None:
    """generate's before(varname)/after(varname): the anchor variable, checked up front."""
    given = [k for k in ("before", "after") if getattr(opts, k)]
    if not given:
        return None
    if len(given) == 2:
        raise StataError("options before() and after() may not be combined", 198)
    names = expand_varlist(session.data, " ".join(getattr(opts, given[0])))
    if len(names) != 1:
        raise StataError("too many variables specified", 103)
    return names[0], given[0]


# --- replace --------------------------------------------------------------------------
def replace_core(session, name: str, values, mask: np.ndarray, promote: bool = True) -> tuple[int, int]:
    """Stata's replace: promote storage as needed (not with nopromote: values are then held on the
    variable's own type, too-large numbers becoming missing), report real changes.
    Returns (changes, to_missing)."""
    ds = session.data
    var = ds.var(name)
    n = ds.n
    values = broadcast(values, n)
    string = values.dtype == object
    if string != var.is_string:
        raise StataError("type mismatch", 109)
    old = var.values
    if string:
        newvals = np.where(mask, values, old).astype(object)
        newtype = var.vtype
        if var.vtype != "strL":
            need = strwidth(newvals[mask]) if mask.any() else 0
            cur = int(var.vtype[3:]) if var.vtype[3:].isdigit() else 0
            if need > cur and promote:
                newtype = "strL" if need > STR_MAX else f"str{need}"
    else:
        newvals = np.where(mask, values.astype(np.float64), old)
        newtype = numeric_type_needed(var.vtype, np.where(mask, newvals, np.nan)) if promote else var.vtype
    stored = store(newvals, newtype)
    changed = ~same_values(stored, old)
    nchg = int(changed.sum())
    if string:
        nmiss = int(sum(1 for i in np.flatnonzero(changed) if stored[i] == ""))
    else:
        nmiss = int(np.isnan(stored[changed]).sum())
    fmt = var.format
    if newtype != var.vtype:
        session.out.line(f"variable {name} was {var.vtype} now {newtype}")
        if not string:
            if var.format in DEFAULT_FORMATS.values():
                fmt = DEFAULT_FORMATS[newtype]
        else:
            fmt = f"%{max(int(newtype[3:]) if newtype[3:].isdigit() else 9, 1)}s"
    ds.update(name, values=stored, vtype=newtype, format=fmt)
    if nchg and name in ds.sortedby:
        ds.sortedby = ds.sortedby[:ds.sortedby.index(name)]
    msg = plural(nchg, "real change", "real changes") + " made"
    if nmiss:
        msg += f", {nmiss:,} to missing"
    session.out.line(f"({msg})")
    return nchg, nmiss


def _subscripts_of(expr, session, name: str) -> bool:
    """Does expr read `name[...]` (an explicit subscript on the variable being replaced)?"""
    from dataclasses import fields, is_dataclass

    if isinstance(expr, Subscript):
        try:
            if unabbrev(session.data.names, expr.name) == name:
                return True
        except StataError:
            pass
    if is_dataclass(expr) and isinstance(expr, Expr):
        for f in fields(expr):
            val = getattr(expr, f.name)
            items = val if isinstance(val, (tuple, list)) else (val,)
            if any(isinstance(it, Expr) and _subscripts_of(it, session, name) for it in items):
                return True
    return False


def sequential_values(session, cmd, name: str, expr, groups) -> np.ndarray:
    """Stata's replace works one observation after the other, so `x[_n-1]` sees the value
    already replaced (the carry-forward idiom). Evaluate vectorised, accept results up to and
    including the first observation that changes, write it back, and go on from there."""
    ds = session.data
    var = ds.var(name)
    old = var.values
    work = old.copy()
    n = len(work)
    p = 0
    try:
        while p < n:
            ds.vars[name] = var.evolve(values=work)
            res = broadcast(evaluate(expr, session, groups), n)
            if (res.dtype == object) != var.is_string:
                raise StataError("type mismatch", 109)
            mask = sample(session, cmd, groups)
            new = np.where(mask, res, work)
            if not var.is_string:
                t = numeric_type_needed(var.vtype, np.where(mask, new.astype(float), np.nan))
                new = store(new.astype(float), t)
            diff = np.flatnonzero(~same_values(new[p:], work[p:]))
            if diff.size == 0:
                break
            k = p + int(diff[0])
            work = work.copy()
            work[k] = new[k]
            p = k + 1
    finally:
        ds.vars[name] = var
    return work


_TMP = "__000seq"


def _rewrite(expr, session, name: str):
    """expr with every `name[k]` read turned into `cond(k < _n, TMP[k], name[k])`: earlier
    observations come from the working copy _TMP, this and later ones keep the old values,
    which is what each observation sees when Stata replaces one observation after the other."""
    from dataclasses import fields, is_dataclass, replace as dc_replace

    if expr is None or not (is_dataclass(expr) and isinstance(expr, Expr)):
        return expr
    changes = {}
    for f in fields(expr):
        val = getattr(expr, f.name)
        if isinstance(val, tuple):
            changes[f.name] = tuple(_rewrite(v, session, name) for v in val)
        elif isinstance(val, Expr):
            changes[f.name] = _rewrite(val, session, name)
    new = dc_replace(expr, **changes) if changes else expr
    if isinstance(expr, Subscript) and len(expr.index) == 1 and _subscripts_of(expr, session, name):
        k = new.index[0]
        return Call("cond", (Binary("<", k, Name("_n")), Subscript(_TMP, (k,)),
                             Subscript(name, (k,))))
    return new


def _index_reads_target(session, name: str, exprs) -> bool:
    """Does some `name[k]` have an index k that itself reads `name`? (then only the
    observation-by-observation path is exact)."""
    from dataclasses import fields, is_dataclass

    found = False

    def walk(e):
        nonlocal found
        if isinstance(e, Subscript) and _subscripts_of(e, session, name):
            for nm in set().union(*(names_in(i) for i in e.index)):
                try:
                    if unabbrev(session.data.names, nm) == name:
                        found = True
                except StataError:
                    pass
        if is_dataclass(e):
            for f in fields(e):
                val = getattr(e, f.name)
                for v in (val if isinstance(val, tuple) else (val,)):
                    walk(v)

    for e in exprs:
        if e is not None:
            walk(e)
    return found


def _jacobi_values(session, cmd, name: str, expr, groups) -> np.ndarray | None:
    """Stata's sequential replace by whole-array passes: earlier observations are read from
    the previous pass, so each pass settles at least one more observation; None if it does
    not settle within _N + 1 passes (cannot happen when indexes do not read the variable)."""
    from dataclasses import replace as dc_replace

    ds = session.data
    var = ds.var(name)
    old = var.values
    ex2 = _rewrite(expr, session, name)
    cmd2 = dc_replace(cmd, if_=_rewrite(cmd.if_, session, name))
    tmp = Variable(_TMP, old, var.vtype)
    ds.vars[_TMP] = tmp
    try:
        work = old
        for _ in range(ds.n + 1):
            ds.vars[_TMP] = tmp.evolve(values=work)
            res = broadcast(evaluate(ex2, session, groups), ds.n)
            if (res.dtype == object) != var.is_string:
                raise StataError("type mismatch", 109)
            mask = sample(session, cmd2, groups)
            new = np.where(mask, res, old)
            if not var.is_string:
                t = numeric_type_needed(var.vtype, np.where(mask, new.astype(float), np.nan))
                new = store(new.astype(float), t)
            if np.all(same_values(new, work)):
                return work
            work = new
    finally:
        ds.vars.pop(_TMP, None)
    return None


@command("replace", byable="self", qualifiers="if in",
          family="Data management", body="varname", exp="required", desc="replace the values of a variable", example="replace ses = 0 if missing(ses)",
          options=(Opt("nopromote", desc="do not promote the storage type to hold the new values"),))
def replace(session, cmd):
    promote = not strict_args(cmd).nopromote
    words = cmd.body.split()
    if not words:
        raise StataError("varlist required", 100)
    if len(words) != 1:
        raise syntax_error()
    name = one_var(session, words[0])
    expr = get_exp(cmd)
    groups = by_groups(session, cmd)
    if any(e is not None and _subscripts_of(e, session, name) for e in (expr, cmd.if_)):
        values = None
        if not _index_reads_target(session, name, (expr, cmd.if_)):
            values = _jacobi_values(session, cmd, name, expr, groups)
        if values is None:
            values = sequential_values(session, cmd, name, expr, groups)
        replace_core(session, name, values, np.ones(session.data.n, dtype=bool), promote)
        return
    mask = sample(session, cmd, groups)
    replace_core(session, name, evaluate_in(expr, session, mask, groups), mask, promote)


# --- clonevar ---------------------------------------------------------------------------
@command("clonevar", byable=False, qualifiers="if in", options=False,
          family="Data management", body="newvarlist", exp="required", desc="copy a variable with its labels and formats", example="clonevar ses2 = ses")
def clonevar(session, cmd):
    """clonevar.ado: `gen <type of x> new = x [if] [in]`, then copy label, value label, format."""
    no_weights(cmd)
    name = cmd.body.strip()
    src_text = (cmd.exp_text or "").strip()
    if not name or len(name.split()) != 1 or not src_text:
        raise StataError("syntax is clonevar newvar = varname ...", 198)
    check_newname(session, name)
    src = session.data.var(one_var(session, src_text))
    mask = sample(session, cmd)
    vals = np.where(mask, src.values, "" if src.is_string else np.nan)
    vals = vals.astype(object) if src.is_string else vals.astype(np.float64)
    var = Variable(name, vals, src.vtype, src.format, src.label, src.vallab)
    session.data.add(var)
    session.data.changed = True
    missing_message(session, vals)


# --- assert -----------------------------------------------------------------------------
@command("assert", exp=False, qualifiers="if in", changes_data=False,
          family="Data inspection", body="anything", desc="verify that an expression is true", example="assert mathach < 30",
          options=(Opt("rc0", desc="return code 0 even if the assertion is false"),
                   Opt("null", desc="accepted for compatibility (no effect: no observations is not an error)"),
                   Opt("fast", desc="stop at the first contradiction, without the count")))
def assert_(session, cmd):
    no_weights(cmd)
    opts = strict_args(cmd)
    text = cmd.body.strip()
    if not text:
        raise syntax_error()
    expr = parse_expr(text)
    mask = sample(session, cmd)
    n = session.data.n
    val = broadcast(evaluate(expr, session, groups=by_codes(session)), n)
    if val.dtype == object:
        raise StataError("type mismatch", 109)
    m = int(mask.sum())
    bad = int(((val == 0) & mask).sum())
    if bad:
        if not opts.fast:
            session.out.line(f"{plural(bad, 'contradiction', 'contradictions')} in "
                             f"{plural(m, 'observation', 'observations')}")
        if not opts.rc0:
            raise StataError("assertion is false", 9)
