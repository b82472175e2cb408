"""`regress` header: Stata's ANOVA table beside the fit statistics (78 columns).

      Source |       SS           df       MS      Number of obs   =        74
-------------+----------------------------------   F(3, 70)        =     23.29
"""
from __future__ import annotations

import math

from hlmshell.output.numfmt import fmt, fmt_count, fmt_g


def _ss(x: float) -> str:
    return f"  {fmt_g(x, 11):>10}"


def _df(k: int) -> str:
    return f"{fmt_count(k):>10}"


def _stat(label: str, value: str) -> str:
    return f"   {label:<16}={value:>10}"


def _num(x: float, spec: str) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "."
    return fmt(x, spec).strip()


def anova_lines(*, mss: float, rss: float, df_m: int, df_r: int, n: int, F: float, pF: float,
                r2: float, r2_a: float, rmse: float) -> list[str]:
    tss = mss + rss
    df_t = df_m + df_r
    ms_m = mss / df_m if df_m > 0 else float("nan")
    ms_r = rss / df_r if df_r > 0 else float("nan")
    ms_t = tss / df_t if df_t > 0 else float("nan")
    rule = "-" * 13 + "+" + "-" * 34
    return [
        "      Source |       SS           df       MS   " + _stat("Number of obs", fmt_count(n)),
        rule + _stat(f"F({df_m}, {df_r})", _num(F, "%10.2f")),
        "       Model |" + _ss(mss) + _df(df_m) + (_ss(ms_m) if df_m > 0 else f"  {'.':>10}")
        + _stat("Prob > F", _num(pF, "%10.4f")),
        "    Residual |" + _ss(rss) + _df(df_r) + _ss(ms_r) + _stat("R-squared", _num(r2, "%10.4f")),
        rule + _stat("Adj R-squared", _num(r2_a, "%10.4f")),
        "       Total |" + _ss(tss) + _df(df_t) + _ss(ms_t) + _stat("Root MSE", fmt_g(rmse, 10, 5)),
    ]


def robust_header_lines(*, n: int, df_m: int, df_r: int, F: float, pF: float, r2: float,
                        rmse: float) -> list[str]:
    """The header of `regress` with a robust VCE (no ANOVA table; Stata 17):

    Linear regression                               Number of obs     =      7,185
                                                    F(3, 159)         =     263.63
    """
    def right(label: str, value: str) -> str:
        return f"{label:<18}={value:>11}"

    pad = " " * 48
    return ["Linear regression".ljust(48) + right("Number of obs", fmt_count(n)),
            pad + right(f"F({df_m}, {df_r})", _num(F, "%10.2f")),
            pad + right("Prob > F", _num(pF, "%10.4f")),
            pad + right("R-squared", _num(r2, "%10.4f")),
            pad + right("Root MSE", fmt_g(rmse, 10, 5))]
