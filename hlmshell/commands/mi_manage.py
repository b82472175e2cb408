"""mi commands that run ordinary commands on the imputations: mi xeq, mi passive, mi misstable,
mi xtset/tsset (the m = 0 settings every imputation shares), mi stset, mi reshape.

Each runs the command through the interpreter on imputation m as an ordinary dataset
(mi_data.dataset_m) and assembles the results back into mi data; a failure anywhere is the
mi command's failure, and the interpreter then puts the session back as it was.
"""
from __future__ import annotations


import numpy as np

from hlmshell.commands import mi_data as mid
from hlmshell.errors import StataError, syntax_error


def run_on(session, ds, text: str, *, quiet: bool = True):
    """Run one command line on dataset ds in place of the data; returns the data after it."""
    saved = session.data
    session.data = ds
    try:
        session.runner.run_command(("quietly " if quiet else "") + text)
        return session.data
    finally:
        session.data = saved


_ROW = "__mi_row"


def run_in_order(session, ds, text: str, *, quiet: bool = True):
    """run_on, the observations then put back in their order (a command may sort them, and
    each imputation's data must stay aligned with m = 0)."""
    from hlmshell.data.dataset import Variable

    ds = ds.copy()
    ds.put(Variable(_ROW, np.arange(float(ds.n)), "double"))
    out = run_on(session, ds, text, quiet=quiet)
    if _ROW not in out:                 # `keep varlist` dropped the marker: order as it was
        if out.n != ds.n:
            raise StataError("mi: the command changed the observations; use mi reshape or mi extract", 459)
        return out
    order = np.argsort(out.values(_ROW), kind="stable")
    if out.n != ds.n or not np.array_equal(out.values(_ROW)[order], np.arange(float(ds.n))):
        raise StataError("mi: the command changed the observations; use mi reshape or mi extract", 459)
    out = out.copy()
    out.take(order)
    out.drop([_ROW])
    return out


def _split_colon(text: str) -> tuple[str, str]:
    from hlmshell.syntax.lexer import find_top

    i = find_top(text, ":")
    if i < 0:
        raise syntax_error()
    return text[:i].strip(), text[i + 1:].strip()


def _numlist(text: str, M: int) -> list[int]:
    if not text:
        return list(range(M + 1))
    out = []
    for tok in text.replace(",", " ").split():
        if "/" in tok:
            a, _, b = tok.partition("/")
            try:
                out += list(range(int(a), int(b) + 1))
            except ValueError:
                raise StataError("invalid numlist", 121) from None
        else:
            try:
                out.append(int(tok))
            except ValueError:
                raise StataError("invalid numlist", 121) from None
    for m in out:
        if not 0 <= m <= M:
            raise StataError(f"{m} out of range; m must be between 0 and {M}", 125)
    return out


def _rebuild(md, sets: dict[int, object], new_kind: str | None = None):
    """MiData after commands changed some imputations (same observations): registered
    variables from each imputation; new variables registered as new_kind (or left
    unregistered, with their m = 0 values)."""
    base = sets.get(0, mid.dataset_m(md, 0))
    if base.n != md.base.n:
        raise StataError("mi: the command changed the number of observations; use mi reshape or "
                         "mi extract", 459)
    new_vars = [v for v in base.names if v not in md.base]
    if new_kind == "passive":
        md.pvars += [v for v in new_vars if v not in md.pvars]
    full = []
    for m in range(md.M + 1):
        ds = sets.get(m)
        if ds is None:
            ds = mid.dataset_m(md, m)
            for v in new_vars:
                ds.put(base.var(v))
        elif ds.n != md.base.n:
            raise StataError("mi: the command changed the number of observations", 459)
        full.append(ds)
    return mid.from_datasets(md, full)


# ----------------------------------------------------------------------------- xeq / passive
def xeq_cmd(session, text: str) -> None:
    mid.require_set(session)
    head, body = _split_colon(text)
    md = mid.read(session.data)
    ms = _numlist(head, md.M)
    cmds = [c.strip() for c in body.split(";") if c.strip()]
    if not cmds:
        raise syntax_error()
    out = session.out
    sets = {}
    for m in ms:
        out.line()
        out.line(f"m={m} data:")
        ds = mid.dataset_m(md, m)
        for c in cmds:
            out.line(f"-> {c}")
            ds = run_in_order(session, ds, c, quiet=False)
        sets[m] = ds
    mid.store(session, _rebuild(md, sets))


