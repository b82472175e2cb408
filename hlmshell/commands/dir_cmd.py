"""dir / ls [filespec] [, wide]: list files as Stata's dir does."""
from __future__ import annotations

import datetime as _dt
import glob
import os

from hlmshell.data.locate import unquote
from hlmshell.errors import StataError
from hlmshell.registry import Opt, command


def size_text(n: int) -> str:
    """Stata's dir sizes: bytes below 1k, then 1 decimal in k, M, G (`1.6k`, `45.2k`, `1.2M`)."""
    if n < 1024:
        return f"{n}"
    for unit in ("k", "M", "G", "T"):
        n /= 1024.0
        if n < 1024 or unit == "T":
            return f"{n:.1f}{unit}"
    return str(n)  # pragma: no cover


def _matches(spec: str) -> list[str]:
    if not spec:
        return sorted(os.listdir("."))
    path = os.path.expanduser(spec)
    if os.path.isdir(path):
        return sorted(os.path.join(path, f) for f in os.listdir(path))
    return sorted(glob.glob(path))


def entry_line(path: str) -> str:
    """`  <dir>   11/30/26 06:40  name` / `   1.6k   11/30/26 06:40  name`."""
    st = os.stat(path)
    when = _dt.datetime.fromtimestamp(st.st_mtime)
    stamp = f"{when.month}/{when.day:02d}/{when.year % 100:02d} {when:%H:%M}"
    size = "<dir>" if os.path.isdir(path) else size_text(st.st_size)
    return f"{size:>8}  {stamp:>14}  {os.path.basename(path) or path}"


@command("dir", aliases=("ls",), byable=False, qualifiers="", raw=True, changes_data=False,
          family="Files", desc="list file names", example="dir *.dta",
          options=(Opt("wide", "w", desc="list names only, in columns"),))
def dir_cmd(session, cmd):
    text, _, opt_text = (cmd.body or "").partition(",")
    wide = False
    if opt_text.strip():
        words = opt_text.split()
        if any(not Opt("wide", "w").matches(w) for w in words):
            raise StataError(f"option {words[0]} not allowed", 198)
        wide = True
    spec = unquote(text.strip())
    try:
        found = _matches(spec)
    except OSError:
        found = []
    if not found and spec and not any(c in spec for c in "*?["):
        raise StataError(f"file {spec} not found", 601)
    if wide:
        names = [os.path.basename(p) for p in found]
        w = max((len(n) for n in names), default=0) + 2
        per = max(1, 78 // max(w, 1))
        for i in range(0, len(names), per):
            session.out.line("  " + "".join(n.ljust(w) for n in names[i:i + per]).rstrip())
        return
    for p in found:
        try:
            session.out.line(entry_line(p))
        except OSError:
            continue
