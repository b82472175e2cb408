"""Pair two transcripts command by command and number by number, and judge each pair.

Stata's transcript is the reference. Strictly (`strict=True`, the default of this API and
`hlmshell check --strict`), every number it printed must be reproduced to the precision it
was printed with, i.e. within half a unit of its last digit (plus `rtol` times its size).
Otherwise each pair gets a class (tolerance.py): "exact" (to the printed digits), "within
convergence tolerance" (of an ML fit, as far as Stata's own stopping rule lets its number be
from the optimum), "within --rtol", "not comparable (boundary)" or "differ". Numbers only
the replay prints (an iteration log, a note Stata's log lacks) are not failures.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from hlmshell.check.numbers import Num, Row, extract_rows
from hlmshell.check.tolerance import (CLASSES, DIFFER, EXACT, NOT_COMPARABLE, RTOL, WITHIN, FitInfo,
                                      boundary_number, fit_info, tolerance)
from hlmshell.check.transcript import Block, split_blocks

EPS = 1e-9


def numbers_match(stata: Num, ours: Num, rtol: float = 0.0) -> bool:
    if math.isnan(stata.value) or math.isnan(ours.value):
        return math.isnan(stata.value) and math.isnan(ours.value)
    tol = 0.5 * stata.unit + rtol * abs(stata.value) + EPS * max(1.0, abs(stata.value))
    return abs(stata.value - ours.value) <= tol


@dataclass
class Pair:
    command: str
    label: str
    stata: Num
    ours: Num | None
    ok: bool             # not "differ"
    lineno: int = 0      # line of the command's echo in the Stata log
    cls: str = ""        # one of tolerance.CLASSES (only exact or differ when strict)
    reason: str = ""     # why a non-exact pair is in its class


@dataclass
class Report:
    pairs: list[Pair] = field(default_factory=list)
    commands: int = 0                                       # paired commands
    unpaired_stata: list[Block] = field(default_factory=list)
    unpaired_ours: list[Block] = field(default_factory=list)
    renamed: list[tuple[Block, Block]] = field(default_factory=list)  # paired, text differs
    strict: bool = True                                     # digits only, the old summary
    boundaries: list[tuple[int, str, str]] = field(default_factory=list)  # (line, command, why)

    @property
    def total(self) -> int:
        return len(self.pairs)

    @property
    def matched(self) -> int:
        return sum(p.ok for p in self.pairs)

    @property
    def ok(self) -> bool:
        return (self.matched == self.total and not self.unpaired_stata and not self.unpaired_ours
                and not self.renamed)

    def count(self, cls: str) -> int:
        return sum(p.cls == cls for p in self.pairs)

    def summary(self) -> str:
        if self.strict:
            s = f"{self.commands} commands, {self.total} numbers, {self.matched} match"
        else:
            parts = [f"{self.count(c)} {c}" for c in CLASSES if c != RTOL or self.count(RTOL)]
            s = f"{self.commands} commands, {self.total} numbers: " + ", ".join(parts)
        extra = []
        if self.renamed:
            extra.append(f"{len(self.renamed)} command(s) differ in text")
        if self.unpaired_stata:
            extra.append(f"{len(self.unpaired_stata)} Stata command(s) not replayed")
        if self.unpaired_ours:
            extra.append(f"{len(self.unpaired_ours)} replayed command(s) not in the Stata log")
        return s + ("; " + ", ".join(extra) if extra else "")


def _pair_rows(a: list[Row], b: list[Row]):
    """Rows in the same order with the same labels pair up; a differing stretch of equal
    length pairs position by position (a label printed slightly differently)."""
    sm = SequenceMatcher(None, [r.key for r in a], [r.key for r in b], autojunk=False)
    for op, i1, i2, j1, j2 in sm.get_opcodes():
        if op == "equal" or (op == "replace" and i2 - i1 == j2 - j1):
            for k in range(i2 - i1):
                yield a[i1 + k], b[j1 + k]
        else:
            for k in range(i1, i2):
                yield a[k], None


def classify(srow: Row, k: int, got: Num | None, info: FitInfo | None, rtol: float) -> tuple[str, str]:
    """(class, reason) of Stata's number k of srow against ours; info None: strictly."""
    num = srow.nums[k]
    if got is None:
        return DIFFER, "not printed by hlmshell"
    if numbers_match(num, got):
        return EXACT, ""
    if info is None:
        return (EXACT, "") if numbers_match(num, got, rtol) else (DIFFER, "")
    diff = abs(num.value - got.value)
    tol = tolerance(srow, k, info)
    if tol is not None and diff <= tol[0] + 0.5 * num.unit:
        return WITHIN, f"|diff| {diff:.2g} <= {tol[0]:.2g} ({tol[1]})"
    if boundary_number(srow, k, info):
        return NOT_COMPARABLE, info.boundary or ""
    if rtol and numbers_match(num, got, rtol):
        return RTOL, f"|diff| {diff:.2g} within {rtol:g} relative"
    why = f"|diff| {diff:.2g} > {tol[0]:.2g} ({tol[1]})" if tol else "not to the printed digits"
    return DIFFER, why


