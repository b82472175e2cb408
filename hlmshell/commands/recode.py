"""recode: map values through rules like (1 2=1) (3/5=2) (min/499=1) (missing=.) (else=0).

Rules are tried in order and the first one an observation matches wins; values no rule
matches keep their value. With generate() the result goes to a new variable labelled
`RECODE of x` and Stata reports `(N differences between x and newx)`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from hlmshell.commands import generate as g
from hlmshell.commands.options import OptionSpec
from hlmshell.commands.registry import command
from hlmshell.data.dataset import Variable
from hlmshell.data.missing import missing_code, parse_missing
from hlmshell.errors import StataError, syntax_error

_MISSTOK = re.compile(r"\.[a-z]?$")


@dataclass
class Rule:
    # each item: ('num', v) | ('range', lo, hi) | ('miss', code) | ('missing',) |
    # ('nonmissing',) | ('else',)
    items: list[tuple] = field(default_factory=list)
    target: float = 0.0
    label: str | None = None


def _number(tok: str) -> float:
    if _MISSTOK.match(tok):
        return parse_missing(tok)
    try:
        return float(tok)
    except ValueError:
        raise StataError(f"unknown el {tok} in rule", 198) from None


def parse_rule(text: str) -> Rule:
    """One rule's text (without parentheses): `1 2 3/5 = 9 "label"`."""
    lhs, eq, rhs = text.partition("=")
    if not eq or not lhs.strip() or not rhs.strip():
        raise syntax_error()
    rule = Rule()
    m = re.match(r'\s*(\S+)\s*(?:"(.*)"|`"(.*)"\')?\s*$', rhs, re.S)
    if not m:
        raise syntax_error()
    tok = m.group(1)
    if tok in ("missing", "nonmissing", "else", "*", "min", "max"):
        raise syntax_error()
    rule.target = _number(tok)
    rule.label = m.group(2) if m.group(2) is not None else m.group(3)
    lhs = re.sub(r"\s*/\s*", "/", lhs.strip())
    for w in lhs.split():
        if w in ("missing", "nonmissing", "else", "*"):
            rule.items.append(("else",) if w == "*" else (w,))
        elif "/" in w:
            a, b = w.split("/", 1)
            lo = -np.inf if a == "min" else _number(a)
            hi = np.inf if b == "max" else _number(b)
            rule.items.append(("range", lo, hi))
        elif w == "min":
            rule.items.append(("range", -np.inf, -np.inf, "min"))
        elif w == "max":
            rule.items.append(("range", np.inf, np.inf, "max"))
        elif _MISSTOK.match(w):
            rule.items.append(("miss", int(missing_code(np.array([parse_missing(w)]))[0])))
        else:
            rule.items.append(("num", _number(w)))
    return rule


def split_body(body: str) -> tuple[str, list[str]]:
    """'x y (1=2) (2=1 "a (b)")' -> ('x y', ['1=2', '2=1 "a (b)"'])."""
    i = body.find("(")
    if i < 0:
        # old syntax: recode x 1=2 2=3
        words = body.split()
        vars_ = [w for w in words if "=" not in w]
        rules = [w for w in words if "=" in w]
        return " ".join(vars_), rules
    head, rest = body[:i], body[i:]
    rules: list[str] = []
    depth, buf, quote = 0, "", False
    for ch in rest:
        if ch == '"':
            quote = not quote
        if not quote and ch == "(":
            depth += 1
            if depth == 1:
                buf = ""
                continue
        if not quote and ch == ")":
            depth -= 1
            if depth == 0:
                rules.append(buf.strip())
                continue
        if depth >= 1:
            buf += ch
        elif not ch.isspace():
            raise syntax_error()
    if depth != 0 or quote:
        raise syntax_error()
    return head, rules


