"""`hlmshell check NOTES.do STATA.log`: replay a do-file and compare its numbers with a Stata log.

Users who learned from Stata course notes already have the log; this tells them, command by
command, whether hlmshell prints the same numbers to the digits Stata printed, and where it
does not, whether the difference is within what Stata's own convergence criteria allow
(tolerance.py states and derives the rule) or comes from a fit on the boundary.
"""
from __future__ import annotations

import argparse
import os
import sys

from hlmshell.check.compare import Report, compare_texts, numbers_match
from hlmshell.check.tolerance import DIFFER, EXACT, NOT_COMPARABLE, RTOL, WITHIN
from hlmshell.check.numbers import extract_rows, find_numbers
from hlmshell.check.smcl import smcl_to_text
from hlmshell.check.transcript import split_blocks
from hlmshell.interpreter import Interpreter
from hlmshell.output.writer import Capture
from hlmshell.session import Session

__all__ = ["main", "replay", "compare_texts", "Report", "split_blocks", "extract_rows",
           "find_numbers", "smcl_to_text"]

USAGE = "hlmshell check NOTES.do STATA.log [--strict] [--rtol R] [--verbose] [--transcript FILE]"

DESCRIPTION = """\
Replay a do-file with hlmshell and compare every number it prints with a Stata log (text or
SMCL), command by command. Each number Stata printed is

  exact                         reproduced to the digits Stata printed;
  within convergence tolerance  of a maximum-likelihood fit (the output reports a log
                                likelihood) and within the distance from the optimum that
                                Stata's stopping rule allows ([R] maximize: ml stops when
                                g*inv(H)*g' < nrtolerance(1e-5) and the coefficients changed
                                by < tolerance(1e-6) or the log likelihood by
                                < ltolerance(1e-7) in the last step). Only nrtolerance bounds
                                the distance: every estimate is within s*SE of the optimum,
                                s = sqrt(1e-5) = 0.0032. Allowed differences: an estimate
                                s*SE; a coefficient's SE eps*SE, eps = s*R/2, R the largest
                                SE/variance of the fit's variance components (1 if none
                                is printed); a covariance's SE 2*eps*SE, a variance's SE
                                (s*u + 2*eps)*SE, u = its SE/variance; z and P>|z|
                                s + eps*|z|; a CI bound b +- c*SE s*SE + c*eps*SE (2*eps for
                                covariances; for variances, on the log scale, relative
                                s*u + c*u*(s*u + 2*eps)); Wald chi2 2*s*sqrt(chi2) + s^2 +
                                2*eps*chi2; log likelihood 5e-6; each plus half a unit of
                                the last digit Stata printed (hlmshell/check/tolerance.py);
  not comparable (boundary)     a random-effects SE or CI bound (or an estimate printed
                                without an SE) of a fit on the boundary: a correlation
                                within 1e-6 of +-1, a variance within 1e-6 of zero, or a
                                singular random-effects covariance matrix, as hlmshell's own
                                fit of that command shows; Stata's numbers there depend on
                                where it stopped;
  differ                        anything else (all numbers of commands that are not ML
                                fits must be exact).

The last line counts each class; exit status 0 when none differ (and every command pairs).
--strict compares digit by digit only (the summary then says `N match`)."""


def replay(dofile: str) -> tuple[str, int]:
    """Run a do-file in a fresh session, output captured; returns (transcript, rc).

    The current directory is left alone, so data paths resolve exactly as `use` resolves
    them in an ordinary run (current directory first, then the sample data).
    """
    out = Capture()
    session = Session(out=out)
    rc = Interpreter(session).run_dofile(dofile, echo=True)
    return out.getvalue(), rc


def _short(cmd: str, n: int = 60) -> str:
    return cmd if len(cmd) <= n else cmd[: n - 3] + "..."


def _fmt_num(num) -> str:
    return "(not printed)" if num is None else num.text


_MARK = {EXACT: "ok      ", WITHIN: "within  ", RTOL: "rtol    ", NOT_COMPARABLE: "n/c     ",
         DIFFER: "MISMATCH"}


