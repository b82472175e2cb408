"""epitab (cs, csi, cc, cci, ir, iri): numbers against Stata's own printed results (csi of a
public Statalist log, cci of stata.com's odds-ratio page), R (mantelhaen.test, binom.test,
fisher.test; tests/data/epitab/ref.json from ref.R) and hand formulas in numpy/scipy; the
layout of the 2 x 2 and stratified tables; r(); bad input."""
import json
import math
import os

import numpy as np
import pytest

from tests.session_run import ok, run

HERE = os.path.dirname(os.path.abspath(__file__))
REF = json.load(open(os.path.join(HERE, "data", "epitab", "ref.json")))
STRATA = [(10, 5, 40, 60), (20, 12, 30, 70), (3, 2, 50, 45)]      # a b c d per age group


def _session():
    from hlmshell.output.writer import Capture
    from hlmshell.session import Session
    return Session(out=Capture())


def _strata_session():
    lines = ["clear", "input case exp age pop"]
    for k, (a, b, c, d) in enumerate(STRATA, start=1):
        lines += [f"1 1 {k} {a}", f"1 0 {k} {b}", f"0 1 {k} {c}", f"0 0 {k} {d}"]
    lines.append("end")
    from tests.session_run import interp_session
    return interp_session("\n".join(lines))


def r(s, name):
    return s.r.scalars[name]


def test_csi_matches_a_stata_log():
    """Stata's printed numbers for `cs case exp [fw=pop]` with cells 2 59 1342 11717."""
    s = _session()
    out = ok(s, "csi 2 59 1342 11717")
    for text in (" Risk difference |        -.0035221       |   -.0059456   -.0010986",
                 "      Risk ratio |         .2970137       |    .0726542    1.214206",
                 " Prev. frac. ex. |         .7029863       |   -.2142064    .9273458",
                 " Prev. frac. pop |         .0720132       |",
                 "            Risk |  .0014881    .0050102  |   .0046494",
                 "                               chi2(1) =     3.23  Pr>chi2 = 0.0721"):
        assert text in out.splitlines(), text
    assert r(s, "rr") == pytest.approx(.2970137, abs=1e-7)
    assert r(s, "lb_rr") == pytest.approx(.0726542, abs=1e-7)
    assert r(s, "ub_rr") == pytest.approx(1.214206, abs=1e-6)
    assert r(s, "rd") == pytest.approx(-.0035221, abs=1e-7)
    assert r(s, "afp") == pytest.approx(.0720132, abs=1e-7)
    out = ok(s, "csi 2 59 1342 11717, exact")
    assert "1-sided Fisher's exact P = 0.0432" in out and "2-sided Fisher's exact P = 0.0871" in out
    assert r(s, "p_exact") == pytest.approx(REF["fisher_p"], rel=1e-9)


def test_csi_hand_formulas_and_or():
    s = _session()
    ok(s, "csi 7 12 9 2, or level(90)")
    a, b, c, d = 7, 12, 9, 2
    p1, p0 = a / (a + c), b / (b + d)
    z = 1.6448536269514722
    se = math.sqrt(1 / a - 1 / (a + c) + 1 / b - 1 / (b + d))
    assert r(s, "rr") == pytest.approx(p1 / p0)
    assert r(s, "lb_rr") == pytest.approx(p1 / p0 * math.exp(-z * se), rel=1e-9)
    n = a + b + c + d
    assert r(s, "chi2") == pytest.approx(n * (a * d - b * c) ** 2 / ((a + b) * (c + d) * (a + c) * (b + d)))
    # RR < 1: prevented fraction 1 - RR and its interval from the RR's
    assert r(s, "afe") == pytest.approx(1 - p1 / p0)
    assert r(s, "lb_afe") == pytest.approx(1 - r(s, "ub_rr"))
    # Cornfield bounds: the fitted cell A at the bound satisfies (a - A)^2 = z^2 var(A)
    from scipy.optimize import brentq
    m1, n1, n0 = a + b, a + c, b + d
    for psi in (r(s, "lb_or"), r(s, "ub_or")):
        A = brentq(lambda x: x * (n0 - m1 + x) - psi * (m1 - x) * (n1 - x), max(0, m1 - n0) + 1e-12, min(m1, n1) - 1e-12)
        v = 1 / (1 / A + 1 / (m1 - A) + 1 / (n1 - A) + 1 / (n0 - m1 + A))
        assert (a - A) ** 2 / v == pytest.approx(z * z, rel=1e-7)
    assert r(s, "or") == pytest.approx(a * d / (b * c))


