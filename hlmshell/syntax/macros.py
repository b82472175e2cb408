"""Macro expansion (`local', $global, ${global}, `=exp', `++i', `r(x)') and macro values.

Expansion happens on the text of each command right before it is parsed, and again on every
pass through a loop body, exactly as Stata does; nested references (`x`i'') expand inside out.
"""
from __future__ import annotations

import math
import re

from hlmshell.errors import StataError
from hlmshell.syntax.display import display_text
from hlmshell.syntax.evaluate import Evaluator, evaluate
from hlmshell.syntax.lexer import expand_refs, strip_quotes, tokens
from hlmshell.syntax.macro_values import num_to_macro, value_to_text
from hlmshell.syntax.varlist import unabbrev


class _Expander:
    """Expands one text with the session's macros. Where the references are is the lexer's
    business (lexer.expand_refs: references nest to any depth, kept on an explicit stack, so
    50,000 levels expand inside out, as in Stata); this class only looks names up."""

    def __init__(self, session):
        self.s = session

    def run(self, text: str) -> str:
        return expand_refs(text, self.lookup, lambda name: self.s.globals.get(name, ""))

    def lookup(self, name: str) -> str:
        s = self.s
        if name.startswith("="):
            return value_to_text(evaluate(name[1:].strip(), s))
        if name.startswith(":"):
            return extended_function(s, name[1:].strip())
        m = re.fullmatch(r"(\+\+|--)?([A-Za-z_][A-Za-z0-9_]*)(\+\+|--)?", name.strip())
        if m and (m.group(1) or m.group(3)):
            nm = m.group(2)
            old = s.local.get(nm, "")
            try:
                val = float(old) if old.strip() else 0.0
            except ValueError:
                raise StataError(f"{old} invalid", 198) from None
            step = 1 if (m.group(1) or m.group(3)) == "++" else -1
            new = num_to_macro(val + step)
            s.local[nm] = new
            return new if m.group(1) else num_to_macro(val)
        m = re.fullmatch(r"([erc])\((\w+)\)", name.strip())
        if m:
            v = Evaluator(s).result(m.group(1), m.group(2))
            if isinstance(v, float) and math.isnan(v):
                return ""
            return value_to_text(v)
        return s.local.get(name, "")


def expand_macros(text: str, session) -> str:
    """Replace every macro reference in `text` with its value (undefined -> empty)."""
    if "`" not in text and "$" not in text:
        return text
    return _Expander(session).run(text)


# ---- extended macro functions ----------------------------------------------------------------
def _word_list(text: str) -> list[str]:
    return tokens(text)


def _dups(lst: list[str]) -> list[str]:
    seen, out = set(), []
    for w in lst:
        if w in seen:
            out.append(w)
        seen.add(w)
    return out


# `: list op name` on one list
_ONE_LIST = {"uniq": lambda lst: list(dict.fromkeys(lst)), "dups": _dups, "sort": sorted,
             "reverse": lambda lst: lst[::-1], "retokenize": list, "clean": list}
# `: list a op b` on two lists
_TWO_LISTS = {
    "|": lambda a, b: " ".join(list(dict.fromkeys(a + [w for w in b if w not in a]))),
    "&": lambda a, b: " ".join(w for w in dict.fromkeys(a) if w in b),
    "-": lambda a, b: " ".join(w for w in a if w not in b),
    "==": lambda a, b: str(int(sorted(set(a)) == sorted(set(b)))),
    "===": lambda a, b: str(int(a == b)),
    "in": lambda a, b: str(int(all(w in b for w in a))),
}


def _list_fn(session, spec: str) -> str:
    words = spec.split(None, 1)
    if not words:
        raise StataError("invalid syntax", 198)
    op = words[0]
    rest = words[1] if len(words) > 1 else ""

    def get(name):
        return _word_list(session.local.get(name.strip(), ""))

    if op == "sizeof":
        return str(len(get(rest)))
    if op in _ONE_LIST:
        return " ".join(_ONE_LIST[op](get(rest)))
    if op == "posof":
        m = re.fullmatch(r"(.*)\s+in\s+(\w+)", rest.strip())
        if not m:
            raise StataError("invalid syntax", 198)
        target = strip_quotes(m.group(1))
        lst = get(m.group(2))
        return str(lst.index(target) + 1 if target in lst else 0)
    m = re.fullmatch(r"\s*(\w+)\s*(\||&|-|==|===|in)\s*(\w+)\s*", spec)
    if m:
        return _TWO_LISTS[m.group(2)](get(m.group(1)), get(m.group(3)))
    raise StataError("invalid syntax", 198)


def extended_function(session, spec: str) -> str:
    """`local x : word count ...`, `: word # of ...`, `: list ...`, `: variable label x`, ..."""
    spec = spec.strip()
    m = re.fullmatch(r"word\s+count\s*(.*)", spec, re.S)
    if m:
        return str(len(_word_list(m.group(1))))
    m = re.fullmatch(r"word\s+(-?\d+)\s+of\s*(.*)", spec, re.S)
    if m:
        lst = _word_list(m.group(2))
        k = int(m.group(1))
        return lst[k - 1] if 1 <= k <= len(lst) else ""
    m = re.fullmatch(r"list\s+(.*)", spec, re.S)
    if m:
        return _list_fn(session, m.group(1))
    m = re.fullmatch(r"(?:length|strlen)\s+(local|global)\s+(\w+)", spec)
    if m:
        src = session.local if m.group(1) == "local" else session.globals
        return str(len(src.get(m.group(2), "")))
    m = re.fullmatch(r"(var|vari|varia|variab|variabl|variable)\s+label\s+(\w+)", spec)
    if m:
        return session.data.var(unabbrev(session.data.names, m.group(2))).label
    m = re.fullmatch(r"(val|valu|value)\s+label\s+(\w+)", spec)
    if m:
        return session.data.var(unabbrev(session.data.names, m.group(2))).vallab or ""
    m = re.fullmatch(r"(type|format)\s+(\w+)", spec)
    if m:
        v = session.data.var(unabbrev(session.data.names, m.group(2)))
        return v.vtype if m.group(1) == "type" else v.format
    m = re.fullmatch(r"(di|dis|disp|displ|displa|display)\s+(.*)", spec, re.S)
    if m:
        return display_text(session, m.group(2)).rstrip("\n")
    m = re.fullmatch(r"subinstr\s+(local|global)\s+(\w+)\s+(\"[^\"]*\"|`\".*?\"')\s+(\"[^\"]*\"|`\"."
                     r"*?\"')\s*(,.*)?", spec, re.S)
    if m:
        src = session.local if m.group(1) == "local" else session.globals
        old = src.get(m.group(2), "")
        a, b = strip_quotes(m.group(3)), strip_quotes(m.group(4))
        opts = (m.group(5) or "").lstrip(",").strip()
        if "word" in opts:
            return " ".join(b if w == a else w for w in old.split())
        if opts.startswith("all") or not a:
            return old.replace(a, b) if a else old
        return old.replace(a, b, 1) if "all" not in opts else old.replace(a, b)
    m = re.fullmatch(r"(piece)\s+(\d+)\s+(\d+)\s+of\s+(.*)", spec, re.S)
    if m:
        s = strip_quotes(m.group(4))
        k, w = int(m.group(2)), int(m.group(3))
        return s[(k - 1) * w: k * w]
    from hlmshell.syntax.macro_functions import extended
    value = extended(session, spec)
    if value is not None:
        return value
    raise StataError("invalid syntax", 198)
