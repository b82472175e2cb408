"""`hlmshell check NOTES.do STATA.log`: replay a do-file and compare its numbers with a Stata log.

Users who learned from Stata course notes already have the log; this tells them, command by
command, whether hlmshell prints the same numbers to the digits Stata printed.
"""
from __future__ import annotations

import argparse
import os
import sys

from hlmshell.check.compare import Report, compare_texts, numbers_match
from hlmshell.check.numbers import extract_rows, find_numbers
from hlmshell.check.smcl import smcl_to_text
from hlmshell.check.transcript import split_blocks
from hlmshell.interpreter import Interpreter
from hlmshell.output.writer import Capture
from hlmshell.session import Session

__all__ = ["main", "replay", "compare_texts", "Report", "split_blocks", "extract_rows",
           "find_numbers", "smcl_to_text"]

USAGE = "hlmshell check NOTES.do STATA.log [--rtol R] [--verbose] [--transcript FILE]"


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


def format_report(report: Report, verbose: bool = False) -> list[str]:
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
        mark = "ok      " if p.ok else "MISMATCH"
        lines.append(f"  {mark} {p.label[:34]:<34}  Stata {p.stata.text:>12}  hlmshell {_fmt_num(p.ours):>12}")
    lines.append(report.summary())
    return lines


def _near_misses(report: Report, rtol: float = 5e-4) -> int:
    """Mismatches that a relative tolerance would accept: a hint for flat-likelihood models."""
    return sum(1 for p in report.pairs if not p.ok and p.ours is not None and numbers_match(p.stata, p.ours, rtol))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="hlmshell check", usage=USAGE,
        description="Replay a do-file with hlmshell and compare every number it prints with a "
                    "Stata log (text or SMCL), command by command. Exit status 0 only when "
                    "every number Stata printed is reproduced.")
    ap.add_argument("dofile", help="the do-file that produced the Stata log")
    ap.add_argument("log", help="Stata's log of it (.log text or .smcl)")
    ap.add_argument("--rtol", type=float, default=0.0,
                    help="also accept a relative difference up to R (e.g. 5e-4 for models whose "
                         "likelihood is flat near the optimum); default 0: the printed digits")
    ap.add_argument("-v", "--verbose", action="store_true", help="list every pair of numbers")
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
    report = compare_texts(stata_text, ours, rtol=a.rtol)
    for line in format_report(report, a.verbose):
        print(line)
    bad = report.total - report.matched
    if bad and a.rtol < 5e-4:
        near = _near_misses(report)
        if near:
            print(f"note: {near} of the {bad} differences are within 5e-4 relative "
                  f"(--rtol 5e-4 accepts them, for models whose likelihood is flat)")
    if rc:
        print(f"(the replay stopped with r({rc}))")
    return 0 if report.ok and report.commands > 0 else 1
