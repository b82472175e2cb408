"""Finding data files the way `use`/`sysuse` do.

`use hsb` looks for hsb.dta in the current directory first, then in the sample data shipped
inside the package (hlmshell/sample_data), so the course notes run anywhere without ../shared.
"""
from __future__ import annotations

import os
import re
from importlib import resources
from pathlib import Path

from hlmshell.errors import StataError


def unquote(text: str) -> str:
    t = text.strip()
    if t.startswith('`"') and t.endswith("\"'"):
        return t[2:-2]
    if len(t) >= 2 and t[0] == t[-1] == '"':
        return t[1:-1]
    return t


_FILE_TOKEN = re.compile(r'\s*(`"(?:.*?)"\'|"[^"]*"|[^\s"`]+)')


def file_specs(text: str) -> list[str]:
    """Unquoted file names of a `using` list: each one quoted ("my data.dta") or one word.
    An unbalanced quote or a stray quote is `invalid file specification` r(198)."""
    out, pos, t = [], 0, text.strip()
    while pos < len(t):
        m = _FILE_TOKEN.match(t, pos)
        if not m or m.end() == pos:
            raise StataError("invalid file specification", 198)
        out.append(unquote(m.group(1)))
        pos = m.end()
        while pos < len(t) and t[pos].isspace():
            pos += 1
    return out


def file_spec(text: str) -> str:
    """One file name ('' when none was typed); more than one is `invalid file specification`."""
    names = file_specs(text)
    if len(names) > 1:
        raise StataError("invalid file specification", 198)
    return names[0] if names else ""


def with_ext(name: str, ext: str = ".dta") -> str:
    """Stata adds the default extension when the file name has none."""
    base = os.path.basename(name)
    return name if "." in base else name + ext


def sample_data_dir() -> Path | None:
    try:
        p = resources.files("hlmshell") / "sample_data"
        return Path(str(p))
    except (ModuleNotFoundError, TypeError):  # pragma: no cover
        return None


def find_data(name: str, ext: str = ".dta") -> Path:
    """Existing file for `name` (cwd first, then packaged sample data) or r(601)."""
    fname = with_ext(os.path.expanduser(unquote(name)), ext)
    p = Path(fname)
    if p.is_file():
        return p
    if not p.is_absolute() and os.sep not in fname and "/" not in fname:
        d = sample_data_dir()
        if d is not None and (d / fname).is_file():
            return d / fname
    raise StataError(f"file {fname} not found", 601)


def target_path(name: str, ext: str = ".dta") -> Path:
    """Where `save`/`export` write `name` (extension added, no search)."""
    return Path(with_ext(os.path.expanduser(unquote(name)), ext))
