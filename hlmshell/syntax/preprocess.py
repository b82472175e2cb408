"""Do-file text -> logical command lines: comments out, `///` joined, #delimit honoured.

Each Line keeps the physical lines as typed (for the `. ` / `> ` echo) and the number of its
first line (for error locations). Macros are not touched here: they are expanded when the
line runs, so a loop body sees new values on every pass.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from hlmshell.syntax.scan import find_top


@dataclass
class Line:
    text: str                    # the command, comments removed ('' for blank/comment lines)
    lineno: int                  # first physical line (1-based)
    echo: list[str] = field(default_factory=list)   # physical lines as typed
    is_comment: bool = False


_DELIM = re.compile(r"^\s*#d(?:e(?:l(?:i(?:m(?:i(?:t)?)?)?)?)?)?\b\s*(.*)$")


def _strip_comments(line: str, state: dict) -> tuple[str, bool]:
    """Remove /* */ (state['block'] depth carries across lines) and // comments.

    Returns (code, continued) where continued means the line ended in `///`.
    """
    out = []
    i, n = 0, len(line)
    inq = False
    while i < n:
        if state["block"]:
            if line.startswith("*/", i):
                state["block"] -= 1
                i += 2
            elif line.startswith("/*", i):
                state["block"] += 1
                i += 2
            else:
                i += 1
            continue
        c = line[i]
        if inq:
            out.append(c)
            if c == '"':
                inq = False
            i += 1
            continue
        if c == '"':
            inq = True
            out.append(c)
            i += 1
            continue
        if line.startswith("/*", i):
            state["block"] += 1
            i += 2
            continue
        if line.startswith("//", i) and (i == 0 or line[i - 1].isspace()):
            if line.startswith("///", i):
                return "".join(out), True
            return "".join(out), False
        out.append(c)
        i += 1
    return "".join(out), False


def logical_lines(text: str) -> list[Line]:
    """Split do-file text into commands."""
    phys = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if phys and phys[-1] == "":
        phys.pop()
    lines: list[Line] = []
    state = {"block": 0}
    delim_semicolon = False
    cur: Line | None = None
    buf = ""
    for k, raw in enumerate(phys, start=1):
        if delim_semicolon:
            code, _cont = _strip_comments(raw, state)
            dm = _DELIM.match(code)
            if not buf.strip() and dm and not state["block"]:
                stmt = code.strip().rstrip(";").strip()
                lines.append(Line(stmt, k, [raw]))
                if not dm.group(1).strip().startswith(";"):
                    delim_semicolon = False
                cur = None
                continue
            if cur is None:
                cur = Line("", k, [])
            cur.echo.append(raw)
            buf = (buf + " " + code) if buf else code
            while True:
                semi = find_top(buf, ";")
                if semi < 0:
                    break
                stmt, buf = buf[:semi].strip(), buf[semi + 1:]
                is_c = not stmt or stmt.startswith("*")
                lines.append(Line("" if is_c else stmt, cur.lineno, cur.echo or [stmt], is_c))
                cur = Line("", k, [])
            if not buf.strip():
                cur, buf = None, ""
            continue
        was_block = state["block"] > 0
        code, cont = _strip_comments(raw, state)
        if cur is None:
            cur = Line("", k, [raw])
            if not was_block and code.lstrip().startswith("*"):
                # `*` comment line (a `///` at its end still continues the comment)
                cur.is_comment = True
                if cont:
                    buf = "*"
                    continue
                lines.append(cur)
                cur = None
                continue
            buf = code
        else:
            cur.echo.append(raw)
            buf += " " + code if not buf.endswith(" ") else code
        if cont or state["block"]:
            continue
        cur.text = buf.strip() if not cur.is_comment else ""
        if not cur.text:
            cur.is_comment = True
        lines.append(cur)
        m = _DELIM.match(cur.text)
        if m and m.group(1).strip().startswith(";"):
            delim_semicolon = True
        cur, buf = None, ""
    if cur is not None:
        cur.text = buf.strip() if not cur.is_comment else ""
        cur.is_comment = cur.is_comment or not cur.text
        lines.append(cur)
    return lines
