"""What logit, logistic, probit and poisson print (Stata 17): the iteration log and the
header (Number of obs, LR or Wald chi2, Prob > chi2, Pseudo R2)."""
from __future__ import annotations

from hlmshell.output.numfmt import fmt, fmt_count


def iteration_line(i: int, ll: float, pseudo: bool = False) -> str:
    what = "log pseudolikelihood" if pseudo else "log likelihood"
    return f"{f'Iteration {i}:':<15}{what} = {fmt(ll, '%10.0g')}  "


def _right(label: str, value: str) -> str:
    return f"{label:<14}= {value:>6}"


def header_lines(title: str, n: int, df: int, chi2: float, p: float, ll: float, r2p: float,
                 chi2type: str, pseudo: bool) -> list[str]:
    llname = "Log pseudolikelihood" if pseudo else "Log likelihood"
    chi = "." if chi2 != chi2 else f"{chi2:.2f}"
    pv = "." if p != p else fmt(p, "%6.4f").strip()
    left = [title, "", "", f"{llname} = {fmt(ll, '%10.0g')}"]
    right = [_right("Number of obs", fmt_count(n)), _right(f"{chi2type} chi2({df})", chi),
             _right("Prob > chi2", pv), _right("Pseudo R2", fmt(r2p, "%6.4f").strip())]
    return [(a.ljust(56) + b).rstrip() for a, b in zip(left, right)]


def cloglog_header(sc: dict, chi2type: str, pseudo: bool) -> list[str]:
    """cloglog's header: observations split into zero and nonzero outcomes, no pseudo R2."""
    def right(label, value):
        return f"{label:<18}={value:>11}"
    llname = "Log pseudolikelihood" if pseudo else "Log likelihood"
    chi2, p = sc["chi2"], sc["p"]
    rows = [("Complementary log-log regression", right("Number of obs", fmt_count(int(sc["N"])))),
            ("", right("Zero outcomes", fmt_count(int(sc["N_f"])))),
            ("", right("Nonzero outcomes", fmt_count(int(sc["N_s"])))),
            ("", ""),
            ("", right(f"{chi2type} chi2({int(sc['df_m'])})", "." if chi2 != chi2 else f"{chi2:.2f}")),
            (f"{llname} = {fmt(sc['ll'], '%10.0g')}",
             right("Prob > chi2", "." if p != p else fmt(p, "%6.4f").strip()))]
    return [(a.ljust(48) + b).rstrip() for a, b in rows]



def offset_rows(e_offset: str | None) -> list[str]:
    """The table's last row for offset()/exposure() from e(offset):
    `  ln(pyears) |          1  (exposure)` or `      offvar |          1  (offset)`."""
    from hlmshell.output.text import abbrev
    if not e_offset:
        return []
    kind = "exposure" if e_offset.startswith("ln(") and e_offset.endswith(")") else "offset"
    return [f"{abbrev(e_offset, 12):>12} |  {'1':>9}  ({kind})"]