def passive_cmd(session, text: str) -> None:
    mid.require_set(session)
    head, body = _split_colon(text)
    if head:
        raise syntax_error()
    from hlmshell.registry import REGISTRY
    from hlmshell.syntax.parser import split_prefixes
    _, core = split_prefixes(body)              # `by id: egen ...` is allowed
    word = core.split()[0] if core.split() else ""
    spec = REGISTRY.lookup(word)
    if spec is None or spec.name not in ("generate", "replace", "egen"):
        raise StataError("mi passive: only generate, replace, and egen are allowed", 198)
    md = mid.read(session.data)
    if spec.name == "replace":
        target = core.split()[1].split("=")[0] if len(core.split()) > 1 else ""
        if target not in md.pvars:
            raise StataError(f"variable {target} not registered as passive", 198)
    sets = {}
    for m in range(md.M + 1):
        session.out.line(f"m={m}:")
        sets[m] = run_in_order(session, mid.dataset_m(md, m), body, quiet=False)
    mid.store(session, _rebuild(md, sets, "passive"))


# ----------------------------------------------------------------------------- misstable
def misstable_cmd(session, text: str) -> None:
    mid.require_set(session)
    md = mid.read(session.data)
    run_on(session, mid.dataset_m(md, 0), "misstable " + text, quiet=False)


# ----------------------------------------------------------------------------- xtset / tsset / stset
def _settings_cmd(session, word: str, text: str) -> None:
    mid.require_set(session)
    from hlmshell.data.dataset import Variable

    md = mid.read(session.data)
    ds = mid.dataset_m(md, 0)
    ds.put(Variable(_ROW, np.arange(float(ds.n)), "double"))
    ds = run_on(session, ds, f"{word} {text}".strip(), quiet=False)
    order = ds.values(_ROW).astype(int)          # xtset/tsset sort: every imputation alike
    md.base.take(order)
    for imp in md.imps:
        for v in list(imp):
            imp[v] = np.asarray(imp[v])[order]
    for v in ds.names:                           # stset's _st _d _t _t0: same in every m
        if v not in md.base and v != _ROW:
            md.base.put(ds.var(v))
    md.base.dta_chars = {k: v for k, v in ds.dta_chars.items()}
    md.base.sortedby = [s for s in ds.sortedby if s in md.base]
    mid.store(session, md)


def xtset_cmd(session, text: str) -> None:
    _settings_cmd(session, "xtset", text)


def tsset_cmd(session, text: str) -> None:
    _settings_cmd(session, "tsset", text)


def stset_cmd(session, text: str) -> None:
    """mi stset: stset's settings on m = 0, when hlmshell has stset (r(199) otherwise)."""
    from hlmshell.registry_index import COMMANDS       # (not the full table: no module loads)
    mid.require_set(session)
    if not any(row[0] == "stset" for row in COMMANDS):
        raise StataError("mi stset: survival-time data (stset) are not available in hlmshell", 199)
    _settings_cmd(session, "stset", text)


def svyset_cmd(session, text: str) -> None:
    _settings_cmd(session, "svyset", text)


# ----------------------------------------------------------------------------- reshape
def reshape_cmd(session, text: str) -> None:
    mid.require_set(session)
    head, _, _ = text.partition(",")
    words = head.split()
    if not words or words[0] not in ("long", "wide"):
        raise StataError("mi reshape: long or wide required", 198)
    direction, stubs = words[0], words[1:]
    if not stubs:
        raise syntax_error()
    md = mid.read(session.data)
    sets = []
    for m in range(md.M + 1):
        session.out.line(f"reshaping m={m} data ...")
        sets.append(run_on(session, mid.dataset_m(md, m), "reshape " + text, quiet=m > 0))
    ivars, pvars = _reshaped_roles(md, sets[0], direction, stubs)
    shape = [(ds.n, tuple(ds.names)) for ds in sets]
    if len(set(shape)) != 1:
        raise StataError("mi reshape: the imputations reshaped differently", 459)
    md2 = mid.from_datasets(mid.MiData(sets[0], md.M, md.style, ivars, pvars,
                                       [v for v in md.rvars]), sets)
    md2.rvars = [v for v in sets[0].names if v in md.rvars or _from_stub(v, md.rvars, stubs, direction)]
    md2.rvars = [v for v in md2.rvars if v not in md2.ivars + md2.pvars]
    base = sets[0]
    base.dta_chars = {k: v for k, v in base.dta_chars.items() if not k.startswith("_mi_")}
    session.out.line("assembling results ...")
    mid.store(session, md2)


def _from_stub(name: str, old: list[str], stubs: list[str], direction: str) -> bool:
    """Whether a reshaped variable comes from one of the `old` variables."""
    for stub in stubs:
        stub = stub.replace("@", "")
        if direction == "long" and name == stub:
            if any(o.startswith(stub) and o[len(stub):].lstrip("-").replace(".", "").isdigit()
                   for o in old):
                return True
        if direction == "wide" and name.startswith(stub) and name[len(stub):].lstrip("-").isdigit():
            if stub in old:
                return True
    return False


def _reshaped_roles(md, base, direction, stubs):
    ivars, pvars = [], []
    for v in base.names:
        if v in md.ivars or _from_stub(v, md.ivars, stubs, direction):
            ivars.append(v)
        elif v in md.pvars or _from_stub(v, md.pvars, stubs, direction):
            pvars.append(v)
    return ivars, pvars

