"""recode: map values through rules like (1 2=1) (3/5=2) (min/499=1) (missing=.) (else=0).

Follows Stata's recode.ado: ordinary rules are tried in order and the first match wins;
the `else`/`*`, `missing`, `nonmissing` rules come last and apply to what no ordinary rule
matched; values nothing matches keep their value. Variables stored as byte/int/float are
compared in float precision. With generate() the new variable is labelled
`RECODE of x` (plus ` (old label)` when x has one) and the report is
`(N differences between x and newx)`; in place it is `(x: N changes made)`, N counted over
the if/in sample (Stata 17 prints it with a thousands separator: `(7,185 differences ...)`).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np

from hlmshell.commands import generate as g
from hlmshell.registry import Args, Opt, command
from hlmshell.data.dataset import DEFAULT_FORMATS, Variable
from hlmshell.data.missing import order_key, parse_missing
from hlmshell.errors import StataError
from hlmshell.commands.labels import tokens

_MISSTOK = re.compile(r"\.[a-z]?$")
_TOKEN = re.compile(r'`"(.*?)"\'|"([^"]*)"|([()/=])|([^\s()/="]+)', re.S)
_KEYS = ("else", "missing", "nonmissing")


def _err(msg: str, rc: int = 198) -> StataError:
    return StataError(msg, rc)


@dataclass
class Rule:
    items: list[tuple] = field(default_factory=list)   # ('num', el) | ('range', lo_el, hi_el)
    target: str = ""                                    # a number, '.', '.a', 'min' or 'max'
    label: str | None = None


@dataclass
class Rules:
    ordinary: list[Rule] = field(default_factory=list)
    other: dict[str, Rule] = field(default_factory=dict)   # else / missing / nonmissing

    @property
    def labels(self) -> list[tuple[str, str]]:
        out = [(r.target, r.label) for r in self.ordinary if r.label is not None]
        out += [(self.other[k].target, self.other[k].label) for k in _KEYS
                if k in self.other and self.other[k].label is not None]
        return out


def _el(tok: str) -> str:
    """recode.ado's GetEl: a number, a missing code, or min/max."""
    if tok in ("min", "max") or _MISSTOK.match(tok):
        return tok
    try:
        v = float(tok)
    except ValueError:
        v = float("nan")
    if not math.isfinite(v):    # also Python's 'nan'/'inf' spellings and 1e400, no Stata numbers
        raise _err(f"unknown el {tok} in rule")
    return tok


def _keyword(tok: str) -> str | None:
    if tok in ("*", "else"):
        return "else"
    if len(tok) >= 3 and "missing".startswith(tok):
        return "missing"
    if len(tok) >= 4 and "nonmissing".startswith(tok):
        return "nonmissing"
    return None


def tokenize(text: str) -> list[tuple[str, bool]]:
    return tokens(text, _TOKEN)


def _rule_tail(toks, parens: bool, rule: Rule, j: int) -> int:
    """After a rule's target: an optional "label", then `)` and `(` or the end (parenthesized
    rules only). Returns the index after them."""
    if not parens:
        return j
    if j < len(toks) and toks[j][0] != ")" and j + 1 < len(toks) and toks[j + 1][0] == ")":
        rule.label = toks[j][0]
        j += 1
    got = toks[j][0] if j < len(toks) else ""
    if got != ")":
        raise _err(f') expected, "{got}" found')
    nxt = toks[j + 1][0] if j + 1 < len(toks) else ""
    if nxt not in ("", "("):
        raise _err(f'( expected, "{nxt}" found')
    return j + 2