def test_cci_matches_stata_page_and_exact_definition():
    """stata.com's odds-ratio calculator: cci 12 16 55 125, every number as Stata prints it
    (the exact interval as Stata's search stops, within 5e-4 of the true exact roots)."""
    s = _session()
    out = ok(s, "cci 12 16 55 125").splitlines()
    for text in ("      Odds ratio |         1.704545       |    .6848212    4.125435 (exact)",
                 " Attr. frac. ex. |         .4133333       |   -.4602353    .7576013 (exact)",
                 " Attr. frac. pop |         .1771429       |",
                 "                               chi2(1) =     1.68  Pr>chi2 = 0.1950",
                 "           Cases |        12          16  |         28       0.4286",
                 "                 |   Exposed   Unexposed  |      Total     Exposed",
                 " " * 57 + "Proportion"):
        assert text in out, text
    from scipy.stats import nchypergeom_fisher as nh
    M, n_exp, n_case = 208, 67, 28
    assert nh.sf(11, M, n_exp, n_case, r(s, "lb_or")) == pytest.approx(0.025, abs=1e-4)
    assert nh.cdf(12, M, n_exp, n_case, r(s, "ub_or")) == pytest.approx(0.025, abs=1e-4)
    out = ok(s, "cci 5 0 0 5").splitlines()
    assert " Note: Exact confidence levels not possible with zero count cells." in out
    assert any(ln.endswith("(Cornfield)") for ln in out)
    ok(s, "cci 12 16 55 125, woolf")
    se = math.sqrt(1 / 12 + 1 / 16 + 1 / 55 + 1 / 125)
    assert r(s, "lb_or") == pytest.approx(1.704545454545 * math.exp(-1.959963984540054 * se), rel=1e-9)
    ok(s, "cci 12 16 55 125, tb")
    chi = math.sqrt(r(s, "chi2"))
    assert r(s, "ub_or") == pytest.approx(1.704545454545 ** (1 + 1.959963984540054 / chi), rel=1e-9)


def test_cs_by_mantel_haenszel_risk_ratio():
    s = _strata_session()
    out = ok(s, "cs case exp [fw=pop], by(age)")
    assert "M-H combined" in out and "Test of homogeneity (M-H)" in out
    t = np.array(STRATA, dtype=float)
    a, b, c, d = t.T
    n1, n0, n = a + c, b + d, t.sum(axis=1)
    R, S = np.sum(a * n0 / n), np.sum(b * n1 / n)
    var = np.sum(((a + b) * n1 * n0 - a * b * n) / n ** 2) / (R * S)
    rr = R / S
    assert r(s, "rr") == pytest.approx(rr, rel=1e-12)
    assert r(s, "ub_rr") == pytest.approx(rr * math.exp(1.959963984540054 * math.sqrt(var)), rel=1e-9)
    lr = np.log((a / n1) / (b / n0))
    vi = 1 / a - 1 / n1 + 1 / b - 1 / n0
    assert r(s, "chi2_mh") == pytest.approx(np.sum((lr - math.log(rr)) ** 2 / vi), rel=1e-9)
    assert r(s, "df") == 2
    w = b * n1 / n
    assert f"{w[0]:.6f}"[:8] in out.replace(" ", "") or "2.173913" in out


def test_cc_by_matches_mantelhaen_and_breslow_day():
    s = _strata_session()
    out = ok(s, "cc case exp [fw=pop], by(age) bd")
    assert r(s, "or") == pytest.approx(REF["mh_or"], rel=1e-10)
    assert [r(s, "lb_or"), r(s, "ub_or")] == pytest.approx(REF["mh_ci"], rel=1e-9)
    assert r(s, "chi2") == pytest.approx(REF["mh_chi2"], rel=1e-9)
    assert "Test that combined OR = 1:" in out and "Test of homogeneity (B-D)" in out
    # Breslow-Day at the M-H estimate: fitted cells from the quadratic by root finding
    from scipy.optimize import brentq
    psi = REF["mh_or"]
    bd = 0.0
    for a, b, c, d in STRATA:
        m1, n1, n0 = a + b, a + c, b + d
        A = brentq(lambda x: x * (n0 - m1 + x) - psi * (m1 - x) * (n1 - x), 1e-9, min(m1, n1) - 1e-9)
        bd += (a - A) ** 2 * (1 / A + 1 / (m1 - A) + 1 / (n1 - A) + 1 / (n0 - m1 + A))
    assert r(s, "chi2_bd") == pytest.approx(bd, rel=1e-8) and r(s, "df_bd") == 2
    ok(s, "cs case exp [fw=pop], by(age) or")
    assert r(s, "or") == pytest.approx(REF["mh_or"], rel=1e-10)


