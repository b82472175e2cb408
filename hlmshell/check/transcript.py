"""Split a Stata (or hlmshell) transcript into (command, output) blocks.

A block starts at each `. command` echo line; `> ` lines right after it continue the
command (Stata cuts long echoes at the line width, mid-word, so they are concatenated as
they are). The log header before the first command, `--more--` pauses, `end of do-file`
lines, comment-only commands and the log/do bookkeeping commands are dropped.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from hlmshell.check.smcl import is_smcl, smcl_to_text

_ECHO = re.compile(r"^\. ?(.*)$")
_CONT = re.compile(r"^> ?(.*)$")
_MORE = re.compile(r"^\s*-+\s*more\s*-+\s*$", re.I)
_END_DO = re.compile(r"^\s*end of do-file\s*$")
_BODY = re.compile(r"^\s*\d+\.(?: |$)")
# commands that only manage the log or wrap the run: never compared
_BOOKKEEPING = re.compile(
    r"^(?:(?:cap(?:t|tu|tur|ture)?|qui(?:e|et|etl|etly)?|noi(?:s|si|sil|sily)?)\s+)*"
    r"(?:log|cmdlog|do|ru|run|set\s+more|set\s+linesize|set\s+logtype|translate|view)\b")


@dataclass
class Block:
    command: str                 # the echoed command, continuation lines joined
    lines: list[str] = field(default_factory=list)   # its output lines
    lineno: int = 0              # 1-based line of the echo in the transcript

    @property
    def key(self) -> str:
        """What two transcripts must agree on to pair this command: text without blanks."""
        return re.sub(r"\s+", "", self.command)


def strip_comments(cmd: str) -> str:
    """The command without Stata comments (`*` lines, `//`, `/* */`) and `///` joins."""
    text = re.sub(r"/\*.*?\*/", " ", cmd, flags=re.S)
    text = re.sub(r"///[^\n]*", " ", text)
    text = re.sub(r"(^|\s)//.*$", " ", text, flags=re.M)
    text = text.strip()
    if text.startswith("*"):
        return ""
    return " ".join(text.split())


def to_text(text: str) -> str:
    """Plain text of a transcript (SMCL translated), with Windows line ends removed."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if is_smcl(text):
        text = smcl_to_text(text)
    return text


def split_blocks(text: str, *, keep_all: bool = False) -> list[Block]:
    """Blocks of a transcript, in order (keep_all: also comments and log commands)."""
    lines = to_text(text).split("\n")
    blocks: list[Block] = []
    cur: Block | None = None
    in_echo = False
    for no, raw in enumerate(lines, 1):
        line = raw.rstrip()
        m = _ECHO.match(line)
        if m and (line == "." or line.startswith(". ")):
            cur = Block(m.group(1), [], no)
            blocks.append(cur)
            in_echo = True
            continue
        if in_echo:
            c = _CONT.match(line)
            if c and line.startswith(">"):
                # a `///` comment runs to the end of its physical line: keep that line end
                last = cur.command.rsplit("\n", 1)[-1]
                sep = "\n" if "///" in last or ("/*" in last and "*/" not in last) else ""
                cur.command += sep + (raw[2:] if raw.startswith("> ") else raw[1:])
                continue
            in_echo = False
        if cur is None:
            continue  # log header
        if _MORE.match(line) or _END_DO.match(line):
            continue
        if cur.command.rstrip().endswith("{") and _BODY.match(line) and not any(x.strip() for x in cur.lines):
            continue  # `  2. display x` echoes of a loop or program body typed after `{`
        cur.lines.append(line)
    out = []
    for b in blocks:
        b.command = b.command.rstrip()
        if keep_all:
            out.append(b)
            continue
        cmd = strip_comments(b.command)
        if not cmd or _BOOKKEEPING.match(cmd):
            continue
        b.command = cmd
        out.append(b)
    return out