def compare_blocks(stata: Block, ours: Block, rtol: float, report: Report) -> None:
    info = None if report.strict else fit_info(stata.lines, ours.lines)
    if info is not None and info.boundary:
        report.boundaries.append((stata.lineno, stata.command, info.boundary))
    for srow, orow in _pair_rows(extract_rows(stata.lines), extract_rows(ours.lines)):
        onums = orow.nums if orow is not None else []
        for k, num in enumerate(srow.nums):
            got = onums[k] if k < len(onums) else None
            cls, why = classify(srow, k, got, info, rtol)
            report.pairs.append(Pair(stata.command, srow.label, num, got, cls != DIFFER, stata.lineno,
                                     cls, why))


def _tokens(cmd: str) -> list[str]:
    return re.findall(r"[A-Za-z_][A-Za-z_0-9]*|\d+|[^\sA-Za-z_0-9]", cmd)


def loosely_equal(a: str, b: str) -> bool:
    """The same command up to Stata abbreviations: `est sto x` = `estimates store x`,
    `tab s, gen(d_)` = `tabulate s, generate(d_)`, `cov(unstr)` = `covariance(unstructured)`."""
    ta, tb = _tokens(a), _tokens(b)
    if len(ta) != len(tb):
        return False
    for x, y in zip(ta, tb):
        if x == y:
            continue
        if not (x[0].isalpha() or x[0] == "_") or not (y[0].isalpha() or y[0] == "_"):
            return False
        short, long_ = sorted((x, y), key=len)
        if len(short) < 3 or not long_.startswith(short):  # `ic` is not short for `icc`
            return False
    return True


def compare_texts(stata_text: str, ours_text: str, rtol: float = 0.0, *, strict: bool = True) -> Report:
    """Pair the transcripts; strict: digits (and rtol) only, else classify (tolerance.py)."""
    sb, ob = split_blocks(stata_text), split_blocks(ours_text)
    report = Report(strict=strict)
    sm = SequenceMatcher(None, [b.key for b in sb], [b.key for b in ob], autojunk=False)
    for op, i1, i2, j1, j2 in sm.get_opcodes():
        n = min(i2 - i1, j2 - j1) if op == "replace" else (i2 - i1 if op == "equal" else 0)
        for k in range(n):
            s, o = sb[i1 + k], ob[j1 + k]
            if op == "replace" and not loosely_equal(s.command, o.command):
                report.renamed.append((s, o))
            report.commands += 1
            compare_blocks(s, o, rtol, report)
        for s in sb[i1 + n:i2]:
            report.unpaired_stata.append(s)
            compare_blocks(s, Block(s.command), rtol, report)  # its numbers are all missing
        report.unpaired_ours.extend(ob[j1 + n:j2])
    return report
