"""The numbers a command printed, row by row, with the label that identifies each row.

A number is a free-standing token: `7,185`, `-.25`, `1.23e-08`, `0.000`, a lone `.` (missing).
Digits that are part of a name are not numbers: `c.ses#c.sector`, `1.female`, `chi2` in
`chi2(11)` (the `11` is), `95` in `[95% conf. interval]`. In a table row the part left of
the first `|` is the row's label (its digits are level values, not results); a level row
(`2 |`, `1 3 |`) is labelled with the factor header above it (`sized 2`), and names broken
after `#` over two lines are joined. Iteration logs are left out: they trace the optimiser's
path, which need not match between programs, not its result.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

_NUM = re.compile(
    r"(?<![\w.#%$])(?<![\w.][-+])"
    r"(?P<n>[-+]?(?:\d{1,3}(?:,\d{3})+(?:\.\d*)?|\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)"
    r"(?![\w#%.\[(])"
    r"|(?<!\S)(?P<m>\.[a-z]?)(?!\S)")
_RULE = re.compile(r"^[\s\-+|=_]*$")
_ITER = re.compile(r"^\s*(?:Iteration \d+:|Performing (?:EM|gradient)|Computing standard errors"
                   r"|Refining starting values|Obtaining starting values|Fitting (?:full|fixed|starting)"
                   r"|\(iteration log)", re.I)
_LEVEL = re.compile(r"^[\d ]+$")


@dataclass
class Num:
    text: str          # as printed
    value: float       # nan for a missing value `.`

    @property
    def unit(self) -> float:
        """One unit in the last printed digit (0 for a missing value)."""
        if math.isnan(self.value):
            return 0.0
        t = self.text.lstrip("+-").replace(",", "")
        mant, _, exp = t.lower().partition("e")
        dec = len(mant.partition(".")[2])
        return 10.0 ** (int(exp or 0) - dec)


@dataclass
class Row:
    key: str           # normalised label used to pair rows between transcripts
    label: str         # label for reports
    nums: list[Num]
    line: str          # the printed line


def parse_number(token: str) -> float:
    if token.startswith("."):
        if token == "." or re.fullmatch(r"\.[a-z]", token):
            return math.nan
    return float(token.replace(",", ""))


def find_numbers(text: str, *, table: bool = True) -> list[Num]:
    """Numbers in text; outside table cells a lone `.` counts only after `=` (`chi2(0) = .`)."""
    out = []
    for m in _NUM.finditer(text):
        tok = m.group("n") or m.group("m")
        if m.group("m") and not table and not text[:m.start()].rstrip().endswith("="):
            continue
        out.append(Num(tok, parse_number(tok)))
    return out


def _mask(text: str) -> str:
    """The line with each number replaced by '#', blanks collapsed: a label for plain lines."""
    return " ".join(_NUM.sub("#", text).split())


def extract_rows(lines: list[str]) -> list[Row]:
    rows: list[Row] = []
    group = None
    pending = ""
    for line in lines:
        if _RULE.match(line):  # blank lines, rules; a blank `|` row ends a factor group
            if "|" in line and "-" not in line:
                group, pending = None, ""
            continue
        if _ITER.match(line):
            continue
        if "|" in line:
            left, right = line.split("|", 1)
            label = " ".join(left.split())
            nums = find_numbers(right)
            if _RULE.match(left) and not nums:
                continue
            if not nums:
                if label.endswith("#"):
                    pending += label
                    continue
                if label:
                    group = pending + label
                    pending = ""
                continue
            if pending:
                label, pending = pending + label, ""
            if group and _LEVEL.match(label):
                key = f"{group} {label}"
            else:
                key = label
            rows.append(Row(key.lower(), key, nums, line))
        else:
            nums = find_numbers(line, table=False)
            if not nums:
                continue
            label = _mask(line)
            rows.append(Row(label.lower(), label, nums, line))
    return rows
