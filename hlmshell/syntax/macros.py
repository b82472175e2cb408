"""Macro expansion (`local', $global, ${global}, `=exp', `++i', `r(x)') and macro values.

Expansion happens on the text of each command right before it is parsed, and again on every
pass through a loop body, exactly as Stata does; nested references (`x`i'') expand inside out.
"""
from __future__ import annotations

import math
import re

import numpy as np

from hlmshell.errors import StataError

_GNAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,31}")


def num_to_macro(x: float) -> str:
    """Number -> macro text the way `local x = exp` stores it (%18.0g-like, no leading 0)."""
    if isinstance(x, str):
        return x
    x = float(x)
    if not math.isfinite(x):        # NaN (any missing) -- and +-inf, which Stata cannot hold: "."
        from hlmshell.data.missing import missing_str
        return missing_str(x) if math.isnan(x) else "."
    if x == int(x) and abs(x) < 1e15:
        return str(int(x))
    s = f"{x:.16g}"
    if "e" in s:
        mant, ex = s.split("e")
        e = int(ex)
        s = f"{mant}e{'-' if e < 0 else '+'}{abs(e):02d}"
    if s.startswith("0."):
        s = s[1:]
    elif s.startswith("-0."):
        s = "-" + s[2:]
    return s


def value_to_text(v) -> str:
    if isinstance(v, np.ndarray):
        v = (v.ravel()[0] if v.size else ("" if v.dtype == object else float("nan")))
    if isinstance(v, str):
        return v
    return num_to_macro(float(v))


class _Expander:
    """Expands one text. References nest to any depth (`` ``a'' `` is the local named by the
    value of a); they are kept on an explicit stack rather than in Python's recursion, so 500
    or 50,000 levels expand inside out, as in Stata, instead of overflowing Python's stack."""

    def __init__(self, session):
        self.s = session

    def run(self, text: str) -> str:
        n = len(text)
        parts: list[list[str]] = [[]]   # parts[0]: the expansion; parts[k]: open reference k's name
        opened: list[int] = []          # where each open reference's '`' is
        i = 0
        while i < n:
            c = text[i]
            if c == "`":
                if i + 1 < n and text[i + 1] == '"':
                    parts[-1].append('`"')
                    i += 2
                    continue
                opened.append(i)
                parts.append([])
            elif c == "'" and opened:
                name = "".join(parts.pop())
                opened.pop()
                parts[-1].append(self.lookup(name))
            elif c == "$":
                i = self._global(text, i, parts[-1])
                continue
            else:
                parts[-1].append(c)
            i += 1
        if opened:      # a reference never closed: the text from its '`' on stays as typed
            return "".join(parts[0]) + text[opened[0]:]
        return "".join(parts[0])

    def _global(self, text: str, i: int, out: list[str]) -> int:
        """$name or ${name} at text[i] (a lone $ is kept); returns the index after it."""
        if i + 1 < len(text) and text[i + 1] == "{":
            close = text.find("}", i + 2)
            if close > 0:
                name = self.run(text[i + 2:close]).strip()
                out.append(self.s.globals.get(name, ""))
                return close + 1
        m = _GNAME.match(text, i + 1)
        if m:
            out.append(self.s.globals.get(m.group(0), ""))
            return m.end()
        out.append("$")
        return i + 1

    def lookup(self, name: str) -> str:
        s = self.s
        if name.startswith("="):
            from hlmshell.syntax.evaluate import evaluate

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
            from hlmshell.syntax.evaluate import Evaluator

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
    from hlmshell.syntax.scan import tokens

    return tokens(text)


def _list_fn(session, spec: str) -> str:
    from hlmshell.syntax.scan import strip_quotes

    words = spec.split(None, 1)
    if not words:
        raise StataError("invalid syntax", 198)
    op = words[0]
    rest = words[1] if len(words) > 1 else ""

    def get(name):
        return _word_list(session.local.get(name.strip(), ""))

    if op in ("uniq", "dups", "sort", "sizeof", "retokenize", "clean", "reverse"):
        lst = get(rest)
        if op == "uniq":
            out = list(dict.fromkeys(lst))
        elif op == "dups":
            seen, out = set(), []
            for w in lst:
                if w in seen:
                    out.append(w)
                seen.add(w)
        elif op == "sort":
            out = sorted(lst)
        elif op == "reverse":
            out = lst[::-1]
        elif op == "sizeof":
            return str(len(lst))
        else:
            out = lst
        return " ".join(out)
    if op == "posof":
        m = re.fullmatch(r"(.*)\s+in\s+(\w+)", rest.strip())
        if not m:
            raise StataError("invalid syntax", 198)
        target = strip_quotes(m.group(1))
        lst = get(m.group(2))
        return str(lst.index(target) + 1 if target in lst else 0)
    m = re.fullmatch(r"\s*(\w+)\s*(\||&|-|==|===|in)\s*(\w+)\s*", spec)
    if m:
        a, o, b = get(m.group(1)), m.group(2), get(m.group(3))
        if o == "|":
            return " ".join(list(dict.fromkeys(a + [w for w in b if w not in a])))
        if o == "&":
            return " ".join(w for w in dict.fromkeys(a) if w in b)
        if o == "-":
            return " ".join(w for w in a if w not in b)
        if o == "==":
            return str(int(sorted(set(a)) == sorted(set(b))))
        if o == "===":
            return str(int(a == b))
        return str(int(all(w in b for w in a)))
    raise StataError("invalid syntax", 198)


def extended_function(session, spec: str) -> str:
    """`local x : word count ...`, `: word # of ...`, `: list ...`, `: variable label x`, ..."""
    from hlmshell.syntax.scan import strip_quotes

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
        from hlmshell.syntax.varlist import unabbrev
        return session.data.var(unabbrev(session.data.names, m.group(2))).label
    m = re.fullmatch(r"(val|valu|value)\s+label\s+(\w+)", spec)
    if m:
        from hlmshell.syntax.varlist import unabbrev
        return session.data.var(unabbrev(session.data.names, m.group(2))).vallab or ""
    m = re.fullmatch(r"(type|format)\s+(\w+)", spec)
    if m:
        from hlmshell.syntax.varlist import unabbrev
        v = session.data.var(unabbrev(session.data.names, m.group(2)))
        return v.vtype if m.group(1) == "type" else v.format
    m = re.fullmatch(r"(di|dis|disp|displ|displa|display)\s+(.*)", spec, re.S)
    if m:
        from hlmshell.syntax.display import display_text

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
    m = re.fullmatch(r"(rownames|colnames|rowfullnames|colfullnames)\s+(.*)", spec)
    if m:
        return _matrix_names(session, m.group(1), m.group(2).strip())
    raise StataError("invalid syntax", 198)


def _matrix_names(session, which: str, mname: str) -> str:
    e = session.e
    if mname in ("e(b)", "e(V)") and e is not None:
        if which.startswith("row") and mname == "e(b)":
            return "y1"
        full = which.endswith("fullnames")
        return " ".join(f"{q}:{n}" if full else n for q, n in e.names)
    raise StataError(f"matrix {mname} not found", 111)