def test_iri_exact_interval_and_midp():
    s = _session()
    out = ok(s, "iri 63 15 41000 44000")
    assert " Inc. rate ratio |" in out and "(midp)   Pr(k>=63) =" in out
    lo, hi = REF["binom_ci"]
    k = 44000 / 41000
    assert r(s, "lb_irr") == pytest.approx(lo / (1 - lo) * k, rel=1e-6)
    assert r(s, "ub_irr") == pytest.approx(hi / (1 - hi) * k, rel=1e-6)
    assert r(s, "irr") == pytest.approx((63 / 41000) / (15 / 44000))
    se = math.sqrt(63 / 41000 ** 2 + 15 / 44000 ** 2)
    assert r(s, "lb_ird") == pytest.approx(63 / 41000 - 15 / 44000 - 1.959963984540054 * se)
    from scipy.stats import binom
    ok(s, "iri 3 9 1530 1940")
    p = 1530 / 3470
    mid = binom.cdf(3, 12, p) - 0.5 * binom.pmf(3, 12, p)
    assert r(s, "p") == pytest.approx(mid, rel=1e-9)            # one-sided, as Stata stores it


def test_ir_by_mantel_haenszel_rate_ratio():
    s = _strata_session()
    ok(s, "generate t = pop * 10")
    ok(s, "ir case exp t, by(age)")
    # the rates' cells from the data directly: cases and person-time by exposure and age
    ds = s.data
    case, exp, age, t = (ds.var(v).values for v in ("case", "exp", "age", "t"))
    R = S = num = 0.0
    for g in (1, 2, 3):
        m = age == g
        a1 = np.sum(case[m] * exp[m]); b0 = np.sum(case[m] * (1 - exp[m]))
        t1 = np.sum(t[m] * exp[m]); t0 = np.sum(t[m] * (1 - exp[m]))
        T = t1 + t0
        R += a1 * t0 / T; S += b0 * t1 / T; num += (a1 + b0) * t1 * t0 / T ** 2
    assert r(s, "irr") == pytest.approx(R / S, rel=1e-12)
    assert r(s, "lb_irr") == pytest.approx(R / S * math.exp(-1.959963984540054 * math.sqrt(num / (R * S))), rel=1e-9)


def test_data_and_immediate_forms_agree():
    s = _strata_session()
    ok(s, "cc case exp [fw=pop] if age == 2")
    got = dict(s.r.scalars)
    ok(s, "cci 20 12 30 70")
    assert got == pytest.approx(dict(s.r.scalars))
    out = ok(s, "cs case exp [fw=pop] if age == 1")
    assert "                 | exp                    |" in out


@pytest.mark.parametrize("line, rc", [
    ("csi 1 2 3", 198), ("csi 1 2 3 x", 7), ("cci 1 2 3 -4", 498), ("cci 1.5 2 3 4", 7),
    ("iri 3 4 0 10", 198), ("cci 1 2 3 4, woolf tb", 198), ("cci 1 2 3 4, bogus", 198),
    ("cs case", 102), ("cs case exp age pop", 103), ("cs case nosuch", 111),
    ("cc case exp, bd", 198), ("cs case exp if age > 9", 2000),
    ("cs case exp [aw=pop]", 101), ("ir case exp", 102),
])
def test_bad_input(line, rc):
    s = _strata_session()
    ok(s, "csi 1 2 3 4")
    before = dict(s.r.scalars)
    got, out = run(s, line)
    assert got == rc, out
    assert "Traceback" not in out and dict(s.r.scalars) == before


