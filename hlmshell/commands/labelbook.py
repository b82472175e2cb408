"""labelbook: a report on value labels ([D] labelbook), to check them before analysis.

    labelbook [lblname-list] [using filename] [, alpha length(#) list(#) problems detail]

For each value label (all of them by default): the range of its values and whether it has
gaps, how many values, extended missing values labelled, label lengths, whether the labels are
unique in full and in their first length() characters, empty labels, labels with leading or
trailing blanks, labels that are themselves numbers; then its definition (list(#) random
examples when it has more) and the variables it is attached to. `problems` lists the value
labels with each potential problem instead (add `detail` for both). r(names), r(gaps),
r(numeric), r(blanks), r(null), r(nuniq), r(nuniq_sh), r(notused) name the labels concerned.
"""
from __future__ import annotations

import math
import os

import numpy as np

from hlmshell.commands._toolkit import typed_args
from hlmshell.commands.files import split_using
from hlmshell.data.missing import missing_code, missing_str
from hlmshell.errors import StataError
from hlmshell.output.numfmt import fmt_g
from hlmshell.registry import Opt, command
from hlmshell.results import RResults

_WIDTH = 79
_MAXSTR = 2045


def _at(line: str, col: int, text: str) -> str:
    """Stata's _col(col) then text (1-based column; past it, the text just follows)."""
    return line.ljust(col - 1) + text


def _value_text(v: float) -> str:
    if math.isnan(v):
        return missing_str(v)
    return str(int(v)) if float(v).is_integer() else fmt_g(v).strip()


def _is_number(text: str) -> bool:
    try:
        return not math.isnan(float(text.strip())) and text.strip() != ""
    except ValueError:
        return False


def summary(mapping: dict[float, str], sh: int) -> dict:
    """The statistics labelbook reports about one value label."""
    values = sorted(mapping, key=lambda v: (math.isnan(v), int(missing_code(np.array([v]))[0]), v))
    labels = [mapping[v] for v in values]
    finite = [v for v in values if not math.isnan(v)]
    nmiss = len(values) - len(finite)
    lo, hi = (finite[0], finite[-1]) if finite else (math.nan, math.nan)
    lens = [len(lab.encode("utf-8")) for lab in labels]
    return {"values": values, "labels": labels, "n": len(values), "nmiss": nmiss,
            "min": lo, "max": hi, "gaps": bool(finite) and (hi - lo + 1) - len(finite) > 0,
            "lmin": min(lens), "lmax": max(lens),
            "unique": len(set(labels)) == len(labels),
            "unique_sh": len({lab[:sh] for lab in labels}) == len(labels),
            "null": any(not lab.strip() for lab in labels),
            "blanks": any(lab.strip() != lab for lab in labels),
            "numeric": any(_is_number(lab) for lab in labels)}


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _detail(out, name: str, st: dict, sh: int, nlist: int, variables: list[str]) -> None:
    out.line("")
    out.line("-" * _WIDTH)
    out.line(f"value label {name}")
    out.line("-" * _WIDTH)
    out.line("")
    out.line(_at(_at("", 7, "values"), 49, "labels"))
    rng = f"[{_value_text(st['min'])},{_value_text(st['max'])}]"
    out.line(_at(_at("", 8, f"range:  {rng}"), 42, f"string length:  [{st['lmin']},{st['lmax']}]"))
    out.line(_at(_at("", 12, f"N:  {st['n']}"), 34, f"unique at full length:  {_yes(st['unique'])}"))
    out.line(_at(_at("", 9, f"gaps:  {_yes(st['gaps'])}"), 36,
                 f"unique at length {sh}:".rjust(20) + f"  {_yes(st['unique_sh'])}"))
    out.line(_at(_at("", 3, f"missing .*:  {st['nmiss']}"), 44, f"null string:  {_yes(st['null'])}"))
    out.line(_at("", 32, f"leading/trailing blanks:  {_yes(st['blanks'])}"))
    out.line(_at("", 37, f"numeric -> numeric:  {_yes(st['numeric'])}"))
    if nlist > 0:
        out.line("  definition")
        show = range(st["n"])
        if st["n"] > nlist:
            out.line(_at("", 8, f"{nlist} random examples out of {st['n']} labels"))
            out.line("")
            show = sorted(np.random.default_rng().choice(st["n"], nlist, replace=False))
        for i in show:
            v, lab = _value_text(st["values"][i]), st["labels"][i]
            out.line(v.rjust(12) if not lab.strip() else f"{v.rjust(12)}   {lab}")
    out.line("")
    out.line(f"   variables:  {' '.join(variables)}".rstrip())
    out.line("")