def apply_rules(values: np.ndarray, rules: list[Rule], touse: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """New values and a mask of the observations some rule matched (first match wins)."""
    v = np.asarray(values, dtype=np.float64)
    nan = np.isnan(v)
    code = missing_code(v)
    ok = touse & ~nan
    vmin = v[ok].min() if ok.any() else np.nan
    vmax = v[ok].max() if ok.any() else np.nan
    out = v.copy()
    done = np.zeros(len(v), dtype=bool)
    with np.errstate(invalid="ignore"):
        for r in rules:
            m = np.zeros(len(v), dtype=bool)
            for it in r.items:
                kind = it[0]
                if kind == "num":
                    m |= ~nan & (v == it[1])
                elif kind == "range":
                    lo, hi = it[1], it[2]
                    if len(it) == 4:
                        lo = hi = vmin if it[3] == "min" else vmax
                    lo = vmin if lo == -np.inf else lo
                    hi = vmax if hi == np.inf else hi
                    m |= ~nan & (v >= lo) & (v <= hi)
                elif kind == "miss":
                    m |= code == it[1]
                elif kind == "missing":
                    m |= nan
                elif kind == "nonmissing":
                    m |= ~nan
                else:  # else
                    m |= True
            m &= touse & ~done
            out[m] = r.target
            done |= m
    return out, done


@command("recode", exp=False)
def recode(session, cmd):
    ds = session.data
    opts = OptionSpec("generate(g)= prefix(pre)= label= copyrest test").parse(cmd.options)
    head, rule_texts = split_body(cmd.body)
    names = g.varlist(session, head)
    if not rule_texts:
        raise syntax_error()
    rules = [parse_rule(t) for t in rule_texts]
    for r in rules[:-1]:
        if any(it[0] == "else" for it in r.items):
            raise StataError("rule else must be the last rule", 198)
    for nm in names:
        if ds.var(nm).is_string:
            raise StataError(f"string variables not allowed in varlist;\n{nm} is a string variable", 109)
    if opts.get("generate") and opts.get("prefix"):
        raise StataError("options generate() and prefix() may not be combined", 198)
    newnames = None
    if opts.get("generate"):
        newnames = opts["generate"].split()
        if len(newnames) != len(names):
            raise StataError("too few names specified" if len(newnames) < len(names)
                             else "too many names specified", 198)
    elif opts.get("prefix"):
        newnames = [opts["prefix"] + nm for nm in names]
    if newnames:
        for nn in newnames:
            g.check_newname(session, nn)
        if len(set(newnames)) != len(newnames):
            raise StataError(f"variable {newnames[0]} already defined", 110)
    elif "copyrest" in opts:
        raise StataError("option copyrest may only be specified with generate() or prefix()", 198)

    labels = {r.target: r.label for r in rules if r.label is not None}
    touse = g.sample(session, cmd)
    msgs = []
    for i, nm in enumerate(names):
        src = ds.var(nm)
        new, _ = apply_rules(src.values, rules, touse)
        if newnames:
            if "copyrest" not in opts:
                new = np.where(touse, new, np.nan)
            vtype = g.numeric_type_needed(src.vtype, new)
            vals = g.store(new, vtype)
            lblname = (opts.get("label") or newnames[i]) if labels else None
            if lblname:
                ds.value_labels.setdefault(lblname, {}).update(labels)
            var = Variable(newnames[i], vals, vtype, label=f"RECODE of {nm}", vallab=lblname)
            ds.add(var)
            ndiff = int((~g.same_values(vals, src.values)).sum())
            msgs.append(f"({g.plural(ndiff, 'difference', 'differences')} between {nm} and {newnames[i]})")
        else:
            vtype = g.numeric_type_needed(src.vtype, new)
            vals = g.store(new, vtype)
            nchg = int((~g.same_values(vals, src.values)).sum())
            if labels:
                lblname = opts.get("label") or src.vallab or nm
                ds.value_labels.setdefault(lblname, {}).update(labels)
                src.vallab = lblname
            if vtype != src.vtype:
                from hlmshell.data.dataset import DEFAULT_FORMATS

                if src.format in DEFAULT_FORMATS.values():
                    src.format = DEFAULT_FORMATS[vtype]
                src.vtype = vtype
            src.values = vals
            if nchg and nm in ds.sortedby:
                ds.sortedby = ds.sortedby[:ds.sortedby.index(nm)]
            msgs.append(f"({nm}: {g.plural(nchg, 'change', 'changes')} made)")
    ds.changed = True
    for m in msgs:
        session.out.line(m)
