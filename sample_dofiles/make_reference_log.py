#!/usr/bin/env python3
"""Rebuild sample_dofiles/course_notes_stata.log, a Stata 17 text log of the course notes.

The log is the sample reference for `hlmshell check`: it is written from the notes' cleaned
numbers (tests/data/course_notes_expected.json, a copy of the shared reference) in Stata 17's
layout, never from hlmshell's own output, so a replay can be checked against it.

    python sample_dofiles/make_reference_log.py            # rewrites the committed log
    python sample_dofiles/make_reference_log.py -o OTHER.log

What is in the log and where it comes from:
- every `mixed` table: header, coefficient table (factor headers, wrapped names, omitted
  rows), random-effects table, LR test line and notes -- all numbers from the JSON.
  `Obs per group` (14 / 44.9 / 67) is printed only for the first model in the JSON; the
  other models use the same 7,185 observations in 160 schools, so the same line is repeated.
  `Prob > chi2` values are chi2 tails of the JSON's statistics (all 0.0000).
  The JSON lists the omitted rows and collinearity notes only for the first model; the later
  models with the same fixed part print them too (as in the notes), copied from it.
  The repeated noslope model (`noslope_again`) prints the noslope numbers (the JSON says the
  output is the same).
- the boundary model (the first one): Stata printed no standard errors or intervals for the
  random effects, so only the estimates are shown, followed by Stata's warning.
- `estat ic`: the femalerandom table is the JSON's.  The other three tables are not printed in
  the notes; they are derived from the JSON: N, ll from the model header (3 decimals),
  df = non-omitted coefficients + random-effects parameters + residual variance,
  AIC = -2ll + 2df, BIC = -2ll + ln(N)df (the notes' BIC remarks are asserted).  The model
  column is the stored name of the active results, or `.`.
- `lrtest`, `test`, the two `tabulate` tables: from the JSON.
- Left out because the JSON does not have them: the iteration logs of `mixed`, the data label
  line of `use` and the `(7,185 differences between size and sized)` line of `recode`.
The log header and footer carry a fixed path and date so the file is reproducible.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import re

from scipy.stats import chi2 as _chi2

HERE = os.path.dirname(os.path.abspath(__file__))
JSON = os.path.join(HERE, "..", "tests", "data", "course_notes_expected.json")
OUT = os.path.join(HERE, "course_notes_stata.log")
LOGPATH = "/home/student/socy7708/course_notes_stata.log"
OPENED = "14 Mar 2023, 10:02:17"
CLOSED = "14 Mar 2023, 10:04:51"
WIDTH = 79  # linesize 80: echoed commands wrap after 79 characters


# -- number formats (Stata's, written out here independently of hlmshell) ---------------
def g(x: float | None, width: int = 9) -> str:
    """%w.0g: as many significant digits as fit, no leading zero, trailing zeros dropped."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "."
    if x == 0:
        return "0"
    sig = width - 2
    neg = x < 0
    room = width - neg
    mag = math.floor(math.log10(abs(x)))
    dec = max(0, sig - 1 - mag)
    while dec >= 0:
        s = f"{abs(x):.{dec}f}"
        if "." in s:
            s = s.rstrip("0").rstrip(".")
        if s.startswith("0."):
            s = s[1:]
        if len(s) <= room:
            return ("-" if neg else "") + s
        dec -= 1
    raise ValueError(x)


def count(n: int) -> str:
    return f"{int(n):,}"


def f(x: float, spec: str) -> str:
    m = re.fullmatch(r"%(\d+)\.(\d+)f", spec)
    w, d = int(m.group(1)), int(m.group(2))
    s = f"{x:.{d}f}"
    if float(s) == 0:
        s = s.lstrip("-")
    return s.rjust(w)


# -- pieces of output ---------------------------------------------------------------------
def echo(cmd: str) -> list[str]:
    """Stata's echo of a typed command: `. ` then `> ` continuation lines, cut at 79 chars."""
    text, out, first = cmd, [], True
    while True:
        prefix = ". " if first else "> "
        room = WIDTH - 2
        out.append(prefix + text[:room])
        text, first = text[room:], False
        if not text:
            return out


