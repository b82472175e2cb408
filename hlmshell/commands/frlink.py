"""frlink and frget: link the current frame to another by key variables, copy variables across.

    frlink {1:1|m:1} varlist1, frame(frame2 [varlist2]) [generate(newvar)]
    frget varlist, from(linkvar) [prefix() suffix() exclude()]
    frget newvar = varname, from(linkvar)

As Stata 17 does it: frame2 is sorted by its keys, which must identify its observations (and,
for 1:1, the current frame's); the new link variable (named after frame2 by default) holds the
number of the matching observation of frame2, missing when none matches, and records the
link in its characteristics (frlink_fname2, frlink_vl2p, ...), which frget reads. Missing key
values match missing key values, as in merge.
"""
from __future__ import annotations

import re

import numpy as np

from hlmshell.commands._toolkit import check_name, sort_keys, varlist
from hlmshell.commands.frames import current, dataset_of, names as frame_names
from hlmshell.data.dataset import Variable
from hlmshell.errors import StataError, syntax_error
from hlmshell.registry import abbrev_match, command
from hlmshell.results import RResults
from hlmshell.syntax.lexer import find_top
from hlmshell.syntax.parser import parse_options
from hlmshell.syntax.varlist import expand_varlist

# ---- frlink ----------------------------------------------------------------------------------
@command("frlink", byable=False, raw=True, family="Data management",
         desc="link the current frame to another frame by key variables",
         example="frlink m:1 id, frame(schools)")
def frlink_cmd(session, cmd):
    text = cmd.body.strip()
    m = re.match(r"(1:1|m:1)\s+(.*)$", text, re.S)
    if not m:
        raise StataError("1:1 or m:1 required after frlink" if text else "invalid syntax", 198)
    mtype, rest = m.group(1), m.group(2)
    comma = find_top(rest, ",")
    if comma < 0:
        raise StataError("option frame() required", 198)
    keys1 = varlist(session, rest[:comma], all_if_empty=False)
    if not keys1:
        raise StataError("varlist required", 100)
    frame2, keys2, gen = _frlink_options(session, rest[comma + 1:], keys1)
    if gen in session.data.vars:
        raise StataError(f"variable {gen} already exists", 110)
    check_name(gen)
    data2 = dataset_of(session, frame2)
    _check_types(session.data, keys1, data2, keys2)
    link = _link(session, mtype, keys1, frame2, keys2)
    _store_link(session, gen, link, mtype, keys1, frame2, keys2)
    _report(session, link)


def _frlink_options(session, text: str, keys1: list[str]):
    frame_opt, gen = None, None
    for o in parse_options(text):
        if abbrev_match(o.name, "frame", 2) and o.arg is not None:
            frame_opt = o.arg
        elif abbrev_match(o.name, "generate", 3) and o.arg is not None:
            gen = o.arg.strip()
        else:
            raise StataError(f"option {o.name} not allowed", 198)
    if frame_opt is None or not frame_opt.split():
        raise StataError("option frame() required", 198)
    frame2, *rest = frame_opt.split()
    if frame2 not in frame_names(session):
        raise StataError(f"frame {frame2} not found", 111)
    if frame2 == current(session):
        raise StataError(f"frame {frame2} is the current frame; link to another frame", 198)
    data2 = dataset_of(session, frame2)
    if rest:
        keys2 = expand_varlist(data2, " ".join(rest))
        if len(keys2) != len(keys1):
            raise StataError("variables misspecified: one variable in frame() for each key "
                             "variable", 198)
    else:
        missing = [k for k in keys1 if k not in data2.vars]
        if missing:
            raise StataError(f"variable {missing[0]} not found in frame {frame2}", 111)
        keys2 = list(keys1)
    return frame2, keys2, gen or frame2


def _check_types(data1, keys1, data2, keys2) -> None:
    for k1, k2 in zip(keys1, keys2):
        if data1.var(k1).is_string != data2.var(k2).is_string:
            name = k1 if k1 == k2 else f"{k1}/{k2}"
            raise StataError(f"{name} variable types mismatch", 459)


def _rows(data, keys) -> list[tuple]:
    """One hashable key per observation; missing values keep their code (. is not .a)."""
    cols = []
    for k in keys:
        v = data.var(k)
        if v.is_string:
            cols.append([str(x) for x in v.values])
        else:
            vals = np.asarray(v.values, dtype=float)
            cols.append([("miss", x.tobytes()) if np.isnan(x) else float(x) for x in vals])
    return list(zip(*cols)) if cols else []


def _link(session, mtype, keys1, frame2, keys2) -> np.ndarray:
    data1 = session.data
    if mtype == "1:1" and len(set(_rows(data1, keys1))) != data1.n:
        what = f"variable {keys1[0]} does" if len(keys1) == 1 else f"variables {' '.join(keys1)} do"
        raise StataError(f"invalid match variables for 1:1 match; the {what} not uniquely "
                         f"identify the observations in frame {current(session)}", 459)
    data2 = dataset_of(session, frame2)
    order = sort_keys(data2, keys2)
    data2.take(order)                      # Stata's frlink leaves frame2 sorted by its keys
    data2.sortedby = list(keys2)
    lookup: dict = {}
    for i, key in enumerate(_rows(data2, keys2)):
        if key in lookup:
            raise StataError(f"invalid match variables for 1:1 or m:1 match; the variables do "
                             f"not uniquely identify the observations in frame {frame2}", 459)
        lookup[key] = i + 1
    return np.array([lookup.get(key, np.nan) for key in _rows(data1, keys1)], dtype=float)


