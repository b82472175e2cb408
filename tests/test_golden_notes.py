"""Golden test: the course notes replayed by hlmshell print the notes' numbers.

sample_dofiles/course_notes.do runs through the interpreter; each command's printed output is
read back (hlmshell.check.tables) and every number the notes print is compared with the copy
of the expected values in tests/data. Tolerances are those of the shared replay checker:
Stata's printed digits (1e-6 relative) for the random-intercept models, 5e-4 relative for
the two random-slope models (flat likelihood), and for the boundary model a log likelihood
of -23246.5275 or higher. The same comparison also runs on the shipped reference log, which
checks the parser and the log against each other without the engine.
"""
from __future__ import annotations

import json
import math
import os
import re

import pytest

from hlmshell.check.tables import parse_ic, parse_lrtest, parse_mixed, parse_tab, parse_test
from hlmshell.check.transcript import split_blocks

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOFILE = os.path.join(ROOT, "sample_dofiles", "course_notes.do")
REFLOG = os.path.join(ROOT, "sample_dofiles", "course_notes_stata.log")
with open(os.path.join(ROOT, "tests", "data", "course_notes_expected.json"), encoding="utf-8") as _fh:
    EXPECTED = json.load(_fh)
STEPS = EXPECTED["steps"]
BY_NAME = {s["name"]: s for s in STEPS if "name" in s}
SLOPE = ("sesrandom", "femalerandom")
BOUNDARY = "full_unstructured"
BOUNDARY_LL = -23246.5275


# Known deviations from Stata's printed digits, all in the random-effects table and all caused
# by where Stata's optimiser stops rather than by the model: hlmshell reaches the exact ML optimum,
# Stata's Newton-Raphson on numerical (d0) derivatives stops ~6e-7 relative short of it in
# sigma_u/sigma_e (log likelihoods agree to 4e-11), which moves var(_cons) in the 7th digit; for
# sesrandom the optimum is on the corr = 1 boundary, where Stata stopped inside and printed
# standard errors its compiled numerical Hessian gives and ours does not. A re-implementation of
# Stata's public optimize()/deriv() Newton-Raphson (interpolated step search with goals 1e-8..1e-7,
# forward stepping, ml's convergence rules) from an EM start still lands at 3.317523 (log metric),
# not Stata's 3.317526: the remaining difference lies in its compiled _xtm_* code. These numbers are held
# to the looser tolerance given here (None: must be printed) by the golden test, and to Stata's
# digits by test_known_deviations_still_differ, an expected failure: when it starts passing,
# delete the entry.
_RI = {f"{m} var(_cons) [{k}]": 5e-6 for m in ("noslope", "noslope again", "reduced", "final")
       for k in ("est", "se", "lo", "hi")}
_SES = {f"sesrandom {key} [{k}]": None for key in ("var(ses)", "var(_cons)", "cov(ses,_cons)")
        for k in ("se", "lo", "hi")}
KNOWN_DEVIATIONS = {**_RI, **_SES, "sesrandom var(Residual) [se]": 5e-3}


class Checker:
    """Counts compared numbers and collects the ones that differ.

    `exact_known` holds the Stata-digit verdict for the KNOWN_DEVIATIONS numbers, which
    are otherwise judged by their looser tolerance."""

    def __init__(self):
        self.total = 0
        self.bad: list[str] = []
        self.exact_known: list[str] = []

    def close(self, what, got, want, rel=0.0, absol=0.0):
        self.total += 1
        printed = got is not None and not (isinstance(got, float) and math.isnan(got))
        ok = printed and abs(got - want) <= max(rel * abs(want), absol)
        if what in KNOWN_DEVIATIONS:
            if not ok:
                self.exact_known.append(f"{what}: got {got}, want {want}")
            loose = KNOWN_DEVIATIONS[what]
            ok = printed and (loose is None or abs(got - want) <= max(loose * abs(want), absol))
        if not ok:
            self.bad.append(f"{what}: got {got}, want {want}")

    def equal(self, what, got, want):
        self.total += 1
        if got != want:
            self.bad.append(f"{what}: got {got!r}, want {want!r}")


def _active_name(index: int) -> str:
    """The name of the mixed step whose results are active at step `index`."""
    for s in reversed(STEPS[:index]):
        if s["command"].startswith("mixed"):
            return "noslope" if s["name"] == "noslope_again" else s["name"]
    raise AssertionError("no estimation before step")


def _df(step: dict) -> int:
    k_f = sum(1 for v in step["coef"].values() if not isinstance(v, str))
    k_r = sum(len(v) for k, v in step["re"].items() if k != "var(Residual)")
    return k_f + k_r + 1


