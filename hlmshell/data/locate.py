"""Finding data files the way `use`/`sysuse` do.

`use hsb` looks for hsb.dta in the current directory first, then in the sample data shipped
inside the package (hlmshell/sample_data), so the course notes run anywhere without ../shared.
"""
from __future__ import annotations

import os
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