def _ordinary_rules(toks, i: int, parens: bool) -> tuple[list[Rule], int]:
    """`numlist = el` rules up to the first keyword rule; returns them and where they end."""
    out: list[Rule] = []
    cur = Rule()
    while i < len(toks) and _keyword(toks[i][0]) is None:
        tok = toks[i][0]
        if tok == "=":
            if not cur.items:
                raise _err('transformation rule without "condition" part')
            if i + 1 >= len(toks):
                raise _err("invalid syntax")
            cur.target = _el(toks[i + 1][0])
            i = _rule_tail(toks, parens, cur, i + 2)
            out.append(cur)
            cur = Rule()
            continue
        if toks[i][1] or tok in ("(", ")", "/"):
            raise _err("invalid syntax")
        lo = _el(tok)
        if i + 1 < len(toks) and toks[i + 1][0] == "/":
            if i + 2 >= len(toks):
                raise _err("invalid syntax")
            cur.items.append(("range", lo, _el(toks[i + 2][0])))
            i += 3
        else:
            cur.items.append(("num", lo))
            i += 1
    if cur.items:
        raise _err("invalid syntax")
    return out, i


def _keyword_rules(toks, i: int, parens: bool) -> dict[str, Rule]:
    """The `else`/`missing`/`nonmissing` rules that must close the list, each at most once."""
    other: dict[str, Rule] = {}
    while i < len(toks):
        key = _keyword(toks[i][0])
        if key is None:
            raise _err(f"unknown keyword {toks[i][0]}")
        if key in other:
            raise _err(f"multiple specification of keyword {key}")
        if i + 1 >= len(toks) or toks[i + 1][0] != "=":
            raise _err("= expected")
        if i + 2 >= len(toks):
            raise _err("invalid syntax")
        r = Rule(target=_el(toks[i + 2][0]))
        i = _rule_tail(toks, parens, r, i + 3)
        other[key] = r
    return other


def parse_rules(text: str, parens: bool) -> Rules:
    """The rules part of the command (after the varlist), parsed as recode.ado does."""
    toks = tokenize(text)
    i = 0
    if parens:
        if not toks or toks[0][0] != "(":
            raise _err("rules expected")
        i = 1
    ordinary, i = _ordinary_rules(toks, i, parens)
    rules = Rules(ordinary, _keyword_rules(toks, i, parens))
    if "else" in rules.other and ("missing" in rules.other or "nonmissing" in rules.other):
        raise _err("keywords else/* and missing/nonmissing may not be combined")
    if not rules.ordinary and not rules.other:
        raise _err("rules expected")
    return rules


def split_spec(body: str) -> tuple[str, str, bool]:
    """'x y (1=2) (2=1)' -> ('x y', '(1=2) (2=1)', True); old syntax 'x 1=2 2=1' -> ('x', ..., False)."""
    body = body.strip()
    if body.startswith("("):
        raise _err("too few variables specified", 102)
    i = body.find("(")
    if i >= 0:
        return body[:i].strip(), body[i:], True
    words = body.split(None, 1)
    if not words:
        raise _err("varlist required", 100)
    return words[0], (words[1] if len(words) > 1 else ""), False


# --- applying the rules ----------------------------------------------------------------------
def _value(el: str, stats: dict) -> float:
    if el in ("min", "max"):
        return stats[el]
    if _MISSTOK.match(el):
        return parse_missing(el)
    return float(el)


def _f(x):
    """float() of Stata: round numbers to float precision, keep missing codes."""
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        r = x.astype(np.float32).astype(np.float64)
    return np.where(np.isnan(x), x, r)


