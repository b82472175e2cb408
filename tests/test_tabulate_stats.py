"""Two-way tabulate's statistics (chi2 lrchi2 V gamma taub exact all) and cell contents
(expected cchi2 clrchi2), their r() results, Stata's option abbreviations, and tab2's options.

Reference numbers: tests/data/tabulate_stats/reference.json, made by
tests/data/tabulate_stats/tabulate_stats_r.R (R's chisq.test and fisher.test; gamma and tau-b
with ASEs written out in R from Agresti's formulas, tau-b also checked against cor(kendall)).
"""
from __future__ import annotations

import importlib.util
import json
import math
import os

import numpy as np
import pytest

from hlmshell.engine import contingency as ct
from hlmshell.output.writer import Capture
from hlmshell.session import Session
from tests.session_run import ok, run

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, "data", "tabulate_stats", "reference.json")) as fh:
    REF = json.load(fh)


def _session(table) -> Session:
    """A dataset with one observation per cell: r c n (count) w (n / 3, not an integer)."""
    s = Session(out=Capture())
    ok(s, "clear")
    t = np.asarray(table)
    ok(s, f"set obs {t.size}")
    ok(s, f"generate r = floor((_n - 1) / {t.shape[1]}) + 1")
    ok(s, f"generate c = mod(_n - 1, {t.shape[1]}) + 1")
    ok(s, "generate n = .")
    for k, v in enumerate(t.ravel()):
        ok(s, f"replace n = {int(v)} in {k + 1}")
    ok(s, "generate w = n / 3 + 0.1")
    return s


@pytest.mark.parametrize("name", sorted(REF))
def test_statistics_against_r(name):
    ref = REF[name]
    s = _session(ref["table"])
    ok(s, "tabulate r c [fw=n], all exact")
    r = s.r.scalars
    for key in ("chi2", "p", "chi2_lr", "p_lr", "CramersV", "gamma", "ase_gam", "taub", "ase_taub",
                "p_exact"):
        assert r[key] == pytest.approx(ref[key], rel=1e-6, abs=1e-12), key
    assert r["taub"] == pytest.approx(ref["taub_cor"], rel=1e-9)
    t = np.asarray(ref["table"])
    assert (r["N"], r["r"], r["c"]) == (t.sum(), t.shape[0], t.shape[1])
    if "p1_exact" in ref:
        assert r["p1_exact"] == pytest.approx(ref["p1_exact"], rel=1e-6)
    else:
        assert "p1_exact" not in r


def test_layout_of_the_statistics_block():
    s = _session(REF["dose"]["table"])
    out = ok(s, "tabulate r c [fw=n], all exact")
    tail = out.splitlines()[-6:]
    assert tail == ["          Pearson chi2(4) =   6.7780   Pr = 0.148",
                    " likelihood-ratio chi2(4) =   6.9844   Pr = 0.137",
                    "               Cramér's V =   0.1879",
                    "                    gamma =   0.3689  ASE = 0.129",
                    "          Kendall's tau-b =   0.2378  ASE = 0.086",
                    "           Fisher's exact =                 0.145"]
    out = ok(s, "tabulate r c [fw=n] if r < 3 & c < 3, exact")
    assert out.splitlines()[-2:] == ["           Fisher's exact =                 0.589",
                                     "   1-sided Fisher's exact =                 0.317"]


def test_abbreviations_match_the_full_names():
    s = _session(REF["dose"]["table"])
    ok(s, "tabulate r c [fw=n], chi2 lrchi2 V gamma taub exact")
    full = dict(s.r.scalars)
    ok(s, "ta r c [fw=n], ch lr V g t e")
    assert s.r.scalars == full
    ok(s, "tab r c [fw=n], a e")
    assert s.r.scalars == full
    out = ok(s, "tab r c [fw=n], r co ce exp cchi clr nof w m nol nokey nolo")
    assert "Key" not in out
    assert ok(s, "tab r c [fw=n], exact(3)").splitlines()[-1].endswith("0.145")


def test_cell_contents_expected_and_contributions():
    ref = REF["dose"]
    s = _session(ref["table"])
    out = ok(s, "tabulate r c [fw=n], expected cchi2 clrchi2")
    lines = out.splitlines()
    keys = [ln.strip("| ") for ln in lines[lines.index("|----------------------|") + 1:][:4]]
    assert keys == ["frequency", "expected frequency", "chi2 contribution", "LR chi2 contribution"]
    body = [ln for ln in lines if "|" in ln and "+" not in ln and not ln.startswith("|")]
    t = np.asarray(ref["table"], float)
    e = np.asarray(ref["expected"])
    first_row = body[2:6]          # header lines, then the four lines of row 1
    assert [float(x) for x in first_row[1].split("|")[1].split()] == [round(v, 1) for v in e[0]]
    chi = (t - e) ** 2 / e
    assert [float(x) for x in first_row[2].split("|")[1].split()] == [round(v, 1) for v in chi[0]]
    assert float(first_row[2].split("|")[2]) == round(chi[0].sum(), 1)
    lr = 2 * t * np.log(t / e)
    assert [float(x) for x in first_row[3].split("|")[1].split()] == [round(v, 1) for v in lr[0]]
    # the grand totals of the contribution lines are the two chi2 statistics
    total = [ln for ln in body if ln.strip().startswith("Total")][0]
    at = body.index(total)
    assert float(body[at + 2].split("|")[2]) == round(ref["chi2"], 1)
    assert float(body[at + 3].split("|")[2]) == round(ref["chi2_lr"], 1)


