"""What `estat sd` prints after the me* commands: the random-effects parameters as standard
deviations and correlations, one block per level as in the estimation table (the level's
name, then `sd(_cons)` rows with the interval on the log scale and `corr(x,_cons)` rows with
the interval on the atanh scale, neither with a test). Formats numbers only."""
from __future__ import annotations

import math

from hlmshell.output.numfmt import fmt_g

RULE = "-" * 13 + "+" + "-" * 64


def _g9(v: float) -> str:
    return f"{fmt_g(v, 9):>9}"


def _row(label: str, est: float, se: float | None, lo: float | None, hi: float | None) -> list[str]:
    out = []
    head, sep, tail = label.partition(",")
    if len(label) > 13 and sep:
        out.append(f"{(head + sep)[-13:]:>13}|")
        label = tail
    line = f"{label[-13:]:>13}|  {_g9(est)}"
    if se is not None and se > 0 and lo is not None:
        line += f"  {_g9(se)}{'':21}{_g9(lo)}   {_g9(hi)}"
    out.append(line)
    return out


def sd_table(levels, z: float, level: float) -> list[str]:
    """levels: [(level name, [(label, estimate, se, kind)])], kind 'sd' or 'corr'."""
    ci = f"[{level:g}% conf. interval]"
    out = ["-" * 78, f"{'':13}|   Estimate  Std. err.{ci:>42}"]
    for name, rows in levels:
        out += [RULE, f"{name[:12]:<13}|"]
        for label, est, se, kind in rows:
            lo = hi = None
            if se is not None and se > 0:
                if kind == "sd" and est > 0:
                    w = z * se / est
                    lo, hi = est * math.exp(-w), est * math.exp(w)
                elif kind == "corr" and abs(est) < 1:
                    w = z * se / (1 - est * est)
                    lo, hi = math.tanh(math.atanh(est) - w), math.tanh(math.atanh(est) + w)
            out += _row(label, est, se, lo, hi)
    return out + ["-" * 78]