def header(h: dict, first: dict, reml: bool = False) -> list[str]:
    def right(label, value):
        if label in ("min", "avg", "max"):
            return label.rjust(17) + " =" + value.rjust(11)
        return label.ljust(18) + "=" + value.rjust(11)

    kind = "REML" if reml else "ML"
    p = _chi2.sf(h["wald_chi2"], h["wald_df"])
    left = [f"Mixed-effects {kind} regression", f"Group variable: id", "", "", "", "", "",
            f"Log likelihood = {h['ll']:.3f}"]
    rights = [right("Number of obs", count(h["N"])), right("Number of groups", count(h["groups"])),
              "Obs per group:", right("min", count(h.get("min", first["min"]))),
              right("avg", f"{h.get('avg', first['avg']):.1f}"),
              right("max", count(h.get("max", first["max"]))),
              right(f"Wald chi2({h['wald_df']})", f"{h['wald_chi2']:.2f}"),
              right("Prob > chi2", f"{p:.4f}")]
    return [(l.ljust(48) + r).rstrip() for l, r in zip(left, rights)]


def _split_key(key: str):
    """'2.sized#c.ses' -> ('sized#c.ses', '2'); 'ses' -> ('ses', None)."""
    parts, levels = [], []
    for part in key.split("#"):
        m = re.fullmatch(r"(\d+)\.(\w+)", part)
        if m:
            levels.append(m.group(1))
            parts.append(m.group(2))
        else:
            parts.append(part)
    return "#".join(parts), (" ".join(levels) if levels else None)


def _coef_cells(row) -> str:
    if isinstance(row, str):
        return "  " + "0".rjust(9) + "  (omitted)"
    lo, hi = row["ci"]
    return ("  " + g(row["b"]).rjust(9) + "  " + g(row["se"]).rjust(9) + "   " + f(row["z"], "%6.2f")
            + "   " + f(row["p"], "%5.3f") + "    " + g(lo).rjust(9) + "   " + g(hi).rjust(9))


def _wrap_name(name: str) -> list[str]:
    """A name too long for the 12-character column breaks after '#'."""
    if len(name) <= 12:
        return [name.rjust(12) + " |"]
    pieces = re.findall(r"[^#]+#|[^#]+$", name)
    width = max(len(p) for p in pieces)
    pad = " " * (12 - width)
    return [pad + p.ljust(width) + " |" for p in pieces]


def _wrap_header(name: str) -> list[str]:
    """A factor-group header longer than 11 characters: pieces right-aligned, '#' hanging."""
    if len(name) <= 11:
        return [name.rjust(12) + " |"]
    pieces = name.split("#")
    return [p.rjust(12) + ("#|" if i < len(pieces) - 1 else " |") for i, p in enumerate(pieces)]


def coef_table(depvar: str, coef: dict) -> list[str]:
    # group consecutive keys into display blocks
    items = []  # (kind, name, [(level, row)])
    for key, row in coef.items():
        label = key.replace(" (second)", "")
        base, level = _split_key(label)
        if level is not None and items and items[-1][0] == "factor" and items[-1][1] == base:
            items[-1][2].append((level, row))
        elif level is not None:
            items.append(("factor", base, [(level, row)]))
        else:
            items.append(("plain", label, [(None, row)]))
    blocks: list[list[str]] = []
    simple: list[str] = []
    for kind, name, rows in items:
        single_factor = kind == "factor" and len(rows) == 1 and "#" not in name
        if kind == "plain" and len(_wrap_name(name)) == 1 or single_factor:
            label = name if kind == "plain" else f"{rows[0][0]}.{name}"
            simple.append(label.rjust(12) + " |" + _coef_cells(rows[0][1]))
            continue
        if simple:
            blocks.append(simple)
            simple = []
        if kind == "plain":
            lines = _wrap_name(name)
            lines[-1] += _coef_cells(rows[0][1])
            blocks.append(lines)
        else:
            lines = _wrap_header(name)
            for level, row in rows:
                lines.append(level.rjust(11) + "  |" + _coef_cells(row))
            blocks.append(lines)
    if simple:
        blocks.append(simple)
    out = ["-" * 78,
           depvar.rjust(12) + " | Coefficient  Std. err.      z    P>|z|     [95% conf. interval]",
           "-" * 13 + "+" + "-" * 64]
    for i, b in enumerate(blocks):
        if i:
            out.append(" " * 13 + "|")
        out.extend(b)
    out.append("-" * 78)
    return out


def _re_cells(vals) -> str:
    vals = vals if isinstance(vals, list) else [vals]
    cells = "  " + g(vals[0]).rjust(9)
    if len(vals) == 4:
        cells += "  " + g(vals[1]).rjust(9) + "     " + g(vals[2]).rjust(9) + "   " + g(vals[3]).rjust(9)
    return cells


