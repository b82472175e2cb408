"""reshape long / wide (and back), reshape error, and the advanced i/j/xij/xi syntax, as
Stata's reshape.ado does them, with Stata 17's summary table:

    . reshape long inc ue, i(id) j(year)
    (j = 80 81 82)

    Data                               Wide   ->   Long
    -----------------------------------------------------------------------------
    Number of observations                3   ->   9
    Number of variables                   8   ->   5
    j variable (3 values)                     ->   year
    xij variables:
                          inc80 inc81 inc82   ->   inc
                             ue80 ue81 ue82   ->   ue
    -----------------------------------------------------------------------------

The settings are kept where Stata keeps them, in the dataset's characteristics (_dta[ReS_i],
_dta[ReS_j], _dta[ReS_Xij], _dta[ReS_str], ...), so `reshape wide` / `reshape long` with no
arguments go back, also after save/use. As in Stata, they are stored before the data are
checked, so after a failed reshape `reshape error` lists the problem observations; the data
themselves change only when the whole reshape has succeeded (the command builds the new
dataset and swaps it in; it is not run inside a snapshot for that reason).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from hlmshell.commands._toolkit import (
    check_name,
    sort_keys,
    typed_args,
    value_text,
    varlist,
)
from hlmshell.data.dataset import INT_LIMITS, Dataset, Variable, to_storage
from hlmshell.errors import StataError, syntax_error
from hlmshell.output.numfmt import fmt_count, fmt_g
from hlmshell.registry import REGISTRY, Opt, Sub, command

_SETUP_KEYS = ("ReS_ver", "ReS_i", "ReS_j", "ReS_jv", "ReS_Xij", "Res_Xi", "ReS_atwl", "ReS_str")
_RULE = "-" * 77
_NUMERIC_ORDER = ("byte", "int", "long", "float", "double")

_LONGWIDE_OPTS = (Opt("i", "i", "varlist", desc="the variables identifying the wide observations (required)"),
                  Opt("j", "j", "string", desc="the j variable (and optionally its values): varname [values]"),
                  Opt("string", "s", desc="the j variable is (or is to be) a string variable"),
                  Opt("atwl", "at", "string", desc="characters substituted for @ when going long"))


@dataclass
class Setup:
    """One reshape's settings, as the _dta[ReS_*] characteristics hold them."""

    i: list[str]
    j: str
    xij: list[str]
    jv: list[str] = field(default_factory=list)
    xi: list[str] | None = None
    atwl: str = ""
    string: bool = False

    def long_name(self, stub: str) -> str:
        return subname(stub, self.atwl)


def wrapped(text: str, width: int = 79) -> str:
    """A long output line as Stata's console breaks it: `width` characters, then `> ` and the
    rest (`(j = 1 2 ... 28` / `>  29 30 ...)`)."""
    if len(text) <= width:
        return text
    parts = [text[:width]]
    rest = text[width:]
    while rest:
        parts.append("> " + rest[:width - 2])
        rest = rest[width - 2:]
    return "\n".join(parts)


def subname(stub: str, value: str) -> str:
    """`inc@r` with 80 -> inc80r; a stub without @ takes the value at its end."""
    at = stub.find("@")
    return stub + value if at < 0 else stub[:at] + value + stub[at + 1:]


@command("reshape", byable=False, qualifiers="", family="Data management", body="anything",
         transactional=False,
         desc="convert data from wide to long form and back",
         example="reshape long inc, i(id) j(year)",
         subcommands=(Sub("long", "long", "go from wide to long (again with no arguments)",
                          _LONGWIDE_OPTS, "stubnames, i(varlist) [j(varname [values]) string]"),
                      Sub("wide", "wide", "go from long to wide (again with no arguments)",
                          _LONGWIDE_OPTS, "stubnames, i(varlist) [j(varname [values]) string]"),
                      Sub("error", "err", "list the observations that stop a reshape"),
                      Sub("query", "q", "show the reshape settings"),
                      Sub("clear", "clear", "clear the reshape settings"),
                      Sub("i", "i", "advanced syntax: the i variables", (), "varlist"),
                      Sub("j", "j", "advanced syntax: the j variable",
                          (Opt("string", "s", desc="the j variable is a string variable"),),
                          "varname [values]"),
                      Sub("xij", "xij", "advanced syntax: the variables varying within i",
                          (Opt("atwl", "at", "string", desc="characters substituted for @"),),
                          "fvarnames"),
                      Sub("xi", "xi", "advanced syntax: the variables constant within i", (),
                          "[varlist]")))
def reshape_cmd(session, cmd):
    words = cmd.body.split(None, 1)
    word = words[0] if words else ""
    rest = words[1] if len(words) > 1 else ""
    if not word:
        _query(session)
        return
    sub = REGISTRY.commands["reshape"].subcommand(word)
    if sub is None:
        raise syntax_error()
    opts = typed_args(cmd, sub=sub.name)
    handler = _SUBCOMMANDS[sub.name]
    handler(session, rest, opts)