def test_matched_pairs_mh_or_equals_clogit():
    """1:1 matched pairs (the petito course's slides 31-32): the M-H odds ratio over pairs is
    the ratio of discordant pairs, which is also clogit's conditional MLE; degenerate pairs
    (zero cells) print '.' rather than fail."""
    rng = np.random.default_rng(11)
    from hlmshell.data.dataset import Dataset, Variable
    n = 60
    pair = np.repeat(np.arange(1, n + 1), 2).astype(float)
    y = np.tile([1.0, 0.0], n)
    x = (rng.random(2 * n) < 0.35 + 0.25 * y).astype(float)
    s = _session()
    ds = Dataset()
    for nm, v in (("pair", pair), ("y", y), ("x", x)):
        ds.add(Variable(nm, v, "double"))
    s.data = ds
    out = ok(s, "cs y x, by(pair) or")
    assert "Traceback" not in out and "M-H combined" in out
    n10 = np.sum((x[0::2] == 1) & (x[1::2] == 0))
    n01 = np.sum((x[0::2] == 0) & (x[1::2] == 1))
    assert r(s, "or") == pytest.approx(n10 / n01, rel=1e-12)
    ok(s, "clogit y x, group(pair) nolog")
    assert math.exp(float(np.ravel(s.e.b)[0])) == pytest.approx(n10 / n01, rel=1e-7)


@pytest.mark.parametrize("line", ["csi 0 0 0 0", "csi 0 0 5 5, or exact", "cci 0 0 0 0",
                                  "cci 5 0 0 5, exact", "cci 5 0 0 5, woolf", "iri 0 0 10 10",
                                  "iri 0 5 10 10, tb", "csi 5 5 0 0, or", "cci 3 0 2 4, cornfield"])
def test_degenerate_tables_print_missing(line):
    s = _session()
    out = ok(s, line)
    assert "Traceback" not in out and not any(ln.startswith("r(") for ln in out.splitlines())


def test_cs_or_and_ir_match_framingham_stata_logs():
    """Stata's printed results in a public course's Framingham exercises (cs death newbmi1, or;
    ir death/anychd newbmi* time*): cells typed to csi/iri, every number as Stata shows it."""
    s = _session()
    out = ok(s, "csi 259 571 318 1365, or").splitlines()
    for text in (" Risk difference |         .1539355       |    .1085524    .1993186",
                 "      Risk ratio |         1.521925       |    1.358417    1.705113",
                 " Attr. frac. ex. |         .3429373       |    .2638491    .4135287",
                 " Attr. frac. pop |          .107013       |",
                 "      Odds ratio |         1.947015       |    1.608816     2.35632 (Cornfield)",
                 "                               chi2(1) =    47.62  Pr>chi2 = 0.0000"):
        assert text in out, text
    # the odds ratio comes below the fractions
    assert out.index(" Attr. frac. pop |          .107013       |") < \
        out.index("      Odds ratio |         1.947015       |    1.608816     2.35632 (Cornfield)")
    out = ok(s, "iri 259 571 11308.9 40708.74").splitlines()
    for text in (" Inc. rate diff. |         .0088758       |    .0058587     .011893",
                 " Inc. rate ratio |         1.632792       |    1.404331    1.894337 (exact)",
                 " Attr. frac. pop |          .120935       |",
                 "                     (midp)   Pr(k>=259) =                   0.0000 (exact)",
                 "                     (midp) 2*Pr(k>=259) =                   0.0000 (exact)"):
        assert text in out, text
    # Stata's exact-interval search stops within ~1e-7 of the bound
    assert [r(s, "afe"), r(s, "lb_afe"), r(s, "ub_afe")] == pytest.approx([.3875522, .2879172, .4721108], abs=2e-7)
    out = ok(s, "iri 6 349 1119.57 37324.05").splitlines()
    for text in (" Inc. rate ratio |         .5731434       |    .2089001    1.260145 (exact)",
                 " Prev. frac. ex. |         .4268566       |   -.2601451    .7910999 (exact)",
                 " Prev. frac. pop |         .0124311       |",
                 "                     (midp)   Pr(k<=6) =                     0.0798 (exact)",
                 "                     (midp) 2*Pr(k<=6) =                     0.1596 (exact)"):
        assert text in out, text
    ok(s, "iri 85 330 11144.75 77530.79")
    assert r(s, "irr") == pytest.approx(1.79188, abs=1e-6)
    assert [r(s, "lb_irr"), r(s, "ub_irr")] == pytest.approx([1.394785, 2.280687], abs=2e-6)