def _pair_line(p) -> str:
    mark = _MARK.get(p.cls, "ok      " if p.ok else "MISMATCH")
    line = f"  {mark} {p.label[:34]:<34}  Stata {p.stata.text:>12}  hlmshell {_fmt_num(p.ours):>12}"
    if p.cls not in (EXACT, "") and p.reason:
        line += f"  {p.cls}: {p.reason}"
    return line


def format_report(report: Report, verbose: bool = False) -> list[str]:
    """The report's lines: notes on pairing, the pairs that differ (every pair with verbose,
    non-exact ones with their class and reason) and the summary."""
    lines = []
    for s, o in report.renamed:
        lines.append(f"note: paired `{_short(s.command)}` (log line {s.lineno}) with `{_short(o.command)}`")
    for b in report.unpaired_stata:
        lines.append(f"not replayed: `{_short(b.command)}` (log line {b.lineno})")
    for b in report.unpaired_ours:
        lines.append(f"not in the Stata log: `{_short(b.command)}`")
    last = None
    for p in report.pairs:
        if p.ok and not verbose:
            continue
        if (p.command, p.lineno) != last:
            lines.append(f"log line {p.lineno}: . {_short(p.command, 62)}")
            last = (p.command, p.lineno)
        lines.append(_pair_line(p))
    for lineno, cmd, why in report.boundaries:
        n = sum(1 for p in report.pairs if p.lineno == lineno and p.cls == NOT_COMPARABLE)
        if n:
            lines.append(f"note: log line {lineno} (`{_short(cmd, 40)}`) is on the boundary, {why}: "
                         f"{n} random-effects number(s) not comparable")
    lines.append(report.summary())
    return lines


def _near_misses(report: Report, rtol: float = 5e-4) -> int:
    """Mismatches that a relative tolerance would accept: a hint for flat-likelihood models."""
    return sum(1 for p in report.pairs if not p.ok and p.ours is not None and numbers_match(p.stata, p.ours, rtol))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="hlmshell check", usage=USAGE, description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dofile", help="the do-file that produced the Stata log")
    ap.add_argument("log", help="Stata's log of it (.log text or .smcl)")
    ap.add_argument("--rtol", type=float, default=0.0,
                    help="also accept a relative difference up to R (e.g. 5e-4 for models whose "
                         "likelihood is flat near the optimum); default 0: the printed digits")
    ap.add_argument("--strict", action="store_true",
                    help="digit-by-digit comparison only: no convergence tolerance, no boundary "
                         "class; every number must match to the printed digits (or --rtol)")
    ap.add_argument("-v", "--verbose", action="store_true",
                    help="list every pair of numbers, the non-exact ones with class and reason")
    ap.add_argument("--transcript", metavar="FILE",
                    help="compare this saved hlmshell output instead of running the do-file")
    try:
        a = ap.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0) if exc.code in (0, None) else 2
    if a.rtol < 0:
        print("hlmshell check: --rtol must be >= 0", file=sys.stderr)
        return 2
    for path in ([a.log] + ([a.transcript] if a.transcript else [a.dofile])):
        if not os.path.isfile(path):
            print(f"hlmshell check: file {path} not found", file=sys.stderr)
            return 2
    with open(a.log, encoding="utf-8", errors="replace") as fh:
        stata_text = fh.read()
    if a.transcript:
        with open(a.transcript, encoding="utf-8", errors="replace") as fh:
            ours, rc = fh.read(), 0
    else:
        ours, rc = replay(a.dofile)
    report = compare_texts(stata_text, ours, rtol=a.rtol, strict=a.strict)
    for line in format_report(report, a.verbose):
        print(line)
    bad = report.total - report.matched
    if bad and a.strict and a.rtol < 5e-4:
        near = _near_misses(report)
        if near:
            print(f"note: {near} of the {bad} differences are within 5e-4 relative "
                  f"(--rtol 5e-4 accepts them, for models whose likelihood is flat)")
    if rc:
        print(f"(the replay stopped with r({rc}))")
    return 0 if report.ok and report.commands > 0 else 1
