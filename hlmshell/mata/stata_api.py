"""The st_*() functions: Mata's window on Stata's matrices, scalars, macros and data.

st_matrix("name") is the matrix (J(0,0,.) when there is none) and st_matrix("name", X)
stores X (a copy); r() and e() matrices read as in Stata (`st_matrix("r(table)")`).
st_data/st_view copy the data (a view that writes back is not needed by read-only code);
st_store writes into existing variables, st_addvar creates them. Each function gets the
evaluated arguments and the Host.
"""
from __future__ import annotations

import re

import numpy as np

from hlmshell.mata.errors import MataError, conform
from hlmshell.mata.values import (
    MISSING,
    integer,
    is_string,
    need_real,
    need_value,
    real,
    scalar,
    str_scalar,
    strings,
)

_NAME = re.compile(r"[A-Za-z_][\w]{0,31}$")
_MACRO = re.compile(r"\w{1,32}$")
_STORED = re.compile(r"[er]\(\s*\w+\s*\)$")


def _matrix_name(v, writing: bool) -> str:
    name = str_scalar(v).strip()
    if not (_NAME.match(name) or (not writing and _STORED.match(name))):
        raise MataError(3300, "argument out of range" if writing else "invalid name")
    return name


def st_matrix(host, a):
    name = _matrix_name(a[0], len(a) > 1)
    if len(a) == 1:
        m = host.matrix(name)
        return np.full((0, 0), MISSING) if m is None else np.array(m, dtype=float)
    value = need_real(a[1])
    host.put_matrix(name, None if value.size == 0 else value.copy())
    return None


def _stripe(host, a, rows: bool):
    name = _matrix_name(a[0], False)
    if len(a) == 1:
        s = host.stripe(name, rows)
        if s is None:
            return np.empty((0, 2), dtype=object)
        return strings([[eq, nm] for eq, nm in s]) if s else np.empty((0, 2), dtype=object)
    value = need_value(a[1])
    if not is_string(value) or value.shape[1] != 2:
        raise MataError(3200)
    m = host.matrix(name)
    if m is None:
        raise MataError(3499, f"matrix {name} not found")
    if value.shape[0] != (m.shape[0] if rows else m.shape[1]):
        raise conform()
    host.put_stripe(name, rows, [(str(e), str(n)) for e, n in value])
    return None


def st_matrixrowstripe(host, a):
    return _stripe(host, a, True)


def st_matrixcolstripe(host, a):
    return _stripe(host, a, False)


def st_numscalar(host, a):
    name = _matrix_name(a[0], len(a) > 1)
    if len(a) == 1:
        v = host.numscalar(name)
        return np.full((0, 0), MISSING) if v is None else real(v)
    value = need_real(a[1])
    if value.size == 0:
        host.put_numscalar(name, None)
        return None
    host.put_numscalar(name, scalar(value))
    return None


def _macro(host, a, local: bool):
    name = str_scalar(a[0]).strip()
    if len(a) == 1:
        return strings([[host.macro(name, local)]])
    if not _MACRO.match(name):
        raise MataError(3300)
    host.put_macro(name, str_scalar(a[1]), local)
    return None


def st_local(host, a):
    return _macro(host, a, True)


def st_global(host, a):
    return _macro(host, a, False)


def st_nobs(host, a):
    return real(float(host.nobs()))


def st_nvar(host, a):
    return real(float(len(host.varnames())))


def _var_indices(host, v) -> list[int]:
    """Variables as names ("x y", abbreviations allowed when unique) or 1-based numbers."""
    names = host.varnames()
    v = need_value(v)
    if not is_string(v):
        if v.shape == (1, 1) and np.isnan(v[0, 0]):
            return list(range(len(names)))          # `.`: every variable
        flat = v.ravel()
        if np.isnan(flat).any():
            raise MataError(3500, "invalid Stata variable name")
        out = [int(x) for x in flat]
        if any(not 1 <= k <= len(names) for k in out):
            raise MataError(3500, "invalid Stata variable name")
        return [k - 1 for k in out]
    out = []
    for word in " ".join(str(s) for s in v.ravel()).split():
        out.append(_find_var(names, word))
    return out


def _find_var(names: list[str], word: str) -> int:
    if word in names:
        return names.index(word)
    hits = [k for k, n in enumerate(names) if n.startswith(word)]
    if len(hits) == 1:
        return hits[0]
    raise MataError(3500, "invalid Stata variable name")


def _obs(host, v) -> np.ndarray:
    n = host.nobs()
    if v is None:
        return np.arange(n)
    v = need_real(v)
    if v.shape == (1, 1) and np.isnan(v[0, 0]):
        return np.arange(n)
    if v.ndim == 2 and v.shape[1] == 2:         # r x 2: ranges i1..i2 (a missing end: to N)
        ends = np.where(np.isnan(v), float(n), v)
        if ((ends < 1) | (ends > n)).any() or (ends[:, 1] < ends[:, 0]).any():
            raise MataError(3301)
        return np.concatenate([np.arange(int(a) - 1, int(b)) for a, b in ends])
    rows = v.ravel()
    if np.isnan(rows).any() or ((rows < 1) | (rows > n)).any():
        raise MataError(3301)
    return rows.astype(int) - 1


