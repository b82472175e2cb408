"""estadd lrtest: estout's estadd subcommand that runs `lrtest model` against the active
estimates and adds its results to them (estadd.ado's estadd_lrtest).

    estadd lrtest model [, name(string) prefix(string) replace quietly lrtest_options]

Added: e(lrtest_p), e(lrtest_chi2), e(lrtest_df) (name() replaces `lrtest_`), shown under
"added scalars:" in that order; lrtest's own output is shown unless quietly. An existing
name is refused (r(110)) unless replace; a failing lrtest leaves e() as it was.
"""
from __future__ import annotations

import re

from hlmshell.errors import StataError
from hlmshell.syntax.parser import parse_options

_OWN = (("name", 1, True), ("prefix", 1, True), ("replace", 1, False), ("quietly", 1, False))


def _own(opt) -> str | None:
    """estadd's options (name, prefix, replace, quietly, abbreviated to one letter as
    estadd_lrtest's syntax allows); None for an lrtest option."""
    low = opt.name.lower()
    for full, n, takes in _OWN:
        if len(low) >= n and full.startswith(low):
            if takes != (opt.arg is not None):
                raise StataError(f"option {opt.name} not allowed" if not takes
                                 else f"option {full}() incorrectly specified", 198)
            return full
    return None


def _option_text(o) -> str:
    return o.name if o.arg is None else f"{o.name}({o.arg})"


def lrtest_additions(session, body: str, optext: str | None):
    """Run lrtest; return ([(kind, name, value)], prefix, replace, quietly)."""
    if session.e is None:
        raise StataError("last estimates not found", 301)
    if not body.strip():
        raise StataError("model required", 198)
    mine: dict[str, str | None] = {}
    passed = []
    for o in parse_options(optext or ""):
        key = _own(o)
        if key is None:
            passed.append(_option_text(o))
        else:
            mine[key] = o.arg
    stem = (mine.get("name") or "lrtest_").strip()
    prefix = (mine.get("prefix") or "").strip()
    for word in (stem, prefix):
        if word and not re.fullmatch(r"[A-Za-z_]\w*", word):
            raise StataError(f"{word} invalid name", 198)
    names = [f"{stem}p", f"{stem}chi2", f"{stem}df"]
    res = session.e
    if "replace" not in mine:
        for n in names:
            full = prefix + n
            if full in res.scalars or full in res.macros or full in res.matrices:
                raise StataError(f"e({full}) already defined", 110)
    interp = getattr(session, "interpreter", None)
    if interp is None or not hasattr(interp, "execute"):
        raise StataError("estadd lrtest: no interpreter to run lrtest", 198)
    line = f"lrtest {body.strip()}" + (f", {' '.join(passed)}" if passed else "")
    interp.execute(("quietly " if "quietly" in mine else "") + line, expanded=True)
    r = session.r
    got = {k: float(r.scalars[k]) for k in ("p", "chi2", "df")}
    adds = [("scalar", names[0], got["p"]), ("scalar", names[1], got["chi2"]), ("scalar", names[2], got["df"])]
    return adds, prefix, "replace" in mine, "quietly" in mine