def test_ir_rows_show_variable_labels():
    s = _strata_session()
    ok(s, "generate t = pop * 10")
    ok(s, 'label variable case "Death indicator"')
    ok(s, 'label variable t "Time [years] to death"')
    ok(s, 'label variable age "Age group at entry"')
    out = ok(s, "ir case exp t").splitlines()
    assert any(ln.startswith(" Death indicator |") for ln in out)
    assert any(ln.startswith("Time [years] to  |") for ln in out)
    out = ok(s, "ir case exp t, by(age)").splitlines()
    assert "Age group at ent |      IRR       [95% conf. interval]   M-H weight" in out


def test_stratified_results_and_tarone():
    s = _strata_session()
    out = ok(s, "cc case exp [fw=pop], by(age) bd tarone").splitlines()
    assert "Test of homogeneity (M-H)      chi2(2) =     1.07  Pr>chi2 = 0.5849" in out
    assert any(ln.startswith("Test of homogeneity (Tarone)   chi2(2) =") for ln in out)
    assert "                   Test that combined OR = 1:" in out
    t4 = np.array(STRATA, dtype=float)
    lor = np.log(t4[:, 0] * t4[:, 3] / (t4[:, 1] * t4[:, 2]))
    hom = np.sum((lor - math.log(REF["mh_or"])) ** 2 / np.sum(1 / t4, axis=1))
    assert r(s, "chi2_p") == pytest.approx(hom, rel=1e-9) and r(s, "df") == 2
    from scipy.optimize import brentq
    psi = REF["mh_or"]
    bd = sa = sA = sv = 0.0
    for a, b, c, d in STRATA:
        m1, n1, n0 = a + b, a + c, b + d
        A = brentq(lambda x: x * (n0 - m1 + x) - psi * (m1 - x) * (n1 - x), 1e-9, min(m1, n1) - 1e-9)
        v = 1 / (1 / A + 1 / (m1 - A) + 1 / (n1 - A) + 1 / (n0 - m1 + A))
        bd += (a - A) ** 2 / v
        sa, sA, sv = sa + a, sA + A, sv + v
    assert r(s, "chi2_t") == pytest.approx(bd - (sa - sA) ** 2 / sv, rel=1e-8)
    assert r(s, "df_t") == 2
    # the crude odds ratio (exact interval) as cci gives it
    crude = [r(s, "crude"), r(s, "lb_crude"), r(s, "ub_crude")]
    t = np.array(STRATA).sum(axis=0)
    ok(s, "cci " + " ".join(str(int(x)) for x in t))
    assert crude == pytest.approx([r(s, "or"), r(s, "lb_or"), r(s, "ub_or")])
    out = ok(s, "cs case exp [fw=pop], by(age)").splitlines()
    assert "Test of homogeneity (M-H)      chi2(2) =    0.586  Pr>chi2 = 0.7462" in out
    assert "             age |       RR       [95% conf. interval]   M-H weight" in out
    assert "               2 |    2.733333     1.465519   5.097928     4.545455" in out
    assert r(s, "chi2_mh") == pytest.approx(0.5856058122316598, rel=1e-9)
    assert run(s, "cs case exp [fw=pop], woolf")[0] == 198


def test_more_stata_logs_csi_woolf_and_iri():
    """csi 7 1 27 33, or woolf and iri 30 60 54308 51477 as Stata printed them (logs kept in a
    public R package's tests)."""
    s = _session()
    out = ok(s, "csi 7 1 27 33, or woolf").splitlines()
    for text in (" Risk difference |         .1764706       |    .0291694    .3237718",
                 "      Risk ratio |                7       |    .9096055    53.86951",
                 " Attr. frac. ex. |         .8571429       |   -.0993777    .9814366",
                 " Attr. frac. pop |              .75       |",
                 "      Odds ratio |         8.555556       |    .9904903     73.9003 (Woolf)",
                 "                               chi2(1) =     5.10  Pr>chi2 = 0.0239"):
        assert text in out, text
    out = ok(s, "iri 30 60 54308 51477").splitlines()
    for text in (" Inc. rate diff. |        -.0006132       |   -.0009682   -.0002581",
                 " Inc. rate ratio |         .4739357       |    .2951285    .7464182 (exact)",
                 " Prev. frac. ex. |         .5260643       |    .2535818    .7048715 (exact)",
                 " Prev. frac. pop |         .2700714       |",
                 "                     (midp)   Pr(k<=30) =                    0.0003 (exact)",
                 "                     (midp) 2*Pr(k<=30) =                    0.0006 (exact)"):
        assert text in out, text
