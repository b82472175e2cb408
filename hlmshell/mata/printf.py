"""printf()'s and sprintf()'s formats, and the SMCL their text may carry: Stata display formats (%9.2f, %-12s, %10.0g) plus
bare %f, %g, %e (Mata shows the number in %g style, without padding), %s and %%; the
escapes \\n, \\t and \\\\ are read in the format only, not in the arguments. printf()
and display() output SMCL: `{txt}`, `{res}`, `{err}` ... are dropped, `{res:text}` keeps
its text, `{hline #}` and `{space #}` are drawn (smcl_text)."""
from __future__ import annotations

import re

from hlmshell.mata.errors import MataError
from hlmshell.mata.values import is_string, need_value
from hlmshell.output.numfmt import FormatError, fmt, fmt_g

_SPEC = re.compile(r"%%|%(-?)(0?)(\d*)(?:\.(\d+))?([fgesd])(c?)|\\n|\\t|\\\\")


def render(fmt_text: str, args: list) -> str:
    out = []
    pos = 0
    queue = list(args)
    for m in _SPEC.finditer(fmt_text):
        out.append(fmt_text[pos:m.start()])
        pos = m.end()
        out.append(_piece(m, queue))
    out.append(fmt_text[pos:])
    if queue:
        raise MataError(3001, "too many arguments")
    return "".join(out)


def _piece(m: re.Match, queue: list) -> str:
    tok = m.group(0)
    if tok in ("\\n", "\\t", "\\\\", "%%"):
        return {"\\n": "\n", "\\t": "\t", "\\\\": "\\", "%%": "%"}[tok]
    if not queue:
        raise MataError(3001, "too few arguments")
    v = need_value(queue.pop(0))
    if v.shape != (1, 1):
        raise MataError(3204)
    x = v[0, 0]
    left, zero, width, digits, kind, comma = m.groups()
    if kind == "s":
        if not is_string(v):
            raise MataError(3250)
        return fmt(x, f"%{left}{width}s") if width else x
    if is_string(v):
        raise MataError(3250)
    if not width:
        return fmt_g(float(x), 12) if kind != "f" or digits is None else f"{float(x):.{digits}f}"
    try:
        return fmt(float(x), f"%{left}{zero}{width}.{digits or 0}{'g' if kind == 'd' else kind}{comma}")
    except FormatError as exc:
        raise MataError(3300) from exc


_SMCL = re.compile(r"\{(?:(txt|text|res|result|err|error|inp|input|com|bf|it|sf|ul on|ul off)"
                   r"|(?:txt|text|res|result|err|error|inp|input|com|bf|it|sf|hi):([^{}]*)"
                   r"|hline\s*(\d*)|space\s+(\d+)|c\s+(\||-|\+))\}")


def smcl_text(text: str) -> str:
    """The text SMCL shows for the common directives (others are left as typed)."""
    def repl(m: re.Match) -> str:
        if m.group(1) is not None:
            return ""
        if m.group(2) is not None:
            return m.group(2)
        if m.group(3) is not None:
            return "-" * int(m.group(3) or 1)
        if m.group(4) is not None:
            return " " * int(m.group(4))
        return m.group(5)
    return _SMCL.sub(repl, text)