def _problems(out, dataset: str, found: list[tuple[str, list[str]]]) -> None:
    out.line("")
    if not any(names for _t, names in found):
        out.line(f"no potential problems in dataset {dataset}")
        return
    out.line(f"   Potential problems in dataset   {dataset}")
    out.line("")
    out.line(_at("", 16, "potential problem   value labels"))
    vlen = max(len(" ".join(names)) for _t, names in found)
    rule = "-" * min(max(35 + vlen, 50), _WIDTH)
    out.line(rule)
    for text, names in found:
        if names:
            out.line(" " * (32 - len(text)) + text + "   " + " ".join(names))
    out.line(rule)


def _source(session, fname: str | None):
    if not fname:
        return session.data
    from hlmshell.data.dta import read_dta
    from hlmshell.data.locate import find_data
    return read_dta(find_data(fname))


@command("labelbook", byable=False, qualifiers="", body="anything", using="optional", exp="none",
         changes_data=False, family="Data management", desc="report on value labels",
         example="labelbook, problems",
         options=(Opt("alpha", "a", desc="list the labels in alphabetical order of the label text"),
                  Opt("length", "le", "int", 12, "check uniqueness of the labels' first # characters"),
                  Opt("list", "li", "int", 32000, "list at most # labels of each value label"),
                  Opt("problems", "p", desc="list the potential problems"),
                  Opt("detail", "d", desc="the detailed report also with problems")))
def labelbook_cmd(session, cmd):
    opts = typed_args(cmd)
    body, fname = split_using(cmd.body or "")
    sh = int(opts.length)
    if not 1 <= sh <= _MAXSTR:
        raise StataError(f"length() should be in range [1,{_MAXSTR}]", 198)
    if opts.list < 0:
        raise StataError("list() should be positive", 198)
    ds = _source(session, fname)
    names = body.split() or sorted(ds.value_labels)
    missing = next((n for n in names if n not in ds.value_labels), None)
    if missing:
        raise StataError(f"value label {missing} not found", 111)
    attached = {n: [v.name for v in ds.vars.values() if v.vallab == n] for n in names}
    stats = {n: summary(ds.value_labels[n], sh) for n in names if ds.value_labels[n]}
    order = sorted(stats)
    if opts.detail or not opts.problems:
        for n in order:
            st = _alphabetical(stats[n]) if opts.alpha else stats[n]
            _detail(session.out, n, st, sh, int(opts.list), attached[n])
    found = _problem_lists(stats, order, attached)
    if opts.problems:
        dataset = os.path.basename(ds.filename) if ds.filename else "[unnamed]"
        _problems(session.out, dataset, [
            ("numeric -> numeric", found["numeric"]), ("gaps in mapped values", found["gaps"]),
            ("leading or trailing blanks", found["blanks"]), ("numeric -> null str", found["null"]),
            ("duplicate labels", found["nuniq"]), (f"duplicate lab. at length {sh}", found["nuniq_sh"]),
            ("not used by variables", found["notused"])])
    macros = {k: " ".join(v) for k, v in found.items() if v}
    if order:
        macros["names"] = " ".join(order)
    session.r = RResults(macros=macros)


def _alphabetical(st: dict) -> dict:
    pairs = sorted(zip(st["labels"], st["values"]), key=lambda p: (p[0], p[1]))
    return dict(st, labels=[p[0] for p in pairs], values=[p[1] for p in pairs])


def _problem_lists(stats: dict, order: list[str], attached: dict) -> dict[str, list[str]]:
    """The value labels with each potential problem (r(gaps), r(numeric), ...)."""
    def having(key, want=True):
        return [n for n in order if stats[n][key] == want]
    return {"numeric": having("numeric"), "gaps": having("gaps"), "blanks": having("blanks"),
            "null": having("null"), "nuniq": having("unique", False),
            "nuniq_sh": having("unique_sh", False),
            "notused": sorted(n for n in order if not attached[n])}