# ---------------------------------------------------------------------------- settings
def _clear_setup(ds: Dataset) -> None:
    for key in _SETUP_KEYS:
        ds.set_char("_dta", key, "")
    n = ds.char("_dta", "ReS_Xij_n")
    if n.isdigit():
        for k in range(1, int(n) + 1):
            ds.set_char("_dta", f"ReS_Xij_wide{k}", "")
            ds.set_char("_dta", f"ReS_Xij_long{k}", "")
    ds.set_char("_dta", "ReS_Xij_n", "")


def _store_setup(ds: Dataset, st: Setup) -> None:
    _clear_setup(ds)
    ds.set_char("_dta", "ReS_i", " ".join(st.i))
    ds.set_char("_dta", "ReS_ver", "v.2")
    ds.set_char("_dta", "ReS_j", st.j)
    ds.set_char("_dta", "ReS_jv", " ".join(st.jv))
    ds.set_char("_dta", "ReS_str", "1" if st.string else "0")
    ds.set_char("_dta", "ReS_Xij", " ".join(st.xij))
    ds.set_char("_dta", "ReS_atwl", st.atwl)
    if st.xi is not None:
        ds.set_char("_dta", "Res_Xi", " ".join(st.xi))


def _has_setup(ds: Dataset) -> bool:
    return any(ds.char("_dta", k) for k in _SETUP_KEYS if k != "ReS_ver")


def _not_defined(ds: Dataset, what: str) -> StataError:
    if _has_setup(ds):
        return StataError(f"{what} not defined", 111)
    return StataError("data have not been reshaped yet", 111)


def _read_setup(ds: Dataset) -> Setup:
    """The stored settings (Stata's messages when a part is missing)."""
    if ds.char("_dta", "ReS_ver") == "v.1":
        raise StataError("old reshape syntax (Stata 10 and earlier) is not supported; "
                         "type reshape clear", 198)
    j = ds.char("_dta", "ReS_j")
    if not j:
        raise _not_defined(ds, "reshape j")
    i = ds.char("_dta", "ReS_i").split()
    if not i:
        raise _not_defined(ds, "reshape i")
    xij = ds.char("_dta", "ReS_Xij").split()
    if not xij:
        raise _not_defined(ds, "reshape xij")
    xi = ds.char("_dta", "Res_Xi").split() or None
    return Setup(i=i, j=j, xij=xij, jv=ds.char("_dta", "ReS_jv").split(), xi=xi,
                 atwl=ds.char("_dta", "ReS_atwl"), string=ds.char("_dta", "ReS_str") == "1")


# ---------------------------------------------------------------------------- long / wide
def _long(session, rest: str, opts) -> None:
    _go(session, rest, opts, "long")


def _wide(session, rest: str, opts) -> None:
    _go(session, rest, opts, "wide")


def _go(session, rest: str, opts, to: str) -> None:
    ds = session.data
    if rest.strip():
        st = _simple(session, rest, opts, to)
        _store_setup(ds, st)
    elif opts.given:
        raise syntax_error()
    st = _read_setup(ds)
    (_to_long if to == "long" else _to_wide)(session, st)


def _simple(session, rest: str, opts, to: str) -> Setup:
    """`reshape long|wide stubs, i() j() [string atwl()]`: the settings it stands for."""
    stubs = rest.split()
    if "i" not in opts or not (opts.raw("i") or "").strip():
        raise StataError("option i() required", 198)
    i = varlist(session, opts.raw("i"), all_if_empty=False)
    jtext = (opts.raw("j") or "").split()
    j = jtext[0] if jtext else "_j"
    jv, is_str = _j_values(jtext[1:], opts.string)
    ds = session.data
    if to == "wide":
        stubs = _unab_quietly(session, stubs)
        if j not in ds:
            found = varlist(session, j, all_if_empty=False) if jtext and _exists(session, j) else []
            if len(found) == 1:
                j = found[0]
            elif not jtext:
                raise StataError("option j() required", 198)
            else:
                raise StataError(f"variable {j} not found\nData are already wide.", 111)
    elif j in ds:
        raise StataError(f"variable {j} already exists\nData are already long.", 110)
    else:
        check_name(j)
    return Setup(i=i, j=j, xij=stubs, jv=jv, atwl=(opts.atwl or "").strip(), string=is_str)


def _exists(session, name: str) -> bool:
    try:
        return len(varlist(session, name, all_if_empty=False)) == 1
    except StataError:
        return False


def _unab_quietly(session, stubs: list[str]) -> list[str]:
    """`reshape wide`'s `capture unab list`: abbreviations and wildcards expanded when they
    all name variables, the list kept as typed otherwise (checked later)."""
    try:
        return varlist(session, " ".join(stubs), all_if_empty=False)
    except StataError:
        return stubs