def _selected(host, obs: np.ndarray, sel) -> np.ndarray:
    """The observations whose select variable is not 0 (a name or a variable number; ""
    or 0: no selection)."""
    if sel is None:
        return obs
    sel = need_value(sel)
    if sel.shape != (1, 1):
        raise MataError(3204)
    if (is_string(sel) and not str(sel[0, 0]).strip()) or (not is_string(sel) and sel[0, 0] == 0):
        return obs
    k = _var_indices(host, sel)[0]
    if host.is_string_var(k):
        raise MataError(3250)
    keep = np.asarray(host.column(k), dtype=float)[obs] != 0
    return obs[keep]


def st_data(host, a):
    obs = _selected(host, _obs(host, a[0]), a[2] if len(a) > 2 else None)
    idx = _var_indices(host, a[1])
    if any(host.is_string_var(k) for k in idx):
        raise MataError(3253, "nonreal found where real required")
    out = np.empty((obs.size, len(idx)))
    for j, k in enumerate(idx):
        out[:, j] = np.asarray(host.column(k), dtype=float)[obs]
    return out


def st_sdata(host, a):
    obs = _selected(host, _obs(host, a[0]), a[2] if len(a) > 2 else None)
    idx = _var_indices(host, a[1])
    if not all(host.is_string_var(k) for k in idx):
        raise MataError(3250)
    out = np.empty((obs.size, len(idx)), dtype=object)
    for j, k in enumerate(idx):
        col = host.column(k)
        for i, o in enumerate(obs):
            out[i, j] = str(col[o])
    return out


def st_addvar(host, a):
    vtype = str_scalar(a[0]).strip()
    names = " ".join(str(s) for s in need_value(a[1]).ravel()).split()
    if not names:
        raise MataError(3300)
    out = []
    for nm in names:
        if not _NAME.match(nm):
            raise MataError(3300, "invalid Stata variable name")
        if nm in host.varnames():
            raise MataError(3300, f"variable {nm} already defined")
        out.append(host.add_var(vtype, nm) + 1)
    return real(np.array(out, dtype=float)).reshape(1, -1)


def st_store(host, a):
    obs = _obs(host, a[0])
    idx = _var_indices(host, a[1])
    values = need_real(a[2])
    if values.shape != (obs.size, len(idx)):
        raise conform()
    for j, k in enumerate(idx):
        if host.is_string_var(k):
            raise MataError(3250)
        host.store(k, obs, values[:, j])


def st_sstore(host, a):
    obs = _obs(host, a[0])
    idx = _var_indices(host, a[1])
    values = need_value(a[2])
    if not is_string(values):
        raise MataError(3250)
    if values.shape != (obs.size, len(idx)):
        raise conform()
    for j, k in enumerate(idx):
        if not host.is_string_var(k):
            raise MataError(3250)
        host.store(k, obs, values[:, j])


def _is_var_kind(host, a, string: bool):
    names = host.varnames()
    word = str_scalar(a[0]).strip()
    if word not in names:
        return real(0.0)
    return real(float(host.is_string_var(names.index(word)) == string))


def st_isnumvar(host, a):
    return _is_var_kind(host, a, False)


def st_isstrvar(host, a):
    return _is_var_kind(host, a, True)


def st_varindex(host, a):
    names = host.varnames()
    word = str_scalar(a[0]).strip()
    return real(float(names.index(word) + 1)) if word in names else real(MISSING)


def st_varname(host, a):
    names = host.varnames()
    k = integer(a[0])
    if not 1 <= k <= len(names):
        raise MataError(3300)
    return strings([[names[k - 1]]])


def stata(host, a):
    """stata(cmd): run a Stata command; its failure (shown by Stata) aborts: r(3598)."""
    if host.stata(str_scalar(a[0])):
        raise MataError(3598, "Stata returned error")


def _stata(host, a):
    """_stata(cmd): run a Stata command and return its r() code instead of aborting."""
    return real(float(host.stata(str_scalar(a[0]))))


# name -> (function, fewest arguments, most arguments)
ST_FUNCTIONS = {
    "st_matrix": (st_matrix, 1, 2), "st_numscalar": (st_numscalar, 1, 2),
    "st_local": (st_local, 1, 2), "st_global": (st_global, 1, 2),
    "st_matrixrowstripe": (st_matrixrowstripe, 1, 2),
    "st_matrixcolstripe": (st_matrixcolstripe, 1, 2),
    "st_nobs": (st_nobs, 0, 0), "st_nvar": (st_nvar, 0, 0),
    "st_data": (st_data, 2, 3), "st_sdata": (st_sdata, 2, 3),
    "st_addvar": (st_addvar, 2, 2), "st_store": (st_store, 3, 3),
    "st_sstore": (st_sstore, 3, 3), "st_isnumvar": (st_isnumvar, 1, 1),
    "st_isstrvar": (st_isstrvar, 1, 1),
    "st_varindex": (st_varindex, 1, 1), "st_varname": (st_varname, 1, 1),
    "stata": (stata, 1, 1), "_stata": (_stata, 1, 1),
}


def st_view_value(host, a) -> np.ndarray:
    """st_view(V, rows, vars): V gets (a copy of) the data."""
    return st_data(host, a)

