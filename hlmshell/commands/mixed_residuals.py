"""`mixed ..., residuals(rspec)`: the option parsed, checked against the data as Stata checks
it, and resolved into what engine.marginal fits (engine.residuals' structure and the codes it
reads per observation)."""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from hlmshell.commands.model_terms import resolve_var
from hlmshell.engine import factorize
from hlmshell.engine.marginal import ResidualData
from hlmshell.engine.residuals import CORRELATED, INTEGER_T, NEEDS_T, make_structure
from hlmshell.errors import StataError
from hlmshell.syntax.parser import parse_options

# Stata's restype names with their minimal abbreviations
_TYPES = (("independent", 3), ("exchangeable", 3), ("ar", 2), ("ma", 2), ("unstructured", 2),
          ("banded", 2), ("toeplitz", 3), ("exponential", 3))
_ORDERED = ("ar", "ma", "banded", "toeplitz")
_GLUED_ORDER = re.compile(r"([A-Za-z]+)(\d+)")


@dataclass
class ResidualRequest:
    """residuals(kind [#], t(var) by(var)) as typed, names unabbreviated."""

    kind: str
    order: int | None       # None: banded without # (the full band)
    tvar: str | None
    byvar: str | None
    text: str

    def numeric_vars(self) -> list[str]:
        """Variables that must be numeric and nonmissing in the sample (t())."""
        return [self.tvar] if self.tvar else []

    def group_vars(self) -> list[str]:
        """Variables marked out as grouping variables, strings allowed (by())."""
        return [self.byvar] if self.byvar else []


def _bad(text: str) -> StataError:
    return StataError(f"residuals({text}) invalid", 198)


def _restype(word: str, text: str) -> str:
    w = word.lower()
    for full, k in _TYPES:
        if len(w) >= k and full.startswith(w):
            return full
    raise StataError(f"{word}:  invalid residual structure", 198)


def parse_residuals(ds, text: str | None) -> ResidualRequest | None:
    """The option's text -> a request; Stata's messages for what it refuses."""
    if text is None:
        return None
    head, _, tail = text.partition(",")
    words = head.split()
    if not words:
        raise _bad(text)
    glued = _GLUED_ORDER.fullmatch(words[0])
    if glued and len(words) == 1:           # `ar1`, `toeplitz6`, `banded0` as course files type them
        words = [glued.group(1), glued.group(2)]
    kind = _restype(words[0], text)
    order: int | None = 0
    if kind in _ORDERED:
        if len(words) > 2:
            raise _bad(text)
        if len(words) == 2:
            try:
                order = int(words[1])
            except ValueError:
                raise _bad(text) from None
            if order < (0 if kind == "banded" else 1):
                raise _bad(text)
        elif kind in ("ar", "ma"):
            order = 1
        elif kind == "banded":
            order = None                    # no #: the full band
    elif len(words) > 1:
        raise _bad(text)
    tvar = byvar = None
    for opt in parse_options(tail):
        name = opt.name.lower()
        if name == "t" and opt.arg:
            tvar = _one(ds, opt.arg)
        elif name == "by" and opt.arg:
            byvar = _one(ds, opt.arg)
        else:
            raise StataError(f"option {opt.name} not allowed", 198)
    if kind in NEEDS_T and tvar is None:
        raise StataError(f"residuals({kind}) requires option t()", 198)
    return ResidualRequest(kind, order, tvar, byvar, text)


def _one(ds, name: str) -> str:
    vs = resolve_var(ds, name.strip())
    if len(vs) != 1:
        raise StataError("invalid syntax", 198)
    return vs[0]


def resolve(req: ResidualRequest, blocks, column, value_labels) -> tuple[ResidualData, list[str]]:
    """The structure for the estimation sample (column(name) reads a variable on it) and the
    labels of the by() categories (value labels where the variable has them)."""
    if not blocks:
        raise StataError("residuals() requires at least one random-effects equation", 198)
    low = max(blocks, key=lambda b: b.depth)
    block = np.asarray(low.group, dtype=np.int64)
    t = None
    if req.tvar:
        t = np.asarray(column(req.tvar), dtype=float)
        if req.kind in INTEGER_T and not np.all(np.floor(t) == t):
            raise StataError(f"t() variable {req.tvar} must be integer-valued", 198)
        _check_unique_times(block, t)
    by, labels = None, [""]
    if req.byvar:
        by, labels = _by_codes(column(req.byvar), value_labels.get(req.byvar, {}))
        if req.kind in CORRELATED:
            first = np.full(int(block.max()) + 1, -1)
            first[block] = by
            if np.any(first[block] != by):
                raise StataError(f"by() variable {req.byvar} is not constant within "
                                 f"{low.label}", 459)
    structure = make_structure(req.kind, req.order or 0, t, len(labels))
    if req.kind == "banded" and req.order is None:
        structure = make_structure("unstructured", 0, t, len(labels))
        structure.kind = "banded"
        structure.order = int(np.ptp(t)) if t is not None and len(t) else 0
    return ResidualData(structure, block, t, by), labels


def by_value_labels(ds, req: ResidualRequest) -> dict:
    """{byvar: its value labels} when by()'s variable has them (the table shows them)."""
    if not req.byvar:
        return {}
    vl = ds.var(req.byvar).vallab
    return {req.byvar: ds.value_labels[vl]} if vl and vl in ds.value_labels else {}


def _check_unique_times(block: np.ndarray, t: np.ndarray) -> None:
    order = np.lexsort((t, block))
    b, tt = block[order], t[order]
    if np.any((b[1:] == b[:-1]) & (tt[1:] == tt[:-1])):
        raise StataError("repeated time values within lowest-level panel", 451)


def _by_codes(values, labels: dict) -> tuple[np.ndarray, list[str]]:
    values = np.asarray(values)
    if values.dtype.kind in "OUS":
        levels = sorted(set(values.tolist()))
        codes = np.searchsorted(np.array(levels, dtype=object), values)
        return codes.astype(np.int64), [str(v) for v in levels]
    levels, codes = factorize.factorize(np.asarray(values, dtype=float))
    return np.asarray(codes, dtype=np.int64), [labels.get(float(v), _num(v)) for v in levels]


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:g}"