def test_tab2_passes_the_options_and_firstonly():
    s = _session(REF["dose"]["table"])
    ok(s, "generate k = mod(_n, 2)")
    out = ok(s, "tab2 r c k [fw=n], firstonly V exact")
    heads = [ln.strip() for ln in out.splitlines() if ln.startswith("-> tabulation")]
    assert heads == ["-> tabulation of r by c", "-> tabulation of r by k"]
    assert out.count("Cramér's V") == 2 and out.count("Fisher's exact") == 2
    ok(s, "tab2 r c [fw=n], all")
    assert s.r.scalars["gamma"] == pytest.approx(REF["dose"]["gamma"], rel=1e-9)


def test_bad_input_leaves_session_unchanged():
    path = os.path.join(HERE, "robustness_cases", "tabulate_stats.py")
    spec = importlib.util.spec_from_file_location("tabulate_stats_cases", path)
    cases = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cases)
    s = _session(REF["dose"]["table"])
    ok(s, "tabulate r c [fw=n], all")
    for line, rc in cases.BAD:
        before = (dict(s.r.scalars), tuple(s.data.names), s.data.n, dict(s.matrices))
        got, out = run(s, line)
        assert got == rc, (line, out)
        assert "Traceback" not in out, line
        after = (dict(s.r.scalars), tuple(s.data.names), s.data.n, dict(s.matrices))
        assert after == before, line


# ---- the engine directly ---------------------------------------------------------------------
def test_fisher_rxc_brute_force_enumeration():
    """Against a dense enumeration of every table with the margins (itertools), on tables
    where the network's pruning and pooling both act."""
    import itertools

    for t in (np.array([[2, 0, 3], [1, 4, 0], [0, 1, 2]]), np.array([[3, 1, 0, 2], [0, 2, 3, 1]]),
              np.array([[1, 2], [3, 0], [0, 2]])):
        rows, cols, n = t.sum(1), t.sum(0), t.sum()

        def logp(m):
            return (sum(math.lgamma(x + 1) for x in rows) + sum(math.lgamma(x + 1) for x in cols)
                    - math.lgamma(n + 1) - sum(math.lgamma(x + 1) for x in m.ravel()))

        obs = logp(t)
        total = 0.0
        free = [range(min(rows[i], cols[j]) + 1) for i in range(len(rows) - 1) for j in range(len(cols) - 1)]
        for cells in itertools.product(*free):
            m = np.zeros_like(t)
            m[:-1, :-1] = np.reshape(cells, (len(rows) - 1, len(cols) - 1))
            m[:-1, -1] = rows[:-1] - m[:-1, :-1].sum(1)
            m[-1, :] = cols - m[:-1, :].sum(0)
            if (m < 0).any() or m[-1].sum() != rows[-1]:
                continue
            lp = logp(m)
            if lp <= obs + 1e-7:
                total += math.exp(lp)
        assert ct.fisher_exact(t).p == pytest.approx(total, rel=1e-9)


def test_fisher_refuses_rather_than_approximates():
    t = np.array([[12, 9, 14, 8, 10], [9, 13, 7, 12, 11], [10, 8, 12, 9, 14]])
    with pytest.raises(ct.ExactTooLarge):
        ct.fisher_exact(t, limit=1000)


def test_degenerate_tables():
    assert ct.fisher_exact(np.array([[3, 0], [2, 0]])).p == 1.0
    g, ase = ct.gamma(np.array([[5.0, 0.0], [0.0, 0.0]]))
    assert math.isnan(g) and math.isnan(ase)


def test_exact_too_large_fails_cleanly(monkeypatch):
    s = _session(REF["dose"]["table"])
    ok(s, "tabulate r c [fw=n], chi2")
    before = dict(s.r.scalars)
    real = ct.fisher_exact
    monkeypatch.setattr(ct, "fisher_exact", lambda t: real(t, limit=10))
    rc, out = run(s, "tabulate r c [fw=n], exact chi2")
    assert rc == 498 and "Traceback" not in out and "Pearson" not in out
    assert s.r.scalars == before


def test_rowsort_colsort_order_by_frequency():
    s = _session([[1, 5, 2], [7, 0, 9]])
    out = ok(s, "tabulate r c [fw=n], rowsort colsort matcell(F) matrow(R) matcol(C)")
    np.testing.assert_array_equal(s.matrices["F"], [[9, 7, 0], [2, 1, 5]])
    np.testing.assert_array_equal(np.ravel(s.matrices["R"]), [2, 1])
    np.testing.assert_array_equal(np.ravel(s.matrices["C"]), [3, 1, 2])
    assert [ln.split("|")[0].strip() for ln in out.splitlines() if ln.count("|") == 2][1:3] == ["2", "1"]
