"""The dataset in memory, as Stata sees it.

Numeric variables are float64 arrays (missing = NaN, see missing.py) whose values already sit
on their storage type's grid: a `float` variable holds float32-rounded values, a `byte` holds
integers, so results computed on generated variables match Stata's. String variables are
numpy object arrays of str ('' is the missing string).
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np

NUMERIC_TYPES = ("byte", "int", "long", "float", "double")
DEFAULT_FORMATS = {"byte": "%8.0g", "int": "%8.0g", "long": "%12.0g", "float": "%9.0g", "double": "%10.0g"}
# Stata's ranges for the integer storage types (values outside are stored as a wider type).
INT_LIMITS = {"byte": (-127, 100), "int": (-32767, 32740), "long": (-2147483647, 2147483620)}


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


@dataclass
class Variable:
    name: str
    values: np.ndarray
    vtype: str = "float"
    format: str = ""
    label: str = ""
    vallab: str | None = None

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
        return Variable(self.name, self.values.copy(), self.vtype, self.format, self.label, self.vallab)


@dataclass
class Dataset:
    vars: dict[str, Variable] = field(default_factory=dict)
    value_labels: dict[str, dict[float, str]] = field(default_factory=dict)
    sortedby: list[str] = field(default_factory=list)
    changed: bool = False
    filename: str | None = None
    label: str = ""
    _n: int = 0

    # -- size -------------------------------------------------------------------------
    @property
    def n(self) -> int:
        if self.vars:
            return len(next(iter(self.vars.values())).values)
        return self._n

    def set_obs(self, n: int) -> None:
        """Grow to n observations (new rows missing), as `set obs` does."""
        old = self.n
        for v in self.vars.values():
            extra = n - old
            if extra > 0:
                pad = np.full(extra, "", dtype=object) if v.is_string else np.full(extra, np.nan)
                v.values = np.concatenate([v.values, pad])
        self._n = n

    @property
    def names(self) -> list[str]:
        return list(self.vars)

    def __contains__(self, name: str) -> bool:
        return name in self.vars

    def var(self, name: str) -> Variable:
        from hlmshell.errors import var_not_found

        try:
            return self.vars[name]
        except KeyError:
            raise var_not_found(name) from None

    def values(self, name: str) -> np.ndarray:
        return self.var(name).values

    def add(self, var: Variable) -> None:
        from hlmshell.errors import StataError

        if var.name in self.vars:
            raise StataError(f"variable {var.name} already defined", 110)
        if self.vars and len(var.values) != self.n:
            raise ValueError("length mismatch")
        if not self.vars:
            self._n = len(var.values)
        self.vars[var.name] = var
        self.changed = True

    def drop(self, names) -> None:
        for nm in names:
            del self.vars[nm]
        self.sortedby = [s for s in self.sortedby if s in self.vars]
        self.changed = True

    def take(self, index: np.ndarray) -> None:
        """Keep/reorder observations by an integer or boolean index."""
        for v in self.vars.values():
            v.values = v.values[index]
        if not self.vars:
            self._n = int(np.count_nonzero(index)) if np.asarray(index).dtype == bool else len(index)
        self.changed = True

    def copy(self) -> "Dataset":
        return Dataset(
            vars={k: v.copy() for k, v in self.vars.items()},
            value_labels=copy.deepcopy(self.value_labels),
            sortedby=list(self.sortedby),
            changed=self.changed,
            filename=self.filename,
            label=self.label,
            _n=self._n,
        )

    def to_frame(self, names=None):
        """A pandas DataFrame view (copies) of some variables; numerics keep NaN missing."""
        import pandas as pd

        names = self.names if names is None else list(names)
        return pd.DataFrame({nm: self.vars[nm].values for nm in names})
