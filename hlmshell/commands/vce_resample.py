"""vce(bootstrap[, options]) and vce(jackknife[, options]) of regress and mixed: the same as
the prefix `bootstrap _b, options: command` without the vce() option, as Stata runs them
(hlmshell/commands/resample.py). This module only rewrites the line and runs it through the
interpreter, so that the estimation commands need not import the prefixes."""
from __future__ import annotations

import re

_VCE = re.compile(r"(?<![\w.])vce\s*\(")
_LEVEL = re.compile(r"(?<![\w.])l(?:e(?:v(?:e(?:l)?)?)?)?\s*\(\s*([^)]*)\)")


def _vce_kind(word: str) -> str | None:
    from hlmshell.registry import abbrev_match

    word = word.strip().lower()
    if word == "bs" or abbrev_match(word, "bootstrap", 4):
        return "bootstrap"
    if word in ("jk", "jknife") or abbrev_match(word, "jackknife", 4):
        return "jackknife"
    return None


def vce_resampling(session, cmd) -> bool:
    """`regress ..., vce(bootstrap[, reps(#) seed(#) ...])` (or jackknife, or the same in
    mixed's options): run as `bootstrap _b, options: command` without the vce() option, as
    Stata does; e(cmdline) is the line as typed. False when vce() asks for anything else."""
    from hlmshell.syntax.lexer import matching_paren, top_level_mask

    text = cmd.text or ""
    mask = top_level_mask(text)
    for m in _VCE.finditer(text):
        if not mask[m.start()]:
            continue
        close = matching_paren(text, m.end() - 1)
        if close < 0:
            return False
        word, _, rest = text[m.end():close].partition(",")
        kind = _vce_kind(word)
        if kind is None:
            return False
        inner = text[:m.start()] + text[close + 1:]
        inner = re.sub(r",\s*(?=\|\||$)", " ", inner.rstrip()).strip()
        lev = _LEVEL.search(inner.partition(",")[2])
        if lev and "level(" not in rest:
            rest += f" level({lev.group(1).strip()})"     # the table's level is the command's
        session.runner.run_command(f"{kind} _b, {rest.strip()}: {inner}")
        if session.e is not None:
            session.e.macros["cmdline"] = text.strip()
        return True
    return False


def replay_prefix(session, res, options) -> bool:
    """Replaying results that bootstrap or jackknife posted for a command's own coefficients
    (`regress` alone, `estimates replay`): the prefix's display, as Stata's replay does."""
    prefix = getattr(res, "macros", {}).get("prefix") if res is not None else None
    if prefix not in ("bootstrap", "jackknife"):
        return False
    text = " ".join(o.name + (f"({o.arg})" if o.arg is not None else "") for o in options or [])
    saved = session.e
    session.e = res
    try:
        session.runner.run_command(prefix + (f", {text}" if text else ""))
    finally:
        session.e = saved
    return True
