"""translate and cmdlog: the log companions do-files use.

`translate in.smcl out.log [, replace translator()]` turns an SMCL log (or any log) into plain
text: SMCL directives are removed and `{c -}`-style characters spelled out, as Stata's
smcl2log translator does; text logs are copied. The output is written through a temporary
file and a rename. `cmdlog using file [, replace append]`, `cmdlog close|off|on|query`:
a file of the commands typed at the prompt (like Stata, commands run by a do-file are not
written, only what was typed; the REPL records each line it runs).
"""
from __future__ import annotations

import re
from pathlib import Path

from hlmshell.commands._toolkit import typed_args
from hlmshell.data.atomic import atomic_write, open_append
from hlmshell.data.locate import file_spec, target_path
from hlmshell.errors import StataError
from hlmshell.registry import Opt, command

_CHARS = {"-": "-", "|": "|", "+": "+", "TT": "+", "BT": "+", "LT": "+", "RT": "+",
          "TLC": "+", "TRC": "+", "BLC": "+", "BRC": "+"}
_TAG = re.compile(r"\{(?:c|char)\s+([^}]*)\}|\{hline\s*(\d*)\}|\{space\s+(\d+)\}|\{[^{}]*\}")


def smcl_to_text(text: str) -> str:
    """Plain text of an SMCL document: directives dropped, lines and characters drawn."""
    def repl(m: re.Match) -> str:
        if m.group(1) is not None:
            return _CHARS.get(m.group(1).strip(), "")
        if m.group(2) is not None:
            return "-" * int(m.group(2) or 1)
        if m.group(3) is not None:
            return " " * int(m.group(3))
        inner = m.group(0)[1:-1]
        if ":" in inner:                       # {cmd:text}, {res:text}, {help x:text}
            return inner.split(":", 1)[1]
        return ""
    lines = []
    for ln in text.splitlines():
        if ln.strip() == "{smcl}":
            continue
        prev = None
        while prev != ln:
            prev, ln = ln, _TAG.sub(repl, ln)
        lines.append(ln.replace("{c -(}", "{").replace("{c )-}", "}"))
    return "\n".join(lines) + ("\n" if lines else "")


@command("translate", byable=False, qualifiers="", raw=True, changes_data=False,
         family="Files", desc="translate an SMCL log to plain text",
         example="translate session.smcl session.log, replace")
def translate_cmd(session, cmd):
    body, _, opts = (cmd.body or "").partition(",")
    words = [w for w in re.findall(r'"[^"]*"|\S+', body)]
    for o in re.findall(r"\w+(?:\([^)]*\))?", opts):
        if o.split("(")[0] not in ("replace", "translator", "name"):
            raise StataError(f"option {o.split('(')[0]} not allowed", 198)
    if len(words) != 2:
        raise StataError("invalid syntax", 198)
    src = Path(file_spec(words[0]))
    if not src.is_file():
        raise StataError(f"file {src} not found", 601)
    dst = target_path(file_spec(words[1]), ".log")
    if dst.exists() and "replace" not in opts:
        raise StataError(f"file {dst} already exists", 602)
    try:
        text = src.read_text(encoding="utf-8", errors="replace")
    except OSError:
        raise StataError(f"file {src} could not be opened", 603) from None
    plain = smcl_to_text(text) if src.suffix.lower() in (".smcl", ".sthlp", ".hlp") or text.startswith("{smcl}") else text
    with atomic_write(dst, shown=str(dst), text=True) as fh:
        fh.write(plain)
    session.out.line(f"(file {dst} written in .log format)")


@command("cmdlog", byable=False, qualifiers="", body="anything", changes_data=False,
         family="Files", desc="log the commands typed", example="cmdlog using commands.txt, replace",
         options=(Opt("replace", desc="overwrite the file"), Opt("append", desc="append to the file"),
                  Opt("permanently", desc="accepted")))
def cmdlog_cmd(session, cmd):
    opts = typed_args(cmd)
    sub, _, rest = (cmd.body or "").strip().partition(" ")
    state = session.settings.get("cmdlog")
    if sub == "using":
        if state is not None:
            raise StataError("log file already open", 604)
        path = target_path(file_spec(rest.strip()), ".txt")
        if opts.replace and opts.append:
            raise StataError("options replace and append may not be combined", 198)
        if path.exists() and not (opts.replace or opts.append):
            raise StataError(f"file {path.resolve()} already exists", 602)
        if not opts.append:
            with atomic_write(path, shown=str(path), text=True):
                pass
        session.settings["cmdlog"] = {"path": str(path), "on": True}
        session.out.line(f"(cmdlog {path.resolve()} opened)")
        return
    if rest.strip():
        raise StataError("invalid syntax", 198)
    if sub in ("", "query"):
        session.out.line("no cmdlog file open" if state is None else
                         f"cmdlog: {state['path']} ({'on' if state['on'] else 'off'})")
        return
    if sub not in ("close", "on", "off"):
        raise StataError("invalid syntax", 198)
    if state is None:
        raise StataError("no cmdlog file open", 606)
    if sub == "close":
        del session.settings["cmdlog"]
        session.out.line(f"(cmdlog {Path(state['path']).resolve()} closed)")
    else:
        session.settings["cmdlog"] = {**state, "on": sub == "on"}


def record_typed(session, text: str) -> None:
    """Append a line typed at the prompt to the open cmdlog (a failed write turns it off)."""
    state = session.settings.get("cmdlog")
    if not state or not state.get("on") or not text.strip():
        return
    try:
        with open_append(state["path"]) as fh:
            fh.write(text.rstrip("\n") + "\n")
    except (OSError, StataError):
        session.settings["cmdlog"] = {**state, "on": False}