def _store_link(session, gen, link, mtype, keys1, frame2, keys2) -> None:
    top = np.nanmax(link) if np.isfinite(link).any() else 0
    vtype = "byte" if top <= 100 else "int" if top <= 32740 else "long"
    chars = {"frlink_ver": "1", "frlink_mtyp": mtype, "frlink_fname1": current(session),
             "frlink_fname2": frame2, "frlink_vl1": " ".join(keys1),
             "frlink_vl2": "" if keys2 == keys1 else " ".join(keys2),
             "frlink_vl2p": " ".join(keys2), "frlink_gen": gen,
             "frlink_N2": str(dataset_of(session, frame2).n)}
    data = session.data
    data.vars[gen] = Variable(gen, link, vtype, chars={k: v for k, v in chars.items() if v})
    data.changed = True


def _report(session, link: np.ndarray) -> None:
    unmatched = int(np.isnan(link).sum())
    frame1 = current(session)
    if unmatched == 0:
        session.out.line(f"  (all observations in frame {frame1} matched)")
    elif unmatched == len(link):
        session.out.line(f"  (no observations in {frame1} matched!)")
    else:
        s = "" if unmatched == 1 else "s"
        session.out.line(f"  ({unmatched:,} observation{s} in frame {frame1} unmatched)")
    session.r = RResults(scalars={"unmatched": float(unmatched)})


# ---- frget ------------------------------------------------------------------------------------
@command("frget", byable=False, raw=True, family="Data management",
         desc="copy variables from a linked frame", example="frget meanses, from(schools)")
def frget_cmd(session, cmd):
    text = cmd.body.strip()
    comma = find_top(text, ",")
    if comma < 0:
        raise StataError("option from() required", 198)
    main, opts = text[:comma].strip(), _frget_options(text[comma + 1:])
    if "from" not in opts:
        raise StataError("option from() required", 198)
    linkvar = varlist(session, opts["from"], all_if_empty=False)
    if len(linkvar) != 1:
        raise syntax_error()
    link = session.data.var(linkvar[0])
    frame2 = link.chars.get("frlink_fname2", "")
    if not frame2:
        raise StataError(f"variable {linkvar[0]} not created by frlink", 198)
    if frame2 not in frame_names(session):
        raise StataError(f"frame {frame2} not found", 111)
    data2 = dataset_of(session, frame2)
    pairs, excluded = _pairs(session, main, opts, data2, link.chars.get("frlink_vl2p", "").split())
    for new, _ in pairs:
        if new in session.data.vars:
            raise StataError(f"variable {new} already defined", 110)
        check_name(new)
    idx = np.asarray(link.values, dtype=float)
    for new, src in pairs:
        _copy_var(session, data2, src, new, idx)
    k = len(pairs)
    session.out.line(f"({k} variable{'' if k == 1 else 's'} copied from linked frame)")
    session.r = RResults(scalars={"k": float(k)},
                         macros={"newlist": " ".join(n for n, _ in pairs),
                                 "srclist": " ".join(s for _, s in pairs),
                                 "excluded": " ".join(excluded)})


def _frget_options(text: str) -> dict:
    out = {}
    for o in parse_options(text):
        full = next((f for f, n in (("from", 4), ("prefix", 3), ("suffix", 3), ("exclude", 2))
                     if abbrev_match(o.name, f, n)), None)
        if full is None or o.arg is None:
            raise StataError(f"option {o.name} not allowed", 198)
        out[full] = o.arg.strip()
    return out


def _pairs(session, main: str, opts: dict, data2, match: list[str]):
    m = re.fullmatch(r"([^\W\d]\w*)\s*=\s*(\S+)", main)
    if m:
        if any(k in opts for k in ("prefix", "suffix", "exclude")):
            raise StataError("options prefix(), suffix() and exclude() not allowed with "
                             "newvar = varname", 198)
        (src,) = expand_varlist(data2, m.group(2))[:1] or [None]
        if src is None:
            raise syntax_error()
        return [(m.group(1), src)], []
    if not main:
        raise StataError("varlist required", 100)
    wanted = expand_varlist(data2, main)
    drop = set(expand_varlist(data2, opts["exclude"])) if opts.get("exclude") else set()
    drop |= {k for k in match if k in wanted and main.split() != [k]}
    kept = [v for v in wanted if v not in drop]
    pre, suf = opts.get("prefix", ""), opts.get("suffix", "")
    return [(f"{pre}{v}{suf}", v) for v in kept], [v for v in wanted if v in drop]


def _copy_var(session, data2, src: str, new: str, idx: np.ndarray) -> None:
    v = data2.var(src)
    ok = ~np.isnan(idx)
    rows = np.where(ok, idx, 1).astype(np.int64) - 1
    if v.is_string:
        values = np.where(ok, v.values[rows] if data2.n else "", "").astype(object)
        missing = int((values == "").sum())
    else:
        values = np.where(ok, v.values[rows] if data2.n else np.nan, np.nan)
        missing = int(np.isnan(values).sum())
    data = session.data
    if v.vallab and v.vallab in data2.value_labels and v.vallab not in data.value_labels:
        data.value_labels[v.vallab] = dict(data2.value_labels[v.vallab])
    data.vars[new] = Variable(new, values, v.vtype, v.format, v.label, v.vallab)
    data.changed = True
    if missing:
        session.out.line(f"({missing:,} missing value{'' if missing == 1 else 's'} generated)")

