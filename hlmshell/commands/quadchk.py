"""quadchk: Stata's check of the quadrature behind the last random-effects model fit by
Gauss-Hermite quadrature (xtlogit, xtprobit, xtcloglog, xtpoisson with normal effects, xtologit,
xtoprobit, xttobit, re).

The model is fitted again with fewer and with more points -- by default about 2/3 and 4/3 of
the points used (12 -> 8 and 16), or `quadchk #1 #2` -- and the log likelihood and each
coefficient of the three fits are set side by side with the differences and relative
differences from the fitted model: if they are small the quadrature is adequate. The
comparison fits are shown unless `nooutput`; the original results stay active afterwards.
"""
from __future__ import annotations

import math
import re

import numpy as np

from hlmshell.errors import StataError
from hlmshell.output.numfmt import fmt_g
from hlmshell.registry import Opt, command

QUADRATURE_COMMANDS = ("xtlogit", "xtprobit", "xtcloglog", "xtpoisson", "xtologit", "xtoprobit",
                       "xttobit")
_INTP = re.compile(r"\bintp(?:o(?:i(?:n(?:t(?:s)?)?)?)?)?\s*\(\s*[^)]*\)", re.I)
_LOG = re.compile(r"(?<![\w(])(?:no)?log\b", re.I)
_WIDTH = 72


def _split_options(text: str) -> tuple[str, str]:
    """(command part, option text) at the first comma outside parentheses, brackets and
    quotes."""
    depth, quote = 0, False
    for i, ch in enumerate(text):
        if ch == '"':
            quote = not quote
        elif quote:
            continue
        elif ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif ch == "," and depth == 0:
            return text[:i], text[i + 1:]
    return text, ""


def refit_line(cmdline: str, points: int) -> str:
    """The last command line with intpoints(points) in place of its own and without a log."""
    head, opts = _split_options(cmdline)
    opts = _LOG.sub(" ", _INTP.sub(" ", opts))
    return f"{head.rstrip()}, {' '.join(opts.split())} intpoints({points}) nolog".replace(
        ",  ", ", ").replace(", intpoints", ", intpoints")


def _points(body: str, n_quad: int) -> tuple[int, int]:
    words = body.split()
    if not words:
        return max(1, round(2 * n_quad / 3)), max(1, round(4 * n_quad / 3))
    if len(words) != 2:
        raise StataError("invalid syntax", 198)
    try:
        a, b = int(words[0]), int(words[1])
    except ValueError:
        raise StataError("invalid syntax", 198) from None
    if not (1 <= a <= 195 and 1 <= b <= 195):
        raise StataError("number of quadrature points must be between 1 and 195", 198)
    return a, b


def _check_model(res) -> int:
    if res is None:
        raise StataError("last estimates not found", 301)
    n_quad = res.scalars.get("n_quad") if res.cmd in QUADRATURE_COMMANDS else None
    if not n_quad or res.macros.get("model", "re") != "re":
        raise StataError("quadchk requires the results of a random-effects model fit by "
                         "quadrature (xtlogit, xtprobit, xtcloglog, xtpoisson, normal, xtologit, "
                         "xtoprobit, xttobit)", 301)
    return int(n_quad)


def _cell(x: float) -> str:
    return f"{fmt_g(x, 10) if math.isfinite(x) else '.':>14}"


def _block(label: list[str], fitted: float, comps: list[float]) -> list[str]:
    """Three lines per quantity: the values, the differences, the relative differences."""
    diff = [c - fitted for c in comps]
    rel = [d / fitted if fitted != 0 else math.nan for d in diff]
    lab = (label + ["", "", ""])[:3]
    return [f"{lab[0]:<16}" + _cell(fitted) + "".join(_cell(c) for c in comps),
            f"{lab[1]:<16}" + " " * 14 + "".join(_cell(d) for d in diff) + "    Difference",
            f"{lab[2]:<16}" + " " * 14 + "".join(_cell(r) for r in rel)
            + "    Relative difference"]


def table_lines(n_quad: int, pts: tuple[int, int], ll: list[float], names: list[tuple],
                b: list[np.ndarray]) -> list[str]:
    hr = "-" * _WIDTH
    out = ["", "Quadrature check".center(_WIDTH).rstrip(), "",
           " " * 16 + "".join(f"{w:>14}" for w in ("Fitted", "Comparison", "Comparison")),
           " " * 16 + "".join(f"{'quadrature':>14}" for _ in range(3)),
           " " * 16 + "".join(f"{f'{k} points':>14}" for k in (n_quad,) + tuple(pts)), hr]
    out += _block(["Log", "likelihood"], ll[0], ll[1:]) + [hr]
    for j, (eq, nm) in enumerate(names):
        label = [f"{eq[:15]}:" if eq not in ("", "/") else nm[:16],
                 f"  {nm[:14]}" if eq not in ("", "/") else ""]
        out += _block([s for s in label if s] or [nm], float(b[0][j]),
                      [float(x[j]) for x in b[1:]]) + [hr]
    return out


@command("quadchk", family="Postestimation", body="anything",
         desc="check the sensitivity of quadrature approximations (after re models)",
         example="quadchk, nooutput",
         options=(Opt("nooutput", "noout", desc="do not show the comparison fits"),
                  Opt("nofrom", desc="start the comparison fits from scratch (they always do)")))
def quadchk_cmd(session, cmd) -> None:
    from hlmshell.registry import args_of
    opts = args_of(cmd)
    res = session.e
    n_quad = _check_model(res)
    pts = _points(cmd.body or "", n_quad)
    cmdline = res.macros.get("cmdline", "")
    if not cmdline:
        raise StataError("last estimates not found", 301)
    run = getattr(session.runner, "run_command", None)
    if run is None:
        raise StataError("quadchk needs the interpreter", 198)
    keep = [i for i, om in enumerate(np.ravel(res.omitted)) if not om] \
        if res.omitted is not None else list(range(len(res.names)))
    names = [res.names[i] for i in keep]
    fits_b = [np.ravel(res.b)[keep]]
    lls = [float(res.scalars["ll"])]
    out = session.out
    try:
        for k in pts:
            out.line("")
            out.line(f"Refitting model intpoints() = {k}")
            run(("quietly " if opts.nooutput else "") + refit_line(cmdline, k))
            e = session.e
            if e is None or [e.names[i] for i in keep] != names:
                raise StataError("the comparison model could not be fitted", 430)
            fits_b.append(np.ravel(e.b)[keep])
            lls.append(float(e.scalars["ll"]))
    finally:
        session.e = res
    for ln in table_lines(n_quad, pts, lls, names, fits_b):
        out.line(ln)