def check_mixed(c: Checker, step: dict, lines: list[str]) -> None:
    name = step["name"]
    m = parse_mixed(lines)
    slope, boundary = name in SLOPE, name == BOUNDARY
    rel = 2e-3 if boundary else 5e-4 if slope else 1e-6
    h = step["header"]
    c.equal(f"{name} N", m.get("N"), h["N"])
    c.equal(f"{name} groups", m.get("groups"), h["groups"])
    for k in ("min", "avg", "max"):
        c.close(f"{name} obs per group {k}", m.get(k), BY_NAME[BOUNDARY]["header"][k], 0, 0.05)
    if boundary:
        c.total += 1
        if m.get("ll") is None or m["ll"] < BOUNDARY_LL:
            c.bad.append(f"{name} log likelihood: got {m.get('ll')}, want >= {BOUNDARY_LL}")
    else:
        c.close(f"{name} log likelihood", m.get("ll"), h["ll"], 0, 0.002 if slope else 0.0011)
    c.equal(f"{name} Wald df", m.get("wald_df"), h["wald_df"])
    c.close(f"{name} Wald chi2", m.get("wald_chi2"), h["wald_chi2"], rel, 0.3 if slope or boundary else 0.006)
    for note in step.get("notes", []):
        c.equal(f"{name} note", note in m["notes"], True)
    for key, row in step["coef"].items():
        got = m["coef"].get(key)
        if isinstance(row, str):
            c.equal(f"{name} {key}", got, "omitted")
            continue
        got = got if isinstance(got, list) else []
        got = got + [None] * (6 - len(got))
        want = [row["b"], row["se"], row["z"], row["p"], row["ci"][0], row["ci"][1]]
        for j, what in enumerate(("b", "se", "z", "p", "ci low", "ci high")):
            if what == "z":
                c.close(f"{name} {key} z", got[j], want[j], 0, 0.02 if slope or boundary else 0.0051)
            elif what == "p":
                c.close(f"{name} {key} p", got[j], want[j], 0, 0.002 if slope or boundary else 0.00051)
            else:
                c.close(f"{name} {key} {what}", got[j], want[j], rel, 5e-7)
    rerel = 2e-2 if boundary else 2e-3 if slope else 1e-6
    for level, comps in step["re"].items():
        items = {"var(Residual)": comps} if level == "var(Residual)" else comps
        if level != "var(Residual)":
            c.equal(f"{name} random-effects level", level in m["re_levels"], True)
        for key, vals in items.items():
            vals = vals if isinstance(vals, list) else [vals]
            got = m["re"].get(key, [])
            got = got + [None] * (4 - len(got))
            for j, w in enumerate(vals):
                c.close(f"{name} {key} [{('est', 'se', 'lo', 'hi')[j]}]", got[j], w, rerel, 5e-7)
    lr = m.get("lr") or {}
    want = step["lr_vs_linear"]
    c.equal(f"{name} LR statistic", lr.get("stat"), want["stat"].split("(")[0])
    c.equal(f"{name} LR df", lr.get("df"), want.get("df", 1))
    c.close(f"{name} LR vs linear", lr.get("value"), want["value"], 0, 0.05 if slope or boundary else 0.011)


def check_ic(c: Checker, step: dict, index: int, lines: list[str]) -> None:
    active = BY_NAME[_active_name(index)]
    rows = parse_ic(lines)
    c.equal(f"step {index + 1} estat ic rows", len(rows), 1)
    row = rows[0] if rows else {}
    # the model column shows the name the active results were stored under, or `.`
    want_name = step.get("ic", {}).get("model")
    if want_name is None:
        want_name = "."
        for s in reversed(STEPS[:index]):
            if s["command"].startswith("mixed"):
                break
            if s["command"].startswith("estimates store"):
                want_name = s["command"].split()[2]
                break
    c.equal(f"step {index + 1} estat ic model", row.get("model"), want_name)
    c.equal(f"step {index + 1} estat ic N", row.get("N"), 7185)
    c.equal(f"step {index + 1} estat ic df", row.get("df"), _df(active))
    ll = active["header"]["ll"]
    slope = active["name"] in SLOPE
    c.close(f"step {index + 1} estat ic ll", row.get("ll_model"), ll, 0, 0.0051 + (0.002 if slope else 0.0011))
    ic = step.get("ic", {})
    if "AIC" in ic:
        c.close(f"step {index + 1} estat ic AIC", row.get("AIC"), ic["AIC"], 0, 0.011)
        c.close(f"step {index + 1} estat ic BIC", row.get("BIC"), ic["BIC"], 0, 0.011)
    else:  # not printed in the notes: derived from the model's log likelihood and df
        tol = 0.011 + 2 * (0.002 if slope else 0.0011)
        c.close(f"step {index + 1} estat ic AIC", row.get("AIC"), -2 * ll + 2 * _df(active), 0, tol)
        c.close(f"step {index + 1} estat ic BIC", row.get("BIC"), -2 * ll + math.log(7185) * _df(active), 0, tol)