def _j_values(words: list[str], string: bool) -> tuple[list[str], bool]:
    """j(varname 1 2 5-8) or j(varname a b c): the values (a range #-# is expanded)."""
    text = " ".join(words).replace("-", " - ")
    toks = text.split()
    out: list[str] = []
    is_str = string
    k = 0
    while k < len(toks):
        if k + 2 < len(toks) and toks[k + 1] == "-":
            lo, hi = _int(toks[k]), _int(toks[k + 2])
            if lo >= hi:
                raise StataError(f"{lo}-{hi}:  invalid range", 198)
            out += [str(v) for v in range(lo, hi + 1)]
            k += 3
            continue
        if not re.fullmatch(r"-?\d+", toks[k]):
            is_str = True
        out.append(toks[k])
        k += 1
    if is_str and not string:
        raise StataError("must specify option string if string values are to be specified", 198)
    return out, is_str


def _int(word: str) -> int:
    if not re.fullmatch(r"-?\d+", word):
        raise StataError(f"'{word}' found where integer expected", 7)
    return int(word)


# ---------------------------------------------------------------------------- wide -> long
def _wide_candidates(ds: Dataset, st: Setup) -> list[str]:
    """FillvalW: the j values the variables' names carry (numeric j: names whose middle part
    is a number), sorted as tabulate sorts them."""
    found: set[str] = set()
    for stub in st.xij:
        at = stub.find("@")
        lft, rgt = (stub, "") if at < 0 else (stub[:at], stub[at + 1:])
        for name in ds.names:
            if len(name) > len(lft) + len(rgt) and name.startswith(lft) and name.endswith(rgt):
                found.add(name[len(lft):len(name) - len(rgt)])
    if st.string:
        return sorted(found)
    nums = sorted({v for v in (_real(s) for s in found) if v is not None})
    return [_jtext(v) for v in nums]


def _real(text: str) -> float | None:
    try:
        v = float(text)
    except ValueError:
        return None
    return v if np.isfinite(v) and text.strip() == text else None


