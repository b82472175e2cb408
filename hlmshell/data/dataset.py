"""The dataset in memory, as Stata sees it.

Numeric variables are float64 arrays (missing = NaN, see missing.py) whose values already sit
on their storage type's grid: a `float` variable holds float32-rounded values, a `byte` holds
integers, so results computed on generated variables match Stata's. String variables are
numpy object arrays of str ('' is the missing string).

Copy-on-write: a stored value array is read-only (Variable freezes every array assigned to
`values`), so a command that changes a column builds a new array and replaces the column
(Dataset.update / Dataset.put, or `var.values = new`), and any in-place write raises at once.
That makes Dataset.copy() -- the snapshot the interpreter takes before every command, and
`preserve` -- a shallow copy: new Variable objects (a few attributes each) sharing the same
arrays, new small metadata containers; no array is copied.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace

import numpy as np

from hlmshell.errors import StataError, var_not_found

NUMERIC_TYPES = ("byte", "int", "long", "float", "double")
DEFAULT_FORMATS = {"byte": "%8.0g", "int": "%8.0g", "long": "%12.0g", "float": "%9.0g", "double": "%10.0g"}
# Stata's ranges for the integer storage types (values outside are stored as a wider type).
INT_LIMITS = {"byte": (-127, 100), "int": (-32767, 32740), "long": (-2147483647, 2147483620)}
# _dta characteristics xtset/tsset keep (cleared together when their variable is dropped),
# and those whose text is a variable name (renamed with it)
TS_CHARS = ("_TStvar", "_TSpanel", "_TSdelta", "_TSitrvl", "tis", "iis")
VAR_NAMING_CHARS = ("_TStvar", "_TSpanel", "tis", "iis")


def is_string_type(vtype: str) -> bool:
    return vtype.startswith("str")


def to_storage(values: np.ndarray, vtype: str) -> np.ndarray:
    """Round values onto the grid of a numeric storage type (float32 for `float`)."""
    if is_string_type(vtype):
        return np.asarray(values, dtype=object)
    v = np.asarray(values, dtype=np.float64)
    if vtype == "float":
        return v.astype(np.float32).astype(np.float64)
    if vtype in INT_LIMITS:
        return np.where(np.isnan(v), v, np.trunc(v))
    return v.copy()


def freeze(values: np.ndarray) -> np.ndarray:
    """Make a stored array read-only (no copy): stored columns are never written in place."""
    if isinstance(values, np.ndarray) and values.flags.writeable:
        values.flags.writeable = False
    return values


@dataclass
class Variable:
    """One column. Its value array is read-only once stored (assigning `values` freezes the
    new array): change a column by giving it a new array, never by writing into the old one.
    The metadata (name, label, format, vtype, vallab) may be assigned: Dataset.copy() gives
    the snapshot its own Variable objects (sharing the arrays), so that cannot reach it."""

    name: str
    values: np.ndarray
    vtype: str = "float"
    format: str = ""
    label: str = ""
    vallab: str | None = None
    # characteristics `varname[name]` (Stata's char); replaced, never changed in place
    chars: dict[str, str] = field(default_factory=dict)

    def __setattr__(self, name, value):
        if name == "values":
            freeze(value)
        object.__setattr__(self, name, value)

    def __post_init__(self):
        if not self.format:
            if is_string_type(self.vtype):
                width = int(self.vtype[3:]) if self.vtype[3:].isdigit() else 9
                self.format = f"%{max(width, 1)}s"
            else:
                self.format = DEFAULT_FORMATS.get(self.vtype, "%9.0g")

    @property
    def is_string(self) -> bool:
        return is_string_type(self.vtype)

    def copy(self) -> "Variable":
        """A new Variable with the same metadata and the same (read-only, shared) values."""
        new = object.__new__(Variable)
        new.__dict__.update(self.__dict__)
        return new

    def evolve(self, **changes) -> "Variable":
        """A new Variable with some fields changed (dataclasses.replace)."""
        return replace(self, **changes)


@dataclass
class Dataset:
    vars: dict[str, Variable] = field(default_factory=dict)
    value_labels: dict[str, dict[float, str]] = field(default_factory=dict)
    sortedby: list[str] = field(default_factory=list)
    changed: bool = False
    filename: str | None = None
    label: str = ""
    _n: int = 0
    # the dataset's characteristics, `_dta[name]` (Stata's char); a variable's are on it
    dta_chars: dict[str, str] = field(default_factory=dict)

    # -- size -------------------------------------------------------------------------
    @property
    def n(self) -> int:
        if self.vars:
            return len(next(iter(self.vars.values())).values)
        return self._n

    def set_obs(self, n: int) -> None:
        """Grow to n observations (new rows missing), as `set obs` does."""
        old = self.n
        extra = n - old
        for name, v in list(self.vars.items()):
            if extra > 0:
                pad = np.full(extra, "", dtype=object) if v.is_string else np.full(extra, np.nan)
                self.vars[name] = v.evolve(values=np.concatenate([v.values, pad]))
        self._n = n

    @property
    def names(self) -> list[str]:
        return list(self.vars)

    def __contains__(self, name: str) -> bool:
        return name in self.vars

    def var(self, name: str) -> Variable:
        try:
            return self.vars[name]
        except KeyError:
            if "." in name:       # `L.x`, `LD.x`: a time-series operated variable (timeseries.py)
                return self._ts_var(name)
            raise var_not_found(name) from None

    def _ts_var(self, name: str) -> Variable:
        """A time-series operated name as a transient variable (not stored in the data)."""
        from hlmshell.data.timeseries import split_name, ts_values

        sp = split_name(name)
        if sp is None:
            raise var_not_found(name)
        op, base = sp
        src = self.var(base)
        vtype = src.vtype if op.is_shift else "double"
        return Variable(name, ts_values(self, name), vtype, src.format,
                        vallab=src.vallab if op.is_shift else None)

    def values(self, name: str) -> np.ndarray:
        return self.var(name).values

    def add(self, var: Variable) -> None:
        if var.name in self.vars:
            raise StataError(f"variable {var.name} already defined", 110)
        if self.vars and len(var.values) != self.n:
            raise ValueError("length mismatch")
        if not self.vars:
            self._n = len(var.values)
        self.vars[var.name] = var
        self.changed = True

    def put(self, var: Variable) -> Variable:
        """Store `var` under its name, replacing the variable of that name in place in the
        order (or appending it). The copy-on-write way to change a column."""
        if self.vars and var.name not in self.vars and len(var.values) != self.n:
            raise ValueError("length mismatch")
        if not self.vars:
            self._n = len(var.values)
        self.vars[var.name] = var
        self.changed = True
        return var

    def update(self, name: str, **changes) -> Variable:
        """Replace variable `name` by a copy with some fields changed (values=, vtype=,
        format=, label=, vallab=); returns the new Variable."""
        new = self.var(name).evolve(**changes)
        self.vars[name] = new
        self.changed = True
        return new

    def rename(self, old: str, new: str) -> None:
        """Rename a variable, keeping its place in the order."""
        self.rename_many({old: new})

    def rename_many(self, mapping: dict[str, str]) -> None:
        """Rename variables (old -> new, all at once), keeping their places in the order, the
        sort order and their characteristics; the panel settings that name one follow it."""
        self.vars = {mapping.get(k, k): (v.evolve(name=mapping[k]) if k in mapping else v)
                     for k, v in self.vars.items()}
        self.sortedby = [mapping.get(s, s) for s in self.sortedby]
        for key in VAR_NAMING_CHARS:
            if self.dta_chars.get(key) in mapping:
                self.dta_chars[key] = mapping[self.dta_chars[key]]
        self.changed = True

    def drop(self, names) -> None:
        names = list(names)
        for nm in names:
            del self.vars[nm]
        if not self.vars:
            self._n = 0         # no variables, no observations (`drop _all` then `set obs 30`)
        self.sortedby = [s for s in self.sortedby if s in self.vars]
        if any(self.dta_chars.get(key) in names for key in VAR_NAMING_CHARS):
            for key in TS_CHARS:          # the panel settings name a variable that is gone
                self.dta_chars.pop(key, None)
        self.changed = True

    # -- characteristics ----------------------------------------------------------------
    def char(self, owner: str, name: str) -> str:
        """`owner[name]` ("_dta" or a variable), "" when not defined (`: char owner[name]`)."""
        if owner == "_dta":
            return self.dta_chars.get(name, "")
        return self.var(owner).chars.get(name, "")

    def set_char(self, owner: str, name: str, text: str) -> None:
        """Define `owner[name]`; empty text deletes it, as `char define owner[name]` does.
        A variable's characteristics are replaced (copy-on-write), never changed in place."""
        table = dict(self.dta_chars if owner == "_dta" else self.var(owner).chars)
        if text:
            table[name] = text
        elif name in table:
            del table[name]
        else:
            return
        if owner == "_dta":
            self.dta_chars = table
        else:
            self.update(owner, chars=table)
        self.changed = True

    def characteristics(self) -> dict[str, dict[str, str]]:
        """Every characteristic, `_dta` first, then the variables' in the order of the data:
        {owner: {name: text}} (a copy)."""
        out = {"_dta": dict(self.dta_chars)} if self.dta_chars else {}
        out.update({nm: dict(v.chars) for nm, v in self.vars.items() if v.chars})
        return out

    def take(self, index: np.ndarray) -> None:
        """Keep/reorder observations by an integer or boolean index."""
        for name, v in list(self.vars.items()):
            self.vars[name] = v.evolve(values=v.values[index])
        if not self.vars:
            self._n = int(np.count_nonzero(index)) if np.asarray(index).dtype == bool else len(index)
        self.changed = True

    def copy(self) -> "Dataset":
        """A snapshot: a new dict of the same (immutable) Variables and copies of the small
        metadata; no value array is copied. Fields added later are carried over shallowly."""
        new = copy.copy(self)
        new.vars = {k: v.copy() for k, v in self.vars.items()}
        new.value_labels = {k: dict(v) for k, v in self.value_labels.items()}
        new.sortedby = list(self.sortedby)
        new.dta_chars = dict(self.dta_chars)
        return new

    def to_frame(self, names=None):
        """A pandas DataFrame view (copies) of some variables; numerics keep NaN missing."""
        import pandas as pd

        names = self.names if names is None else list(names)
        return pd.DataFrame({nm: self.vars[nm].values for nm in names})
