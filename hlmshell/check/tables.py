"""Read the results of one command back out of its printed output (Stata 17 layouts).

Used to check a replay against known values by name (`2.sized` coefficient, `var(_cons)`,
LR chi2), where the log comparison in compare.py only pairs numbers by position.
Coefficient names are rebuilt as Stata names them in e(b): a level row `1 2` under the
header `female#sized` is `1.female#2.sized`; a name printed twice gets ` (second)`.
"""
from __future__ import annotations

import re

from hlmshell.check.numbers import find_numbers

_STRUCT = re.compile(r"^(\S+)\s*:\s*(Identity|Independent|Exchangeable|Unstructured)\b")


def _num(text: str):
    nums = find_numbers(text, table=False)
    return nums[0].value if nums else None


def coef_name(group: str | None, label: str) -> str:
    """'female#sized' + '1 2' -> '1.female#2.sized'; 'sized#c.ses' + '2' -> '2.sized#c.ses'."""
    if not group or not re.fullmatch(r"[\d ]+", label):
        return label
    levels = label.split()
    out, k = [], 0
    for part in group.split("#"):
        if part.startswith("c.") or k >= len(levels):
            out.append(part)
        else:
            out.append(f"{levels[k]}.{part}")
            k += 1
    return "#".join(out)


_HEADER = (("N", r"Number of obs\s*=\s*(\S+)"), ("groups", r"Number of groups\s*=\s*(\S+)"),
           ("min", r"\bmin\s*=\s*(\S+)"), ("avg", r"\bavg\s*=\s*(\S+)"),
           ("max", r"\bmax\s*=\s*(\S+)"),
           ("ll", r"Log (?:restricted-)?likelihood\s*=\s*(\S+)"))
_LR = re.compile(r"LR test vs\. linear (?:model|regression):\s*(chibar2|chi2)\((\d+)\)\s*=\s*(\S+)")


class _MixedReader:
    """Reads a `mixed` output line by line: header statistics anywhere, then the rows of
    the coefficient table (section 'coef') and of the random-effects table ('re')."""

    def __init__(self):
        self.m: dict = {"coef": {}, "re": {}, "re_levels": {}, "notes": [], "warnings": []}
        self.section: str | None = None
        self.group: str | None = None      # factor header the level rows belong to
        self.pending = ""                  # a long header broken after `#`
        self.level: str | None = None      # random-effects level being read

    def line(self, raw: str) -> None:
        line = raw.rstrip()
        self._header(line)
        if "|" in line:
            self._table_row(line)

    def _header(self, line: str) -> None:
        m, s = self.m, line.strip()
        if s.startswith("note:"):
            m["notes"].append(s)
        if s.startswith("Warning:"):
            m["warnings"].append(s)
        for key, pat in _HEADER:
            mm = re.search(pat, line)
            if mm and "|" not in line and key not in m:
                m[key] = _num(mm.group(1))
        mm = re.search(r"Wald chi2\((\d+)\)\s*=\s*(\S+)", line)
        if mm:
            m["wald_df"], m["wald_chi2"] = int(mm.group(1)), _num(mm.group(2))
        mm = _LR.search(line)
        if mm:
            m["lr"] = {"stat": mm.group(1), "df": int(mm.group(2)), "value": _num(mm.group(3))}

    def _table_row(self, line: str) -> None:
        left, right = line.split("|", 1)
        label = " ".join(left.split())
        s = line.strip()
        if "Coefficient" in right or re.search(r"\bCoef\.", right):
            self.section, self.group, self.pending = "coef", None, ""
            return
        if "Random-effects parameters" in left:
            self.section, self.level = "re", None
            return
        if self.section is None or set(s) <= set("-+|"):
            if s == "|":
                self.group = None
            return
        if self.section == "coef":
            self._coef_row(label, right)
        else:
            self._re_row(label, right)

    def _coef_row(self, label: str, right: str) -> None:
        nums = find_numbers(right)
        omitted = re.search(r"\((omitted|base|empty)\)", right)
        if not nums and not omitted:
            if label.endswith("#"):
                self.pending += label
            elif label:
                self.group, self.pending = self.pending + label, ""
            return
        if self.pending:
            label, self.pending = self.pending + label, ""
        name = coef_name(self.group, label)
        if name == label and not re.fullmatch(r"[\d ]+", label):
            self.group = None
        if name in self.m["coef"]:
            name += " (second)"
        self.m["coef"][name] = omitted.group(1) if omitted else [n.value for n in nums]

    def _re_row(self, label: str, right: str) -> None:
        st = _STRUCT.match(label)
        if st:
            self.level = f"{st.group(1)}: {st.group(2)}"
            self.m["re_levels"][self.level] = []
            return
        nums = find_numbers(right)
        if nums:
            key = label.replace(" ", "")
            self.m["re"][key] = [n.value for n in nums]
            if key != "var(Residual)" and self.level:
                self.m["re_levels"][self.level].append(key)