def apply_rules(values: np.ndarray, rules: Rules, touse: np.ndarray, use_float: bool):
    """(new values (double) over touse, number of changed obs in touse); None when min/max
    rules meet a variable with no nonmissing value in the sample (Stata then changes nothing)."""
    v = np.asarray(values, dtype=np.float64)
    ok = touse & ~np.isnan(v)
    stats = {}
    uses_stats = any(el in ("min", "max") for r in rules.ordinary + list(rules.other.values())
                     for el in [r.target] + [e for it in r.items for e in it[1:]])
    if uses_stats:
        if not ok.any():
            return None
        stats = {"min": float(v[ok].min()), "max": float(v[ok].max())}
    cmp = _f(v) if use_float else v
    key = order_key(cmp)
    new = np.where(touse, v, np.nan)
    other = touse.copy()
    for r in rules.ordinary:
        m = np.zeros(len(v), dtype=bool)
        for it in r.items:
            if it[0] == "num":
                val = _value(it[1], stats)
                m |= key == order_key(_f(val) if use_float else np.float64(val))
            else:
                lo, hi = (_value(e, stats) for e in it[1:])
                if use_float:
                    lo, hi = _f(lo), _f(hi)
                m |= (key >= order_key(lo)) & (key <= order_key(hi))
        m &= other
        new[m] = _value(r.target, stats)
        other &= ~m
    miss = np.isnan(v)
    for k, sel in (("else", other), ("missing", other & miss), ("nonmissing", other & ~miss)):
        if k in rules.other:
            new[sel] = _value(rules.other[k].target, stats)
    if use_float:
        diff = ~g.same_values(_f(v), _f(new))
    else:
        diff = ~g.same_values(v, new)
    return new, int((diff & touse).sum())


@command("recode", exp=False, byable=False, qualifiers="if in",
          family="Data management", body="anything", desc="recode categorical variables", example="recode sector (0=1) (1=0), generate(sector2)",
          options=(Opt("copyrest", "copy", desc="copy out-of-sample values from the original variables"),
                   Opt("debug", desc="accepted for compatibility (no effect)"),
                   Opt("generate", "g", "varlist", desc="new variables holding the recoded values"),
                   Opt("into", "in", "varlist", desc="synonym for generate()"),
                   Opt("label", "l", "string", desc="name of the value label the rules' texts define"),
                   Opt("prefix", "pre", "string", desc="new variables named prefix plus the old names"),
                   Opt("test", "t", desc="accepted for compatibility (no effect)")))
def recode(session, cmd):
    g.no_weights(cmd)
    ds = session.data
    opts = g.strict_args(cmd)
    head, rule_text, parens = split_spec(cmd.body)
    names = _source_vars(session, head, parens)
    if not rule_text.strip():
        raise _err("rules expected")
    newnames = _target_names(session, names, opts)
    label, disallowed = _label_plan(ds, names, newnames, opts.label or "")
    rules = parse_rules(rule_text, parens)
    _check_label_rules(rules, disallowed)
    touse = g.sample(session, cmd)
    copy_rest = opts.copyrest or not newnames
    results = [(nm, *_recoded(ds.var(nm), rules, touse, copy_rest)) for nm in names]
    for i, (nm, _, nchg) in enumerate(results):
        if newnames:
            session.out.line(f"({nchg:,} differences between {nm} and {newnames[i]})")
        else:
            session.out.line(f"({nm}: {nchg:,} changes made)")
    _define_labels(ds, rules, label)
    for i, (nm, new, _) in enumerate(results):
        if newnames:
            _store_new(session, nm, newnames[i], new, label if rules.labels else None)
        else:
            _store_in_place(ds, nm, new)
    ds.changed = True


def _source_vars(session, head: str, parens: bool) -> list[str]:
    """The variables to recode: numeric, and only one with the old (unparenthesized) syntax."""
    names = g.varlist(session, head)
    if not parens and len(names) > 1:
        raise _err("too many variables specified", 103)
    for nm in names:
        if session.data.var(nm).is_string:
            raise _err("recode only allows numeric variables", 108)
    return names


def _target_names(session, names: list[str], opts: Args) -> list[str]:
    """New variables from prefix() or generate()/into() (none: recode in place)."""
    gen, into, prefix = opts.generate or [], opts.into or [], opts.prefix or ""
    if prefix:
        if gen or into:
            raise _err("option prefix() may not be combined with generate() or into()")
        return [_prefixed(session.data, prefix + nm) for nm in names]
    if gen and into:
        raise _err("options generate() and into() are synonyms")
    newnames = list(gen or into)
    for nn in newnames:
        g.check_newname(session, nn)
    if len(set(newnames)) != len(newnames):
        raise _err("invalid syntax")
    if newnames and len(newnames) != len(names):
        raise _err("the number of new and transformed varnames should be the same")
    return newnames


