"""What `glm` prints above its coefficient table (Stata 17): the two-column header with the
optimisation, residual df, scale parameter, deviance and Pearson statistics and their per-df
values, the variance and link functions with their names in brackets, AIC, BIC and the log
likelihood (IRLS fits show BIC only). Formats numbers only."""
from __future__ import annotations

from hlmshell.output.numfmt import fmt, fmt_count, fmt_g


def deviance_line(i: int, dev: float) -> str:
    return f"{f'Iteration {i}:':<15}deviance = {fmt(dev, '%10.0g')}"


def _right(label: str, value: str) -> str:
    return f"{label:<16}={value:>11}"


def _left(label: str, value: float) -> str:
    return f"{label:<17}= {fmt_g(value, 12):>12}"


def header_lines(sc: dict, mac: dict, robust: bool) -> list[str]:
    irls = mac.get("opt") == "irls"
    rows = [("Generalized linear models", _right("Number of obs", fmt_count(int(sc["N"])))),
            (f"{'Optimization':<17}: {mac['opt1']}", _right("Residual df", fmt_count(int(sc["df"])))),
            ("                   (IRLS EIM)" if irls else "",
             _right("Scale parameter", fmt_g(sc["phi"], 9))),
            (_left("Deviance", sc["deviance"]), _right("(1/df) Deviance", fmt_g(sc["dispers"], 9))),
            (_left("Pearson", sc["deviance_p"]), _right("(1/df) Pearson", fmt_g(sc["dispers_p"], 9))),
            ("", ""),
            (f"Variance function: V(u) = {mac['varfuncf']}", f"[{mac['varfunct']}]"),
            (f"{'Link function':<17}: g(u) = {mac['linkf']}", f"[{mac['linkt']}]"),
            ("", "")]
    if irls:
        rows.append(("", _right("BIC", fmt_g(sc["bic"], 9))))
    else:
        llname = "Log pseudolikelihood" if robust else "Log likelihood"
        ll = f"{llname} = {fmt_g(sc['ll'], 12)}" if robust else _left(llname, sc["ll"])
        rows += [("", _right("AIC", fmt_g(sc["aic"], 9))), (ll, _right("BIC", fmt_g(sc["bic"], 9)))]
    return [(a.ljust(50) + b).rstrip() if b else a.rstrip() for a, b in rows]