def re_table(re_: dict) -> list[str]:
    out = ["-" * 78, "  Random-effects parameters  |   Estimate   Std. err.     [95% conf. interval]",
           "-" * 29 + "+" + "-" * 48]
    for level, comps in re_.items():
        if level == "var(Residual)":
            continue
        out.append(level.ljust(28) + " |")
        for name, vals in comps.items():
            out.append(name.rjust(28) + " |" + _re_cells(vals))
    out.append("-" * 29 + "+" + "-" * 48)
    out.append("var(Residual)".rjust(28) + " |" + _re_cells(re_["var(Residual)"]))
    out.append("-" * 78)
    return out


def lr_line(lr: dict, n_re: int) -> list[str]:
    if lr["stat"].startswith("chibar2"):
        p = _chi2.sf(lr["value"], 1) / 2
        left = f"LR test vs. linear model: chibar2(01) = {lr['value']:.2f}"
        right = f"Prob >= chibar2 = {p:.4f}"
        return [left + right.rjust(78 - len(left))]
    p = _chi2.sf(lr["value"], lr["df"])
    left = f"LR test vs. linear model: chi2({lr['df']}) = {lr['value']:.2f}"
    right = f"Prob > chi2 = {p:.4f}"
    return [left + right.rjust(78 - len(left)), "",
            "Note: LR test is conservative and provided only for reference."]


def mixed_output(step: dict, first_header: dict) -> list[str]:
    out = list(step.get("notes", []))
    out.append("")
    out += header(step["header"], first_header)
    out.append("")
    depvar = step["command"].split()[1]
    out += coef_table(depvar, step["coef"])
    out.append("")
    out += re_table(step["re"])
    n_re = sum(len(v) for k, v in step["re"].items() if k != "var(Residual)")
    out += lr_line(step["lr_vs_linear"], n_re)
    if step["name"] == "full_unstructured":
        out.append("Warning: Standard-error calculation failed.")
    return out


def fixed_part(cmd: str) -> str:
    return cmd.split("||")[0].split(None, 1)[1].strip()


def with_omitted(step: dict, steps: list) -> dict:
    """Same fixed part as an earlier model -> Stata prints the same notes and omitted rows.

    The JSON records the omitted rows and the collinearity notes only for the first model;
    the later models with the identical fixed part get them from it, in its row order.
    """
    for prev in steps:
        if prev is step:
            break
        if (prev["command"].startswith("mixed") and "coef" in prev
                and fixed_part(prev["command"]) == fixed_part(step["command"])
                and any(isinstance(v, str) for v in prev["coef"].values())):
            coef = {k: (v if isinstance(v, str) else step["coef"][k]) for k, v in prev["coef"].items()}
            assert all(k in coef for k in step["coef"]), step["name"]
            return dict(step, coef=coef, notes=step.get("notes", prev.get("notes", [])))
    return step


def model_df(step: dict) -> int:
    """Parameters Stata counts: non-omitted coefficients + covariance parameters + residual."""
    k_f = sum(1 for v in step["coef"].values() if not isinstance(v, str))
    k_r = sum(len(v) for k, v in step["re"].items() if k != "var(Residual)")
    return k_f + k_r + 1


def ic_table(name: str, n: int, ll: float, df: int, aic=None, bic=None) -> list[str]:
    aic = -2 * ll + 2 * df if aic is None else aic
    bic = -2 * ll + math.log(n) * df if bic is None else bic
    return ["", "Akaike's information criterion and Bayesian information criterion", "",
            "-" * 77,
            "       Model |          N   ll(null)  ll(model)      df        AIC        BIC",
            "-" * 13 + "+" + "-" * 63,
            name.rjust(12) + " |" + count(n).rjust(11) + ".".rjust(11) + g(ll).rjust(11)
            + str(df).rjust(8) + g(aic).rjust(11) + g(bic).rjust(11),
            "-" * 77,
            "Note: BIC uses N = number of observations. See [R] BIC note."]


def lrtest_output(w: dict) -> list[str]:
    return ["", "Likelihood-ratio test", f"Assumption: {w['assumption']}", "",
            f" LR chi2({w['df']}) = " + f(w["chi2"], "%6.2f"),
            "Prob > chi2 = " + f(w["p"], "%6.4f"), "",
            "Note: The reported degrees of freedom assumes the null hypothesis is not on the",
            "      boundary of the parameter space.  If this is not true, then the reported",
            "      test is conservative."]