def _jtext(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else fmt_g(v, 17).strip()


def _common_type(types: list[str], stub: str, first: str) -> str:
    """mkrtmpST: the storage type holding every wide variable of a stub."""
    strs = [t for t in types if t.startswith("str")]
    if strs and len(strs) != len(types):
        raise StataError(f"variable {first} type mismatch with other {stub} variables", 198)
    if strs:
        if "strL" in strs:
            return "strL"
        return f"str{max(int(t[3:]) for t in strs)}"
    return max(types, key=_NUMERIC_ORDER.index) if types else "byte"


def _to_long(session, st: Setup) -> None:
    ds = session.data
    if st.j in ds:
        session.out.line("(already long)")
        return
    for nm in st.i + (st.xi or []):
        ds.var(nm)
    jv = st.jv
    if not jv:
        jv = _wide_candidates(ds, st)
        if not jv:
            raise StataError("no xij variables found", 111)
        session.out.line(wrapped(f"(j = {' '.join(jv)})"))
    _check_i_unique(ds, st)
    new, xi = _build_long(session, ds, st, jv)
    old_n, old_k = ds.n, len(ds.names)
    _restore_labels(ds, new, st)
    session.data = new
    _report(session, st, jv, (old_n, old_k), "long", xi)


def _check_i_unique(ds: Dataset, st: Setup) -> None:
    perm = sort_keys(ds, st.i)
    if ds.n > 1 and _dup_mask(ds, st.i, perm).any():
        what = (f"variable {st.i[0]} does" if len(st.i) == 1
                else f"variables {' '.join(st.i)} do")
        raise StataError(f"{what} not uniquely identify the observations", 9)


def _keys(ds: Dataset, names: list[str], perm: np.ndarray) -> list[np.ndarray]:
    return [ds.values(nm)[perm] for nm in names]


def _dup_mask(ds: Dataset, names: list[str], perm: np.ndarray) -> np.ndarray:
    """Per sorted observation: same key as the previous one."""
    same = np.ones(max(ds.n - 1, 0), dtype=bool)
    for col in _keys(ds, names, perm):
        a, b = col[1:], col[:-1]
        eq = (a == b)
        if col.dtype != object:
            eq = eq | (np.isnan(a) & np.isnan(b))
        same &= eq
    return same


def _build_long(session, ds: Dataset, st: Setup, jv: list[str]):
    J, n = len(jv), ds.n
    stubs = [(stub, st.long_name(stub)) for stub in st.xij]
    wide_names = {subname(stub, v) for stub, _ in stubs for v in jv}
    xi = st.xi if st.xi is not None else [nm for nm in ds.names
                                          if nm not in st.i and nm not in wide_names]
    types = _stub_types(ds, st, jv)
    for v in jv:
        for stub, _ in stubs:
            if subname(stub, v) not in ds:
                session.out.line(f"(variable {subname(stub, v)} not found)")
    cols: dict[str, Variable] = {}
    for stub, long in stubs:
        cols[long] = _stack(ds, stub, long, jv, types[stub])
    for nm in st.i + xi:
        v = ds.vars[nm]
        cols[nm] = v.evolve(values=np.repeat(v.values, J))
    jvals = np.tile(np.array(jv, dtype=object) if st.string
                    else np.array([float(v) for v in jv]), n)
    cols[st.j] = _compressed(st.j, jvals, st.string)
    order = _long_order(ds, st, stubs, jv, xi)
    new = Dataset(vars={nm: cols[nm] for nm in order},
                  value_labels={k: dict(v) for k, v in ds.value_labels.items()},
                  label=ds.label, dta_chars=dict(ds.dta_chars), filename=ds.filename)
    new._n = n * J
    new.take(sort_keys(new, st.i + [st.j]))
    new.sortedby = st.i + [st.j]
    new.changed = True
    return new, xi


def _long_order(ds: Dataset, st: Setup, stubs, jv: list[str], xi: list[str]) -> list[str]:
    """The variables' order reshape.ado leaves: i, j, then the others in the order of the
    wide data, each xij variable where its last j value's variable was (missing: at the end)."""
    last = {subname(stub, jv[-1]): long for stub, long in stubs}
    body = []
    for nm in ds.names:
        if nm in last:
            body.append(last[nm])
        elif nm in xi:
            body.append(nm)
    body += [long for _, long in stubs if long not in body]
    return st.i + [st.j] + [nm for nm in body if nm not in st.i]


def _stub_types(ds: Dataset, st: Setup, jv: list[str]) -> dict[str, str]:
    """mkrtmpST: each stub's storage type; a wide name that cannot be a variable is an error."""
    types = {}
    for stub in st.xij:
        names = [subname(stub, v) for v in jv]
        present = [nm for nm in names if nm in ds]
        for nm in names:
            if nm not in ds:
                check_name_long(nm)
        types[stub] = _common_type([ds.vars[nm].vtype for nm in present], stub,
                                   present[0] if present else stub)
    return types


def _stack(ds: Dataset, stub: str, long: str, jv: list[str], vtype: str) -> Variable:
    """The long variable of a stub: its wide variables side by side, read row by row."""
    names = [subname(stub, v) for v in jv]
    string = vtype.startswith("str")
    blocks = []
    for nm in names:
        if nm in ds:
            blocks.append(to_storage(ds.vars[nm].values, vtype))
        else:
            blocks.append(np.full(ds.n, "", dtype=object) if string else np.full(ds.n, np.nan))
    values = np.stack(blocks, axis=1).reshape(-1) if ds.n else \
        np.array([], dtype=object if string else float)
    model = ds.vars[names[-1]] if names[-1] in ds else None
    if model is None:
        return Variable(long, values, vtype)
    return Variable(long, values, vtype, model.format, "", model.vallab, dict(model.chars))


def check_name_long(name: str) -> None:
    try:
        check_name(name)
    except StataError:
        raise StataError(f"variable {name} implied name too long", 198) from None


def _compressed(name: str, values: np.ndarray, string: bool) -> Variable:
    """The j variable in the smallest type holding it (reshape's `compress`)."""
    if string:
        width = max((len(s.encode("utf-8")) for s in values), default=1)
        return Variable(name, values, f"str{max(width, 1)}")
    x = values[~np.isnan(values)]
    vtype = "double"
    if x.size == 0 or np.all(x == np.round(x)):
        for t in ("byte", "int", "long"):
            lo, hi = INT_LIMITS[t]
            if x.size == 0 or (x.min() >= lo and x.max() <= hi):
                vtype = t
                break
    elif np.all(x.astype(np.float32).astype(np.float64) == x):
        vtype = "float"
    return Variable(name, values, vtype)


def _restore_labels(old: Dataset, new: Dataset, st: Setup) -> None:
    """Labels saved by the reshape wide that made the data wide: the j variable's variable
    and value labels, the xij variables' labels (characteristics __JVarLab, __JValLab...)."""
    jvar = old.char("_dta", "__JVarLab")
    if jvar:
        new.update(st.j, label=jvar)
        new.set_char("_dta", "__JVarLab", "")
    labname = old.char("_dta", "__JValLabName")
    if labname and not st.string:
        table = {float(v): t for v, t in re.findall(r"(-?\d+)\s+`\"(.*?)\"'", old.char("_dta", "__JValLab"))}
        new.value_labels = dict(new.value_labels)
        new.value_labels.setdefault(labname, table)
        new.update(st.j, vallab=labname)
        new.set_char("_dta", "__JValLab", "")
        new.set_char("_dta", "__JValLabName", "")
    _restore_xij_labels(new, st)


def _restore_xij_labels(new: Dataset, st: Setup) -> None:
    total = new.char("_dta", "__XijVarLabTotal")
    numbered = {}
    if total.isdigit():
        for k in range(1, int(total) + 1):
            var, _, lab = new.char("_dta", f"__XijVarLab{k}").partition(" ")
            numbered[var] = (k, lab)
    for stub in st.xij:
        long = st.long_name(stub)
        key = f"__XijVarLab{long}"
        if len(long) < 21 and new.char("_dta", key):
            new.update(long, label=new.char("_dta", key))
            new.set_char("_dta", key, "")
        elif long in numbered:
            k, lab = numbered[long]
            new.update(long, label=lab)
            new.set_char("_dta", f"__XijVarLab{k}", "")


# ---------------------------------------------------------------------------- long -> wide
def _check_j(ds: Dataset, st: Setup) -> None:
    v = ds.var(st.j)
    if v.is_string and not st.string:
        raise StataError(f"variable {st.j} is string; specify string option", 109)
    if not v.is_string and st.string:
        raise StataError(f"variable {st.j} is numeric", 109)
    vals = v.values
    if (v.is_string and np.any(np.array([s.strip() == "" for s in vals], dtype=bool))) or \
            (not v.is_string and np.isnan(vals).any()):
        raise StataError(f"variable {st.j} contains missing values", 498)
    if v.is_string and any(s != s.strip() for s in vals):
        raise StataError(f"variable {st.j} has leading or trailing blanks", 498)


def _long_values(session, ds: Dataset, st: Setup) -> list[str]:
    """FillvalL: the j values in the data, printed `(j = ...)`."""
    v = ds.vars[st.j]
    if v.is_string:
        vals = sorted(set(v.values.tolist()))
        if any(len(s.split()) > 1 for s in vals):
            raise StataError(f"string j variable {st.j} not allowed to contain spaces", 111)
        out = vals
    else:
        out = [_jtext(x) for x in np.unique(v.values)]
    session.out.line(wrapped(f"(j = {' '.join(out)})"))
    return out


def _to_wide(session, st: Setup) -> None:
    ds = session.data
    if st.j not in ds:
        session.out.line("(already wide)")
        return
    _check_j(ds, st)
    rvans = [st.long_name(stub) for stub in st.xij]
    for nm in [st.j] + rvans + st.i + (st.xi or []):
        ds.var(nm)
    if "_merge" in ds:
        raise StataError("cannot reshape data containing variable _merge\n"
                         "Either drop or rename variable _merge.", 110)
    _save_labels(ds, st, rvans)
    jv = st.jv or _long_values(session, ds, st)
    xi = st.xi if st.xi is not None else [nm for nm in ds.names
                                          if nm not in st.i and nm != st.j and nm not in rvans]
    _check_long_unique(ds, st, xi)
    old_n, old_k = ds.n, len(ds.names)
    new, used = _build_wide(session, ds, st, jv, rvans, xi)
    session.data = new
    _report(session, st, used, (old_n, old_k), "wide", xi)


def _save_labels(ds: Dataset, st: Setup, rvans: list[str]) -> None:
    """What reshape long will put back: the j variable's labels and the xij labels."""
    jvar = ds.vars[st.j]
    if jvar.vallab and jvar.vallab in ds.value_labels and not jvar.is_string:
        table = ds.value_labels[jvar.vallab]
        ds.set_char("_dta", "__JValLabName", jvar.vallab)
        ds.set_char("_dta", "__JValLab", " ".join(
            f"{int(v)} `\"{t}\"'" for v, t in sorted(table.items()) if v == v and float(v).is_integer()))
    if jvar.label:
        ds.set_char("_dta", "__JVarLab", jvar.label)
    k = 0
    for nm in rvans:
        lab = ds.vars[nm].label
        if not lab:
            continue
        if len(nm) < 21:
            ds.set_char("_dta", f"__XijVarLab{nm}", lab)
        else:
            k += 1
            ds.set_char("_dta", f"__XijVarLab{k}", f"{nm} {lab}")
            ds.set_char("_dta", "__XijVarLabTotal", str(k))


def _check_long_unique(ds: Dataset, st: Setup, xi: list[str]) -> None:
    perm = sort_keys(ds, st.i + [st.j])
    if ds.n > 1 and _dup_mask(ds, st.i + [st.j], perm).any():
        raise StataError(f"values of variable {st.j} not unique within {' '.join(st.i)}", 9)
    bad = _not_constant(ds, st.i, xi)
    if bad:
        raise StataError("\n".join(f"variable {nm} not constant within {' '.join(st.i)}"
                                   for nm in bad), 9)


def _groups(ds: Dataset, names: list[str]) -> tuple[np.ndarray, np.ndarray, int]:
    """(permutation sorting by names, group number of each sorted observation, #groups)."""
    perm = sort_keys(ds, names)
    if ds.n == 0:
        return perm, np.zeros(0, dtype=np.int64), 0
    start = np.concatenate([[True], ~_dup_mask(ds, names, perm)])
    gid = np.cumsum(start) - 1
    return perm, gid, int(gid[-1]) + 1


def _not_constant(ds: Dataset, i: list[str], xi: list[str]) -> list[str]:
    perm, gid, _ = _groups(ds, i)
    bad = []
    for nm in xi:
        col = ds.values(nm)[perm]
        first = col[np.searchsorted(gid, gid, side="left")]
        eq = col == first
        if col.dtype != object:
            eq = eq | (np.isnan(col) & np.isnan(first))
        if not np.all(eq):
            bad.append(nm)
    return bad


def _build_wide(session, ds: Dataset, st: Setup, jv: list[str], rvans: list[str], xi: list[str]):
    perm, gid, G = _groups(ds, st.i)
    firsts = perm[np.searchsorted(gid, np.arange(G), side="left")] if G else perm[:0]
    jcol = ds.values(st.j)[perm]
    data_order = [nm for nm in ds.names if nm in rvans]
    cols: dict[str, Variable] = {nm: ds.vars[nm].evolve(values=ds.vars[nm].values[firsts])
                                 for nm in st.i}
    used = []
    for val in jv:
        hit = jcol == (val if st.string else float(val))
        if not np.any(hit):
            session.out.line(f"(no data for {st.j} == {val})")
            continue
        used.append(val)
        for nm in data_order:
            stub = st.xij[rvans.index(nm)]
            new_name = _wide_name(subname(stub, val), cols, ds, st, rvans, xi)
            cols[new_name] = _spread(ds.vars[nm], new_name, perm[hit], gid[hit], G, f"{val} {nm}")
    for nm in xi:
        cols[nm] = ds.vars[nm].evolve(values=ds.vars[nm].values[firsts])
    new = Dataset(vars=cols, value_labels={k: dict(v) for k, v in ds.value_labels.items()},
                  label=ds.label,
                  dta_chars=dict(ds.dta_chars), filename=ds.filename)
    new._n = G
    new.sortedby = list(st.i)
    new.changed = True
    return new, used


def _wide_name(name: str, cols: dict, ds: Dataset, st: Setup, rvans: list[str], xi: list[str]) -> str:
    try:
        check_name(name)
    except StataError:
        raise StataError(f"{name} invalid variable name", 198) from None
    if name in cols or name in xi or name in st.i:
        raise StataError(f"variable {name} already defined", 110)
    return name


def _spread(var: Variable, name: str, rows: np.ndarray, groups: np.ndarray, G: int,
            label: str) -> Variable:
    if var.is_string:
        out = np.full(G, "", dtype=object)
    else:
        out = np.full(G, np.nan)
    out[groups] = var.values[rows]
    return Variable(name, out, var.vtype, var.format, label, var.vallab, dict(var.chars))


# ---------------------------------------------------------------------------- report
def _list_text(names: list[str]) -> str:
    if len(names) <= 3:
        return " ".join(names)
    return f"{names[0]} {names[1]} ... {names[-1]}"


def _report(session, st: Setup, jv: list[str], before: tuple[int, int], to: str, xi) -> None:
    ds = session.data
    out = session.out
    frm, dst = ("Wide", "Long") if to == "long" else ("Long", "Wide")
    out.line()
    out.line(f"{'Data':<35}{frm:>4}   ->   {dst}")
    out.line(_RULE)
    out.line(_row("Number of observations", fmt_count(before[0]), fmt_count(ds.n)))
    out.line(_row("Number of variables", fmt_count(before[1]), fmt_count(len(ds.names))))
    head = f"j variable ({len(jv)} values)"
    out.line(f"{head:<39}   ->   {st.j}" if to == "long" else _jline(head, st.j))
    out.line("xij variables:")
    _clear_xij_report(ds)
    for k, stub in enumerate(st.xij, 1):
        wide = [subname(stub, v) for v in jv]
        long = st.long_name(stub)
        left, right = (_list_text(wide), long) if to == "long" else (long, _list_text(wide))
        out.line(wrapped(f"{left:>39}   ->   {right}"))
        ds.set_char("_dta", f"ReS_Xij_wide{k}", " ".join(wide))
        ds.set_char("_dta", f"ReS_Xij_long{k}", long)
    ds.set_char("_dta", "ReS_Xij_n", str(len(st.xij)))
    out.line(_RULE)


def _jline(head: str, j: str) -> str:
    """`j variable (3 values)              year   ->   (dropped)`: j ends in column 39."""
    room = 39 - len(head)
    return f"{head}{j:>{room}}   ->   (dropped)" if len(j) < room else f"{head} {j}   ->   (dropped)"


def _clear_xij_report(ds: Dataset) -> None:
    n = ds.char("_dta", "ReS_Xij_n")
    if n.isdigit():
        for k in range(1, int(n) + 1):
            ds.set_char("_dta", f"ReS_Xij_wide{k}", "")
            ds.set_char("_dta", f"ReS_Xij_long{k}", "")


def _row(label: str, before: str, after: str) -> str:
    return f"{label}{before:>{39 - len(label)}}   ->   {after}"


# ---------------------------------------------------------------------------- reshape error
def _error(session, rest: str, opts) -> None:
    if rest.strip():
        raise syntax_error()
    ds = session.data
    st = _read_setup(ds)
    if st.j in ds:
        _error_long(session, st)
    else:
        _error_wide(session, st)


def _msg1(out, st: Setup) -> None:
    out.line()
    out.line(f"i ({' '.join(st.i)}) indicates the top-level grouping such as subject id.")
    out.line(f"j ({st.j}) indicates the subgrouping such as time.")


def _sort(ds: Dataset, names: list[str]) -> None:
    ds.take(sort_keys(ds, names))
    ds.sortedby = list(names)


def _error_long(session, st: Setup) -> None:
    ds = session.data
    out = session.out
    keys = st.i + [st.j]
    for nm in keys + [st.long_name(s) for s in st.xij]:
        ds.var(nm)
    _sort(ds, keys)
    ident = np.arange(ds.n)
    dup = _dup_mask(ds, keys, ident)
    bad = np.zeros(ds.n, dtype=bool)
    bad[1:] |= dup
    bad[:-1] |= dup
    i_text = " ".join(st.i)
    if bad.any():
        _msg1(out, st)
        out.line("The data are in the long form;  j should be unique within i.")
        out.line()
        out.line(f"There are multiple observations on the same {st.j} within {i_text}.")
        out.line()
        out.line(f"The following {int(bad.sum())} of {ds.n} observations have repeated {st.j} values:")
        _list_rows(session, keys, np.flatnonzero(bad))
        out.line()
        out.line(f"(data now sorted by {' '.join(keys)})")
        return
    rvans = [st.long_name(s) for s in st.xij]
    xi = st.xi if st.xi is not None else [nm for nm in ds.names
                                          if nm not in keys and nm not in rvans]
    bad_xi = _not_constant(ds, st.i, xi)
    if not xi or not bad_xi:
        out.line(f"{st.j} is unique within {i_text};" if not xi else
                 f"{st.j} is unique within {i_text} and")
        if xi:
            out.line(f'all the "reshape xi" variables are constant within {st.j};')
        out.line('there is no error with which "reshape error" can help.')
        return
    _error_xi(session, st, xi, bad_xi, rvans)


def _error_xi(session, st: Setup, xi: list[str], bad_xi: list[str], rvans: list[str]) -> None:
    ds = session.data
    out = session.out
    _msg1(out, st)
    word = "xij variable is" if len(rvans) == 1 else "xij variables are"
    out.line(f"{word} {' '.join(rvans)}.")
    out.line("Thus, the following variable(s) should be constant within i:")
    out.line("      " + " ".join(xi))
    perm, gid, _ = _groups(ds, st.i)
    for nm in bad_xi:
        col = ds.values(nm)[perm]
        first = col[np.searchsorted(gid, gid, side="left")]
        diff = col != first
        if col.dtype != object:
            diff &= ~(np.isnan(col) & np.isnan(first))
        bad_groups = np.unique(gid[diff])
        rows = perm[np.isin(gid, bad_groups)]
        n = bad_groups.size
        out.line()
        out.line(f"{nm} not constant within i ({' '.join(st.i)}) for {n} value{'' if n == 1 else 's'} of i:")
        _list_rows(session, st.i + [st.j, nm], np.sort(rows))
    out.line()
    out.line(f"(data now sorted by {' '.join(st.i + [st.j])})")


def _error_wide(session, st: Setup) -> None:
    ds = session.data
    out = session.out
    for nm in st.i:
        ds.var(nm)
    _sort(ds, st.i)
    dup = _dup_mask(ds, st.i, np.arange(ds.n))
    bad = np.zeros(ds.n, dtype=bool)
    bad[1:] |= dup
    bad[:-1] |= dup
    i_text = " ".join(st.i)
    if not bad.any():
        out.line(f"{i_text} is unique; there is no problem on this score")
        return
    out.line()
    out.line(f"i ({i_text}) indicates the top-level grouping such as subject id.")
    out.line()
    out.line("The data are currently in the wide form; there should be a single")
    out.line("observation per i.")
    out.line()
    out.line(f"{int(bad.sum())} of {ds.n} observations have duplicate i values:")
    _list_rows(session, st.i, np.flatnonzero(bad))
    out.line()
    out.line(f"(data now sorted by {i_text})")


def _list_rows(session, names: list[str], rows: np.ndarray) -> None:
    """A `list varlist if ...` table: observation numbers, one column per variable."""
    ds = session.data
    cells = [[value_text(ds, ds.vars[nm], ds.vars[nm].values[r]) for nm in names] for r in rows]
    widths = [max([len(nm)] + [len(c[k]) for c in cells]) for k, nm in enumerate(names)]
    numw = len(str(ds.n)) + 1
    inner = "   ".join(f"{nm:>{w}}" for nm, w in zip(names, widths))
    bar = "-" * (len(inner) + 2)
    out = session.out
    out.line()
    out.line(" " * (numw + 1) + "+" + bar + "+")
    out.line(" " * (numw + 1) + "| " + inner + " |")
    out.line(" " * (numw + 1) + "|" + bar + "|")
    for r, c in zip(rows, cells):
        line = "   ".join(f"{v:>{w}}" for v, w in zip(c, widths))
        out.line(f"{str(r + 1) + '.':>{numw}} | {line} |")
    out.line(" " * (numw + 1) + "+" + bar + "+")


# ---------------------------------------------------------------------------- query, advanced syntax
def _query(session, rest: str = "", opts=None) -> None:
    if rest.strip():
        raise syntax_error()
    ds = session.data
    out = session.out
    j = ds.char("_dta", "ReS_j")
    if not j:
        out.line(" (data have not been reshaped yet)")
    else:
        out.line(" (data are long)" if j in ds else " (data are wide)")
    out.line()
    if not _has_setup(ds):
        out.line("    Syntax reminder:")
        out.line("        reshape long stubnames, i(varlist) j(varname)")
        out.line("        reshape wide stubnames, i(varlist) j(varname)")
        return
    rows = [("group id variable(s)", "reshape i", ds.char("_dta", "ReS_i") or "<varlist>"),
            ("within-group variable", "reshape j", _j_query(ds)),
            ("varying within group", "reshape xij", _xij_query(ds)),
            ("constant within group (opt)", "reshape xi", ds.char("_dta", "Res_Xi") or "<varlist>")]
    out.line("+" + "-" * 30 + "+" + "-" * 46 + "+")
    out.line(f"| {'Xij':<29}| {'Command/contents':<45}|")
    out.line("+" + "-" * 30 + "+" + "-" * 46 + "+")
    for what, cmd, val in rows:
        out.line(f"|  {what:<28}| {cmd + ' ' + val:<45}|")
    out.line("+" + "-" * 30 + "+" + "-" * 46 + "+")


def _j_query(ds: Dataset) -> str:
    j = ds.char("_dta", "ReS_j")
    if not j:
        return "<varname> [<#> - <#>]"
    vals = ds.char("_dta", "ReS_jv")
    text = f"{j} {vals}".strip()
    return text + ", string" if ds.char("_dta", "ReS_str") == "1" else text


def _xij_query(ds: Dataset) -> str:
    xij = ds.char("_dta", "ReS_Xij")
    if not xij:
        return "<varnames-without-#j-suffix>"
    atwl = ds.char("_dta", "ReS_atwl")
    return f"{xij}, atwl({atwl})" if atwl else xij


def _clear(session, rest: str, opts) -> None:
    if rest.strip():
        raise syntax_error()
    _clear_setup(session.data)


def _adv_i(session, rest: str, opts) -> None:
    names = varlist(session, rest, all_if_empty=False)
    if not names:
        raise syntax_error()
    _set_adv(session.data, "ReS_i", " ".join(names))


def _adv_j(session, rest: str, opts) -> None:
    words = rest.split()
    if not words:
        raise syntax_error()
    jv, is_str = _j_values(words[1:], opts.string)
    ds = session.data
    if words[0] in ds:
        _check_j(ds, Setup(i=[], j=words[0], xij=[], string=is_str))
    _set_adv(ds, "ReS_j", words[0])
    ds.set_char("_dta", "ReS_jv", " ".join(jv))
    ds.set_char("_dta", "ReS_str", "1" if is_str else "0")


def _adv_xij(session, rest: str, opts) -> None:
    if not rest.split():
        raise syntax_error()
    _set_adv(session.data, "ReS_Xij", " ".join(rest.split()))
    session.data.set_char("_dta", "ReS_atwl", (opts.atwl or "").strip())


def _adv_xi(session, rest: str, opts) -> None:
    names = varlist(session, rest, all_if_empty=False) if rest.strip() else []
    _set_adv(session.data, "Res_Xi", " ".join(names))


def _set_adv(ds: Dataset, key: str, value: str) -> None:
    ds.set_char("_dta", key, value)
    ds.set_char("_dta", "ReS_ver", "v.2")


_SUBCOMMANDS = {"long": _long, "wide": _wide, "error": _error, "query": _query, "clear": _clear,
                "i": _adv_i, "j": _adv_j, "xij": _adv_xij, "xi": _adv_xi}

__all__ = ["Setup", "subname"]