def parse_mixed(lines: list[str]) -> dict:
    """Header, coefficient table, random-effects table and LR test of a `mixed` output."""
    reader = _MixedReader()
    for raw in lines:
        reader.line(raw)
    return reader.m


def parse_ic(lines: list[str]) -> list[dict]:
    """Rows of an `estat ic` / `estimates stats` table."""
    rows = []
    for line in lines:
        mm = re.match(r"^\s*(\S+)\s*\|\s*([\d,]+)\s+(\S+)\s+(\S+)\s+(\d+)\s+(\S+)\s+(\S+)\s*$", line)
        if mm:
            n = [_num(x) for x in mm.groups()[1:]]
            rows.append({"model": mm.group(1), "N": n[0], "ll_null": n[1], "ll_model": n[2],
                         "df": n[3], "AIC": n[4], "BIC": n[5]})
    return rows


def _chi2_result(text: str, stat: str, out: dict) -> dict:
    """df, chi2 and p of a `stat(df) = x` / `Prob > chi2 = p` pair (lrtest and test)."""
    mm = re.search(stat + r"\(\s*(\d+)\)\s*=\s*(\S+)", text)
    if mm:
        out["df"], out["chi2"] = int(mm.group(1)), _num(mm.group(2))
    mm = re.search(r"Prob > chi2\s*=\s*(\S+)", text)
    if mm:
        out["p"] = _num(mm.group(1))
    return out


def parse_lrtest(lines: list[str]) -> dict:
    text = "\n".join(lines)
    out: dict = {}
    mm = re.search(r"Assumption:\s*(.+)", text)
    if mm:
        out["assumption"] = mm.group(1).strip()
    return _chi2_result(text, r"LR chi2", out)


def parse_test(lines: list[str]) -> dict:
    text = "\n".join(lines)
    out: dict = {"constraints": [m.group(1).strip() for m in re.finditer(r"^\s*\(\s*\d+\)\s+(.+)$", text, re.M)]}
    return _chi2_result(text, r"(?<!LR )chi2", out)


def parse_tab(lines: list[str]) -> dict:
    """A one-way tabulate: the variable label above the rows, the rows and the total."""
    out: dict = {"label": "", "rows": [], "total": None}
    head: list[str] = []
    seen_rule = False
    for line in lines:
        if line.strip() and set(line.strip()) <= set("-+"):
            seen_rule = True
            continue
        if "|" not in line:
            continue
        left, right = line.split("|", 1)
        if not seen_rule:
            head.append(left.strip())
            continue
        nums = find_numbers(right)
        if left.strip() == "Total":
            out["total"] = nums[0].value if nums else None
        elif nums:
            out["rows"].append([_num(left.strip())] + [n.value for n in nums])
    pieces = [h for h in head if h]
    joined = ""
    for p in pieces:
        joined += p if (not joined or joined.endswith("=")) else " " + p
    out["label"] = joined
    return out