def check_step(c: Checker, index: int, command: str, lines: list[str]) -> None:
    step = STEPS[index]
    c.equal(f"step {index + 1} command", " ".join(command.split()), step["command"])
    errors = [l for l in lines if re.match(r"^r\(\d+\);$", l.strip())]
    c.equal(f"step {index + 1} errors", errors, [])
    cmd = step["command"]
    if cmd.startswith("mixed"):
        src = BY_NAME["noslope"] if step["name"] == "noslope_again" else step
        check_mixed(c, dict(src, name=step["name"] if step["name"] != "noslope_again" else "noslope again"), lines)
    elif cmd.startswith("estat ic"):
        check_ic(c, step, index, lines)
    elif cmd.startswith("lrtest"):
        got, w = parse_lrtest(lines), step["lrtest"]
        c.equal(f"'{cmd}' assumption", got.get("assumption"), w["assumption"])
        c.equal(f"'{cmd}' df", got.get("df"), w["df"])
        c.close(f"'{cmd}' chi2", got.get("chi2"), w["chi2"], 0, 0.0051)
        c.close(f"'{cmd}' p", got.get("p"), w["p"], 0, 0.00051)
    elif cmd.startswith("test"):
        got, w = parse_test(lines), step["test"]
        c.equal(f"'{cmd}' constraints", got.get("constraints"), w["constraints"])
        c.equal(f"'{cmd}' df", got.get("df"), w["df"])
        c.close(f"'{cmd}' chi2", got.get("chi2"), w["chi2"], 0, 0.0051)
        c.close(f"'{cmd}' p", got.get("p"), w["p"], 0, 0.00051)
    elif cmd.startswith("tabulate"):
        got, w = parse_tab(lines), step["tab"]
        c.equal(f"'{cmd}' label", got["label"], w["label"])
        c.equal(f"'{cmd}' rows", len(got["rows"]), len(w["rows"]))
        for grow, wrow in zip(got["rows"], w["rows"]):
            c.equal(f"'{cmd}' value", grow[0], wrow[0])
            c.equal(f"'{cmd}' freq {wrow[0]}", grow[1], wrow[1])
            c.close(f"'{cmd}' percent {wrow[0]}", grow[2], wrow[2], 0, 0.0051)
            c.close(f"'{cmd}' cum {wrow[0]}", grow[3], wrow[3], 0, 0.0051)
        c.equal(f"'{cmd}' total", got["total"], w["total"])


def check_transcript(text: str) -> Checker:
    c = Checker()
    blocks = split_blocks(text)
    c.equal("commands", [" ".join(b.command.split()) for b in blocks], [s["command"] for s in STEPS])
    for i, b in enumerate(blocks[:len(STEPS)]):
        check_step(c, i, b.command, b.lines)
    return c


def test_reference_log_holds_every_expected_number():
    with open(REFLOG, encoding="utf-8") as fh:
        c = check_transcript(fh.read())
    assert c.bad == [] and c.exact_known == []
    assert c.total > 600


def test_checker_can_fail():
    with open(REFLOG, encoding="utf-8") as fh:
        text = fh.read()
    for old, new in (("2.906627", "2.906637"), ("  7.84", "  7.85"), ("2,984", "2,985"),
                     ("46640.61", "46640.71"), ("Log likelihood = -23246.527", "Log likelihood = -23246.528")):
        assert text.count(old) == 1, old
        assert len(check_transcript(text.replace(old, new)).bad) == 1, old


# -- the replay ---------------------------------------------------------------------------
def _replay() -> str:
    from hlmshell.interpreter import Interpreter
    from hlmshell.output.writer import Capture
    from hlmshell.session import Session

    out = Capture()
    Interpreter(Session(out=out)).run_dofile(DOFILE, echo=True)
    return out.getvalue()


@pytest.fixture(scope="module")
def replay_blocks():
    pytest.importorskip("hlmshell.interpreter")
    blocks = split_blocks(_replay())
    assert [" ".join(b.command.split()) for b in blocks] == [s["command"] for s in STEPS]
    return blocks


@pytest.mark.parametrize("index", range(len(STEPS)), ids=[f"{i + 1:02d}-{s['command'][:40]}" for i, s in enumerate(STEPS)])
def test_replay_step_prints_the_notes_numbers(replay_blocks, index):
    c = Checker()
    check_step(c, index, replay_blocks[index].command, replay_blocks[index].lines)
    assert c.bad == [], "\n".join(replay_blocks[index].lines)


@pytest.mark.xfail(strict=True, reason="Stata's optimiser stopping point (see KNOWN_DEVIATIONS)")
def test_known_deviations_still_differ(replay_blocks):
    c = Checker()
    for i, b in enumerate(replay_blocks):
        check_step(c, i, b.command, b.lines)
    assert c.exact_known == []