def _prefixed(ds, nn: str) -> str:
    if not g._NAME.match(nn) or len(nn) > 32:
        raise _err(f"{nn} invalid variable name")
    if nn in ds:
        raise _err(f"variable {nn} already exists", 110)
    return nn


def _label_plan(ds, names: list[str], newnames: list[str], label: str) -> tuple[str, int]:
    """The value label the rules' texts go into, and why rules may not define one:
    0 allowed, 1 several variables without label(), 2 recoding in place, 3 a label already
    named after the new variable."""
    if label:
        if not newnames:
            raise _err("option label() allowed only with generate()")
        if not g._NAME.match(label):
            raise _err(f"{label} invalid name")
        return label, 0
    if not newnames:
        return label, 2
    if len(names) == 1:
        return newnames[0], (3 if newnames[0] in ds.value_labels else 0)
    return label, 1


_LABEL_REFUSALS = {
    1: "Rules defining value labels not allowed with labeled recode of multiple vars, option "
       "label() required",
    2: "Rules defining value labels not allowed when overwriting a variable",
    3: "impossible to create label() named after variable",
}


def _check_label_rules(rules: Rules, disallowed: int) -> None:
    for target, _ in rules.labels:
        if disallowed:
            raise _err(_LABEL_REFUSALS[disallowed])
        if _MISSTOK.match(target):
            raise _err(f"Value label not allowed for missing value code {target}")
        if target not in ("min", "max") and float(target) != int(float(target)):
            raise _err(f"Value label not allowed for noninteger {target}")


def _recoded(src, rules: Rules, touse: np.ndarray, copy_rest: bool) -> tuple[np.ndarray, int]:
    """One variable's new values (outside the sample: its old ones when copying the rest)
    and how many observations of the sample changed."""
    got = apply_rules(src.values, rules, touse, src.vtype not in ("double", "long"))
    if got is None:
        return src.values.astype(np.float64).copy(), 0
    new, nchg = got
    if copy_rest:
        new = np.where(touse, new, src.values)
    return new, nchg


def _define_labels(ds, rules: Rules, label: str) -> None:
    if not rules.labels:
        return
    lab = ds.value_labels.setdefault(label, {})
    for target, text in rules.labels:
        if target in ("min", "max"):
            continue  # needs the per-variable statistic; rare enough to leave unlabelled
        lab[float(target)] = text


def _store_new(session, nm: str, newname: str, new: np.ndarray, vallab: str | None) -> None:
    """gen newvar = NEW (default type), then recast to the old type when lossless."""
    ds = session.data
    src = ds.var(nm)
    vtype = g.default_type(session)
    vals = g.store(new, vtype)
    if src.vtype != vtype and np.all(g.same_values(g.store(vals, src.vtype), vals)):
        vtype = src.vtype
        vals = g.store(vals, vtype)
    vlab = f"RECODE of {nm}" + (f" ({src.label})" if src.label else "")
    ds.add(Variable(newname, vals, vtype, label=vlab[:80], vallab=vallab))


def _store_in_place(ds, nm: str, new: np.ndarray) -> None:
    src = ds.var(nm)
    vtype = g.numeric_type_needed(src.vtype, new)
    vals = g.store(new, vtype)
    if not np.all(g.same_values(vals, src.values)) and nm in ds.sortedby:
        ds.sortedby = ds.sortedby[:ds.sortedby.index(nm)]
    fmt = src.format
    if vtype != src.vtype and src.format in DEFAULT_FORMATS.values():
        fmt = DEFAULT_FORMATS[vtype]
    ds.update(nm, values=vals, vtype=vtype, format=fmt)