def test_output(w: dict) -> list[str]:
    out = [""]
    for i, c in enumerate(w["constraints"], 1):
        out.append(f" ({i:2d})  {c}")
    out += ["", f"           chi2({w['df']:3d}) =" + f(w["chi2"], "%8.2f"),
            "         Prob > chi2 =" + f(w["p"], "%10.4f")]
    return out


def _label_lines(label: str) -> list[str]:
    """Variable label above the row column, broken to fit 10 characters."""
    if len(label) <= 10:
        return [label]
    if " " in label[:11]:
        cut = label[:11].rfind(" ")
        return [label[:cut], label[cut + 1:]]
    cut = label.rfind("=") + 1 if "=" in label else 10
    return [label[:cut], label[cut:]]


def tab_output(w: dict) -> list[str]:
    lines = _label_lines(w["label"])
    out = [""]
    for i, piece in enumerate(lines):
        out.append(piece.rjust(11) + " |" + ("      Freq.     Percent        Cum." if i == len(lines) - 1 else ""))
    out.append("-" * 12 + "+" + "-" * 35)
    for val, n, pct, cum in w["rows"]:
        out.append(g(val).rjust(11) + " |" + count(n).rjust(11) + f(pct, "%12.2f") + f(cum, "%12.2f"))
    out.append("-" * 12 + "+" + "-" * 35)
    out.append("Total".rjust(11) + " |" + count(w["total"]).rjust(11) + f(100.0, "%12.2f"))
    return out


def build(exp: dict) -> str:
    steps = exp["steps"]
    first_header = next(s["header"] for s in steps if "header" in s)
    by_name = {s["name"]: s for s in steps if "name" in s}
    lines = ["-" * 79, "      name:  <unnamed>", f"       log:  {LOGPATH}", "  log type:  text",
             f" opened on:  {OPENED}", ""]
    lines += echo("* reference log rebuilt from course_notes_expected.json by make_reference_log.py")
    active = None        # name of the active estimation step
    stored_as: dict[str, str] = {}  # step name -> stored name
    for step in steps:
        cmd = step["command"]
        lines += echo(cmd)
        words = cmd.split()
        if words[0] == "mixed":
            src = by_name["noslope"] if step["name"] == "noslope_again" else step
            src = with_omitted(src, steps)
            active = step["name"]
            lines += mixed_output(dict(src, name=step["name"] if step["name"] != "noslope_again" else "noslope"),
                                  first_header)
        elif words[:2] == ["estimates", "store"]:
            stored_as[active] = words[2]
        elif words[:2] == ["estat", "ic"]:
            src = by_name["noslope"] if active == "noslope_again" else by_name[active]
            name = stored_as.get(active, ".")
            ic = step.get("ic", {})
            lines += ic_table(name, src["header"]["N"], src["header"]["ll"], model_df(src),
                              ic.get("AIC"), ic.get("BIC"))
            if "ic" in step:
                assert ic["model"] == name and ic["df"] == model_df(src), step
        elif words[0] == "lrtest":
            lines += lrtest_output(step["lrtest"])
        elif words[0] == "test":
            lines += test_output(step["test"])
        elif words[0] == "tabulate":
            lines += tab_output(step["tab"])
        lines.append("")
    lines += echo("log close")
    lines += ["      name:  <unnamed>", f"       log:  {LOGPATH}", "  log type:  text",
              f" closed on:  {CLOSED}", "-" * 79]
    return "\n".join(lines) + "\n"


def _check_remarks(exp: dict) -> None:
    """The notes' BIC remarks must hold for the derived tables."""
    s = {x["name"]: x for x in exp["steps"] if "name" in x}
    bic = {k: -2 * s[k]["header"]["ll"] + math.log(7185) * model_df(s[k]) for k in ("sesrandom", "noslope", "final")}
    assert f"{bic['noslope']:.2f}" == "46627.41" and f"{bic['sesrandom']:.2f}" == "46639.42", bic
    assert bic["sesrandom"] - bic["final"] > 40


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", default=JSON)
    ap.add_argument("-o", "--output", default=OUT)
    a = ap.parse_args(argv)
    exp = json.load(open(a.json, encoding="utf-8"))
    _check_remarks(exp)
    with open(a.output, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(build(exp))
    print(f"wrote {a.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
